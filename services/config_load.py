"""Reading the business configuration file: `load_config(path)` deep-merges the file onto the defaults (mappings
merge key by key; lists and scalars replace) and validates the result. A bad file raises `ConfigError`, whose
message names the file, the line and the problem in plain words, e.g.

    salesbot.yaml:12: approval.rules[1].chain[0]: 未知角色「boss」（可选：supervisor 销售主管、tech_lead 技术负责人、…）

Line numbers come from composing the YAML (node marks) and walking the nodes along the pydantic error's
location; when the location is not in the file (a default), the nearest parent that is gives the line.
The words are services/config_messages.py's; the schema is services/config.py.
"""

from __future__ import annotations

import re
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from services.config import BusinessConfig, _At, default_config
from services.config_messages import format_loc, plain, yaml_problem


class ConfigError(Exception):
    """A configuration file that cannot be used. `str(err)` is one `file:line: problem` line per problem."""

    def __init__(self, path: str | Path, problems: Sequence[tuple[int | None, str]]) -> None:
        self.path = str(path)
        self.problems: list[tuple[int | None, str]] = list(problems)
        lines = [
            f"{self.path}:{line}: {text}" if line else f"{self.path}: {text}" for line, text in self.problems
        ]
        super().__init__("\n".join(lines))

    @property
    def line(self) -> int | None:
        """The line of the first problem (if known)."""
        return self.problems[0][0] if self.problems else None


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's base-60 numbers, so `8:30` stays the text '8:30' (not 510)."""


_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_Loader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"), list("-+0123456789")
)


_Loader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def load_config(path: Path | str | None) -> BusinessConfig:
    """The configuration in `path` merged onto the defaults; None gives the defaults. Raises ConfigError."""
    if path is None:
        return default_config()
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(path, [(None, "找不到这个文件")]) from None
    except IsADirectoryError:
        raise ConfigError(path, [(None, "这是一个文件夹，不是文件")]) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(path, [(line, "文件不是 UTF-8 编码（请用记事本等“另存为”UTF-8 编码）")]) from None
    except PermissionError:
        raise ConfigError(path, [(None, "没有权限读取这个文件")]) from None
    except OSError as exc:
        raise ConfigError(path, [(None, f"无法读取这个文件（{exc.strerror or exc}）")]) from None
    return _parse(text, path)


def check_config_file(path: Path | str, *, zone: str) -> str:
    """`salesbot config check FILE`: a one-line summary starting with 配置有效 (then a note per setting that
    the configured zone `zone` overrides), or ConfigError."""
    config = load_config(Path(path))
    return "\n".join([config.summary(), *config.zone_notes(zone)])


def _parse(text: str, path: Path) -> BusinessConfig:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(path, [yaml_problem(exc)]) from None
    except yaml.YAMLError:
        raise ConfigError(
            path, [(None, "YAML 格式错误：文件无法解析，请检查缩进（只用空格）、冒号和引号")]
        ) from None
    finally:
        loader.dispose()

    if root is not None:
        duplicates = _duplicate_keys(root, ())
        if duplicates:
            raise ConfigError(path, duplicates)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else 1
        raise ConfigError(
            path, [(line, "整个文件应由「键: 值」分节组成（例如「digest:」），不能以「- 」列表开头")]
        )

    defaults = BusinessConfig().model_dump()
    merged = _merge(defaults, data)
    # Default gates of stages the file renamed away are dropped (gates the file names are kept, and checked).
    user_gates: dict[str, Any] = data["gates"] if isinstance(data.get("gates"), dict) else {}
    if isinstance(merged.get("gates"), dict) and isinstance(merged.get("stages"), list):
        merged["gates"] = {
            stage: gates
            for stage, gates in merged["gates"].items()
            if stage in user_gates or stage not in defaults["gates"] or stage in merged["stages"]
        }
    try:
        return BusinessConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(path, _validation_problems(exc, root)) from None


def _merge(default: Any, override: Any) -> Any:
    """Mappings merge key by key; lists and scalars replace; an empty section or list keeps the default."""
    if isinstance(default, dict) and isinstance(override, dict):
        out = dict(default)
        for key, value in override.items():
            out[key] = _merge(default[key], value) if key in default else value
        return out
    if override is None and isinstance(default, (dict, list)):
        return default
    return override


def _duplicate_keys(node: Node, path: tuple[str | int, ...]) -> list[tuple[int | None, str]]:
    problems: list[tuple[int | None, str]] = []
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                if key.value in seen:
                    where = format_loc((*path, key.value))
                    problems.append(
                        (
                            key.start_mark.line + 1,
                            f"{where}: 「{key.value}」写了两次（第一次在第 {seen[key.value]} 行），请删掉一处",
                        )
                    )
                else:
                    seen[key.value] = key.start_mark.line + 1
                problems += _duplicate_keys(value, (*path, key.value))
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            problems += _duplicate_keys(item, (*path, i))
    return problems


def _locate(root: Node | None, loc: Sequence[str | int]) -> tuple[int | None, bool]:
    """The 1-based line of `loc` in the file, else of its nearest parent that is; and whether `loc` was found."""
    if root is None:
        return None, False
    node: Node = root
    line = root.start_mark.line + 1
    for seg in loc:
        if seg == "[key]":
            continue
        if isinstance(node, MappingNode):
            entry = next(
                (e for e in reversed(node.value) if isinstance(e[0], ScalarNode) and e[0].value == str(seg)),
                None,
            )
            if entry is None:
                return line, False
            # A key's own line, even when its value is a block on the following lines.
            line, node = entry[0].start_mark.line + 1, entry[1]
        elif isinstance(node, SequenceNode) and isinstance(seg, int) and 0 <= seg < len(node.value):
            node = node.value[seg]
            line = node.start_mark.line + 1
        else:
            return line, False
    return line, True


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin is Union or origin is types.UnionType:
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc` (for listing its keys)."""
    tp: Any = BusinessConfig
    for seg in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if not isinstance(seg, str) or seg not in tp.model_fields:
                return None
            tp = tp.model_fields[seg].annotation
        elif get_origin(tp) is list and isinstance(seg, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _validation_problems(exc: ValidationError, root: Node | None) -> list[tuple[int | None, str]]:
    problems: list[tuple[int | None, str]] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        siblings: tuple[str, ...] = ()
        if isinstance(cause, _At):
            loc += cause.sub_loc
            siblings = cause.siblings
        line, found = _locate(root, loc)
        for sibling in siblings if not found else ():
            sibling_line, sibling_found = _locate(root, (*loc[:-1], sibling))
            if sibling_found:
                line = sibling_line
                break
        where = format_loc(loc)
        text = (
            f"{where}: {plain(err, loc, model_at=_model_at)}"
            if where
            else plain(err, loc, model_at=_model_at)
        )
        problems.append((line, text))
    problems.sort(key=lambda p: p[0] or 0)
    return problems
