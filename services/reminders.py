"""Follow-up reminders: creating them, claiming due ones exactly once, completing, snoozing, escalating.

Exactly-once comes from conditional updates (compare-and-set on ``notified_at``/``status``/``snooze_count``/
``escalated_at``); on PostgreSQL the candidate SELECTs also lock with ``FOR UPDATE SKIP LOCKED`` so
concurrent ticks on several replicas split the work instead of waiting on each other.
No WeCom and no outbox here: the handler and the scheduler turn the results into replies.

Long because reminders, their claims and escalations and 待办 share one model and its queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, false, select, update
from sqlalchemy.orm import Session

from chat.errors import DomainError, NotFound
from models import (
    ApprovalStep,
    Customer,
    JobOccurrence,
    Opportunity,
    Quote,
    Reminder,
    Role,
    User,
)
from models.db import affected, insert_for
from services.config import BusinessConfig
from services.followup_time import on_working_time, when_of, when_prefix
from services.lookup import resolve_customer
from services.parsing import SHANGHAI, TimeParseError, format_when, parse_when, parse_when_prefix
from services.parsing.text import normalize_text

FOLLOWUP_USAGE = "用法：跟进 <客户> <时间> <事项>\n例：跟进 华东精密 明天下午3点 送样品"
DONE_USAGE = "用法：完成 <待办编号>\n例：完成 12（编号见「待办」或提醒卡片）"

LATE_AFTER = timedelta(minutes=5)  # a card sent more than this after due_at is a catch-up (补发)
SNOOZE = {"1d": timedelta(days=1), "1w": timedelta(weeks=1)}
SNOOZE_LABELS = {"1d": "推迟1天", "1w": "推迟1周"}
# Visit follow-up buttons: the arg selects one of these expressions (same parser as typed times).
VISIT_FOLLOWUP = {"1d": "明天", "3d": "3天后", "1w": "下周一"}
TODO_LIMIT = 10
_PRIORITY_RANK = {"A": 0, "B": 1, "C": 2}
_NUMBER = re.compile(r"^[#＃]?(\d{1,9})$")


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# ---------------------------------------------------------------------------------------------------
# Creating


def create_reminder(
    session: Session,
    *,
    owner_userid: str,
    title: str,
    due_at: datetime,
    now: datetime,
    customer_id: int | None = None,
    opportunity_id: int | None = None,
    source: str = "manual",
) -> Reminder:
    reminder = Reminder(
        owner_userid=owner_userid,
        customer_id=customer_id,
        opportunity_id=opportunity_id,
        title=title[:255],
        due_at=due_at,
        status="open",
        source=source,
        notified_late=False,
        snooze_count=0,
        created_at=now,
    )
    session.add(reminder)
    session.flush()
    return reminder


@dataclass(frozen=True)
class Created:
    reminder: Reminder
    customer: Customer
    moved: bool = False  # landed on the next working day/hour (said in the reply, never silent)


@dataclass(frozen=True)
class YearQuestion:
    """A yearless date already past this year (11月30日 on 12月3日): asked, not moved. `due_at` is next
    year's; nothing is written until the user says 是."""

    customer: Customer
    title: str
    due_at: datetime
    opportunity_id: int | None


def create_followup(
    session: Session, *, user: User, args: str, now: datetime, config: BusinessConfig | None = None
) -> Created | YearQuestion:
    """`跟进 <客户> <时间> <事项>`: the first token is the customer (names have no spaces). With `config`,
    relative times land on working days and hours and a past yearless date is asked about
    (services/followup_time)."""
    text = normalize_text(args)
    head, _, rest = text.partition(" ")
    if not head or not rest.strip():
        raise DomainError(FOLLOWUP_USAGE)
    customer = resolve_customer(session, user=user, keyword=head, for_change=True)
    try:
        if config is not None:
            landing, title = when_prefix(rest, now=now, config=config)
            due_at = landing.when
        else:
            due_at, title = parse_when_prefix(rest, now=now)
    except TimeParseError as exc:
        raise DomainError(f"{exc.message}\n{FOLLOWUP_USAGE}") from None
    if not title.strip():
        raise DomainError(f"请写上要跟进的事项。\n{FOLLOWUP_USAGE}")
    if config is not None and landing.ask_year:
        return YearQuestion(customer, title.strip()[:255], due_at, _open_opportunity(session, customer.id))
    if due_at <= now:
        # 昨天 / 今天上午9点 at 10:00 / 2小时前: read, but already passed. Say when that was and show a future one.
        typed = rest.strip()
        typed = typed[: len(typed) - len(title.strip())].strip() if title.strip() else typed
        raise DomainError(
            f"「{typed}」是 {format_when(due_at, now=now)}，这个时间已经过去了。跟进提醒要设在将来的时间。\n"
            f"例：跟进 {head} 明天上午10点 {title.strip()}"
        )
    reminder = create_reminder(
        session,
        owner_userid=user.userid,
        title=title.strip(),
        due_at=due_at,
        now=now,
        customer_id=customer.id,
        opportunity_id=_open_opportunity(session, customer.id),
    )
    return Created(reminder, customer, moved=config is not None and landing.moved)


def _open_opportunity(session: Session, customer_id: int) -> int | None:
    return session.scalar(
        select(Opportunity.id)
        .where(Opportunity.customer_id == customer_id, Opportunity.closed_at.is_(None))
        .order_by(Opportunity.priority, Opportunity.id)
        .limit(1)
    )


def time_first(session: Session, *, user: User, args: str, now: datetime) -> str:
    """`跟进 明天 金桥 送样` → `金桥 明天 送样`: a time typed before the customer, when the first word is no
    customer of the sender's and the word after the time is one. Otherwise `args` unchanged."""
    from services.lookup import find_customers

    text = normalize_text(args)
    head = text.partition(" ")[0]
    if not head or find_customers(session, user=user, keyword=head, limit=1):
        return args
    try:
        _, rest = parse_when_prefix(text, now=now)
    except TimeParseError:
        return args
    customer, _, title = rest.partition(" ")
    if not customer or not find_customers(session, user=user, keyword=customer, limit=1):
        return args
    typed = text[: len(text) - len(rest)].strip()
    return f"{customer} {typed} {title}".strip()


def shorten(text: str, limit: int = 20) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class VisitFollowup:
    reminder: Reminder
    created: bool  # False: this visit+choice had already set a follow-up (a second tap)


def followup_from_visit(
    session: Session,
    *,
    user: User,
    visit_id: int,
    arg: str,
    now: datetime,
    config: BusinessConfig | None = None,
) -> VisitFollowup:
    """A visit card's follow-up button; once per visit card, whichever button (a JobOccurrence row is the unique
    mark): a second tap, even on another button of the same card, sets nothing new (issue 16).

    The caller has authorised `user` for the visit (CardTask recipient); `arg` is allowlisted here.
    """
    from models import Visit

    if arg not in VISIT_FOLLOWUP:
        raise DomainError("这个按钮已失效，请用「跟进 <客户> <时间> <事项>」设置提醒。")
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("这条拜访记录不存在了。")
    title = f"跟进拜访：{shorten(visit.summary)}"
    mark = session.execute(
        insert_for(session)(JobOccurrence)
        .values(job="visit.followup", occurrence=f"{visit_id}:card", created_at=now)
        .on_conflict_do_nothing(index_elements=["job", "occurrence"])
        .returning(JobOccurrence.id)
    ).scalar()
    if mark is None:
        existing = session.scalar(
            select(Reminder)
            .where(
                Reminder.source == "visit",
                Reminder.owner_userid == user.userid,
                Reminder.title == title[:255],
            )
            .where(Reminder.customer_id == visit.customer_id)
            .order_by(Reminder.id.desc())
            .limit(1)
        )
        if existing is not None:
            return VisitFollowup(existing, created=False)
        raise DomainError("已经设置过这个跟进了。")
    due_at = (
        when_of(VISIT_FOLLOWUP[arg], now=now, config=config).when
        if config
        else parse_when(VISIT_FOLLOWUP[arg], now=now)
    )
    reminder = create_reminder(
        session,
        owner_userid=user.userid,
        title=title,
        due_at=due_at,
        now=now,
        customer_id=visit.customer_id,
        source="visit",
    )
    return VisitFollowup(reminder, created=True)


# ---------------------------------------------------------------------------------------------------
# The tick: due reminders and escalations


def due_candidates(*, now: datetime, limit: int, postgres: bool) -> Select[Any]:
    """The candidate SELECT of the claim (separate so its PostgreSQL compilation can be asserted)."""
    query = (
        select(Reminder.id)
        .where(Reminder.status == "open", Reminder.notified_at.is_(None), Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    return query.with_for_update(skip_locked=True) if postgres else query


def claim_due(session: Session, *, now: datetime, limit: int = 100) -> list[Reminder]:
    """Claim due, not yet notified reminders; each row is claimed by exactly one caller.

    Sets ``notified_at`` (and ``notified_late`` when it fell due more than 5 minutes ago, e.g. the server
    was down). The caller enqueues the card in the same transaction.
    """
    ids = list(session.scalars(due_candidates(now=now, limit=limit, postgres=_is_pg(session))))
    claimed: list[int] = []
    for rid in ids:
        result = session.execute(
            update(Reminder)
            .where(
                Reminder.id == rid,
                Reminder.status == "open",
                Reminder.notified_at.is_(None),
                Reminder.due_at <= now,
            )
            .values(notified_at=now, notified_late=Reminder.due_at < now - LATE_AFTER)
            .execution_options(synchronize_session=False)
        )
        if affected(result):
            claimed.append(rid)
    if not claimed:
        return []
    rows = session.scalars(
        select(Reminder)
        .where(Reminder.id.in_(claimed))
        .order_by(Reminder.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def escalation_candidates(*, now: datetime, after_hours: int, limit: int, postgres: bool) -> Select[Any]:
    query = (
        select(Reminder.id)
        .where(
            Reminder.status == "open",
            Reminder.completed_at.is_(None),
            Reminder.escalated_at.is_(None),
            Reminder.due_at <= now - timedelta(hours=after_hours),
        )
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    return query.with_for_update(skip_locked=True) if postgres else query


def claim_escalations(
    session: Session, *, now: datetime, after_hours: int, limit: int = 100
) -> list[Reminder]:
    """Open reminders `after_hours` past due and never escalated; each is claimed once (``escalated_at``)."""
    ids = list(
        session.scalars(
            escalation_candidates(now=now, after_hours=after_hours, limit=limit, postgres=_is_pg(session))
        )
    )
    claimed: list[int] = []
    for rid in ids:
        result = session.execute(
            update(Reminder)
            .where(Reminder.id == rid, Reminder.status == "open", Reminder.escalated_at.is_(None))
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if affected(result):
            claimed.append(rid)
    if not claimed:
        return []
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.id.in_(claimed))
            .order_by(Reminder.id)
            .execution_options(populate_existing=True)
        )
    )


def manager_of(session: Session, *, userid: str) -> User | None:
    """Whom an overdue reminder escalates to: the owner's manager (上级, any role), else their region's 销售主管.

    Not `approvals.supervisor_of`, which must find a 销售主管 (an approval step's role) and skips other managers.
    """
    owner = session.scalar(select(User).where(User.userid == userid))
    if owner is None:
        return None
    if owner.manager_userid:
        manager = session.scalar(
            select(User).where(User.userid == owner.manager_userid.lower(), User.active.is_(True))
        )
        if manager is not None and manager.userid != owner.userid:
            return manager
    if owner.region:
        return session.scalar(
            select(User)
            .where(
                User.region == owner.region,
                User.role == Role.SUPERVISOR,
                User.active.is_(True),
                User.userid != owner.userid,
            )
            .order_by(User.id)
            .limit(1)
        )
    return None


def customer_name(session: Session, customer_id: int | None) -> str:
    if customer_id is None:
        return "—"
    return session.scalar(select(Customer.name).where(Customer.id == customer_id)) or "—"


# ---------------------------------------------------------------------------------------------------
# Completing and snoozing (cards and text)


@dataclass(frozen=True)
class Outcome:
    reminder: Reminder
    changed: bool  # False: stale (already done, cancelled or snoozed since that card was sent)
    action: str  # done | snooze


def _load(session: Session, reminder_id: int) -> Reminder | None:
    return session.scalar(
        select(Reminder).where(Reminder.id == reminder_id).execution_options(populate_existing=True)
    )


def complete(
    session: Session, *, reminder_id: int, userid: str, now: datetime, snooze_count: int | None = None
) -> Outcome:
    """Mark done if still open (and, from a card, still the version that card showed)."""
    conditions = [Reminder.id == reminder_id, Reminder.owner_userid == userid, Reminder.status == "open"]
    if snooze_count is not None:
        conditions.append(Reminder.snooze_count == snooze_count)
    result = session.execute(
        update(Reminder)
        .where(*conditions)
        .values(status="done", completed_at=now)
        .execution_options(synchronize_session=False)
    )
    reminder = _load(session, reminder_id)
    if reminder is None:
        raise NotFound("没有找到这条待办。")
    return Outcome(reminder, bool(affected(result)), "done")


def snooze(
    session: Session,
    *,
    reminder_id: int,
    userid: str,
    arg: str,
    now: datetime,
    snooze_count: int,
    config: BusinessConfig | None = None,
) -> Outcome:
    """Move the due time by 1 day / 1 week (from the later of due_at and now, so a late tap cannot
    produce a due time already in the past), clear notified_at so the tick sends a new card."""
    if arg not in SNOOZE:
        raise DomainError("这个按钮已失效。")
    reminder = _load(session, reminder_id)
    if reminder is None or reminder.owner_userid != userid:
        raise NotFound("没有找到这条待办。")
    if reminder.status != "open" or reminder.snooze_count != snooze_count:
        return Outcome(reminder, False, "snooze")
    new_due = max(reminder.due_at, now) + SNOOZE[arg]
    if config is not None and config.reminders.working_time_only:
        new_due = on_working_time(new_due, config, keep_clock=True)  # 推迟1天 on a Friday: Monday
    result = session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.status == "open", Reminder.snooze_count == snooze_count)
        .values(due_at=new_due, notified_at=None, notified_late=False, snooze_count=snooze_count + 1)
        .execution_options(synchronize_session=False)
    )
    reminder = _load(session, reminder_id)
    assert reminder is not None
    return Outcome(reminder, bool(affected(result)), "snooze")


def complete_by_text(session: Session, *, user: User, args: str, now: datetime) -> Outcome:
    """`完成 <编号>`: only the sender's own reminders (others' look missing)."""
    number = _NUMBER.match(normalize_text(args))
    if not number:
        raise DomainError(DONE_USAGE)
    rid = int(number.group(1))
    reminder = session.scalar(
        select(Reminder).where(Reminder.id == rid, Reminder.owner_userid == user.userid)
    )
    if reminder is None or reminder.status == "cancelled":
        raise NotFound(f"没有找到待办 #{rid}。发送「待办」查看您的待办和编号。")
    return complete(session, reminder_id=rid, userid=user.userid, now=now)


# ---------------------------------------------------------------------------------------------------
# 待办


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


def open_reminders(session: Session, *, userid: str, now: datetime) -> list[Reminder]:
    """Open reminders by due day (Shanghai), then opportunity priority A→B→C (none last), then time."""
    rows = list(
        session.scalars(
            select(Reminder)
            .where(Reminder.owner_userid == userid, Reminder.status == "open")
            .order_by(Reminder.due_at, Reminder.id)
        )
    )
    prio = _best_priority(session, rows)
    return sorted(
        rows,
        key=lambda r: (
            r.due_at.astimezone(SHANGHAI).date(),
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


def todo_list(session: Session, *, user: User, now: datetime, limit: int = TODO_LIMIT) -> TodoList:
    """`待办`: reminders first (overdue marked), then approvals waiting on the user; each with its opportunity
    priority (A/B/C) when the opportunity has been scored. Also the user's own quotes still in approval."""
    from services.parsing import format_amount

    lines: list[str] = []
    reminders = open_reminders(session, userid=user.userid, now=now)
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
            f"#{r.id} {mark}{_priority_tag(shown.get(r.id))}{format_when(r.due_at, now=now)} {r.title}{customer}"
        )

    def priority_of(opp: Opportunity) -> str:
        return _priority_tag(opp.priority if (opp.score or opp.score_items) else None)

    approvals = session.execute(
        select(ApprovalStep, Quote, Opportunity, Customer)
        .join(Quote, Quote.id == ApprovalStep.quote_id)
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(
            ApprovalStep.status == "pending",
            ApprovalStep.approver_userid == user.userid,
            Quote.status == "pending",
        )
        .order_by(ApprovalStep.activated_at, ApprovalStep.id)
    ).all()
    for step, quote, opp, cust in approvals:
        lines.append(
            f"待审批 报价#{quote.id} {priority_of(opp)}{cust.name}·{opp.name} {format_amount(quote.amount)}"
            f"（第{step.seq}/{quote.step_count}步）"
        )
    own = session.execute(
        select(Quote, Opportunity, Customer)
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(Quote.requester_userid == user.userid, Quote.status == "pending")
        .order_by(Quote.created_at, Quote.id)
    ).all()
    waiting_on = (
        dict(
            session.execute(
                select(ApprovalStep.quote_id, User.name)
                .join(User, User.userid == ApprovalStep.approver_userid)
                .where(ApprovalStep.quote_id.in_([q.id for q, _, _ in own]), ApprovalStep.status == "pending")
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


def todo_lines(session: Session, *, user: User, now: datetime, limit: int = TODO_LIMIT) -> list[str]:
    """The lines of `待办` (see `todo_list`)."""
    return todo_list(session, user=user, now=now, limit=limit).lines


# ---------------------------------------------------------------------------------------------------
# 关键节点按时完成率 (for the digest)


def on_time_rate(
    session: Session, *, userids: list[str] | None, start: datetime, end: datetime, grace_hours: int = 24
) -> tuple[int, int]:
    """(done_on_time, due) for reminders whose due time falls in [start, end).

    Definition: *due* counts every reminder (any owner in `userids`; None = everyone) with ``due_at`` in
    [start, end) that was not cancelled. It is *done on time* when it was completed no later than
    ``grace_hours`` (the escalation threshold, config.reminders.escalate_after_hours) after its due time
    and was never escalated — i.e. it never needed the supervisor. ``due_at`` is the current due time, so a
    snooze moves the reminder (the escalation mark still counts it as late once it happened).
    """
    base = and_(Reminder.due_at >= start, Reminder.due_at < end, Reminder.status != "cancelled")
    if userids is not None:
        if not userids:
            return 0, 0
        base = and_(base, Reminder.owner_userid.in_(userids))
    rows = session.execute(
        select(Reminder.due_at, Reminder.completed_at, Reminder.status, Reminder.escalated_at).where(base)
    ).all()
    due = len(rows)
    grace = timedelta(hours=grace_hours)
    done = sum(
        1
        for due_at, completed_at, status, escalated_at in rows
        if status == "done"
        and completed_at is not None
        and escalated_at is None
        and completed_at <= due_at + grace
    )
    return done, due


__all__ = [
    "Created",
    "Outcome",
    "YearQuestion",
    "VisitFollowup",
    "claim_due",
    "claim_escalations",
    "complete",
    "complete_by_text",
    "create_followup",
    "create_reminder",
    "followup_from_visit",
    "on_time_rate",
    "open_reminders",
    "snooze",
    "manager_of",
    "todo_lines",
]
