"""Read-only answers to the questions people ask in chat, each limited to what the asker may see. Long because
each question is one small scoped query with its result type, all read by one answering handler; none is long,
and they share the scope rule and the helpers.

Every query goes through services.scope (customers, opportunities, people): a record out of scope is simply
not found. Views (the lines shown) are in handlers/answer_views.py. Never writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    ApprovalStep,
    Contract,
    Customer,
    Opportunity,
    Payment,
    Quote,
    QuoteStatus,
    Reminder,
    ReminderStatus,
    StepStatus,
    User,
    Visit,
)
from models.targets import Metric
from services import roles
from services.parsing import SHANGHAI
from services.scope import Scope, visible_userids
from services.targets import done_by_user


def day_start(now: datetime) -> datetime:
    local = now.astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def week_start(now: datetime) -> datetime:
    start = day_start(now)
    return start - timedelta(days=start.weekday())


def month_start(now: datetime) -> datetime:
    return day_start(now).replace(day=1)


def visible_customers(session: Session, *, user: User, ids: tuple[int, ...]) -> list[Customer]:
    if not ids:
        return []
    return list(
        session.scalars(
            select(Customer).where(Customer.id.in_(ids), Scope.of(user).customers()).order_by(Customer.id)
        )
    )


def customers_with_contact(session: Session, *, user: User, contact: str) -> list[Customer]:
    """Visible customers whose contact person is `contact` (吴工 → their customer)."""
    contact = contact.strip()
    if not contact:
        return []
    return list(
        session.scalars(
            select(Customer)
            .where(Customer.contact == contact, Scope.of(user).customers())
            .order_by(Customer.id)
            .limit(8)
        )
    )


def _names(session: Session, userids: set[str]) -> dict[str, str]:
    if not userids:
        return {}
    return dict(session.execute(select(User.userid, User.name).where(User.userid.in_(userids))).all())


@dataclass(frozen=True)
class Situation:
    customer: Customer
    owner_name: str
    opportunities: list[Opportunity]
    last_visit: Visit | None
    last_visit_by: str
    next_followup: Reminder | None


def situation(session: Session, *, user: User, customer: Customer) -> Situation:
    """Stage, last visit, next follow-up of one customer the caller has already found within scope."""
    opps = list(
        session.scalars(
            select(Opportunity)
            .where(Opportunity.customer_id == customer.id, Opportunity.closed_at.is_(None))
            .order_by(Opportunity.id)
        )
    )
    visit = session.scalar(
        select(Visit)
        .where(Visit.customer_id == customer.id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(1)
    )
    reminder = session.scalar(
        select(Reminder)
        .where(Reminder.customer_id == customer.id, Reminder.status == ReminderStatus.OPEN)
        .order_by(Reminder.due_at)
        .limit(1)
    )
    names = _names(session, {customer.owner_userid, *([visit.userid] if visit else [])})
    return Situation(
        customer=customer,
        owner_name=names.get(customer.owner_userid, customer.owner_userid),
        opportunities=opps,
        last_visit=visit,
        last_visit_by=names.get(visit.userid, visit.userid) if visit else "",
        next_followup=reminder,
    )


def my_customers(session: Session, *, user: User) -> list[Customer]:
    """A rep's own customers; for a manager the ones they oversee (scope)."""
    query = select(Customer).where(Scope.of(user).customers()).order_by(Customer.name)
    if user.role == roles.Role.REP:
        query = query.where(Customer.owner_userid == user.userid)
    return list(session.scalars(query.limit(200)))


@dataclass(frozen=True)
class OpenOpportunity:
    id: int
    name: str
    customer: str
    stage: str
    amount: Decimal | None


def my_opportunities(session: Session, *, user: User) -> list[OpenOpportunity]:
    rows = session.execute(
        select(Opportunity, Customer.name)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(Scope.of(user).opportunities(), Opportunity.closed_at.is_(None))
        .order_by(Opportunity.amount.desc().nulls_last(), Opportunity.id)
    ).all()
    return [OpenOpportunity(o.id, o.name, name, o.stage, o.amount) for o, name in rows]


@dataclass(frozen=True)
class DueItem:
    id: int
    title: str
    customer: str
    due_at: datetime


def due_between(session: Session, *, user: User, start: datetime, end: datetime) -> list[DueItem]:
    """The asker's open follow-ups due before `end` (overdue ones included), oldest first."""
    rows = session.execute(
        select(Reminder, Customer.name)
        .outerjoin(Customer, Customer.id == Reminder.customer_id)
        .where(
            Reminder.owner_userid == user.userid,
            Reminder.status == ReminderStatus.OPEN,
            Reminder.due_at < end,
        )
        .order_by(Reminder.due_at, Reminder.id)
    ).all()
    return [DueItem(r.id, r.title, name or "—", r.due_at) for r, name in rows]


@dataclass(frozen=True)
class Numbers:
    signed: Decimal
    contracts: int
    collected: Decimal
    visits: int
    since: datetime


def my_numbers(session: Session, *, user: User, now: datetime) -> Numbers:
    """This month's signed, collected and visits, counted as the targets count them (services/targets)."""
    since = month_start(now)
    done = {
        metric: done_by_user(session, metric=metric, start=since, end=now, userids=[user.userid]).get(
            user.userid, Decimal(0)
        )
        for metric in (Metric.SIGNED, Metric.COLLECTED, Metric.VISITS)
    }
    count = session.scalar(
        select(func.count(Contract.id)).where(Contract.signed_by == user.userid, Contract.signed_at >= since)
    )
    return Numbers(
        done[Metric.SIGNED], int(count or 0), done[Metric.COLLECTED], int(done[Metric.VISITS]), since
    )


@dataclass(frozen=True)
class QuoteState:
    id: int
    opportunity: str
    customer: str
    amount: Decimal
    status: QuoteStatus
    waiting_on: str  # the current approver's name, while pending
    since: datetime
    reason: str | None


def quote_states(session: Session, *, user: User, quote_id: int | None, limit: int = 5) -> list[QuoteState]:
    """One quote (by number, within scope) or the asker's latest quotes, with where each stands."""
    query = (
        select(Quote, Opportunity.name, Customer.name)
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(Scope.of(user).customers())
        .order_by(Quote.id.desc())
    )
    if quote_id is not None:
        query = query.where(Quote.id == quote_id)
    else:
        query = query.where(Quote.requester_userid == user.userid).limit(limit)
    rows = session.execute(query).all()
    pending = {
        step.quote_id: step
        for step in session.scalars(
            select(ApprovalStep).where(
                ApprovalStep.quote_id.in_([q.id for q, _, _ in rows]),
                ApprovalStep.status == StepStatus.PENDING,
            )
        )
    }
    names = _names(session, {s.approver_userid for s in pending.values()})
    out = []
    for quote, opp_name, customer_name in rows:
        step = pending.get(quote.id)
        since = (
            (step.activated_at if step and step.activated_at else None)
            or quote.decided_at
            or quote.created_at
        )
        out.append(
            QuoteState(
                quote.id,
                opp_name,
                customer_name,
                quote.amount,
                quote.status,
                names.get(step.approver_userid, step.approver_userid) if step else "",
                since,
                quote.reject_reason,
            )
        )
    return out


@dataclass
class PersonDay:
    userid: str
    name: str
    visits: list[tuple[str, str]] = field(default_factory=list)  # (customer, summary)
    new_opportunities: list[str] = field(default_factory=list)
    quotes: int = 0


def team_day(session: Session, *, user: User, now: datetime, only: str | None = None) -> list[PersonDay]:
    """Live activity since 00:00 today of the people the asker oversees (or of one of them)."""
    since = day_start(now)
    allowed = visible_userids(session, user=user)
    people_query = select(User.userid, User.name).where(User.active.is_(True), User.role == roles.Role.REP)
    if allowed is not None:
        people_query = people_query.where(User.userid.in_(allowed))
    if only is not None:
        people_query = select(User.userid, User.name).where(User.userid == only)
        if allowed is not None and only not in allowed:
            return []
    days = {uid: PersonDay(uid, name) for uid, name in session.execute(people_query.order_by(User.id)).all()}
    if not days:
        return []
    for visit, customer in session.execute(
        select(Visit, Customer.name)
        .join(Customer, Customer.id == Visit.customer_id)
        .where(Visit.userid.in_(days), Visit.visited_at >= since, Scope.of(user).customers())
        .order_by(Visit.visited_at)
    ).all():
        days[visit.userid].visits.append((customer, visit.summary))
    for opp in session.scalars(
        select(Opportunity).where(
            Opportunity.owner_userid.in_(days),
            Opportunity.created_at >= since,
            Scope.of(user).opportunities(),
        )
    ):
        days[opp.owner_userid].new_opportunities.append(opp.name)
    for requester, count in session.execute(
        select(Quote.requester_userid, func.count(Quote.id))
        .where(Quote.requester_userid.in_(days), Quote.created_at >= since)
        .group_by(Quote.requester_userid)
    ).all():
        days[requester].quotes = int(count)
    return list(days.values())


@dataclass(frozen=True)
class Waiting:
    quote_id: int
    customer: str
    opportunity: str
    amount: Decimal
    approver: str
    requester: str
    since: datetime


def waiting_quotes(session: Session, *, user: User, now: datetime, mine_only: bool) -> list[Waiting]:
    """Quotes waiting on the asker (as approver or delegate), or — for the director — every pending step in
    scope, the longest-waiting first."""
    from services.approval_pending import pending_for

    if mine_only:
        mine = pending_for(session, userid=user.userid, now=now)
        names = _names(session, {p.requester_userid for p in mine} | {p.approver_userid for p in mine})
        return [
            Waiting(
                p.quote_id,
                p.customer,
                p.opportunity,
                p.amount,
                names.get(p.approver_userid, ""),
                names.get(p.requester_userid, p.requester_userid),
                p.waiting_since,
            )
            for p in mine
        ]
    rows = session.execute(
        select(ApprovalStep, Quote, Opportunity.name, Customer.name)
        .join(Quote, Quote.id == ApprovalStep.quote_id)
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(
            ApprovalStep.status == StepStatus.PENDING,
            Quote.status == QuoteStatus.PENDING,
            Scope.of(user).customers(),
        )
        .order_by(ApprovalStep.activated_at, ApprovalStep.id)
    ).all()
    names = _names(session, {s.approver_userid for s, *_ in rows} | {q.requester_userid for _, q, *_ in rows})
    return [
        Waiting(
            q.id,
            customer,
            opp,
            q.amount,
            names.get(s.approver_userid, s.approver_userid),
            names.get(q.requester_userid, q.requester_userid),
            s.activated_at or q.created_at,
        )
        for s, q, opp, customer in rows
    ]


@dataclass(frozen=True)
class AreaPeriod:
    area: str  # a region, or 全公司
    visits: int
    new_opportunities: int
    signed: Decimal
    collected: Decimal
    pipeline: Decimal
    since: datetime


def area_period(session: Session, *, user: User, region: str | None, since: datetime) -> AreaPeriod | None:
    """A region's figures since `since` (region None: everything the asker sees — the company for 总经理);
    None when the asker is no manager or asks for a region outside theirs."""
    if user.role not in roles.MANAGERS:
        return None
    scope = Scope.of(user)
    if region is not None and user.role == roles.Role.SUPERVISOR and user.region != region:
        return None
    where = Customer.region == region if region is not None else scope.customers()
    area = region or scope.label
    in_area = select(Customer.id).where(where)
    visits = session.scalar(
        select(func.count(Visit.id)).where(Visit.customer_id.in_(in_area), Visit.visited_at >= since)
    )
    new_opps = session.scalar(
        select(func.count(Opportunity.id)).where(
            Opportunity.customer_id.in_(in_area), Opportunity.created_at >= since
        )
    )
    signed = session.scalar(
        select(func.coalesce(func.sum(Contract.amount), 0)).where(
            Contract.customer_id.in_(in_area), Contract.signed_at >= since
        )
    )
    collected = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.customer_id.in_(in_area), Payment.received_at >= since
        )
    )
    pipeline = session.scalar(
        select(func.coalesce(func.sum(Opportunity.amount), 0)).where(
            Opportunity.customer_id.in_(in_area), Opportunity.closed_at.is_(None)
        )
    )
    return AreaPeriod(
        area,
        int(visits or 0),
        int(new_opps or 0),
        Decimal(signed or 0),
        Decimal(collected or 0),
        Decimal(pipeline or 0),
        since,
    )


def find_person(session: Session, *, user: User, userid: str | None) -> User | None:
    """A colleague the asker may look at (their own region for a supervisor), else None."""
    if not userid:
        return None
    person = session.scalar(select(User).where(User.userid == userid.lower(), User.active.is_(True)))
    allowed = visible_userids(session, user=user)
    if person is None or (allowed is not None and person.userid not in allowed):
        return None
    return person
