"""申请延期 and 放回公海, the owner's answers to a countdown card.

An extension asks the owner's supervisor for `pool.extension_days` (7) more days; at most
`pool.extensions_per_quarter` (2) requests per customer per calendar quarter count (pending or approved).
Approval holds the customer until the later of its release time and now, plus the extension.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.errors import DomainError, NotFound
from models import POOL_OWNER, Customer, ExtensionStatus, PoolExtension, User
from services import audit, lead_assign
from services.config import BusinessConfig
from services.parsing import SHANGHAI, normalize_text
from services.pool import release, scan


def _quarter_start(now: datetime) -> datetime:
    day = now.astimezone(SHANGHAI).date()
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return datetime(first.year, first.month, 1, tzinfo=SHANGHAI)


def owned(session: Session, *, user: User, customer_id: int) -> Customer:
    """The customer, if `user` owns it now (server record); NotFound otherwise."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.owner_userid != user.userid or customer.owner_userid == POOL_OWNER:
        raise NotFound("这个客户不在您名下了。")
    return customer


def used_this_quarter(session: Session, *, customer_id: int, now: datetime) -> int:
    """Requests that count against the quarter's allowance (pending or approved)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(PoolExtension)
            .where(
                PoolExtension.customer_id == customer_id,
                PoolExtension.status.in_((ExtensionStatus.PENDING, ExtensionStatus.APPROVED)),
                PoolExtension.requested_at >= _quarter_start(now),
            )
        )
        or 0
    )


def request_extension(
    session: Session, *, config: BusinessConfig, user: User, customer: Customer, now: datetime
) -> tuple[PoolExtension, User]:
    """A pending request and who approves it. DomainError when the quarter's allowance is used up."""
    pending = session.scalar(
        select(PoolExtension).where(
            PoolExtension.customer_id == customer.id, PoolExtension.status == ExtensionStatus.PENDING
        )
    )
    if pending is not None:
        raise DomainError(f"「{customer.name}」的延期申请已在等主管审批。")
    used = used_this_quarter(session, customer_id=customer.id, now=now)
    limit = config.pool.extensions_per_quarter
    if used >= limit:
        raise DomainError(
            f"「{customer.name}」本季度已申请延期 {used} 次（上限 {limit} 次）。可以记一条跟进来重新计时。"
        )
    boss = lead_assign.supervisor_for(session, user=user, region=customer.region)
    if boss is None:
        raise DomainError("找不到您的主管，暂时无法申请延期。")
    ext = PoolExtension(
        customer_id=customer.id,
        requester_userid=user.userid,
        approver_userid=boss.userid,
        status=ExtensionStatus.PENDING,
        days=config.pool.extension_days,
        requested_at=now,
    )
    session.add(ext)
    session.flush()
    audit.record(
        session,
        actor=user.userid,
        entity="customer",
        entity_id=customer.id,
        action="pool_extension_request",
        now=now,
        detail=f"extension {ext.id}",
    )
    return ext, boss


def decide_extension(
    session: Session, *, config: BusinessConfig, ext_id: int, approver: User, approve: bool, now: datetime
) -> tuple[PoolExtension, Customer]:
    ext = session.get(PoolExtension, ext_id)
    if ext is None or ext.approver_userid != approver.userid:
        raise NotFound("这条延期申请不归您审批。")
    customer = session.get(Customer, ext.customer_id)
    if customer is None:
        raise NotFound("这个客户不存在了。")
    if ext.status != ExtensionStatus.PENDING:
        raise DomainError(
            f"这条延期申请已处理（{'已同意' if ext.status == ExtensionStatus.APPROVED else '已驳回'}）。"
        )
    ext.status, ext.decided_at = (ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED), now
    if approve and customer.owner_userid == ext.requester_userid:
        due = next(
            (
                d.release_at
                for d in scan(session, config=config, now=now, owner=customer.owner_userid)
                if d.customer.id == customer.id
            ),
            now,
        )
        customer.pool_hold_until = max(due, now) + timedelta(days=ext.days)
    audit.record(
        session,
        actor=approver.userid,
        entity="customer",
        entity_id=customer.id,
        action=f"pool_extension_{ext.status.value}",
        now=now,
        changes={"pool_hold_until": [None, customer.pool_hold_until]} if approve else None,
    )
    session.flush()
    return ext, customer


def return_to_pool(session: Session, *, user: User, customer: Customer, reason: str, now: datetime) -> None:
    """放回公海 by the owner, with a reason."""
    reason = normalize_text(reason)
    if not reason:
        raise DomainError("请写上放回公海的原因，例如：客户已转向竞品、暂无需求。")
    if customer.owner_userid != user.userid:
        raise NotFound("这个客户不在您名下了。")
    release(session, customer=customer, actor=user.userid, reason=reason, now=now, kind="return")
