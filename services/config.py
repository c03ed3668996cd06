"""The business configuration: one validated YAML file with the product defaults built in.

`load_config(path)` deep-merges the file onto the defaults (mappings merge key by key; lists and scalars
replace) and validates the result. A bad file raises `ConfigError`, whose message names the file, the line
and the problem in plain words, e.g.

    salesbot.yaml:12: approval.rules[1].chain[0]: unknown role 'boss' (allowed: supervisor, tech_lead, ...)

Line numbers come from composing the YAML (node marks) and walking the nodes along the pydantic error's
location; when the location is not in the file (a default), the nearest parent that is gives the line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
from collections.abc import Iterable, Sequence
from datetime import date, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "APPROVAL_ROLES",
    "BUILTIN_FIELDS",
    "GATES",
    "GATE_LABELS",
    "SEGMENT_NAMES",
    "ApprovalConfig",
    "ApprovalRule",
    "BusinessConfig",
    "ConfigError",
    "CustomerField",
    "DigestConfig",
    "DormantRule",
    "GrowthRule",
    "PriorityThresholds",
    "RemindersConfig",
    "ScoreItem",
    "SegmentsConfig",
    "StarRule",
    "VisitsConfig",
    "check_config_file",
    "default_config",
    "load_config",
]

# ---------------------------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------------------------

APPROVAL_ROLES: tuple[str, ...] = ("supervisor", "tech_lead", "finance", "director")
# The org chart accepts Chinese role names; so does the configuration.
_ROLE_ALIASES: dict[str, str] = {
    "销售主管": "supervisor",
    "主管": "supervisor",
    "技术负责人": "tech_lead",
    "财务经理": "finance",
    "财务": "finance",
    "总经理": "director",
}

GATES: tuple[str, ...] = ("visit", "quote_request", "approved_quote", "signed_contract")
GATE_LABELS: dict[str, str] = {
    "visit": "客户至少有一次拜访记录",
    "quote_request": "只能通过发起报价审批进入",
    "approved_quote": "需要一份已批准的报价",
    "signed_contract": "需要一份已签合同",
}

SEGMENT_NAMES: tuple[str, ...] = ("休眠", "明星", "成长", "稳定")

FieldKind = Literal["text", "phone", "choice"]
Requirement = Literal["required", "recommended", "optional"]
Priority = Literal["A", "B", "C"]

# key -> (label, kind, default requirement). These map to columns of `customers`; they cannot be removed.
BUILTIN_FIELDS: dict[str, tuple[str, FieldKind, Requirement]] = {
    "name": ("名称", "text", "required"),
    "industry": ("行业", "text", "recommended"),
    "region": ("区域", "text", "required"),
    "contact": ("联系人", "text", "required"),
    "phone": ("电话", "phone", "required"),
    "address": ("地址", "text", "recommended"),
}

_KIND_ALIASES: dict[str, str] = {
    "文本": "text",
    "电话": "phone",
    "手机": "phone",
    "选项": "choice",
    "单选": "choice",
}
_REQUIREMENT_ALIASES: dict[str, str] = {
    "必填": "required",
    "推荐": "recommended",
    "建议": "recommended",
    "建议填写": "recommended",
    "选填": "optional",
    "可选": "optional",
}

# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


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


class _At(ValueError):
    """A validation problem located below the validated value (`sub_loc` is appended to pydantic's loc).

    `siblings` name other keys of the same section that share the blame: when the file does not set the
    failing key itself but sets one of them, the line of that one is reported.
    """

    def __init__(
        self, sub_loc: tuple[str | int, ...], message: str, *, siblings: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.sub_loc = sub_loc
        self.siblings = siblings


# ---------------------------------------------------------------------------------------------------------
# Small value types
# ---------------------------------------------------------------------------------------------------------

_TIME_RE = re.compile(r"^\s*(\d{1,2})\s*[:：]\s*(\d{2})\s*$")


def _parse_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        m = _TIME_RE.match(value)
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            return time(int(m.group(1)), int(m.group(2)))
    raise ValueError(f"expected a time like 08:30, got {_show(value)}")


def _parse_amount(value: Any) -> Any:
    """Amounts may be written 50000, 50000.00, '¥50,000', '5万' or '5万元'."""
    if isinstance(value, bool):
        raise ValueError(f"expected an amount like 50000 or 5万, got {_show(value)}")
    if isinstance(value, str):
        text = re.sub(r"[\s,，¥￥]", "", value).removesuffix("元")
        factor = Decimal(1)
        if text.endswith("万"):
            text, factor = text[:-1], Decimal(10000)
        try:
            return Decimal(text) * factor
        except InvalidOperation:
            raise ValueError(f"expected an amount like 50000 or 5万, got {_show(value)}") from None
    return value


def _role(value: Any) -> Any:
    if isinstance(value, str):
        role = _ROLE_ALIASES.get(value.strip(), value.strip())
        if role in APPROVAL_ROLES:
            return role
    raise ValueError(f"unknown role {_show(value)} (allowed: {', '.join(APPROVAL_ROLES)})")


def _gate(value: Any) -> Any:
    if isinstance(value, str) and value.strip() in GATES:
        return value.strip()
    raise ValueError(f"unknown gate {_show(value)} (allowed: {', '.join(GATES)})")


def _alias(aliases: dict[str, str]) -> Any:
    def convert(value: Any) -> Any:
        return aliases.get(value.strip(), value.strip()) if isinstance(value, str) else value

    return convert


ClockTime = Annotated[time, BeforeValidator(_parse_time)]
Amount = Annotated[Decimal, BeforeValidator(_parse_amount)]
Role = Annotated[str, BeforeValidator(_role)]
Gate = Annotated[str, BeforeValidator(_gate)]


def _check_name(value: str, what: str) -> str:
    """Stage names, field keys and labels are typed in chat: no spaces, no '='."""
    value = value.strip()
    if not value:
        raise ValueError(f"{what} must not be empty")
    if re.search(r"[\s=＝]", value):
        raise ValueError(f"{what} {_show(value)} must not contain spaces or '='")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------------------


class CustomerField(_Model):
    """A customer field. Built-in keys map to columns; custom fields live in `customers.custom[key]`."""

    key: str
    label: str
    kind: Annotated[FieldKind, BeforeValidator(_alias(_KIND_ALIASES))] = "text"
    required: Annotated[Requirement, BeforeValidator(_alias(_REQUIREMENT_ALIASES))] = "optional"
    choices: list[str] | None = None

    @field_validator("choices")
    @classmethod
    def _strip_choices(cls, value: list[str] | None) -> list[str] | None:
        return [c.strip() for c in value] if value is not None else None

    @model_validator(mode="before")
    @classmethod
    def _fill_in(cls, data: Any) -> Any:
        # A built-in entry may give only its key and requirement; a custom field's key defaults to its label.
        if isinstance(data, dict):
            data = dict(data)
            key = data.get("key")
            if isinstance(key, str) and key.strip() in BUILTIN_FIELDS:
                label, kind, required = BUILTIN_FIELDS[key.strip()]
                data.setdefault("label", label)
                data.setdefault("kind", kind)
                data.setdefault("required", required)
            elif "key" not in data and isinstance(data.get("label"), str):
                data["key"] = data["label"]
        return data

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _check_name(value, "key")

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        return _check_name(value, "label")

    @model_validator(mode="after")
    def _choices(self) -> CustomerField:
        if self.kind == "choice":
            if not self.choices:
                raise _At(("choices",), "a field of kind 'choice' needs a list of choices")
            for i, choice in enumerate(self.choices):
                if not choice:
                    raise _At(("choices", i), "a choice must not be empty")
                if choice in self.choices[:i]:
                    raise _At(("choices", i), f"duplicate choice {_show(choice)}")
        elif self.choices is not None:
            raise _At(("choices",), f"choices are only for kind 'choice' (this field is kind '{self.kind}')")
        return self

    @property
    def builtin(self) -> bool:
        return self.key in BUILTIN_FIELDS


class ScoreItem(_Model):
    item: str
    weight: int = Field(ge=1)

    @field_validator("item")
    @classmethod
    def _item(cls, value: str) -> str:
        return _check_name(value, "item")


class PriorityThresholds(_Model):
    """A score ≥ A is priority A, ≥ B is priority B, anything lower is C."""

    A: int = Field(default=70, ge=1)
    B: int = Field(default=40, ge=0)

    @field_validator("B")
    @classmethod
    def _below_a(cls, value: int, info: ValidationInfo) -> int:
        a = info.data.get("A")
        if a is not None and value >= a:
            raise _At((), f"B ({value}) must be lower than A ({a})", siblings=("A",))
        return value


class ApprovalRule(_Model):
    """Quotes up to `max_amount` (inclusive) go through `chain`, in order; no max_amount = any larger amount."""

    max_amount: Amount | None = Field(default=None, gt=0)
    chain: list[Role] = Field(min_length=1)

    @field_validator("chain")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        for i, role in enumerate(value):
            if role in value[:i]:
                raise _At((i,), f"role '{role}' appears twice in the chain")
        return value


class ApprovalConfig(_Model):
    rules: list[ApprovalRule] = Field(
        default_factory=lambda: [
            ApprovalRule(max_amount=Decimal(50000), chain=["supervisor"]),
            ApprovalRule(max_amount=None, chain=["supervisor", "tech_lead", "finance"]),
        ]
    )
    remind_after_hours: int = Field(
        default=24, ge=1, description="working hours a step may wait before a reminder"
    )
    escalate_after_hours: int = Field(default=48, ge=1, description="working hours before escalation")
    max_reminders: int = Field(default=3, ge=0)
    holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list, description="weekend days worked (调休上班)")

    @field_validator("rules")
    @classmethod
    def _ordered(cls, rules: list[ApprovalRule]) -> list[ApprovalRule]:
        if not rules:
            raise ValueError("at least one approval rule is needed")
        previous: Decimal | None = None
        for i, rule in enumerate(rules):
            last = i == len(rules) - 1
            if rule.max_amount is None and not last:
                raise _At((i,), "only the last rule may leave out max_amount (it covers every larger amount)")
            if rule.max_amount is not None:
                if last:
                    raise _At(
                        (i, "max_amount"),
                        "the last rule must have no max_amount, so that every larger amount has a chain",
                    )
                if previous is not None and rule.max_amount <= previous:
                    raise _At(
                        (i, "max_amount"),
                        f"rules must be ordered by amount: {rule.max_amount} is not above the previous {previous}",
                    )
                previous = rule.max_amount
        return rules

    @field_validator("escalate_after_hours")
    @classmethod
    def _after_reminder(cls, value: int, info: ValidationInfo) -> int:
        remind = info.data.get("remind_after_hours")
        if remind is not None and value <= remind:
            raise _At(
                (), f"must be more than remind_after_hours ({remind})", siblings=("remind_after_hours",)
            )
        return value

    def chain_for(self, amount: Decimal | int | str) -> list[str]:
        """The approver roles, in order, for a quote of `amount` (a rule's max_amount is inclusive)."""
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
        if value < 0:
            raise ValueError(f"amount must not be negative: {amount}")
        for rule in self.rules:
            if rule.max_amount is None or value <= rule.max_amount:
                return list(rule.chain)
        raise AssertionError("unreachable: the last rule has no max_amount")  # guaranteed by validation

    def is_working_day(self, day: date) -> bool:
        """Mon–Fri, minus holidays, plus weekend days worked in lieu (调休)."""
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


class RemindersConfig(_Model):
    escalate_after_hours: int = Field(default=24, ge=1)
    default_time: ClockTime = time(9, 0)


class StarRule(_Model):
    """明星客户: at least `min_contracts` contracts in the window, total strictly above `min_total`."""

    min_contracts: int = Field(default=3, ge=1)
    window_days: int = Field(default=365, ge=1)
    min_total: Amount = Field(default=Decimal(200000), ge=0)


class GrowthRule(_Model):
    """成长客户: amount in the last window ≥ ratio × the window before (and > 0)."""

    window_days: int = Field(default=180, ge=1)
    ratio: float = Field(default=1.5, gt=0)


class DormantRule(_Model):
    """休眠客户: has contracts, none in the last `days`."""

    days: int = Field(default=180, ge=1)


class SegmentsConfig(_Model):
    star: StarRule = Field(default_factory=StarRule)
    growth: GrowthRule = Field(default_factory=GrowthRule)
    dormant: DormantRule = Field(default_factory=DormantRule)
    order: list[str] = Field(default_factory=lambda: list(SEGMENT_NAMES))

    @field_validator("order")
    @classmethod
    def _permutation(cls, value: list[str]) -> list[str]:
        value = [v.strip() if isinstance(v, str) else v for v in value]
        for i, name in enumerate(value):
            if name not in SEGMENT_NAMES:
                raise _At((i,), f"unknown segment {_show(name)} (segments: {'、'.join(SEGMENT_NAMES)})")
            if name in value[:i]:
                raise _At((i,), f"segment '{name}' appears twice")
        missing = [s for s in SEGMENT_NAMES if s not in value]
        if missing:
            raise ValueError(
                f"missing segment(s): {'、'.join(missing)} (list all of {'、'.join(SEGMENT_NAMES)})"
            )
        return value


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


class DigestConfig(_Model):
    time: ClockTime = dt.time(8, 30)
    jitter_minutes: int = Field(default=7, ge=0, le=59)
    catch_up_until: ClockTime = dt.time(12, 0)
    timezone: str = "Asia/Shanghai"

    @field_validator("jitter_minutes")
    @classmethod
    def _off_the_half_hour(cls, value: int, info: ValidationInfo) -> int:
        # Everyone's scheduled jobs hit WeCom at :00 and :30; the digest goes out a few minutes off them.
        start = info.data.get("time")
        if start is not None:
            send = _minutes(start) + value
            if send % 30 == 0:
                raise _At(
                    (),
                    f"the digest would go out at {_hhmm(send)}, on the hour or half hour; "
                    "choose a jitter_minutes that lands elsewhere (e.g. 7)",
                    siblings=("time",),
                )
            if send >= 24 * 60:
                raise _At((), f"time + jitter_minutes passes midnight ({_hhmm(send)})", siblings=("time",))
        return value

    @field_validator("catch_up_until")
    @classmethod
    def _after_send(cls, value: time, info: ValidationInfo) -> time:
        start, jitter = info.data.get("time"), info.data.get("jitter_minutes")
        if start is not None and jitter is not None and _minutes(value) <= _minutes(start) + jitter:
            raise _At(
                (),
                f"must be later than the send time {_hhmm(_minutes(start) + jitter)} (a missed digest is "
                "sent late only until this time)",
                siblings=("time", "jitter_minutes"),
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            if available_timezones():  # with no time zone database at all, trust the name
                raise ValueError(f"unknown time zone {_show(value)} (e.g. Asia/Shanghai)") from None
        return value

    @property
    def send_time(self) -> time:
        """`time` plus `jitter_minutes`."""
        minutes = _minutes(self.time) + self.jitter_minutes
        return dt.time(minutes // 60, minutes % 60)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class VisitsConfig(_Model):
    media_window_minutes: int = Field(default=30, ge=1)
    anomaly_distance_km: float = Field(default=2.0, gt=0)


# ---------------------------------------------------------------------------------------------------------
# The whole configuration
# ---------------------------------------------------------------------------------------------------------

_DEFAULT_STAGES = ["线索分配", "初步接洽", "方案制定", "报价审批", "合同签署", "实施交付"]
_DEFAULT_GATES = {
    "方案制定": ["visit"],
    "报价审批": ["quote_request"],
    "合同签署": ["approved_quote"],
    "实施交付": ["signed_contract"],
}


def _default_fields() -> list[CustomerField]:
    fields = [
        CustomerField(key=key, label=label, kind=kind, required=required)
        for key, (label, kind, required) in BUILTIN_FIELDS.items()
    ]
    fields.append(
        CustomerField(
            key="power_load_grade",
            label="用电负荷等级",
            kind="choice",
            required="recommended",
            choices=["一级", "二级", "三级"],
        )
    )
    fields.append(CustomerField(key="past_models", label="历史合作机型", kind="text", required="optional"))
    return fields


class BusinessConfig(_Model):
    stages: list[str] = Field(default_factory=lambda: list(_DEFAULT_STAGES))
    lost_stage: str = "输单"
    gates: dict[str, list[Gate]] = Field(
        default_factory=lambda: {k: list(v) for k, v in _DEFAULT_GATES.items()}
    )
    customer_fields: list[CustomerField] = Field(default_factory=_default_fields)
    # Declared before score_card so that the score card's validator can check that A is reachable.
    priority_thresholds: PriorityThresholds = Field(default_factory=PriorityThresholds)
    score_card: list[ScoreItem] = Field(
        default_factory=lambda: [
            ScoreItem(item="预算明确", weight=40),
            ScoreItem(item="决策人已接触", weight=35),
            ScoreItem(item="竞品未介入", weight=25),
        ]
    )
    approval: ApprovalConfig = Field(default_factory=ApprovalConfig)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    segments: SegmentsConfig = Field(default_factory=SegmentsConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    visits: VisitsConfig = Field(default_factory=VisitsConfig)
    dialog_ttl_minutes: int = Field(default=30, ge=1)

    # -- validation -----------------------------------------------------------------------------------------

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one stage is needed")
        cleaned: list[str] = []
        for i, stage in enumerate(value):
            try:
                name = _check_name(stage, "a stage name")
            except ValueError as exc:
                raise _At((i,), str(exc)) from None
            if name in cleaned:
                raise _At((i,), f"stage '{name}' appears twice")
            cleaned.append(name)
        return cleaned

    @field_validator("lost_stage")
    @classmethod
    def _lost_stage(cls, value: str, info: ValidationInfo) -> str:
        value = _check_name(value, "lost_stage")
        if value in (info.data.get("stages") or []):
            raise ValueError(f"'{value}' is the closed (lost) state and must not also be in stages")
        return value

    @field_validator("gates")
    @classmethod
    def _gates(cls, value: dict[str, list[str]], info: ValidationInfo) -> dict[str, list[str]]:
        stages: list[str] | None = info.data.get("stages")
        if stages is None:  # stages already failed; that error is the one to fix first
            return value
        for stage, gates in value.items():
            if stage not in stages:
                lost = info.data.get("lost_stage")
                hint = " (the lost state needs no gate)" if stage == lost else ""
                raise _At((stage,), f"unknown stage '{stage}'{hint} (stages: {', '.join(stages)})")
            if gates and stage == stages[0]:
                raise _At(
                    (stage,), f"the first stage '{stage}' cannot have gates: new opportunities start there"
                )
            for i, gate in enumerate(gates):
                if gate in gates[:i]:
                    raise _At((stage, i), f"gate '{gate}' appears twice")
        return value

    @field_validator("customer_fields")
    @classmethod
    def _fields(cls, fields: list[CustomerField]) -> list[CustomerField]:
        for key, (label, _kind, _required) in BUILTIN_FIELDS.items():
            if not any(f.key == key for f in fields):
                raise ValueError(
                    f"built-in field '{key}' ({label}) cannot be removed; keep it and change only 'required'"
                )
        owners: dict[str, tuple[int, str]] = {}  # name (key or label) -> (index, "key"/"label")
        for i, f in enumerate(fields):
            if f.builtin:
                label, kind, _ = BUILTIN_FIELDS[f.key]
                if f.label != label:
                    raise _At(
                        (i, "label"), f"the label of built-in field '{f.key}' is '{label}' and cannot change"
                    )
                if f.kind != kind:
                    raise _At(
                        (i, "kind"), f"the kind of built-in field '{f.key}' is '{kind}' and cannot change"
                    )
                if f.key == "name" and f.required != "required":
                    raise _At((i, "required"), "名称 (name) is always required")
            for attr in ("key", "label"):
                name = getattr(f, attr)
                if name in owners and owners[name][0] != i:
                    j, other = owners[name]
                    problem = (
                        f"duplicate {attr} '{name}'" if other == attr else f"'{name}' is already a {other}"
                    )
                    raise _At((i, attr), f"{problem} (also used by customer_fields[{j}])")
                owners.setdefault(name, (i, attr))
        return fields

    @field_validator("score_card")
    @classmethod
    def _score_card(cls, items: list[ScoreItem], info: ValidationInfo) -> list[ScoreItem]:
        if not items:
            raise ValueError("the score card needs at least one item")
        names = [s.item for s in items]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise _At((i, "item"), f"item '{name}' appears twice")
        thresholds: PriorityThresholds | None = info.data.get("priority_thresholds")
        total = sum(s.weight for s in items)
        if thresholds is not None and total < thresholds.A:
            raise _At(
                (),
                f"the weights add up to {total}, so no opportunity could reach priority A "
                f"(priority_thresholds.A is {thresholds.A})",
                siblings=("priority_thresholds",),
            )
        return items

    # -- helpers --------------------------------------------------------------------------------------------

    def stage_index(self, stage: str) -> int:
        """Position of `stage` in `stages` (ValueError for unknown stages and for the lost state)."""
        try:
            return self.stages.index(stage)
        except ValueError:
            raise ValueError(f"unknown stage {_show(stage)} (stages: {', '.join(self.stages)})") from None

    def next_stage(self, stage: str) -> str | None:
        """The stage after `stage`, or None at the last one."""
        i = self.stage_index(stage)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None

    def gates_for(self, stage: str) -> list[str]:
        """The gate names a move into `stage` must satisfy (see GATES / GATE_LABELS)."""
        return list(self.gates.get(stage, []))

    def field_by_label_or_key(self, name: str) -> CustomerField | None:
        """The customer field called `name` (its label, e.g. 电话, or its key, e.g. phone), else None."""
        wanted = name.strip()
        for f in self.customer_fields:
            if wanted in (f.label, f.key) or wanted.lower() == f.key.lower():
                return f
        return None

    def required_fields(self) -> list[CustomerField]:
        """Fields asked for, one by one, before a customer is created."""
        return [f for f in self.customer_fields if f.required == "required"]

    def completeness_fields(self) -> list[CustomerField]:
        """Fields that count towards 客户信息完整率: required and recommended."""
        return [f for f in self.customer_fields if f.required in ("required", "recommended")]

    def custom_fields(self) -> list[CustomerField]:
        """Configured fields that are not built in (stored in `customers.custom`)."""
        return [f for f in self.customer_fields if not f.builtin]

    def priority_for(self, score: int) -> Priority:
        if score >= self.priority_thresholds.A:
            return "A"
        if score >= self.priority_thresholds.B:
            return "B"
        return "C"

    def score(self, items_that_hold: Iterable[str]) -> tuple[int, Priority]:
        """Score and priority from the score-card items that hold. Unknown item names raise ValueError."""
        weights = {s.item: s.weight for s in self.score_card}
        held = {i.strip() for i in items_that_hold}
        unknown = sorted(i for i in held if i not in weights)
        if unknown:
            raise ValueError(f"未知的评分项：{'、'.join(unknown)}（可选：{'、'.join(weights)}）")
        total = sum(weights[i] for i in held)
        return total, self.priority_for(total)

    def chain_for(self, amount: Decimal | int | str) -> list[str]:
        """Approver roles for a quote of `amount`: see `ApprovalConfig.chain_for`."""
        return self.approval.chain_for(amount)

    def summary(self) -> str:
        custom = len(self.custom_fields())
        return (
            f"配置有效：{len(self.stages)} 个阶段，{len(self.customer_fields)} 个客户字段（自定义 {custom} 个），"
            f"{len(self.score_card)} 个评分项，{len(self.approval.rules)} 条审批规则，"
            f"{len(self.approval.holidays)} 个节假日，日报 {self.digest.send_time:%H:%M} 发送"
        )


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------


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


@lru_cache(maxsize=1)
def default_config() -> BusinessConfig:
    """The built-in defaults (the product specification's); shared, since the model is frozen."""
    return BusinessConfig()


def load_config(path: Path | str | None) -> BusinessConfig:
    """The configuration in `path` merged onto the defaults; None gives the defaults. Raises ConfigError."""
    if path is None:
        return default_config()
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(path, [(None, "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError(path, [(None, "is a directory, not a file")]) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(path, [(line, "not UTF-8 text (save the file as UTF-8)")]) from None
    except OSError as exc:
        raise ConfigError(path, [(None, f"cannot read the file: {exc.strerror or exc}")]) from None
    return _parse(text, path)


def check_config_file(path: Path | str) -> str:
    """`salesbot config check FILE`: a one-line summary starting with 配置有效, or ConfigError."""
    return load_config(Path(path)).summary()


def _parse(text: str, path: Path) -> BusinessConfig:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(path, [_yaml_problem(exc)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, [(None, f"YAML syntax error: {exc}")]) from None
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
        raise ConfigError(path, [(line, "the file must be made of 'key: value' sections (e.g. 'digest:')")])

    defaults = BusinessConfig().model_dump()
    merged = _merge(defaults, data)
    # Default gates of stages the file renamed away are dropped (gates the file names are kept, and checked).
    user_gates = data.get("gates") if isinstance(data.get("gates"), dict) else {}
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


def _yaml_problem(exc: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "cannot be read"
    if "\\t" in problem or "\t" in problem:
        problem += " (a tab character: indent with spaces only)"
    elif "block end" in problem or "mapping values are not allowed" in problem:
        problem += " (check the indentation and the ': ' on this line)"
    where = f" (column {mark.column + 1})" if mark is not None else ""
    if exc.context and exc.problem and exc.context_mark is not None and exc.context_mark is not mark:
        where += f"; {exc.context} that starts on line {exc.context_mark.line + 1}"
    return (mark.line + 1 if mark is not None else None), f"YAML syntax error: {problem}{where}"


def _duplicate_keys(node: Node, path: tuple[str | int, ...]) -> list[tuple[int | None, str]]:
    problems: list[tuple[int | None, str]] = []
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                if key.value in seen:
                    where = _format_loc((*path, key.value))
                    problems.append(
                        (
                            key.start_mark.line + 1,
                            f"{where}: '{key.value}' is given twice (first on line {seen[key.value]})",
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


def _format_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for seg in loc:
        if seg == "[key]":
            continue
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a section" if isinstance(value, dict) else "a list"
    return str(value)


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


def _plain(err: Any, loc: tuple[str | int, ...]) -> str:
    """Pydantic's error in words an office clerk can act on."""
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    got = f", got {_show(value)}"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model else []
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        listing = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return f"unknown key '{key}'{hint}{listing}"
    if kind == "missing":
        return "is missing"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number{got}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number{got}"
    if kind.startswith("decimal"):
        return f"expected an amount like 50000 or 5万{got}"
    if kind in ("string_type", "string_sub_type"):
        return f"expected text{got}"
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"expected a list (lines starting with '- '){got}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return f"expected a section of 'key: value' lines{got}"
    if kind.startswith("date"):
        return f"expected a date like 2025-10-01{got}"
    if kind.startswith("bool"):
        return f"expected true or false{got}"
    if kind == "literal_error":
        return f"{_show(value)} is not allowed (allowed: {str(ctx.get('expected', '')).replace(chr(39), '')})"
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt')}{got}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}{got}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}{got}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}{got}"
    if kind == "too_short":
        return "must not be empty"
    message = str(err["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


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
        where = _format_loc(loc)
        text = f"{where}: {_plain(err, loc)}" if where else _plain(err, loc)
        problems.append((line, text))
    problems.sort(key=lambda p: p[0] or 0)
    return problems
