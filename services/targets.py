"""Targets (目标): what each rep, region and the company aims for per month, and how far along they are. Months,
metrics and the month's clock are services/target_months.py.

Rules chosen here (product.md is silent on them):
* A target is set per month; a quarter or a year is the sum of its months' targets, and achievement over a
  quarter counts from its first day to now.
* What counts as done: 签约 = contracts signed in the period, credited to the signer (as in the digest);
  回款 = payments received, credited to the signer of their contract (the customer's owner when the payment is
  not tied to a contract); 新客户 = customers created, credited to their owner; 拜访 = visits made. A region's
  figure is what its people did (the region of the user), the company's everything.
* A supervisor may set their own reps' monthly targets in chat; when the region has a target for that month and
  metric, the reps' targets together may not exceed it. Without a region target there is nothing to exceed.
* "Left per working day" divides what is left by the working days from today to the month's end, today
  included (the approval calendar: Monday-Friday, configured holidays and 调休 days).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cards.targets import Progress, fmt  # noqa: F401  (fmt is re-exported for handlers)
from chat.errors import DomainError
from models import Contract, Customer, Opportunity, Payment, Role, Target, User, Visit
from models.targets import METRIC_LABELS, MONEY_METRICS, Level, Metric
from services import audit
from services.config import BusinessConfig
from services.target_months import (
    SHANGHAI,
    add_months,
    check_value,
    local_midnight,
    month_bounds,
    month_key,
    quarter_months,
    working_days_left,
)


def upsert_target(
    session: Session,
    *,
    level: Level,
    key: str,
    month: str,
    metric: Metric,
    value: Decimal,
    actor: str,
    now: datetime,
) -> tuple[Target, str]:
    """Set one target; returns (the row, 'created' | 'updated' | 'unchanged'). Audited."""
    value = check_value(metric, value)
    row = session.scalar(
        select(Target).where(
            Target.level == level, Target.key == key, Target.month == month, Target.metric == metric
        )
    )
    if row is not None and Decimal(row.value) == value:
        return row, "unchanged"
    before = None if row is None else Decimal(row.value)
    if row is None:
        row = Target(
            level=level.value,
            key=key,
            month=month,
            metric=metric.value,
            value=value,
            set_by=actor,
            updated_at=now,
        )
        session.add(row)
        outcome = "created"
    else:
        row.value, row.set_by, row.updated_at = value, actor, now
        outcome = "updated"
    session.flush()
    audit.record(
        session,
        actor=actor,
        entity="target",
        entity_id=row.id,
        action="set",
        now=now,
        changes={"value": [before, value], "scope": [None, f"{level.value}:{key}:{month}:{metric.value}"]},
    )
    return row, outcome


def set_rep_target(
    session: Session,
    *,
    supervisor: User,
    rep: User,
    month: str,
    metric: Metric,
    value: Decimal,
    now: datetime,
) -> Target:
    """A supervisor sets one of their reps' monthly targets, within the region's target for that month."""
    if rep.role != Role.REP or not rep.active or not supervisor.region or rep.region != supervisor.region:
        raise DomainError(f"只能给本区域（{supervisor.region or '未设区域'}）的销售设目标。")
    value = check_value(metric, value)
    region_target = target_value(
        session, level=Level.REGION, key=supervisor.region, month=month, metric=metric
    )
    if region_target is not None:
        others = session.scalar(
            select(func.coalesce(func.sum(Target.value), 0))
            .join(User, User.userid == Target.key)
            .where(
                Target.level == Level.REP,
                Target.month == month,
                Target.metric == metric,
                User.region == supervisor.region,
                Target.key != rep.userid,
            )
        ) or Decimal(0)
        room = region_target - Decimal(others)
        if value > room:
            label = METRIC_LABELS[metric]
            raise DomainError(
                f"超出区域目标：{supervisor.region} {month} {label}目标 {fmt(metric, region_target)}，"
                f"其他人已分 {fmt(metric, Decimal(others))}，最多还能给 {rep.name} {fmt(metric, max(room, Decimal(0)))}。"
            )
    row, _ = upsert_target(
        session,
        level=Level.REP,
        key=rep.userid,
        month=month,
        metric=metric,
        value=value,
        actor=supervisor.userid,
        now=now,
    )
    return row


def target_exists(session: Session, *, level: Level, key: str, month: str) -> bool:
    found = session.scalar(
        select(Target.id).where(Target.level == level, Target.key == key, Target.month == month).limit(1)
    )
    return found is not None


def target_value(session: Session, *, level: Level, key: str, month: str, metric: Metric) -> Decimal | None:
    value = session.scalar(
        select(Target.value).where(
            Target.level == level, Target.key == key, Target.month == month, Target.metric == metric
        )
    )
    return None if value is None else Decimal(value)


def done_by_user(
    session: Session, *, metric: Metric, start: datetime, end: datetime, userids: Iterable[str] | None = None
) -> dict[str, Decimal]:
    """What each person did for `metric` in [start, end); `userids` None means everyone."""
    ids = None if userids is None else list(userids)
    who: Any  # a column or an expression: the typed forms differ per branch
    stmt: Any
    if metric is Metric.SIGNED:
        who = Contract.signed_by
        stmt = select(who, func.sum(Contract.amount)).where(
            Contract.signed_at >= start, Contract.signed_at < end
        )
    elif metric is Metric.COLLECTED:
        who = func.coalesce(Contract.signed_by, Customer.owner_userid)
        stmt = (
            select(who, func.sum(Payment.amount))
            .join(Customer, Customer.id == Payment.customer_id)
            .outerjoin(Contract, Contract.id == Payment.contract_id)
            .where(Payment.received_at >= start, Payment.received_at < end)
        )
    elif metric is Metric.NEW_CUSTOMERS:
        who = Customer.owner_userid
        stmt = select(who, func.count(Customer.id)).where(
            Customer.created_at >= start, Customer.created_at < end
        )
    else:
        who = Visit.userid
        stmt = select(who, func.count(Visit.id)).where(Visit.visited_at >= start, Visit.visited_at < end)
    if ids is not None:
        stmt = stmt.where(who.in_(ids))
    return {u: Decimal(v or 0) for u, v in session.execute(stmt.group_by(who))}


def members(session: Session, *, level: Level, key: str) -> list[str] | None:
    """Whose work counts for a target: the rep, the region's people, or everyone (None)."""
    if level is Level.REP:
        return [key]
    if level is Level.REGION:
        return list(session.scalars(select(User.userid).where(User.region == key)))
    return None


def progress(
    session: Session,
    *,
    level: Level,
    key: str,
    months: list[str],
    now: datetime,
    config: BusinessConfig,
    metrics: Iterable[Metric] = tuple(Metric),
) -> list[Progress]:
    """Target, done and what is left per working day over `months` (a month, or a quarter to date).

    Over several months, a metric's done counts only the months that have a target for it (a quarter whose
    first months had none is measured on the months that do), or every month when none has one.
    """
    who = members(session, level=level, key=key)
    targeted: dict[str, dict[str, Decimal]] = {}
    for metric, month, value in session.execute(
        select(Target.metric, Target.month, Target.value).where(
            Target.level == level, Target.key == key, Target.month.in_(months)
        )
    ):
        targeted.setdefault(metric, {})[month] = Decimal(value)
    days_left = working_days_left(now, months[-1], config=config)
    out: list[Progress] = []
    for metric in metrics:
        per_month = targeted.get(metric.value, {})
        counted = [m for m in months if m in per_month] or months
        done = Decimal(0)
        for month in counted:
            start, end = month_bounds(month)
            if start < now:
                done += sum(
                    done_by_user(
                        session, metric=metric, start=start, end=min(end, now), userids=who
                    ).values(),
                    Decimal(0),
                )
        target = sum(per_month.values(), Decimal(0)) if per_month else None
        if target is None and metric not in MONEY_METRICS and not done:
            continue
        per_day = None
        if target is not None and done < target and days_left:
            per_day = ((target - done) / days_left).quantize(Decimal("1"), ROUND_HALF_UP)
        out.append(Progress(metric=metric, target=target, done=done, left_per_workday=per_day))
    return out


def team_progress(
    session: Session, *, viewer: User, month: str, now: datetime, config: BusinessConfig, metric: Metric
) -> list[tuple[str, Progress]]:
    """(name, progress) per rep of a supervisor's region, or per region for the director and admin."""
    if viewer.role == Role.SUPERVISOR:
        reps = session.scalars(
            select(User)
            .where(User.region == viewer.region, User.role == Role.REP, User.active)
            .order_by(User.name)
        )
        return [
            (
                u.name,
                progress(
                    session,
                    level=Level.REP,
                    key=u.userid,
                    months=[month],
                    now=now,
                    config=config,
                    metrics=[metric],
                )[0],
            )
            for u in reps
        ]
    regions = session.scalars(
        select(User.region)
        .where(User.role == Role.REP, User.active, User.region.is_not(None))
        .distinct()
        .order_by(User.region)
    )
    return [
        (
            r,
            progress(
                session, level=Level.REGION, key=r, months=[month], now=now, config=config, metrics=[metric]
            )[0],
        )
        for r in regions
        if r
    ]


def closing_candidates(
    session: Session, *, userids: list[str] | None, config: BusinessConfig, limit: int = 3
) -> list[Opportunity]:
    """Open opportunities that could close the gap: the furthest stage first, then the best score."""
    order = {stage: i for i, stage in enumerate(config.stages)}
    signed = select(Contract.id).where(Contract.opportunity_id == Opportunity.id).exists()
    stmt = select(Opportunity).where(
        Opportunity.closed_at.is_(None), Opportunity.stage != config.lost_stage, ~signed
    )
    if userids is not None:
        stmt = stmt.where(Opportunity.owner_userid.in_(userids))
    found = list(session.scalars(stmt))
    found.sort(key=lambda o: (-order.get(o.stage, -1), -o.score, -(o.amount or 0)))
    return found[:limit]


def seed_demo_targets(session: Session, *, now: datetime) -> int:
    """The demo company's targets for this quarter's months so far: each rep's recent monthly average plus a tenth, rounded to
    ten thousand yuan (signed and collected); each region the sum of its reps; returns how many were set."""
    today = now.astimezone(SHANGHAI).date()
    quarter = [m for m in quarter_months(month_key(today)) if m <= month_key(today)]
    start = local_midnight(add_months(today.replace(day=1), -3))
    end = local_midnight(today.replace(day=1))
    reps = list(session.scalars(select(User).where(User.role == Role.REP, User.active)))
    region_sum: dict[tuple[str, Metric], Decimal] = {}
    count = 0
    for metric in MONEY_METRICS:
        done = done_by_user(session, metric=metric, start=start, end=end, userids=[u.userid for u in reps])
        for rep in reps:
            value = max(
                (done.get(rep.userid, Decimal(0)) / 3 * Decimal("1.1") / 10000).quantize(Decimal(1)),
                Decimal(5),
            )
            for month in quarter:
                upsert_target(
                    session,
                    level=Level.REP,
                    key=rep.userid,
                    month=month,
                    metric=metric,
                    value=value * 10000,
                    actor="demo",
                    now=now,
                )
                count += 1
            key = (rep.region or "", metric)
            region_sum[key] = region_sum.get(key, Decimal(0)) + value * 10000
    for (region, metric), value in region_sum.items():
        for month in quarter:
            if region:
                upsert_target(
                    session,
                    level=Level.REGION,
                    key=region,
                    month=month,
                    metric=metric,
                    value=value,
                    actor="demo",
                    now=now,
                )
                count += 1
    return count
