"""The reference customer's four management indicators (product.md "Scheduled work"). Long because the four
indicators each need a parts query and a combiner, kept together with their definitions.

Each indicator is one function with its definition in the docstring and a result that says how it compares
with its target. All take a `Coverage` (what the manager may see, from services/scope.Scope.of: the customers' regions
and the user ids whose own activity counts) and
`now` (aware); day and month boundaries are local in `tz`, the configured zone (Settings.salesbot_timezone).

Each is computed in two steps so that the morning job can build every manager's digest from one set of
queries: `*_parts(session, regions=...)` runs the aggregate query GROUPED BY the customer's region (or by
the owner, for people's own activity) and returns partial sums per group; `*_from(...)` combines the groups
of one scope into the Indicator. Counts and sums add up exactly, so the 总经理's figures are the sums over
every group (including customers without a region).

Also here: the small scope and calendar helpers the digest shares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from cards.digest_markdown import wan
from models import (
    ApprovalStep,
    Contract,
    Customer,
    Opportunity,
    Quote,
    Reminder,
    ReminderStatus,
    StepStatus,
    User,
)
from services.config import BusinessConfig
from services.scope import Regions, Scope

CONVERSION_WINDOW_DAYS = 90
ON_TIME_WINDOW_DAYS = 30
COMPLETENESS_TARGET = 0.90
ON_TIME_TARGET = 0.85

# ---------------------------------------------------------------------------------------------------------
# Scope and calendar helpers
# ---------------------------------------------------------------------------------------------------------


def region_clause(regions: Regions) -> ColumnElement[bool]:
    """The WHERE clause on `Customer.region` for `regions` (`IN ()` is false: no customer)."""
    return true() if regions is None else Customer.region.in_(regions)


def covers(regions: Regions, region: str | None) -> bool:
    """Whether a group keyed by the customer's `region` belongs to the scope `regions`."""
    return regions is None or region in regions


@dataclass(frozen=True)
class Coverage:
    """What a manager's digest covers, as decided by `services.scope.Scope.of(manager)` and loaded: customers
    (by region) and whose activity (None = everyone)."""

    regions: Regions
    userids: tuple[str, ...] | None
    label: str

    def owner_clause(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        return true() if self.userids is None else column.in_(self.userids)

    def has_user(self, userid: str) -> bool:
        return self.userids is None or userid in self.userids

    @property
    def everyone(self) -> bool:
        """The whole company (总经理/管理员)."""
        return self.userids is None


def scope_for(manager: User, userids: list[str] | None) -> Coverage:
    """`userids` are the manager's visible users (None = everyone), as loaded with `Scope.of(manager).users()`."""
    scope = Scope.of(manager)
    return Coverage(
        regions=scope.regions(),
        userids=None if scope.everyone else tuple(userids or ()),
        label=scope.label,
    )


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The start of `day` in `tz`, as aware UTC."""
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def same_period_last_month(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime, datetime]:
    """(start of this month, start of last month, the same elapsed point last month — capped at its end)."""
    today = now.astimezone(tz).date()
    this_start = local_midnight(month_start(today), tz)
    last_start = local_midnight(add_months(today, -1), tz)
    last_end = min(last_start + (now - this_start), this_start)
    return this_start, last_start, last_end


def working_hours_between(start: datetime, end: datetime, *, config: BusinessConfig, tz: ZoneInfo) -> float:
    """Hours between `start` and `end` that fall on working days (config.approval: Mon–Fri, holidays, 调休)."""
    if end <= start:
        return 0.0
    total = 0.0
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        if config.approval.is_working_day(day):
            lo = max(start, local_midnight(day, tz))
            hi = min(end, local_midnight(day + timedelta(days=1), tz))
            if hi > lo:
                total += (hi - lo).total_seconds() / 3600
        day += timedelta(days=1)
    return total


class WorkingClock:
    """`working_hours_between` for many intervals inside [first, last]: a cumulative count of working seconds
    at each local midnight, so each interval costs two look-ups instead of a walk over its days."""

    def __init__(self, first: datetime, last: datetime, *, config: BusinessConfig, tz: ZoneInfo) -> None:
        self.tz = tz
        self.config = config
        day, end = first.astimezone(self.tz).date(), last.astimezone(self.tz).date()
        self.first_day = day
        self.midnights: list[datetime] = []
        self.cumulative: list[float] = []  # working seconds from the first midnight to each midnight
        self.working: list[bool] = []
        total = 0.0
        while day <= end + timedelta(days=1):
            start = local_midnight(day, self.tz)
            if self.midnights and self.working[-1]:
                total += (start - self.midnights[-1]).total_seconds()
            self.midnights.append(start)
            self.cumulative.append(total)
            self.working.append(config.approval.is_working_day(day))
            day += timedelta(days=1)

    def _at(self, moment: datetime) -> float | None:
        i = (moment.astimezone(self.tz).date() - self.first_day).days
        if i < 0 or i + 1 >= len(self.midnights):
            return None
        inside = (moment - self.midnights[i]).total_seconds() if self.working[i] else 0.0
        return self.cumulative[i] + inside

    def hours(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        lo, hi = self._at(start), self._at(end)
        if lo is None or hi is None:  # outside the prepared range: the plain walk
            return working_hours_between(start, end, config=self.config, tz=self.tz)
        return (hi - lo) / 3600


# ---------------------------------------------------------------------------------------------------------
# The indicators
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    name: str
    value: float | None  # None: nothing to measure yet
    text: str  # the value for display (Chinese)
    target: str | None = None
    ok: bool | None = None  # against the target (None: no target or no value)
    detail: str = ""


Pair = tuple[float, int]  # (sum, count) of one group


def add_pairs(pairs: Iterable[tuple[Any, Any]]) -> tuple[Any, Any]:
    """Element-wise sum of (a, b) pairs (the groups of one scope)."""
    a_total: Any = 0
    b_total: Any = 0
    for a, b in pairs:
        a_total += a
        b_total += b
    return a_total, b_total


def in_regions(parts: dict[str | None, Any], regions: Regions) -> list[Any]:
    """The per-region parts that belong to the scope `regions`."""
    return [part for region, part in parts.items() if covers(regions, region)]


def conversion_cycle_parts(session: Session, *, regions: Regions, now: datetime) -> dict[str | None, Pair]:
    """Per customer region: (sum of days to first contract, opportunities) — see `conversion_cycle`."""
    first_signed = func.min(Contract.signed_at)
    rows = session.execute(
        select(Customer.region, Opportunity.created_at, first_signed)
        .join(Contract, Contract.opportunity_id == Opportunity.id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(region_clause(regions), Contract.signed_at <= now)
        .group_by(Opportunity.id, Opportunity.created_at, Customer.region)
        .having(first_signed >= now - timedelta(days=CONVERSION_WINDOW_DAYS))
    ).all()
    parts: dict[str | None, Pair] = {}
    for region, created, signed in rows:
        days, n = parts.get(region, (0.0, 0))
        parts[region] = (days + max((signed - created).total_seconds(), 0) / 86400, n + 1)
    return parts


def conversion_cycle_from(days: float, count: int) -> Indicator:
    if not count:
        return Indicator("平均商机转化周期", None, "暂无（近90天无签约）")
    mean = days / count
    return Indicator("平均商机转化周期", mean, f"{mean:.1f} 天", detail=f"近90天 {count} 个商机签约")


def conversion_cycle(session: Session, *, scope: Coverage, now: datetime) -> Indicator:
    """平均商机转化周期: the mean, in days, from an opportunity's `created_at` to the `signed_at` of its FIRST
    contract, over the opportunities whose first contract was signed in the last 90 days (now − 90 d ≤
    signed_at ≤ now) and whose customer is in scope. Contracts without an opportunity do not count.
    """
    parts = conversion_cycle_parts(session, regions=scope.regions, now=now)
    return conversion_cycle_from(*add_pairs(in_regions(parts, scope.regions)))


def customer_counts(
    session: Session, *, regions: Regions
) -> dict[tuple[str | None, str | None], tuple[int, int]]:
    """(region, segment) → (customers, complete ones): the digest's 客户分层 and `completeness`, one query."""
    rows = session.execute(
        select(
            Customer.region,
            Customer.segment,
            func.count(Customer.id),
            func.count(case((Customer.complete.is_(True), Customer.id))),
        )
        .where(region_clause(regions))
        .group_by(Customer.region, Customer.segment)
    ).all()
    return {(region, segment): (int(n), int(done)) for region, segment, n, done in rows}


def completeness_from(total: int, complete: int) -> Indicator:
    if not total:
        return Indicator("客户信息完整率", None, "暂无客户", target="≥90%")
    share = complete / total
    return Indicator(
        "客户信息完整率",
        share,
        f"{share:.0%}",
        target="≥90%",
        ok=share >= COMPLETENESS_TARGET,
        detail=f"{complete}/{total}",
    )


def completeness(session: Session, *, scope: Coverage) -> Indicator:
    """客户信息完整率: the share of in-scope customers whose `complete` flag is true, i.e. every required
    and recommended field is filled (services/customer_fields.is_complete keeps the flag up to date on
    every write). Target ≥ 90%.
    """
    counts = customer_counts(session, regions=scope.regions)
    return completeness_from(
        *add_pairs(n for (region, _), n in counts.items() if covers(scope.regions, region))
    )


def reminder_timeliness(
    session: Session, *, userids: tuple[str, ...] | None, now: datetime
) -> dict[str, tuple[int, int]]:
    """Per owner (within `userids`, None = everyone): (reminders counted, on time) — see `on_time_rate`."""
    since = now - timedelta(days=ON_TIME_WINDOW_DAYS)
    rows = session.execute(
        select(
            Reminder.owner_userid,
            func.count(Reminder.id),
            func.count(
                case(
                    (
                        and_(
                            Reminder.status == ReminderStatus.DONE, Reminder.completed_at <= Reminder.due_at
                        ),
                        Reminder.id,
                    )
                )
            ),
        )
        .where(
            true() if userids is None else Reminder.owner_userid.in_(userids),
            Reminder.status != ReminderStatus.CANCELLED,
            Reminder.due_at >= since,
            Reminder.due_at <= now,
        )
        .group_by(Reminder.owner_userid)
    ).all()
    return {owner: (int(n), int(on_time)) for owner, n, on_time in rows}


def step_timeliness(
    session: Session, *, regions: Regions, config: BusinessConfig, now: datetime, tz: ZoneInfo
) -> dict[str | None, tuple[int, int]]:
    """Per customer region: (approval steps counted, on time) — see `on_time_rate`."""
    since = now - timedelta(days=ON_TIME_WINDOW_DAYS)
    steps = session.execute(
        select(Customer.region, ApprovalStep.status, ApprovalStep.activated_at, ApprovalStep.acted_at)
        .join(Quote, Quote.id == ApprovalStep.quote_id)
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(
            region_clause(regions),
            ApprovalStep.activated_at.is_not(None),
            ApprovalStep.activated_at >= since,
            ApprovalStep.activated_at <= now,
            ApprovalStep.status.in_((StepStatus.PENDING, StepStatus.APPROVED, StepStatus.REJECTED)),
        )
    ).all()
    limit = config.approval.remind_after_hours
    clock = WorkingClock(since, now, config=config, tz=tz)
    parts: dict[str | None, tuple[int, int]] = {}
    for region, status, activated, acted in steps:
        assert activated is not None  # the query keeps activated steps only
        total, on_time = parts.get(region, (0, 0))
        if status == StepStatus.PENDING or acted is None:
            if clock.hours(activated, now) > limit:
                parts[region] = (total + 1, on_time)  # overdue and still waiting: late
            continue
        parts[region] = (total + 1, on_time + (clock.hours(activated, acted) <= limit))
    return parts


def on_time_rate_from(total: int, on_time: int) -> Indicator:
    if not total:
        return Indicator("关键节点按时完成率", None, "暂无（近30天无到期节点）", target="≥85%")
    rate = on_time / total
    return Indicator(
        "关键节点按时完成率",
        rate,
        f"{rate:.0%}",
        target="≥85%",
        ok=rate >= ON_TIME_TARGET,
        detail=f"{on_time}/{total}",
    )


def on_time_rate(
    session: Session, *, scope: Coverage, config: BusinessConfig, now: datetime, tz: ZoneInfo
) -> Indicator:
    """关键节点按时完成率 (target ≥ 85%), over the last 30 days, counting two kinds of key step:

    - follow-up reminders of in-scope owners that fell due in the window (now − 30 d ≤ due_at ≤ now), not
      cancelled: on time when completed with `completed_at ≤ due_at` (a snoozed reminder has a later
      due_at, so it is judged against the time it was moved to);
    - quote approval steps of in-scope customers' quotes that were activated in the window: on time when
      approved or rejected within `config.approval.remind_after_hours` working hours of activation (the
      point at which the system would have had to remind); a step still pending past that is late; one
      still pending within it is not counted yet; cancelled steps are not counted.

    Rate = on-time / counted, both kinds together.
    """
    reminders = reminder_timeliness(session, userids=scope.userids, now=now)
    steps = step_timeliness(session, regions=scope.regions, config=config, now=now, tz=tz)
    return on_time_rate_from(*add_pairs([*reminders.values(), *in_regions(steps, scope.regions)]))


def sales_growth_parts(
    session: Session, *, regions: Regions, config: BusinessConfig, now: datetime, tz: ZoneInfo
) -> dict[str | None, tuple[Decimal, Decimal]]:
    """Per customer region: (signed this month to `now`, signed over the same period of last month)."""
    this_start, last_start, last_end = same_period_last_month(now, tz)
    rows = session.execute(
        select(
            Customer.region,
            func.coalesce(func.sum(case((Contract.signed_at >= this_start, Contract.amount))), 0),
            func.coalesce(func.sum(case((Contract.signed_at < last_end, Contract.amount))), 0),
        )
        .join(Customer, Customer.id == Contract.customer_id)
        .where(
            region_clause(regions),
            Contract.signed_at <= now,
            or_(
                Contract.signed_at >= this_start,
                and_(Contract.signed_at >= last_start, Contract.signed_at < last_end),
            ),
        )
        .group_by(Customer.region)
    ).all()
    return {region: (Decimal(str(this)), Decimal(str(last))) for region, this, last in rows}


def sales_growth_from(this_amount: Decimal, last_amount: Decimal) -> Indicator:
    this_amount, last_amount = Decimal(this_amount), Decimal(last_amount)
    detail = f"本月 {wan(this_amount)} / 上月同期 {wan(last_amount)}"
    if not last_amount:
        return Indicator("销售额环比增长", None, "上月同期无签约", detail=detail)
    growth = float((this_amount - last_amount) / last_amount)
    return Indicator("销售额环比增长", growth, f"{growth:+.0%}", detail=detail)


def sales_growth(
    session: Session, *, scope: Coverage, config: BusinessConfig, now: datetime, tz: ZoneInfo
) -> Indicator:
    """销售额环比增长: the amount of in-scope contracts signed this month up to `now`, against the amount
    signed over the same elapsed period of last month (from its 1st to the same offset, capped at the end
    of last month): (this − last) / last. No value when last month's period had no contracts.
    """
    parts = sales_growth_parts(session, regions=scope.regions, config=config, now=now, tz=tz)
    return sales_growth_from(*add_pairs(in_regions(parts, scope.regions)))


def all_indicators(
    session: Session, *, scope: Coverage, config: BusinessConfig, now: datetime, tz: ZoneInfo
) -> list[Indicator]:
    return [
        conversion_cycle(session, scope=scope, now=now),
        completeness(session, scope=scope),
        on_time_rate(session, scope=scope, config=config, now=now, tz=tz),
        sales_growth(session, scope=scope, config=config, now=now, tz=tz),
    ]
