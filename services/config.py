"""The business configuration's schema: the product defaults built in, every value validated.

What the file may say and what each setting means (stages, gates, approval rules, fields, segments, score card,
digest time). Reading a file is services/config_load.py; the Chinese problem messages are
services/config_messages.py. This module is long because it is one schema: one class per section, each with
its validators next to its fields.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from datetime import date, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from services import roles
from services.config_messages import show as _show
from services.leadpool_config import LeadsConfig, PoolConfig

__all__ = [
    "BUILTIN_FIELDS",
    "GATES",
    "GATE_LABELS",
    "SEGMENT_NAMES",
    "ApprovalConfig",
    "ApprovalRule",
    "BusinessConfig",
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
    "default_config",
]

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


_TIME_RE = re.compile(r"^\s*(\d{1,2})\s*[:：]\s*(\d{2})\s*$")


def _parse_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        m = _TIME_RE.match(value)
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            return time(int(m.group(1)), int(m.group(2)))
    raise ValueError(f"应填时间（例如 08:30），现在是{_show(value)}")


def _parse_amount(value: Any) -> Any:
    """Amounts may be written 50000, 50000.00, '¥50,000', '5万' or '5万元'."""
    if isinstance(value, bool):
        raise ValueError(f"应填金额（例如 50000 或 5万），现在是{_show(value)}")
    if isinstance(value, str):
        text = re.sub(r"[\s,，¥￥]", "", value).removesuffix("元")
        factor = Decimal(1)
        if text.endswith("万"):
            text, factor = text[:-1], Decimal(10000)
        try:
            return Decimal(text) * factor
        except InvalidOperation:
            raise ValueError(f"应填金额（例如 50000 或 5万），现在是{_show(value)}") from None
    return value


def _role(value: Any) -> Any:
    """An approval-chain role: its value or its Chinese name (the org chart's names, plus 主管 and 财务)."""
    if isinstance(value, str):
        role = roles.parse(value)
        if role in roles.APPROVERS:
            return role.value
    allowed = "、".join(f"{role.value} {roles.LABELS[role]}" for role in roles.ALL if role in roles.APPROVERS)
    raise ValueError(f"未知角色{_show(value)}（可选：{allowed}）")


def _gate(value: Any) -> Any:
    if isinstance(value, str) and value.strip() in GATES:
        return value.strip()
    allowed = "、".join(f"{gate}（{GATE_LABELS[gate]}）" for gate in GATES)
    raise ValueError(f"未知的关卡{_show(value)}（可选：{allowed}）")


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
        raise ValueError(f"{what}不能为空")
    if re.search(r"[\s=＝]", value):
        raise ValueError(f"{what}{_show(value)}里不能有空格或「=」")
    return value


def _check_stage_length(value: str, what: str) -> str:
    """A stage is stored in opportunities.stage and stage_moves (issue 16 #10: check before PostgreSQL does)."""
    from models import Opportunity
    from services.limits import column_limit

    limit = column_limit(Opportunity.stage) or 16
    if len(value) > limit:
        raise ValueError(f"{what}{_show(value)}太长：最多 {limit} 个字")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
        return _check_name(value, "字段代码 key ")

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        return _check_name(value, "字段名称 label ")

    @model_validator(mode="after")
    def _choices(self) -> CustomerField:
        if self.kind == "choice":
            if not self.choices:
                raise _At(("choices",), "选项类字段（kind: choice）需要填写 choices 选项列表")
            for i, choice in enumerate(self.choices):
                if not choice:
                    raise _At(("choices", i), "选项不能为空")
                if choice in self.choices[:i]:
                    raise _At(("choices", i), f"选项{_show(choice)}重复了")
                if len(choice) > self.max_length:
                    raise _At(("choices", i), f"选项{_show(choice)}太长：这个字段最多 {self.max_length} 个字")
        elif self.choices is not None:
            raise _At(
                ("choices",), f"只有选项类字段（kind: choice）才能写 choices（这个字段是「{self.kind}」）"
            )
        return self

    @property
    def builtin(self) -> bool:
        return self.key in BUILTIN_FIELDS

    @property
    def max_length(self) -> int:
        """The longest value this field stores (its column for built-in fields)."""
        from models import Customer
        from services.limits import CUSTOM_FIELD_MAX, column_limit

        column = Customer.__table__.c.get(self.key) if self.builtin else None
        return (column_limit(column) if column is not None else None) or CUSTOM_FIELD_MAX


class ScoreItem(_Model):
    item: str
    weight: int = Field(ge=1)

    @field_validator("item")
    @classmethod
    def _item(cls, value: str) -> str:
        return _check_name(value, "评分项")


class PriorityThresholds(_Model):
    """A score ≥ A is priority A, ≥ B is priority B, anything lower is C."""

    A: int = Field(default=70, ge=1)
    B: int = Field(default=40, ge=0)

    @field_validator("B")
    @classmethod
    def _below_a(cls, value: int, info: ValidationInfo) -> int:
        a = info.data.get("A")
        if a is not None and value >= a:
            raise _At((), f"B（{value}）必须小于 A（{a}）", siblings=("A",))
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
                raise _At((i,), f"角色「{role}」在审批链里出现了两次")
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
    contract_tolerance_percent: Decimal = Field(
        default=Decimal(0),
        ge=0,
        le=100,
        description="a contract may exceed its approved quote by this much before it needs a new quote",
    )
    holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list, description="weekend days worked (调休上班)")

    @field_validator("rules")
    @classmethod
    def _ordered(cls, rules: list[ApprovalRule]) -> list[ApprovalRule]:
        if not rules:
            raise ValueError("至少需要一条审批规则")
        previous: Decimal | None = None
        for i, rule in enumerate(rules):
            last = i == len(rules) - 1
            if rule.max_amount is None and not last:
                raise _At((i,), "只有最后一条规则可以不写 max_amount（它负责所有更大的金额）")
            if rule.max_amount is not None:
                if last:
                    raise _At(
                        (i, "max_amount"),
                        "最后一条规则不能写 max_amount，这样更大的金额也有审批链",
                    )
                if previous is not None and rule.max_amount <= previous:
                    raise _At(
                        (i, "max_amount"),
                        f"规则要按金额从小到大排列：{rule.max_amount} 没有大于上一条的 {previous}",
                    )
                previous = rule.max_amount
        return rules

    @field_validator("escalate_after_hours")
    @classmethod
    def _after_reminder(cls, value: int, info: ValidationInfo) -> int:
        remind = info.data.get("remind_after_hours")
        if remind is not None and value <= remind:
            raise _At((), f"必须大于 remind_after_hours（{remind}）", siblings=("remind_after_hours",))
        return value

    def chain_for(self, amount: Decimal | int | str) -> list[str]:
        """The approver roles, in order, for a quote of `amount` (a rule's max_amount is inclusive)."""
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
        if value < 0:
            raise ValueError(f"金额不能为负数：{amount}")
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
    working_time_only: bool = Field(
        default=True, description="relative follow-ups (3天后, card buttons) land on working days and hours"
    )
    work_start: ClockTime = time(9, 0)
    work_end: ClockTime = time(18, 0)

    @field_validator("work_end")
    @classmethod
    def _end_after_start(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("work_start")
        if start is not None and value <= start:
            raise _At((), f"必须晚于 work_start（{start:%H:%M}）", siblings=("work_start",))
        return value


class PushesConfig(_Model):
    """The daily budget of pushes the bot makes on its own initiative, per person (replies do not count)."""

    per_person_per_day: int = Field(default=5, ge=1, le=50)
    reserve_for_approvals: int = Field(
        default=1, ge=0, description="slots only an approval waiting on the person may use"
    )
    reserve_for_followups: int = Field(
        default=1, ge=0, description="further slots progress news may not use (kept for overdue follow-ups)"
    )

    @field_validator("reserve_for_followups")
    @classmethod
    def _room_for_news(cls, value: int, info: ValidationInfo) -> int:
        total, approvals = info.data.get("per_person_per_day"), info.data.get("reserve_for_approvals")
        if total is not None and approvals is not None and approvals + value >= total:
            raise _At(
                (),
                f"reserve_for_approvals + reserve_for_followups 必须小于 per_person_per_day（{total}），"
                "否则进展消息一条也发不出",
                siblings=("per_person_per_day", "reserve_for_approvals"),
            )
        return value

    def cap(self, priority: int) -> int:
        """The highest slot of the day a message of `priority` may take (1 approval, 2 follow-up, 3 news)."""
        if priority <= 1:
            return self.per_person_per_day
        if priority == 2:
            return self.per_person_per_day - self.reserve_for_approvals
        return self.per_person_per_day - self.reserve_for_approvals - self.reserve_for_followups


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
                raise _At((i,), f"未知的客户分层{_show(name)}（可选：{'、'.join(SEGMENT_NAMES)}）")
            if name in value[:i]:
                raise _At((i,), f"客户分层「{name}」出现了两次")
        missing = [s for s in SEGMENT_NAMES if s not in value]
        if missing:
            raise ValueError(f"缺少客户分层：{'、'.join(missing)}（要列出全部：{'、'.join(SEGMENT_NAMES)}）")
        return value


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


class DigestConfig(_Model):
    time: ClockTime = dt.time(8, 30)
    jitter_minutes: int = Field(default=7, ge=0, le=59)
    catch_up_until: ClockTime = dt.time(12, 0)
    # Deprecated: the product's one local zone is SALESBOT_TIMEZONE (Settings.salesbot_timezone). An older
    # file's value is still accepted (and validated); `salesbot config check` says when it differs.
    timezone: str | None = None

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
                    f"日报会在 {_hhmm(send)} 发出，正好是整点或半点；"
                    "请换一个 jitter_minutes，让发送时间错开整点和半点（例如 7）",
                    siblings=("time",),
                )
            if send >= 24 * 60:
                raise _At((), f"time 加上 jitter_minutes 超过了午夜（{_hhmm(send)}）", siblings=("time",))
        return value

    @field_validator("catch_up_until")
    @classmethod
    def _after_send(cls, value: dt.time, info: ValidationInfo) -> dt.time:
        start, jitter = info.data.get("time"), info.data.get("jitter_minutes")
        if start is not None and jitter is not None and _minutes(value) <= _minutes(start) + jitter:
            raise _At(
                (),
                f"必须晚于日报发送时间 {_hhmm(_minutes(start) + jitter)}（错过的日报只在这个时间之前补发）",
                siblings=("time", "jitter_minutes"),
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            if available_timezones():  # with no time zone database at all, trust the name
                raise ValueError(f"未知的时区{_show(value)}（例如 Asia/Shanghai）") from None
        return value

    @property
    def send_time(self) -> dt.time:
        """`time` plus `jitter_minutes`."""
        minutes = _minutes(self.time) + self.jitter_minutes
        return dt.time(minutes // 60, minutes % 60)


class VisitsConfig(_Model):
    media_window_minutes: int = Field(default=30, ge=1)
    anomaly_distance_km: float = Field(default=2.0, gt=0)


class PlanPartConfig(_Model):
    percent: Decimal = Field(gt=0, le=100)
    due: str = Field(description="签约后10天 | 发货时 | 验收后30天 (a date makes no sense in a default plan)")

    @field_validator("due")
    @classmethod
    def _rule(cls, value: str) -> str:
        from services.parsing.plans import DATE_EVENT, parse_rule
        from services.parsing.text import ParseError

        try:
            rule = parse_rule(value, now=dt.datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC")), tz=ZoneInfo("UTC"))
        except ParseError as exc:
            raise ValueError(exc.message) from None
        if rule.event == DATE_EVENT:
            raise ValueError(
                f"默认回款计划不能写具体日期{_show(value)}，请写「签约后10天」「发货时」「验收后30天」这样的条件"
            )
        return value


class CollectionsConfig(_Model):
    """Payment plans and the collections ladder (services/plans.py, schedulers/collections.py)."""

    default_plan: list[PlanPartConfig] = Field(
        default_factory=lambda: [
            PlanPartConfig(percent=Decimal(30), due="签约时"),
            PlanPartConfig(percent=Decimal(60), due="发货时"),
            PlanPartConfig(percent=Decimal(10), due="验收后30天"),
        ]
    )
    remind_before_workdays: int = Field(
        default=7, ge=0, description="the owner hears this many working days before"
    )
    supervisor_after_workdays: int = Field(default=15, ge=1)
    director_after_workdays: int = Field(default=30, ge=1)
    largest_overdue: int = Field(default=5, ge=1, le=20, description="overdue items listed in the digest")
    webhook_url: str | None = Field(
        default=None, description="POST each new contract and payment here (signed)"
    )

    @field_validator("default_plan")
    @classmethod
    def _hundred(cls, value: list[PlanPartConfig]) -> list[PlanPartConfig]:
        if not value:
            raise ValueError("默认回款计划至少要有一期")
        total = sum((p.percent for p in value), Decimal(0))
        if total != 100:
            raise ValueError(f"默认回款计划的比例加起来是 {total:g}%，应为 100%")
        return value

    @field_validator("director_after_workdays")
    @classmethod
    def _after_supervisor(cls, value: int, info: ValidationInfo) -> int:
        first = info.data.get("supervisor_after_workdays")
        if first is not None and value <= first:
            raise _At(
                (), f"必须大于 supervisor_after_workdays（{first}）", siblings=("supervisor_after_workdays",)
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://", value.strip()):
            raise ValueError(f"webhook_url 要以 http:// 或 https:// 开头{_show(value)}")
        return value.strip() if value else None


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
    pushes: PushesConfig = Field(default_factory=PushesConfig)
    segments: SegmentsConfig = Field(default_factory=SegmentsConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    visits: VisitsConfig = Field(default_factory=VisitsConfig)
    leads: LeadsConfig = Field(default_factory=LeadsConfig)
    pool: PoolConfig = Field(default_factory=PoolConfig)
    collections: CollectionsConfig = Field(default_factory=CollectionsConfig)
    dialog_ttl_minutes: int = Field(default=30, ge=1)

    # -- validation -----------------------------------------------------------------------------------------

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("至少需要一个阶段")
        cleaned: list[str] = []
        for i, stage in enumerate(value):
            try:
                name = _check_name(stage, "阶段名称")
                _check_stage_length(name, "阶段名称")
            except ValueError as exc:
                raise _At((i,), str(exc)) from None
            if name in cleaned:
                raise _At((i,), f"阶段「{name}」出现了两次")
            cleaned.append(name)
        return cleaned

    @field_validator("lost_stage")
    @classmethod
    def _lost_stage(cls, value: str, info: ValidationInfo) -> str:
        value = _check_stage_length(_check_name(value, "输单状态 lost_stage "), "输单状态 lost_stage ")
        if value in (info.data.get("stages") or []):
            raise ValueError(f"「{value}」是输单（关闭）状态，不能同时写在 stages 阶段里")
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
                hint = "（输单状态不需要关卡）" if stage == lost else ""
                raise _At((stage,), f"未知阶段「{stage}」{hint}（现有阶段：{'、'.join(stages)}）")
            if gates and stage == stages[0]:
                raise _At((stage,), f"第一个阶段「{stage}」不能设关卡：新商机都从这里开始")
            for i, gate in enumerate(gates):
                if gate in gates[:i]:
                    raise _At((stage, i), f"关卡「{gate}」出现了两次")
        return value

    @field_validator("customer_fields")
    @classmethod
    def _fields(cls, fields: list[CustomerField]) -> list[CustomerField]:
        for key, (label, _kind, _required) in BUILTIN_FIELDS.items():
            if not any(f.key == key for f in fields):
                raise ValueError(f"内置字段「{key}」（{label}）不能删除；请保留它，只修改 required")
        owners: dict[str, tuple[int, str]] = {}  # name (key or label) -> (index, "key"/"label")
        for i, f in enumerate(fields):
            if f.builtin:
                label, kind, _ = BUILTIN_FIELDS[f.key]
                if f.label != label:
                    raise _At((i, "label"), f"内置字段「{f.key}」的名称是「{label}」，不能修改")
                if f.kind != kind:
                    raise _At((i, "kind"), f"内置字段「{f.key}」的类型是「{kind}」，不能修改")
                if f.key == "name" and f.required != "required":
                    raise _At((i, "required"), "名称（name）必须是必填（required）")
            for attr in ("key", "label"):
                name = getattr(f, attr)
                if name in owners and owners[name][0] != i:
                    j, other = owners[name]
                    what = {"key": "字段代码", "label": "字段名称"}
                    problem = (
                        f"{what[attr]}「{name}」重复了"
                        if other == attr
                        else f"「{name}」已经是另一个字段的{what[other]}"
                    )
                    raise _At((i, attr), f"{problem}（customer_fields[{j}] 也在用）")
                owners.setdefault(name, (i, attr))
        return fields

    @field_validator("score_card")
    @classmethod
    def _score_card(cls, items: list[ScoreItem], info: ValidationInfo) -> list[ScoreItem]:
        if not items:
            raise ValueError("评分卡至少需要一个评分项")
        names = [s.item for s in items]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise _At((i, "item"), f"评分项「{name}」出现了两次")
        thresholds: PriorityThresholds | None = info.data.get("priority_thresholds")
        total = sum(s.weight for s in items)
        if thresholds is not None and total < thresholds.A:
            raise _At(
                (),
                f"各项权重加起来是 {total}，没有商机能达到 A 级（priority_thresholds.A 是 {thresholds.A}）",
                siblings=("priority_thresholds",),
            )
        return items

    # -- helpers --------------------------------------------------------------------------------------------

    def stage_index(self, stage: str) -> int:
        """Position of `stage` in `stages` (ValueError for unknown stages and for the lost state)."""
        try:
            return self.stages.index(stage)
        except ValueError:
            raise ValueError(f"未知阶段{_show(stage)}（现有阶段：{'、'.join(self.stages)}）") from None

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

    def zone_notes(self, zone: str) -> list[str]:
        """What `config check` adds when the file's deprecated digest.timezone disagrees with the configured zone."""
        if self.digest.timezone is None or self.digest.timezone == zone:
            return []
        return [
            f"注意：digest.timezone（{self.digest.timezone}）已不再使用，与 SALESBOT_TIMEZONE（{zone}）不同；"
            f"本地日期和时间一律按 {zone}。请删除 digest.timezone，或把 SALESBOT_TIMEZONE 设为 {self.digest.timezone}。"
        ]

    def summary(self) -> str:
        custom = len(self.custom_fields())
        return (
            f"配置有效：{len(self.stages)} 个阶段，{len(self.customer_fields)} 个客户字段（自定义 {custom} 个），"
            f"{len(self.score_card)} 个评分项，{len(self.approval.rules)} 条审批规则，"
            f"{len(self.approval.holidays)} 个节假日，日报 {self.digest.send_time:%H:%M} 发送"
        )


@lru_cache(maxsize=1)
def default_config() -> BusinessConfig:
    """The built-in defaults (the product specification's); shared, since the model is frozen."""
    return BusinessConfig()
