"""Chinese punctuation as argument separators in typed commands (pure).

People type `拜访 宏达，陆经理关心交期。`, `拜访：金桥精工，吴工确认了图纸` or `分配 恒通、张华`. The punctuation between
the structured arguments (customer, time, amount...) separates them like a space; inside the free text that
follows (a visit's 纪要, a reason, a follow-up's 事项) it is kept exactly as typed.
"""

from __future__ import annotations

import re

SEPARATORS = "，,：:、；;"
# Leading structured arguments before the free text; a command not listed has no free text (all separate).
FREE_TEXT_AFTER = {"拜访": 1, "跟进": 2, "报价": 2, "输单": 1, "驳回": 1}
# 新客户 takes `字段：值` pairs: a colon there joins a pair, it does not separate.
KEEP = {"新客户": "：:"}
_LEAD = re.compile(rf"^[\s{SEPARATORS}]+")
_END = re.compile(r"[。．.！!？?\s]+$")


def _inside_number(text: str, i: int) -> bool:
    """`15:30`, `120,000`: a colon or comma between digits belongs to the number."""
    return text[i] in ":：,，" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def tidy_args(command: str, args: str) -> str:
    """`args` with separating punctuation turned into spaces (see the module docstring)."""
    args = _LEAD.sub("", args)
    slots = FREE_TEXT_AFTER.get(command)
    keep = KEEP.get(command, "")
    out: list[str] = []
    splits = 0
    for i, ch in enumerate(args):
        is_sep = ch in SEPARATORS and ch not in keep and not _inside_number(args, i)
        if is_sep and (slots is None or splits < slots):
            out.append(" ")
            splits += 1
            continue
        if ch == " " and out and out[-1] != " " and slots is not None and splits < slots:
            splits += 1  # a space also ends a slot: the free text after the last slot keeps its punctuation
        out.append(ch)
    text = " ".join("".join(out).split())
    if slots is None:
        text = _END.sub("", text)
    return text
