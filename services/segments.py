"""Customer segments from signed contracts (product.md "The sales process"; rules in config.segments).

Windows are measured back from `now`: a contract is "in the last N days" when now − N days ≤ signed_at ≤ now.
- 休眠: has contracts, none in the last `dormant.days` (180);
- 明星: ≥ `star.min_contracts` (3) contracts in the last `star.window_days` (365) with a total strictly above
  `star.min_total` (¥200,000);
- 成长: amount of the last `growth.window_days` (180) > 0 and ≥ `growth.ratio` (1.5) × the amount of the
  window before it (now − 360 d ≤ signed_at < now − 180 d);
- 稳定: every other customer with contracts.
The first rule that holds in `config.segments.order` wins; no contract → None (潜在客户).

A customer that becomes 休眠 gets one wake-up follow-up for its owner per dormancy (JobOccurrence
job="dormant", occurrence=f"{customer_id}:{segment_since}").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from models import POOL_OWNER, Contract, Customer, JobOccurrence, Reminder, ReminderStatus
from models.db import insert_for
from services.config import BusinessConfig, SegmentsConfig
from services.indicators import local_midnight


@dataclass(frozen=True)
class ContractStats:
    count: int  # all contracts up to now
    last_signed: datetime | None
    star_count: int
    star_total: Decimal
    recent_total: Decimal  # growth window
    previous_total: Decimal  # the growth window before it
    dormant_window_count: int


@dataclass
class SegmentRun:
    changed: int = 0
    newly_dormant: list[int] = field(default_factory=list)
    wakeups: int = 0

    def summary(self) -> str:
        return f"segments: {self.changed} changed, {len(self.newly_dormant)} newly dormant, {self.wakeups} wake-up tasks"


def classify(stats: ContractStats | None, rules: SegmentsConfig) -> str | None:
    """The segment for one customer's contract figures (None: no contracts, 潜在客户)."""
    if stats is None or stats.count == 0:
        return None
    holds = {
        "休眠": stats.dormant_window_count == 0,
        "明星": stats.star_count >= rules.star.min_contracts and stats.star_total > rules.star.min_total,
        "成长": stats.recent_total > 0
        and stats.recent_total >= Decimal(str(rules.growth.ratio)) * stats.previous_total,
        "稳定": True,
    }
    return next(name for name in rules.order if holds[name])


def contract_stats(session: Session, *, config: BusinessConfig, now: datetime) -> dict[int, ContractStats]:
    """Per customer with contracts, the figures the rules need — one GROUP BY query."""
    rules = config.segments
    star_from = now - timedelta(days=rules.star.window_days)
    recent_from = now - timedelta(days=rules.growth.window_days)
    previous_from = now - timedelta(days=2 * rules.growth.window_days)
    dormant_from = now - timedelta(days=rules.dormant.days)
    in_star = Contract.signed_at >= star_from
    in_recent = Contract.signed_at >= recent_from
    in_previous = and_(Contract.signed_at >= previous_from, Contract.signed_at < recent_from)
    rows = session.execute(
        select(
            Contract.customer_id,
            func.count(Contract.id),
            func.max(Contract.signed_at),
            func.count(case((in_star, Contract.id))),
            func.coalesce(func.sum(case((in_star, Contract.amount))), 0),
            func.coalesce(func.sum(case((in_recent, Contract.amount))), 0),
            func.coalesce(func.sum(case((in_previous, Contract.amount))), 0),
            func.count(case((Contract.signed_at >= dormant_from, Contract.id))),
        )
        .where(Contract.signed_at <= now)
        .group_by(Contract.customer_id)
    ).all()
    return {
        row[0]: ContractStats(
            count=int(row[1]),
            last_signed=row[2],
            star_count=int(row[3]),
            star_total=_dec(row[4]),
            recent_total=_dec(row[5]),
            previous_total=_dec(row[6]),
            dormant_window_count=int(row[7]),
        )
        for row in rows
    }


def recompute_segments(
    session: Session, *, config: BusinessConfig, now: datetime, tz: ZoneInfo
) -> SegmentRun:
    """Set Customer.segment / segment_since where they changed; wake-up tasks for newly dormant customers."""
    today = now.astimezone(tz).date()
    stats = contract_stats(session, config=config, now=now)
    current = session.execute(
        select(Customer.id, Customer.segment, Customer.owner_userid, Customer.name)
    ).all()
    run = SegmentRun()
    moves: dict[str | None, list[int]] = {}
    owners: dict[int, tuple[str, str]] = {}
    for customer_id, segment, owner, name in current:
        new = classify(stats.get(customer_id), config.segments)
        if new == segment:
            continue
        moves.setdefault(new, []).append(customer_id)
        if new == "休眠" and owner != POOL_OWNER:  # a pool customer has nobody to wake it up
            run.newly_dormant.append(customer_id)
            owners[customer_id] = (owner, name)
    for segment, ids in moves.items():  # one UPDATE per target segment, in chunks
        for chunk in _chunks(ids, 500):
            session.execute(
                update(Customer)
                .where(Customer.id.in_(chunk))
                .values(segment=segment, segment_since=today if segment else None)
            )
        run.changed += len(ids)
    due = max(
        now,
        local_midnight(today, tz)
        + timedelta(hours=config.reminders.default_time.hour, minutes=config.reminders.default_time.minute),
    )
    for customer_id in run.newly_dormant:
        owner, name = owners[customer_id]
        if add_wakeup(
            session, customer_id=customer_id, owner=owner, name=name, since=today, due=due, now=now
        ):
            run.wakeups += 1
    return run


def add_wakeup(
    session: Session, *, customer_id: int, owner: str, name: str, since: date, due: datetime, now: datetime
) -> bool:
    """One wake-up follow-up per dormancy: claimed by the unique (job, occurrence) row."""
    insert = insert_for(session)
    claimed = session.execute(
        insert(JobOccurrence)
        .values(job="dormant", occurrence=f"{customer_id}:{since.isoformat()}", created_at=now)
        .on_conflict_do_nothing(index_elements=["job", "occurrence"])
        .returning(JobOccurrence.id)
    ).scalar()
    if claimed is None:  # rowcount is unreliable here (-1 on psycopg 3)
        return False
    session.add(
        Reminder(
            owner_userid=owner,
            customer_id=customer_id,
            title=f"唤醒休眠客户：{name}（近半年无签约，约个回访）",
            due_at=due,
            status=ReminderStatus.OPEN,
            source="dormant",
            notified_late=False,
            snooze_count=0,
            created_at=now,
        )
    )
    session.flush()
    return True


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))
