"""Who may act on an approval step *now*: re-checked on every tap and after every org-chart change.

A step names an approver when it is routed, but the org chart moves on: people leave, are demoted or change
region. The step's authority therefore comes from the server's records at the moment of the action
(issue 16 #1, #2, #4): the approver must still be active and still hold the step's role (a 销售主管 step also
needs the requester's region, or the requester's own manager when the chain was routed up past them); a
delegate must be someone who could approve the step themselves, never the requester and never the approver
of another step of the same quote.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.errors import DomainError
from chat.replies import Reply, Text
from models import ApprovalStep, CardTask, Delegation, Quote, User
from services import audit
from services.config import BusinessConfig
from services.roles import Role


def _user(session: Session, userid: str | None) -> User | None:
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
        return user.region is not None and user.region == requester.region
    return True


def may_approve(session: Session, *, user: User, step: ApprovalStep, quote: Quote) -> bool:
    """The named approver still may act on this step."""
    if user.userid != step.approver_userid or user.userid == quote.requester_userid:
        return False
    return holds_step_role(user, step=step, requester=_user(session, quote.requester_userid))


def other_step_approvers(session: Session, *, step: ApprovalStep) -> set[str]:
    rows = session.scalars(
        select(ApprovalStep.approver_userid).where(ApprovalStep.quote_id == step.quote_id, ApprovalStep.id != step.id)
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
    return holds_step_role(delegate, step=step, requester=_user(session, quote.requester_userid))


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
        audit.record(session, actor="org-import", entity="delegation", entity_id=row.id, action="cancel", now=now,
                     detail="approver or delegate no longer active")
    return len(rows)


def reroute_open_steps(session: Session, *, config: BusinessConfig, now: datetime) -> tuple[list[Reply], int, list[str]]:
    """Steps (waiting or pending) of pending quotes whose approver may no longer approve go to whoever the
    chain names today; a pending step's old cards stop working and the new approver gets a card.

    Returns (notifications with `to=` set, steps re-routed, problems for the operator: steps nobody can take).
    """
    from services import approvals  # approvals imports this module for the tap checks
    out: list[Reply] = []
    problems: list[str] = []
    moved = 0
    steps = session.execute(
        select(ApprovalStep, Quote)
        .join(Quote, Quote.id == ApprovalStep.quote_id)
        .where(Quote.status == "pending", ApprovalStep.status.in_(("waiting", "pending")))
        .order_by(ApprovalStep.quote_id, ApprovalStep.seq)
    ).all()
    for step, quote in steps:
        approver = _user(session, step.approver_userid)
        if approver is not None and may_approve(session, user=approver, step=step, quote=quote):
            continue
        requester = _user(session, quote.requester_userid)
        try:
            chain = approvals.route(session, config=config, requester=requester, amount=quote.amount) if requester else []
        except DomainError as exc:  # no one holds the role any more
            chain = []
            reason = exc.message
        else:
            reason = "找不到接替的审批人"
        fresh = next((r.approver for r in chain if r.role == step.role), None)
        if fresh is None or fresh.userid == step.approver_userid or fresh.userid == quote.requester_userid:
            problems.append(f"报价 #{quote.id} 第{step.seq}步（原审批人 {step.approver_userid}）：{reason}")
            continue
        old = step.approver_userid
        moved += 1
        step.approver_userid = fresh.userid
        audit.record(session, actor="org-import", entity="approval_step", entity_id=step.id, action="reroute", now=now,
                     changes={"approver": [old, fresh.userid]})
        if step.status != "pending":
            continue
        for task in session.scalars(select(CardTask).where(CardTask.kind == approvals.CARD_KIND, CardTask.ref_id == step.id)):
            session.delete(task)  # the old approver's (and delegates') cards now answer as unknown
        session.flush()
        step.task_id = approvals.cards.task_id_for(quote.id, step.seq, f"x{secrets.token_hex(6)}")
        out.append(
            approvals._send_card(session, quote=quote, step=step, recipient=fresh.userid, task_id=step.task_id,
                                 now=now, headline="报价审批（转交）")
        )
        out += approvals._delegate_cards(session, quote=quote, step=step, now=now)
        if old:
            out.append(Text(f"报价 #{quote.id} 第{step.seq}步已因组织架构变更转交{fresh.name}审批，您无需再处理。", to=old))
    return out, moved, problems
