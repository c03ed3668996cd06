"""The configuration file's problems in plain Chinese, for the office clerk who edits it: PyYAML's and pydantic's
own (English) messages mapped to what to check."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any

import yaml
from pydantic import BaseModel

ModelAt = Callable[[Sequence[str | int]], "type[BaseModel] | None"]


# PyYAML's problems (English) -> what to check, in plain Chinese. First match wins.
_YAML_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("'\\t'", "这里有制表符（Tab 键），请只用空格缩进"),
    (
        "mapping values are not allowed",
        "这一行多了一个「: 」或缩进不对；「键: 值」的冒号后面要有空格，值里有冒号时请用引号括起来",
    ),
    ("expected <block end>", "缩进没有对齐：同一分节里的各行要用同样多的空格开头"),
    ("could not find expected ':'", "缺少「: 」：每一行应写成「键: 值」"),
    ("did not find expected key", "缩进没有对齐，或这一行缺少「键: 值」的写法"),
    ("did not find expected '-'", "列表没有对齐：列表的每一项都要以同样缩进的「- 」开头"),
    ("expected ',' or ']'", "方括号 [ ] 没有闭合，或两项之间缺少逗号"),
    ("expected ',' or '}'", "花括号 { } 没有闭合，或两项之间缺少逗号"),
    ("quoted scalar", "引号没有闭合：请检查引号是否成对"),
    ("end of stream", "文件意外结束：请检查引号和括号是否成对"),
    ("expected the node content", "这里缺少内容：请检查括号和引号是否成对"),
    ("undefined alias", "「*」开头的写法无法识别：如果是文字，请用引号括起来"),
    ("cannot start any token", "这里有无法识别的字符（例如 @ 或 `）：如果是文字，请用引号括起来"),
)


def yaml_problem(exc: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    mark = exc.problem_mark or exc.context_mark
    english = f"{exc.problem or ''} {exc.context or ''}"
    problem = next(
        (chinese for needle, chinese in _YAML_PROBLEMS if needle in english),
        "这一行写法不对：请检查缩进（只用空格）、「键: 值」的冒号和空格、引号和括号是否成对",
    )
    where = [f"第 {mark.column + 1} 列"] if mark is not None else []
    if exc.context and exc.problem and exc.context_mark is not None and exc.context_mark is not mark:
        where.append(f"所在的部分从第 {exc.context_mark.line + 1} 行开始")
    at = f"（{'，'.join(where)}）" if where else ""
    return (mark.line + 1 if mark is not None else None), f"YAML 格式错误{at}：{problem}"


def format_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for seg in loc:
        if seg == "[key]":
            continue
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out


def show(value: Any) -> str:
    """A value as the problem message quotes it."""
    if value is None:
        return "空的"
    if isinstance(value, str):
        return f"「{value}」"
    if isinstance(value, bool):
        return "「true」" if value else "「false」"
    if isinstance(value, (dict, list)):
        return "一个分节" if isinstance(value, dict) else "一个列表"
    return f"「{value}」"


_CJK = re.compile(r"[\u4e00-\u9fff]")


def plain(err: Any, loc: tuple[str | int, ...], *, model_at: ModelAt) -> str:
    """Pydantic's error in Chinese words an office clerk can act on."""
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    got = f"，现在是{show(value)}"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = model_at(loc[:-1])
        allowed = list(model.model_fields) if model else []
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"，是不是「{close[0]}」？" if close else ""
        listing = f"（这里可以写：{'、'.join(allowed)}）" if allowed else ""
        return f"未知的配置项「{key}」{hint}{listing}"
    if kind == "missing":
        name = str(loc[-1]) if loc and isinstance(loc[-1], str) else ""
        return f"缺少必填项「{name}」" if name else "缺少必填项"
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return f"应填整数（例如 30）{got}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"应填数字（例如 2.5）{got}"
    if kind.startswith("decimal"):
        return f"应填金额（例如 50000 或 5万）{got}"
    if kind in ("string_type", "string_sub_type", "string_unicode"):
        return f"应填文字{got}"
    if kind in ("list_type", "tuple_type", "set_type", "iterable_type"):
        return f"应填列表（每项一行，以「- 」开头）{got}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return f"应填一个分节（下面缩进几行「键: 值」）{got}"
    if kind.startswith("date"):
        return f"应填日期（例如 2025-10-01）{got}"
    if kind.startswith("time"):
        return f"应填时间（例如 08:30）{got}"
    if kind.startswith("bool"):
        return f"应填 true（是）或 false（否）{got}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ").split(", ")
        return f"不能填{show(value)}（可选：{'、'.join(e for e in expected if e)}）"
    if kind == "greater_than":
        return f"必须大于 {ctx.get('gt')}{got}"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}{got}"
    if kind == "less_than":
        return f"必须小于 {ctx.get('lt')}{got}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}{got}"
    if kind in ("too_short", "string_too_short"):
        return "不能为空"
    if kind in ("too_long", "string_too_long"):
        return f"内容太多{got}"
    message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if _CJK.search(message):  # our own validators' messages are already Chinese
        return message
    return f"这个值不符合要求{got}"
