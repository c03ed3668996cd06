"""After the org chart changed: open approval steps go to whoever may take them today (issue 16 #1, #2).

Run by `salesbot org import` in the import's transaction, so the re-routed cards go out with the change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards import approval as cards
from chat.errors import DomainError
from chat.replies import Reply, Text
from models import ApprovalStep, CardTask, Quote, QuoteStatus, StepStatus
from services import audit
from services.approval_cards import CARD_KIND, delegate_cards, send_card
from services.approval_routing import route
from services.approval_rules import may_approve, user_of
from services.config import BusinessConfig


def reroute_open_steps(
    session: Session, *, config: BusinessConfig, now: datetime
) -> tuple[list[Reply], int, list[str]]:
    """Steps (waiting or pending) of pending quotes whose approver may no longer approve go to whoever the
    chain names today; a pending step's old cards stop working and the new approver gets a card.

    Returns (notifications with `to=` set, steps re-routed, problems for the operator: steps nobody can take).
    """
    out: list[Reply] = []
    problems: list[str] = []
    moved = 0
    steps = session.execute(
        select(ApprovalStep, Quote)
        .join(Quote, Quote.id == ApprovalStep.quote_id)
        .where(
            Quote.status == QuoteStatus.PENDING,
            ApprovalStep.status.in_((StepStatus.WAITING, StepStatus.PENDING)),
        )
        .order_by(ApprovalStep.quote_id, ApprovalStep.seq)
    ).all()
    for step, quote in steps:
        approver = user_of(session, step.approver_userid)
        if approver is not None and may_approve(session, user=approver, step=step, quote=quote):
            continue
        requester = user_of(session, quote.requester_userid)
        try:
            chain = (
                route(session, config=config, requester=requester, amount=quote.amount) if requester else []
            )
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
        audit.record(
            session,
            actor="org-import",
            entity="approval_step",
            entity_id=step.id,
            action="reroute",
            now=now,
            changes={"approver": [old, fresh.userid]},
        )
        if step.status != StepStatus.PENDING:
            continue
        for task in session.scalars(
            select(CardTask).where(CardTask.kind == CARD_KIND, CardTask.ref_id == step.id)
        ):
            session.delete(task)  # the old approver's (and delegates') cards now answer as unknown
        session.flush()
        step.task_id = cards.task_id_for(quote.id, step.seq, "x")
        out.append(
            send_card(
                session,
                quote=quote,
                step=step,
                recipient=fresh.userid,
                task_id=step.task_id,
                now=now,
                headline="报价审批（转交）",
            )
        )
        out += delegate_cards(session, quote=quote, step=step, now=now)
        if (
            approver is not None and approver.active
        ):  # demoted or moved: tell them; someone who left gets nothing
            out.append(
                Text(
                    f"报价 #{quote.id} 第{step.seq}步已因组织架构变更转交{fresh.name}审批，您无需再处理。",
                    to=old,
                )
            )
    return out, moved, problems
