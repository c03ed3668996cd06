"""The customer pool (公海): recycling neglected customers, the countdown, claiming, and the pool list.

A customer goes to the pool of its region when its owner has done no follow-up (a visit or a completed
reminder) for `pool.days_without_followup[segment]` days, or, where configured, has had no new opportunity
for `pool.days_without_opportunity[segment]` days — counted from the later of that and the day the owner got
it — never while a quote is pending or a payment is due (a signed contract not fully paid), and never before
an approved extension ends. In the pool `owner_userid` is POOL_OWNER: the previous owner no longer sees it,
its visits and opportunities stay attached, and whoever claims it sees them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from chat.errors import DomainError, NotFound
from models import (
    POOL_OWNER,
    Contract,
    Customer,
    ExtensionStatus,
    Opportunity,
    Payment,
    PoolEvent,
    Quote,
    QuoteStatus,
    Reminder,
    ReminderStatus,
    User,
    Visit,
)
from services import audit
from services.config import BusinessConfig
from services.parsing import SHANGHAI, normalize_name, normalize_text
from services.roles import Role
from services.workdays import is_working_day

NO_CONTACT_IN_POOL = "（领取后可见联系人和电话）"


@dataclass(frozen=True)
class Due:
    customer: Customer
    release_at: datetime
    reason: str  # 无跟进 N 天 | 无商机 M 天


def _local_day(when: datetime) -> date:
    return when.astimezone(SHANGHAI).date()


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def last_followups(session: Session, ids: list[int]) -> dict[int, datetime]:
    """The latest visit or completed reminder per customer."""
    out: dict[int, datetime] = {}
    for rows in (
        session.execute(
            select(Visit.customer_id, func.max(Visit.visited_at))
            .where(Visit.customer_id.in_(ids))
            .group_by(Visit.customer_id)
        ),
        session.execute(
            select(Reminder.customer_id, func.max(Reminder.completed_at))
            .where(
                Reminder.customer_id.in_(ids),
                Reminder.status == ReminderStatus.DONE,
                Reminder.completed_at.is_not(None),
            )
            .group_by(Reminder.customer_id)
        ),
    ):
        for cid, at in rows:
            if cid is not None and at is not None and (cid not in out or at > out[cid]):
                out[cid] = at
    return out


def _last_opportunities(session: Session, ids: list[int]) -> dict[int, datetime]:
    return dict(
        session.execute(
            select(Opportunity.customer_id, func.max(Opportunity.created_at))
            .where(Opportunity.customer_id.in_(ids))
            .group_by(Opportunity.customer_id)
        ).all()
    )


def blocked_ids(session: Session, ids: list[int]) -> set[int]:
    """Customers never recycled now: a quote pending, or a payment due (contract not fully paid)."""
    pending = set(
        session.scalars(
            select(Opportunity.customer_id)
            .join(Quote, Quote.opportunity_id == Opportunity.id)
            .where(Opportunity.customer_id.in_(ids), Quote.status == QuoteStatus.PENDING)
        )
    )
    paid = (
        select(func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.contract_id == Contract.id)
        .correlate(Contract)
        .scalar_subquery()
    )
    owed = set(
        session.scalars(
            select(Contract.customer_id).where(Contract.customer_id.in_(ids), Contract.amount > paid)
        )
    )
    return pending | owed


def scan(session: Session, *, config: BusinessConfig, now: datetime, owner: str | None = None) -> list[Due]:
    """Every owned customer with a release time under the rules (blocked ones left out), soonest first."""
    pool = config.pool
    query = select(Customer).where(Customer.owner_userid != POOL_OWNER, Customer.pooled_at.is_(None))
    if owner is not None:
        query = query.where(Customer.owner_userid == owner)
    customers = list(session.scalars(query.order_by(Customer.id)))
    out: list[Due] = []
    for chunk in (customers[i : i + 500] for i in range(0, len(customers), 500)):
        ids = [c.id for c in chunk]
        follow = last_followups(session, ids)
        opps = _last_opportunities(session, ids)
        blocked = blocked_ids(session, ids)
        for c in chunk:
            if c.id in blocked:
                continue
            since = c.owner_since or c.created_at
            times: list[tuple[datetime, str]] = []
            n = pool.followup_days(c.segment)
            if n is not None:
                base = max(since, follow.get(c.id, since))
                times.append((base + timedelta(days=n), f"{n}天无跟进"))
            m = pool.opportunity_days(c.segment)
            if m is not None:
                base = max(since, opps.get(c.id, since))
                times.append((base + timedelta(days=m), f"{m}天无新商机"))
            if not times:
                continue
            release_at, reason = min(times)
            if c.pool_hold_until is not None and release_at < c.pool_hold_until:
                release_at, reason = c.pool_hold_until, "延期到期"
            out.append(Due(c, release_at, reason))
    out.sort(key=lambda d: (d.release_at, d.customer.id))
    return out


def working_days_until(start: date, end: date, *, config: BusinessConfig) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day, config=config.approval):
            count += 1
    return count


def countdown(dues: list[Due], *, config: BusinessConfig, now: datetime) -> dict[str, list[Due]]:
    """Per owner, the customers that go to the pool within `warn_working_days` working days (not yet due)."""
    today = _local_day(now)
    out: dict[str, list[Due]] = defaultdict(list)
    for d in dues:
        if d.release_at <= now:
            continue
        if (
            working_days_until(today, _local_day(d.release_at), config=config)
            <= config.pool.warn_working_days
        ):
            out[d.customer.owner_userid].append(d)
    return dict(out)


def release(
    session: Session, *, customer: Customer, actor: str, reason: str, now: datetime, kind: str = "release"
) -> None:
    """Into the pool: nobody's; open reminders cancelled (their owner can no longer see the customer)."""
    previous = customer.owner_userid
    if previous == POOL_OWNER:
        raise DomainError(f"「{customer.name}」已经在公海里。")
    session.add(
        PoolEvent(
            customer_id=customer.id,
            kind=kind,
            userid=previous,
            actor=actor,
            region=customer.region,
            reason=reason[:255],
            at=now,
        )
    )
    changes = audit.diff(customer, {"owner_userid": POOL_OWNER, "pooled_at": now, "pool_hold_until": None})
    customer.updated_at = now
    session.execute(
        update(Reminder)
        .where(Reminder.customer_id == customer.id, Reminder.status == ReminderStatus.OPEN)
        .values(status=ReminderStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor=actor,
        entity="customer",
        entity_id=customer.id,
        action=f"pool_{kind}",
        now=now,
        changes=changes,
        detail=reason[:255],
    )
    session.flush()


def release_due(session: Session, *, config: BusinessConfig, now: datetime) -> dict[str, list[Due]]:
    """Release every customer whose time has come; per previous owner, what went."""
    out: dict[str, list[Due]] = defaultdict(list)
    for d in scan(session, config=config, now=now):
        if d.release_at > now:
            break
        owner = d.customer.owner_userid
        release(session, customer=d.customer, actor="pool", reason=d.reason, now=now)
        out[owner].append(d)
    return dict(out)


# --- the pool from a rep's side -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolRow:
    id: int
    name: str
    industry: str | None
    segment: str | None
    last_activity: datetime | None


def region_of(user: User) -> str | None:
    return user.region if user.role in (Role.REP, Role.SUPERVISOR) else None


def list_pool(
    session: Session, *, user: User, keyword: str = "", limit: int = 10, offset: int = 0
) -> tuple[list[PoolRow], int]:
    """Claimable customers in the sender's region (no contact, no phone); (`limit` from `offset`, total)."""
    region = region_of(user)
    if region is None and user.role not in (Role.DIRECTOR, Role.ADMIN):
        return [], 0
    query = select(Customer).where(Customer.owner_userid == POOL_OWNER)
    if region is not None:
        query = query.where(Customer.region == region)
    keyword = normalize_text(keyword)
    if keyword:
        query = query.where(
            or_(
                Customer.name.like(f"%{keyword}%"),
                Customer.name_norm.like(f"%{normalize_name(keyword)}%"),
                Customer.industry == keyword,
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    customers = list(
        session.scalars(query.order_by(Customer.pooled_at.desc(), Customer.id).offset(offset).limit(limit))
    )
    follow = last_followups(session, [c.id for c in customers])
    rows = [PoolRow(c.id, c.name, c.industry, c.segment, follow.get(c.id)) for c in customers]
    return rows, total


def resolve_pool_customer(session: Session, *, user: User, keyword: str) -> Customer:
    """A pool customer of the sender's region by `#id` or name; NotFound otherwise (lists are in 公海)."""
    keyword = normalize_text(keyword).lstrip("#")
    region = region_of(user)
    query = select(Customer).where(Customer.owner_userid == POOL_OWNER)
    if region is not None:
        query = query.where(Customer.region == region)
    elif user.role not in (Role.DIRECTOR, Role.ADMIN):
        raise NotFound("公海里没有找到这个客户。")
    if keyword.isdigit():
        found = list(session.scalars(query.where(Customer.id == int(keyword))))
    else:
        exact = list(session.scalars(query.where(Customer.name_norm == normalize_name(keyword)).limit(2)))
        found = exact or list(session.scalars(query.where(Customer.name.like(f"%{keyword}%")).limit(6)))
    if not found:
        raise NotFound(f"公海里没有找到「{keyword}」。发送「公海」查看可领取的客户。")
    if len(found) > 1:
        names = "、".join(f"{c.name}（#{c.id}）" for c in found[:5])
        raise DomainError(f"公海里有多个客户匹配「{keyword}」：{names}。请写编号，例如：领取 #{found[0].id}")
    return found[0]


def _count(session: Session, *condition: object) -> int:
    return session.scalar(select(func.count()).select_from(PoolEvent).where(*condition)) or 0  # type: ignore[arg-type]


def claim(session: Session, *, config: BusinessConfig, user: User, customer: Customer, now: datetime) -> None:
    """领取: within the daily and holding limits; not a customer this rep released in the last N days."""
    pool = config.pool
    if customer.owner_userid != POOL_OWNER:
        raise NotFound("这个客户已经被领取了。")
    if user.role != Role.REP:
        raise DomainError("只有销售可以领取；主管请用「分配 客户 销售」从公海分配。")
    day_start = _start_of(_local_day(now))
    if (
        _count(session, PoolEvent.userid == user.userid, PoolEvent.kind == "claim", PoolEvent.at >= day_start)
        >= pool.daily_claims
    ):
        raise DomainError(f"今天已领取 {pool.daily_claims} 个客户，达到每日上限，明天再来。")
    holding = (
        session.scalar(select(func.count()).select_from(Customer).where(Customer.owner_userid == user.userid))
        or 0
    )
    if holding >= pool.max_holding:
        raise DomainError(
            f"您名下已有 {holding} 个客户，达到持有上限 {pool.max_holding}，请先跟进或放回部分客户。"
        )
    block_since = now - timedelta(days=pool.reclaim_block_days)
    released_by_me = _count(
        session,
        PoolEvent.customer_id == customer.id,
        PoolEvent.userid == user.userid,
        PoolEvent.kind.in_(("release", "return")),
        PoolEvent.at >= block_since,
    )
    if released_by_me:
        raise DomainError(f"「{customer.name}」是从您名下回收的，{pool.reclaim_block_days} 天内不能再领取。")
    take(session, customer=customer, to=user, actor=user.userid, kind="claim", now=now)


def take(session: Session, *, customer: Customer, to: User, actor: str, kind: str, now: datetime) -> None:
    """Out of the pool to `to` (claim or a supervisor's 分配): its open opportunities come along."""
    session.add(
        PoolEvent(
            customer_id=customer.id, kind=kind, userid=to.userid, actor=actor, region=customer.region, at=now
        )
    )
    changes = audit.diff(customer, {"owner_userid": to.userid, "pooled_at": None, "owner_since": now})
    customer.updated_at = now
    session.execute(
        update(Opportunity)
        .where(Opportunity.customer_id == customer.id, Opportunity.closed_at.is_(None))
        .values(owner_userid=to.userid, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor=actor,
        entity="customer",
        entity_id=customer.id,
        action=f"pool_{kind}",
        now=now,
        changes=changes,
    )
    session.flush()


@dataclass(frozen=True)
class WeekStats:
    released: int
    claimed: int
    extended: int


def week_stats(session: Session, *, now: datetime, regions: list[str] | None) -> dict[str, WeekStats]:
    """本周回收 / 领取 / 延期 per region (the week starts on Monday, Asia/Shanghai)."""
    from models import PoolExtension

    today = _local_day(now)
    start = _start_of(today - timedelta(days=today.weekday()))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"released": 0, "claimed": 0, "extended": 0})
    events = session.execute(
        select(PoolEvent.region, PoolEvent.kind, func.count())
        .where(PoolEvent.at >= start, PoolEvent.at <= now)
        .group_by(PoolEvent.region, PoolEvent.kind)
    )
    for region, kind, n in events:
        key = {"release": "released", "return": "released", "claim": "claimed", "assign": "claimed"}.get(kind)
        if key:
            counts[region or "未分区"][key] += n
    extended = session.execute(
        select(Customer.region, func.count())
        .join(PoolExtension, PoolExtension.customer_id == Customer.id)
        .where(
            and_(
                PoolExtension.status == ExtensionStatus.APPROVED,
                PoolExtension.decided_at >= start,
                PoolExtension.decided_at <= now,
            )
        )
        .group_by(Customer.region)
    )
    for region, n in extended:
        counts[region or "未分区"]["extended"] += n
    return {r: WeekStats(**v) for r, v in sorted(counts.items()) if regions is None or r in regions}
