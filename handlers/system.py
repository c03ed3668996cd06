"""帮助 and 取消: always available, before every other route."""

from __future__ import annotations

from chat.inbound import Inbound
from chat.replies import Reply, Text
from chat.router import Ctx, Router
from services import roles

router = Router("system")


def help_text(ctx: Ctx) -> str:
    lines = [f"{ctx.user.name}（{roles.label(ctx.user.role)}），您可以这样用销售助手："]
    allowed = ctx.routes.commands_for(ctx.user.role) if ctx.routes else []
    for info in allowed:
        lines.append(f"• {info.name}：{info.help}\n  例：{info.example}")
    if any(info.name == "拜访" for info in allowed):  # only roles that may log visits get the media hint
        lines.append("直接发送位置或照片，会附到您接下来30分钟内的「拜访」记录上。")
    return "\n".join(lines)


@router.command("帮助", help="查看可用命令", example="帮助", aliases=("help", "?", "？", "菜单"))
def show_help(msg: Inbound, ctx: Ctx) -> Reply:
    return Text(help_text(ctx))


@router.command("取消", help="退出正在进行的多步操作", example="取消")
def cancel(msg: Inbound, ctx: Ctx) -> Reply:
    if ctx.dialog is None:
        return Text("当前没有进行中的操作。发送「帮助」查看命令。")
    ctx.clear_dialog()
    return Text("已取消，没有保存任何内容。")


@router.event("enter_agent")
def entered(msg: Inbound, ctx: Ctx) -> None:
    """Opening the app is not a request; stay quiet rather than nag."""
    return None
