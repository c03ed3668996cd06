"""帮助 and 取消: always available, before every other route."""

from __future__ import annotations

from chat.inbound import Inbound
from chat.replies import Reply, Text
from chat.router import CommandInfo, Ctx, Router
from handlers.proposing import cancel_open_proposals
from services import roles

router = Router("system")

HELP_LINES = 10
# What each role uses most, first; commands not named here follow in route order on the 其他 line.
ROLE_ORDER: dict[str, tuple[str, ...]] = {
    "rep": ("拜访", "跟进", "待办", "客户", "商机", "推进", "报价"),
    "supervisor": ("日报", "待办", "客户", "分配", "拜访", "跟进", "委托"),
    "director": ("日报", "客户", "待办", "委托", "分配", "回款", "跟进"),
    "tech_lead": ("待办", "委托", "客户", "跟进"),
    "finance": ("待办", "委托", "回款", "客户", "跟进"),
    "admin": ("客户", "日报", "分配", "待办"),
}
# 帮助/取消 are how one gets here and out; they are on the last line instead of taking two.
_SYSTEM = ("帮助", "取消")


def _allowed(ctx: Ctx) -> list[CommandInfo]:
    return ctx.routes.commands_for(ctx.user.role) if ctx.routes else []


def help_text(ctx: Ctx) -> str:
    """At most 10 lines: the role's most used commands with an example each, the rest by name."""
    allowed = {info.name: info for info in _allowed(ctx) if info.name not in _SYSTEM}
    order = [name for name in ROLE_ORDER.get(ctx.user.role, ()) if name in allowed]
    order += [name for name in allowed if name not in order]
    room = HELP_LINES - 3  # the greeting, the 其他 line, the last line
    shown, rest = order[:room], order[room:]
    lines = [f"{ctx.user.name}（{roles.label(ctx.user.role)}）常用："]
    lines += [f"• {allowed[name].example}" for name in shown]
    if rest:
        lines.append("其他：" + " ".join(rest))
    tail = "发送「帮助 命令」看用法，如：帮助 " + shown[0] if shown else "发送「帮助 命令」看用法"
    if "拜访" in allowed:  # only roles that may log visits get the media hint
        tail += "；位置和照片直接发，会附到30分钟内的拜访"
    lines.append(tail + "。")
    return "\n".join(lines)


def command_help(ctx: Ctx, word: str) -> str:
    """`帮助 报价`: that one command's usage and examples, nothing else."""
    from handlers.common import USAGE

    for info in ctx.routes.commands() if ctx.routes else []:
        if word == info.name or word in info.aliases:
            if not info.allows(ctx.user.role):
                return info.refusal()
            form = USAGE.get(info.name, (FORMS.get(info.name), None))[0]
            lines = [f"{info.name}：{info.help}"]
            if form:
                lines.append(f"用法：{form}")
            lines.append(f"例：{info.example}")
            lines += [f"例：{extra}" for extra in EXTRA_EXAMPLES.get(info.name, ())]
            return "\n".join(lines)
    return f"没有「{word}」这个命令。发送「帮助」查看您可用的命令。"


FORMS: dict[str, str] = {
    "报价": "报价 商机 金额 [说明]",
    "跟进": "跟进 客户 时间 事项",
    "改期": "改期 待办编号 时间",
    "删除": "删除 待办编号",
    "完成": "完成 待办编号",
    "撤回": "撤回 报价编号或商机",
    "委托": "委托 账号或姓名 开始 结束",
    "日报": "日报 [今天]",
    "待办": "待办",
}
EXTRA_EXAMPLES: dict[str, tuple[str, ...]] = {
    "报价": ("报价 #12 ¥120,000", "报价 二期产线 8.5万元 含三年维保"),
    "跟进": ("跟进 华东精密 3天后 回访（落在工作日）", "跟进 华东精密 11月30日 10:00 技术交流"),
    "拜访": ("拜访 #3 现场看了设备，客户关心交期",),
    "改期": ("改期 #12 3天后",),
    "日报": ("日报 今天（今天到目前为止）",),
}


@router.command(
    "帮助",
    help="查看可用命令；帮助 <命令> 看某个命令的用法",
    example="帮助 报价",
    aliases=("help", "?", "？", "菜单"),
    read_only=True,
)
def show_help(msg: Inbound, ctx: Ctx) -> Reply:
    word = ctx.args.strip().split(" ")[0] if ctx.args.strip() else ""
    return Text(command_help(ctx, word) if word else help_text(ctx))


@router.command("取消", help="退出正在进行的多步操作", example="取消")
def cancel(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    """Leaves the open dialog; with none open, cancels the sender's pending proposal cards (确认/修改/取消)."""
    if ctx.dialog is None:
        return cancel_open_proposals(ctx) or Text("当前没有进行中的操作。发送「帮助」查看命令。")
    ctx.clear_dialog()
    return Text("已取消，没有保存任何内容。")


@router.event("enter_agent")
def entered(msg: Inbound, ctx: Ctx) -> None:
    """Opening the app is not a request; stay quiet rather than nag."""
    return None
