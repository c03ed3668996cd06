"""What `待办` lists: the sender's open reminders (by day, then opportunity priority), the approvals waiting on
them, and their own quotes still in approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from models import (
    ApprovalStep,
    Customer,
    Opportunity,
    Quote,
    QuoteStatus,
    Reminder,
    ReminderStatus,
    StepStatus,
    User,
)
from services.approval_cards import name_of
from services.approval_pending import pending_for
from services.parsing import format_when

TODO_LIMIT = 10
_PRIORITY_RANK = {"A": 0, "B": 1, "C": 2}


def _opportunity_priorities(
    session: Session, reminders: list[Reminder], *, scored_only: bool = False
) -> dict[int, str]:
    """Priority per reminder: its opportunity's, else the best of its customer's open opportunities.

    With `scored_only`, opportunities nobody has scored yet (0 points, no items: their priority is only the
    default) do not count: that is the priority shown to the user, "when known".
    """
    opp_ids = {r.opportunity_id for r in reminders if r.opportunity_id}
    cust_ids = {r.customer_id for r in reminders if r.customer_id}
    if not opp_ids and not cust_ids:
        return {}
    cols = (
        Opportunity.id,
        Opportunity.customer_id,
        Opportunity.priority,
        Opportunity.score,
        Opportunity.score_items,
    )
    by_opp: dict[int, str] = {}
    by_cust: dict[int, str] = {}
    for opp_id, cust_id, prio, score, items in session.execute(
        select(*cols).where(
            (Opportunity.id.in_(opp_ids) if opp_ids else false())
            | (
                (Opportunity.customer_id.in_(cust_ids) & Opportunity.closed_at.is_(None))
                if cust_ids
                else false()
            )
        )
    ).all():
        if not prio or (scored_only and not score and not items):
            continue
        if opp_id in opp_ids:
            by_opp[opp_id] = prio
        if cust_id in cust_ids and _PRIORITY_RANK.get(prio, 3) < _PRIORITY_RANK.get(
            by_cust.get(cust_id, ""), 3
        ):
            by_cust[cust_id] = prio
    out: dict[int, str] = {}
    for r in reminders:
        best = (by_opp.get(r.opportunity_id) if r.opportunity_id else None) or (
            by_cust.get(r.customer_id) if r.customer_id else None
        )
        if best:
            out[r.id] = best
    return out


def _best_priority(session: Session, reminders: list[Reminder]) -> dict[int, str]:
    return _opportunity_priorities(session, reminders)


def open_reminders(session: Session, *, userid: str, now: datetime, tz: ZoneInfo) -> list[Reminder]:
    """Open reminders by local due day (in `tz`), then opportunity priority A→B→C (none last), then time."""
    rows = list(
        session.scalars(
            select(Reminder)
            .where(Reminder.owner_userid == userid, Reminder.status == ReminderStatus.OPEN)
            .order_by(Reminder.due_at, Reminder.id)
        )
    )
    prio = _best_priority(session, rows)
    return sorted(
        rows,
        key=lambda r: (
            r.due_at.astimezone(tz).date(),
            _PRIORITY_RANK.get(prio.get(r.id, ""), 3),
            r.due_at,
            r.id,
        ),
    )


def _priority_tag(priority: str | None) -> str:
    return f"{priority}级 " if priority else ""


@dataclass(frozen=True)
class TodoList:
    """What `待办` shows: the to-do lines, and what kinds of items there are (for the hints under them).

    The user's own quotes still in approval are not to-dos (they wait on someone else): `own_lines` lists
    them apart, with 撤回 as the thing the requester can do.
    """

    lines: list[str]
    reminders: int = 0
    approvals: int = 0  # quotes waiting on the user's approval: tap the card
    own_lines: tuple[str, ...] = ()
    own_quotes: tuple[int, ...] = ()  # the ids of those quotes: 撤回 #id

    @property
    def empty(self) -> bool:
        return not self.lines


def todo_list(
    session: Session, *, user: User, now: datetime, tz: ZoneInfo, limit: int = TODO_LIMIT
) -> TodoList:
    """`待办`: reminders first (overdue marked), then approvals waiting on the user; each with its opportunity
    priority (A/B/C) when the opportunity has been scored. Also the user's own quotes still in approval."""
    from services.parsing import format_amount

    lines: list[str] = []
    reminders = open_reminders(session, userid=user.userid, now=now, tz=tz)
    names = (
        dict(
            session.execute(
                select(Customer.id, Customer.name).where(
                    Customer.id.in_({r.customer_id for r in reminders if r.customer_id})
                )
            ).all()
        )
        if reminders
        else {}
    )
    shown = _opportunity_priorities(session, reminders, scored_only=True)
    for r in reminders:
        mark = "【已逾期】" if r.due_at < now else ""
        customer = f"（{names[r.customer_id]}）" if r.customer_id in names else ""
        lines.append(
            f"#{r.id} {mark}{_priority_tag(shown.get(r.id))}{format_when(r.due_at, now=now, tz=tz)} {r.title}{customer}"
        )

    def priority_of(opp: Opportunity) -> str:
        return _priority_tag(opp.priority if (opp.score or opp.score_items) else None)

    approvals = pending_for(session, userid=user.userid, now=now)  # also as an active delegate
    for p in approvals:
        delegate = f"，代{name_of(session, p.on_behalf_of)}" if p.on_behalf_of else ""
        lines.append(
            f"待审批 报价#{p.quote_id} {_priority_tag(p.priority)}{p.customer}·{p.opportunity} "
            f"{format_amount(p.amount)}（第{p.seq}/{p.steps}步{delegate}）"
        )
    own = session.execute(
        select(Quote, Opportunity, Customer)
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(Quote.requester_userid == user.userid, Quote.status == QuoteStatus.PENDING)
        .order_by(Quote.created_at, Quote.id)
    ).all()
    waiting_on = (
        dict(
            session.execute(
                select(ApprovalStep.quote_id, User.name)
                .join(User, User.userid == ApprovalStep.approver_userid)
                .where(
                    ApprovalStep.quote_id.in_([q.id for q, _, _ in own]),
                    ApprovalStep.status == StepStatus.PENDING,
                )
            ).all()
        )
        if own
        else {}
    )
    own_lines: list[str] = []
    for quote, opp, cust in own:
        who = f"等{waiting_on[quote.id]}审批，" if quote.id in waiting_on else ""
        own_lines.append(
            f"报价#{quote.id} {priority_of(opp)}{cust.name}·{opp.name} {format_amount(quote.amount)}"
            f"（{who}第{quote.current_step}/{quote.step_count}步）"
        )
    if len(lines) > limit:
        extra = len(lines) - limit
        lines = lines[:limit] + [f"……还有{extra}条"]
    if len(own_lines) > limit:
        own_lines = own_lines[:limit] + [f"……还有{len(own_lines) - limit}份"]
    return TodoList(
        lines,
        reminders=len(reminders),
        approvals=len(approvals),
        own_lines=tuple(own_lines),
        own_quotes=tuple(q.id for q, _, _ in own),
    )


def todo_lines(
    session: Session, *, user: User, now: datetime, tz: ZoneInfo, limit: int = TODO_LIMIT
) -> list[str]:
    """The lines of `待办` (see `todo_list`)."""
    return todo_list(session, user=user, now=now, tz=tz, limit=limit).lines
