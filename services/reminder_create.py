"""Creating follow-up reminders: `跟进 <客户> <时间> <事项>` (a time typed first is reordered), a visit card's
follow-up button (once per card), and the plain row other services create.

With the configuration, relative times land on working days and hours and a past yearless date is asked
about, not moved (services/followup_time.py). No WeCom and no outbox here: the handler turns the result into
replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.errors import DomainError, NotFound
from models import Customer, JobOccurrence, Opportunity, Reminder, ReminderStatus, User
from models.db import insert_for
from services.config import BusinessConfig
from services.followup_time import when_of, when_prefix
from services.lookup import resolve_customer
from services.parsing import TimeParseError, format_when, parse_when, parse_when_prefix
from services.parsing.text import normalize_text

FOLLOWUP_USAGE = "用法：跟进 <客户> <时间> <事项>\n例：跟进 华东精密 明天下午3点 送样品"
# Visit follow-up buttons: the arg selects one of these expressions (same parser as typed times).
VISIT_FOLLOWUP = {"1d": "明天", "3d": "3天后", "1w": "下周一"}


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
        status=ReminderStatus.OPEN,
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
    session: Session,
    *,
    user: User,
    args: str,
    now: datetime,
    tz: ZoneInfo,
    config: BusinessConfig | None = None,
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
            landing, title = when_prefix(rest, now=now, config=config, tz=tz)
            due_at = landing.when
        else:
            due_at, title = parse_when_prefix(rest, now=now, tz=tz)
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
            f"「{typed}」是 {format_when(due_at, now=now, tz=tz)}，这个时间已经过去了。跟进提醒要设在将来的时间。\n"
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


def time_first(session: Session, *, user: User, args: str, now: datetime, tz: ZoneInfo) -> str:
    """`跟进 明天 金桥 送样` → `金桥 明天 送样`: a time typed before the customer, when the first word is no
    customer of the sender's and the word after the time is one. Otherwise `args` unchanged."""
    from services.lookup import find_customers

    text = normalize_text(args)
    head = text.partition(" ")[0]
    if not head or find_customers(session, user=user, keyword=head, limit=1):
        return args
    try:
        _, rest = parse_when_prefix(text, now=now, tz=tz)
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
    tz: ZoneInfo,
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
        when_of(VISIT_FOLLOWUP[arg], now=now, config=config, tz=tz).when
        if config
        else parse_when(VISIT_FOLLOWUP[arg], now=now, tz=tz)
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
