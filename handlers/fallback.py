"""Anything no other route took: suggest the nearest command with an example. Never silence."""

from __future__ import annotations

import difflib

from chat.inbound import Inbound
from chat.replies import Reply, Text
from chat.router import Ctx, Router

router = Router("fallback")


@router.fallback()
def unknown(msg: Inbound, ctx: Ctx) -> Reply:
    infos = ctx.routes.commands_for(ctx.user.role) if ctx.routes else []
    word = ctx.command or ctx.args.split(" ")[0] if (ctx.command or ctx.args) else ""
    names = [i.name for i in infos]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.3) if word else []
    if not close and word:
        close = [n for n in names if n[0] == word[0]][:1] or [n for n in names if n in word][:1]
    if close:
        info = next(i for i in infos if i.name == close[0])
        return Text(f"没看懂「{word[:20]}」。您是不是想用「{info.name}」？{info.help}\n例：{info.example}\n发送「帮助」查看全部命令。")
    return Text("没看懂这条消息。发送「帮助」查看可用命令，例如：\n拜访 华东精密 谈了新产线的报价")
