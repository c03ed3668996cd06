"""Delegations: an approver names someone to approve on their behalf during an absence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.errors import DomainError, NotFound
from models import Delegation, User
from services import audit, roles


def active_delegates(session: Session, *, approver_userid: str, now: datetime) -> list[str]:
    """Delegates whose window contains `now` (start inclusive, end exclusive)."""
    return list(
        session.scalars(
            select(Delegation.delegate_userid)
            .where(
                Delegation.approver_userid == approver_userid,
                Delegation.starts_at <= now,
                Delegation.ends_at > now,
            )
            .order_by(Delegation.id)
        )
    )


def active_delegation(
    session: Session, *, approver_userid: str, delegate_userid: str, now: datetime
) -> Delegation | None:
    return session.scalar(
        select(Delegation)
        .where(
            Delegation.approver_userid == approver_userid,
            Delegation.delegate_userid == delegate_userid,
            Delegation.starts_at <= now,
            Delegation.ends_at > now,
        )
        .order_by(Delegation.id)
        .limit(1)
    )


def approvers_delegating_to(session: Session, *, delegate_userid: str, now: datetime) -> list[str]:
    return list(
        session.scalars(
            select(Delegation.approver_userid).where(
                Delegation.delegate_userid == delegate_userid,
                Delegation.starts_at <= now,
                Delegation.ends_at > now,
            )
        )
    )


def find_user(session: Session, *, keyword: str) -> User:
    """An active user by userid (case-insensitive) or exact name."""
    key = keyword.strip()
    found = session.scalar(select(User).where(User.userid == key.lower(), User.active.is_(True)))
    if found is not None:
        return found
    named = list(session.scalars(select(User).where(User.name == key, User.active.is_(True)).limit(5)))
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise DomainError(
            f"有多位同事叫「{key}」，请用账号：" + "、".join(f"{u.name}（{u.display_userid}）" for u in named)
        )
    raise NotFound(f"没有找到同事「{key}」。请用企业微信账号或姓名。")


def create(
    session: Session, *, approver: User, delegate: User, starts_at: datetime, ends_at: datetime, now: datetime
) -> Delegation:
    if approver.role not in roles.APPROVERS:
        raise DomainError("只有审批人（销售主管、技术负责人、财务经理、总经理）可以委托审批。")
    if delegate.userid == approver.userid:
        raise DomainError("不能委托给自己。")
    if not delegate.active or delegate.role not in (approver.role, roles.Role.DIRECTOR):
        # Only someone who could approve the same steps (a peer, or the 总经理) receives the cards (issue 16 #4).
        raise DomainError(
            f"{delegate.name}不是{roles.label(approver.role)}或总经理，不能代您审批。"
            f"请委托同为{roles.label(approver.role)}的同事或总经理。"
        )
    if ends_at <= starts_at:
        raise DomainError("结束时间要晚于开始时间。例：委托 李娜 明天 下周一")
    if ends_at <= now:
        raise DomainError("结束时间已经过去了，请换一个以后的时间。例：委托 李娜 明天 下周一")
    delegation = Delegation(
        approver_userid=approver.userid,
        delegate_userid=delegate.userid,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=now,
    )
    session.add(delegation)
    session.flush()
    audit.record(
        session,
        actor=approver.userid,
        entity="delegation",
        entity_id=delegation.id,
        action="create",
        now=now,
        changes={"delegate": delegate.userid, "starts_at": starts_at, "ends_at": ends_at},
    )
    return delegation


def cancel_all(session: Session, *, approver: User, now: datetime) -> int:
    """End every current or future delegation of `approver` now."""
    rows = list(
        session.scalars(
            select(Delegation).where(Delegation.approver_userid == approver.userid, Delegation.ends_at > now)
        )
    )
    for row in rows:
        row.ends_at = max(now, row.starts_at)
        audit.record(
            session, actor=approver.userid, entity="delegation", entity_id=row.id, action="cancel", now=now
        )
    return len(rows)
