"""Who may act on an approval step *now*: re-checked on every tap and after every org-chart change.

A step names an approver when it is routed, but the org chart moves on: people leave, are demoted or change
region. The step's authority therefore comes from the server's records at the moment of the action
(issue 16 #1, #2, #4): the approver must still be active and still hold the step's role (a 销售主管 step also
needs the requester's region, or the requester's own manager when the chain was routed up past them); a
delegate must be someone who could approve the step themselves, never the requester and never the approver
of another step of the same quote.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApprovalStep, Delegation, Quote, User
from services import audit
from services.roles import Role


def user_of(session: Session, userid: str | None) -> User | None:
    if not userid:
        return None
    return session.scalar(select(User).where(User.userid == userid.lower()))


def holds_step_role(user: User, *, step: ApprovalStep, requester: User | None) -> bool:
    """True when `user` (active) is someone the chain could name for this step today."""
    if not user.active:
        return False
    if requester is not None and requester.role == step.role and user.userid == requester.manager_userid:
        return True  # the requester holds the role themselves: the chain was routed up to their manager
    if user.role != step.role:
        return False
    if step.role == Role.SUPERVISOR and requester is not None:
        # the requester's own manager (as the chain routes it), or the 销售主管 of the requester's region
        return user.userid == requester.manager_userid or (
            user.region is not None and user.region == requester.region
        )
    return True


def may_approve(session: Session, *, user: User, step: ApprovalStep, quote: Quote) -> bool:
    """The named approver still may act on this step."""
    if user.userid != step.approver_userid or user.userid == quote.requester_userid:
        return False
    return holds_step_role(user, step=step, requester=user_of(session, quote.requester_userid))


def other_step_approvers(session: Session, *, step: ApprovalStep) -> set[str]:
    rows = session.scalars(
        select(ApprovalStep.approver_userid).where(
            ApprovalStep.quote_id == step.quote_id, ApprovalStep.id != step.id
        )
    )
    return set(rows)


def may_act_as_delegate(session: Session, *, delegate: User, step: ApprovalStep, quote: Quote) -> bool:
    """Separation of duties: a delegate could approve the step themselves and has no other part in the quote."""
    if delegate.userid == quote.requester_userid or delegate.userid == step.approver_userid:
        return False
    if delegate.userid in other_step_approvers(session, step=step):
        return False
    if delegate.active and delegate.role == Role.DIRECTOR:
        return True
    return holds_step_role(delegate, step=step, requester=user_of(session, quote.requester_userid))


# --- after the org chart changed ------------------------------------------------------------------------


def end_delegations_of_inactive(session: Session, *, now: datetime) -> int:
    """Delegations from or to someone no longer active end now."""
    inactive = set(session.scalars(select(User.userid).where(User.active.is_(False))))
    if not inactive:
        return 0
    rows = session.scalars(
        select(Delegation).where(
            Delegation.ends_at > now,
            (Delegation.approver_userid.in_(inactive)) | (Delegation.delegate_userid.in_(inactive)),
        )
    ).all()
    for row in rows:
        row.ends_at = max(now, row.starts_at)
        audit.record(
            session,
            actor="org-import",
            entity="delegation",
            entity_id=row.id,
            action="cancel",
            now=now,
            detail="approver or delegate no longer active",
        )
    return len(rows)
