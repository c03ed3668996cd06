"""Leads (线索): parsing, the duplicate check that leaks nothing, creation with assignment, and 接单 / 转派 /
无效. Assignment rules are in services/lead_assign.py; the SLA clock in services/lead_sla.py.

Every way in (chat command, free-form proposal, import, `POST /api/leads`) ends in `create_lead`.

Long because a lead's whole life (create, 接单, 转派, 无效, the first visit) shares the one duplicate key
and the one audit trail; splitting the actions from creation is open work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chat import preloaded
from chat.errors import DomainError, NotFound
from models import POOL_OWNER, Customer, Lead, LeadStatus, Opportunity, User
from services import audit, lead_assign, stages
from services.config import BusinessConfig
from services.customer_fields import is_complete
from services.geo import company_key
from services.opportunities import open_opportunity
from services.parsing import PhoneError, normalize_name, normalize_phone, normalize_text, split_args

USAGE = "用法：线索 公司 联系人 电话 [来源] [备注]\n例：线索 宁波华东精密 王总 13812345678 展会 想要报价"
FOLLOWED = "已有同事在跟进，如需协同请联系主管。"


@dataclass
class LeadInput:
    company: str
    contact: str | None = None
    phone: str | None = None  # normalised
    source: str = "其他"
    note: str | None = None
    address: str | None = None
    industry: str | None = None
    region_hint: str | None = (
        None  # a configured region (华东) or a place (宁波), e.g. from the form's 省市 field
    )


def clean_source(config: BusinessConfig, source: str | None) -> str:
    source = normalize_text(source or "")
    return source if source in config.leads.sources else "其他"


def validate(data: LeadInput, *, config: BusinessConfig) -> LeadInput:
    """Normalised copy; DomainError (Chinese) for what cannot be a lead."""
    company = normalize_text(data.company)
    if len(company) < 2 or len(company) > 100:
        raise DomainError(f"公司名称应为 2–100 个字。\n{USAGE}")
    phone: str | None = None
    if data.phone:
        try:
            phone = normalize_phone(data.phone)
        except PhoneError as exc:
            raise DomainError(f"{exc.message}\n{USAGE}") from None
    contact = normalize_text(data.contact or "")[:64] or None
    if not phone and not contact:
        raise DomainError(f"请至少写上联系人或电话。\n{USAGE}")
    return LeadInput(
        company=company,
        contact=contact,
        phone=phone,
        source=clean_source(config, data.source),
        note=(normalize_text(data.note or "")[:500] or None),
        address=(normalize_text(data.address or "")[:255] or None),
        industry=(normalize_text(data.industry or "")[:64] or None),
        region_hint=(normalize_text(data.region_hint or "")[:64] or None),
    )


def parse_command(args: str, *, config: BusinessConfig) -> LeadInput:
    """`公司 联系人 电话 [来源] [备注]` (the phone may also come second: `公司 电话 联系人`)."""
    words = split_args(normalize_text(args))
    if len(words) < 3:
        raise DomainError(f"请写上公司、联系人和电话。\n{USAGE}")
    company, second, third, rest = words[0], words[1], words[2], words[3:]
    contact, phone = second, third
    if _is_phone(second) and not _is_phone(third):
        contact, phone = third, second
    if not _is_phone(phone):
        raise DomainError(f"看不懂电话「{phone}」：请写 11 位手机号或带区号的座机。\n{USAGE}")
    source = "其他"
    if rest and rest[0] in config.leads.sources:
        source, rest = rest[0], rest[1:]
    return validate(
        LeadInput(company=company, contact=contact, phone=phone, source=source, note=" ".join(rest) or None),
        config=config,
    )


def _is_phone(text: str) -> bool:
    try:
        normalize_phone(text)
    except PhoneError:
        return False
    return True


# --- the duplicate check -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Duplicate:
    kind: str  # customer | lead
    id: int
    name: str
    owner: str  # the customer's owner or the lead's assignee ("" for a pool customer)
    region: str | None


def find_duplicate(
    session: Session, *, company: str, phone: str | None, exclude_lead: int | None = None
) -> Duplicate | None:
    """Any customer or open lead with the same company key (place prefix and legal form dropped) or phone.

    Not limited to the asker's scope: that is the point; the answer (`duplicate_answer`) reveals nothing.
    """
    key = company_key(company)
    like = f"%{key}%"
    customers = session.scalars(
        select(Customer)
        .where(or_(Customer.name_norm.like(like), *([Customer.phone_norm == phone] if phone else [])))
        .order_by(Customer.id)
        .limit(50)
    )
    for c in customers:
        if company_key(c.name) == key or (phone and c.phone_norm == phone):
            return Duplicate("customer", c.id, c.name, c.owner_userid, c.region)
    query = select(Lead).where(
        Lead.status == LeadStatus.ASSIGNED,
        or_(Lead.company_key == key, *([Lead.phone_norm == phone] if phone else [])),
    )
    if exclude_lead is not None:
        query = query.where(Lead.id != exclude_lead)
    lead = session.scalar(query.order_by(Lead.id).limit(1))
    if lead is not None:
        return Duplicate("lead", lead.id, lead.company, lead.assignee_userid or "", lead.region)
    return None


def duplicate_answer(dup: Duplicate, *, user: User | None) -> str:
    """What the person creating the lead learns: only that it is followed, unless it is their own."""
    if user is not None and dup.owner and dup.owner == user.userid:
        if dup.kind == "customer":
            return f"「{dup.name}」已是您的客户（#{dup.id}），不用再建线索。查看：客户 #{dup.id}"
        return f"「{dup.name}」已是您名下的线索 #{dup.id}，请在线索卡片上点「接单」。"
    if dup.kind == "customer" and dup.owner == POOL_OWNER and user is not None and dup.region == user.region:
        return f"「{dup.name}」在公海里，可以发送「领取 {dup.name}」领取。"
    return FOLLOWED


class DuplicateLead(DomainError):
    def __init__(self, dup: Duplicate, message: str) -> None:
        super().__init__(message)
        self.duplicate = dup


# --- creation -----------------------------------------------------------------------------------------------


@dataclass
class Created:
    lead: Lead
    assignee: User | None
    how: str  # rule | round_robin | supervisor | director | none


def create_lead(
    session: Session,
    *,
    config: BusinessConfig,
    data: LeadInput,
    actor: str,
    user: User | None,
    now: datetime,
    client_key: str | None = None,
) -> Created:
    """Validate, check duplicates (DuplicateLead), assign by the rules and record. Never commits."""
    data = validate(data, config=config)
    dup = find_duplicate(session, company=data.company, phone=data.phone)
    if dup is not None:
        audit.record(
            session,
            actor=actor,
            entity="lead",
            entity_id=None,
            action="create",
            outcome="duplicate",
            now=now,
            detail=f"{dup.kind} {dup.id}",
        )
        raise DuplicateLead(dup, duplicate_answer(dup, user=user))
    region = lead_assign.detect_region(
        config,
        company=data.company,
        address=data.address,
        phone=data.phone,
        source=data.source,
        hint=data.region_hint,
    )
    lead = Lead(
        company=data.company,
        company_key=company_key(data.company),
        contact=data.contact,
        phone=data.phone,
        phone_norm=data.phone,
        source=data.source,
        note=data.note,
        address=data.address,
        industry=data.industry,
        region=region,
        status=LeadStatus.ASSIGNED,
        assign_count=0,
        created_by=actor,
        client_key=client_key,
        created_at=now,
    )
    session.add(lead)
    session.flush()
    choice = lead_assign.choose(session, config=config, region=region, industry=data.industry, now=now)
    assign(session, lead=lead, to=choice.user, actor=actor, now=now, how=choice.how)
    audit.record(
        session,
        actor=actor,
        entity="lead",
        entity_id=lead.id,
        action="create",
        now=now,
        changes={
            "company": [None, lead.company],
            "source": [None, lead.source],
            "region": [None, region],
            "assignee": [None, lead.assignee_userid],
        },
        detail=choice.how,
    )
    return Created(lead, choice.user, choice.how)


def assign(session: Session, *, lead: Lead, to: User | None, actor: str, now: datetime, how: str) -> None:
    """(Re-)assign: a new card version, a fresh SLA clock."""
    old = lead.assignee_userid
    lead.assignee_userid = to.userid if to is not None else None
    lead.assigned_at = now
    lead.assign_count += 1
    lead.reminded_at = None
    lead.transfer_to = None
    if lead.assign_count > 1:
        audit.record(
            session,
            actor=actor,
            entity="lead",
            entity_id=lead.id,
            action="assign",
            now=now,
            changes={"assignee": [old, lead.assignee_userid]},
            detail=how,
        )
    session.flush()


def lead_for_action(session: Session, *, lead_id: int, user: User) -> Lead:
    """The open lead `user` may act on as its assignee, from the server's record (never from a button)."""
    lead = session.get(Lead, lead_id)
    if lead is None or lead.assignee_userid != user.userid:
        raise NotFound("这条线索不在您名下。")
    if lead.status != LeadStatus.ASSIGNED:
        raise DomainError(f"线索 #{lead.id} 已处理（{status_label(lead)}）。")
    return lead


STATUS_LABELS = {
    LeadStatus.ASSIGNED: "待接单",
    LeadStatus.ACCEPTED: "已接单",
    LeadStatus.INVALID: "已标记无效",
}


def status_label(lead: Lead) -> str:
    return STATUS_LABELS.get(lead.status, lead.status)


@dataclass
class Accepted:
    lead: Lead
    customer: Customer
    opportunity_id: int


def accept(session: Session, *, config: BusinessConfig, lead: Lead, user: User, now: datetime) -> Accepted:
    """接单: a customer owned by `user` and an opportunity at the first stage (线索分配)."""
    dup = find_duplicate(session, company=lead.company, phone=lead.phone_norm, exclude_lead=lead.id)
    if dup is not None and dup.kind == "customer":
        raise DuplicateLead(dup, duplicate_answer(dup, user=user))
    customer = Customer(
        name=lead.company,
        name_norm=normalize_name(lead.company),
        industry=lead.industry,
        region=lead.region or user.region,
        contact=lead.contact,
        phone=lead.phone,
        phone_norm=lead.phone_norm,
        address=lead.address,
        custom={},
        owner_userid=user.userid,
        owner_since=now,
        created_at=now,
        updated_at=now,
    )
    customer.complete = is_complete(customer, config)
    session.add(customer)
    session.flush()
    audit.record(
        session,
        actor=user.userid,
        entity="customer",
        entity_id=customer.id,
        action="create",
        now=now,
        changes={"name": [None, customer.name], "owner_userid": [None, user.userid]},
        detail=f"lead {lead.id}",
    )
    opp = open_opportunity(
        session, config=config, user=user, customer=customer, name=f"{lead.source}线索", amount=None, now=now
    )
    lead.status, lead.customer_id, lead.opportunity_id = LeadStatus.ACCEPTED, customer.id, opp.id
    lead.accepted_at = lead.closed_at = now
    audit.record(
        session,
        actor=user.userid,
        entity="lead",
        entity_id=lead.id,
        action="accept",
        now=now,
        changes={"status": [LeadStatus.ASSIGNED, LeadStatus.ACCEPTED], "customer_id": [None, customer.id]},
    )
    session.flush()
    return Accepted(lead, customer, opp.id)


def mark_invalid(session: Session, *, lead: Lead, user: User, reason: str, now: datetime) -> None:
    reason = normalize_text(reason)
    if not reason:
        raise DomainError("请写上无效的原因，例如：空号、同行、重复、无需求。")
    lead.status, lead.invalid_reason, lead.closed_at = LeadStatus.INVALID, reason[:255], now
    audit.record(
        session,
        actor=user.userid,
        entity="lead",
        entity_id=lead.id,
        action="invalid",
        now=now,
        changes={"status": [LeadStatus.ASSIGNED, LeadStatus.INVALID]},
        detail=reason[:255],
    )
    session.flush()


def request_transfer(session: Session, *, lead: Lead, user: User, target: User, now: datetime) -> User:
    """转派 asks the supervisor: returns who decides (the requester's manager, else the region's supervisor)."""
    if target.userid == user.userid:
        raise DomainError("不能转派给自己。")
    if lead.transfer_to:
        raise DomainError(f"线索 #{lead.id} 的转派申请正在等主管处理。")
    boss = lead_assign.supervisor_for(session, user=user, region=lead.region)
    if boss is None:
        raise DomainError("找不到您的主管，暂时无法转派。")
    lead.transfer_to = target.userid
    audit.record(
        session,
        actor=user.userid,
        entity="lead",
        entity_id=lead.id,
        action="transfer_request",
        now=now,
        changes={"transfer_to": [None, target.userid]},
    )
    session.flush()
    return boss


def decide_transfer(
    session: Session, *, lead: Lead, approver: User, approve: bool, now: datetime
) -> User | None:
    """The supervisor's answer; on approval the lead is assigned to the colleague (returned)."""
    if lead.status != LeadStatus.ASSIGNED or not lead.transfer_to:
        raise DomainError(f"线索 #{lead.id} 没有待处理的转派申请。")
    boss = lead_assign.supervisor_for(
        session,
        user=session.scalar(select(User).where(User.userid == lead.assignee_userid)),
        region=lead.region,
    )
    if boss is None or boss.userid != approver.userid:
        raise NotFound("这条转派申请不归您处理。")
    target = session.scalar(select(User).where(User.userid == lead.transfer_to, User.active.is_(True)))
    audit.record(
        session,
        actor=approver.userid,
        entity="lead",
        entity_id=lead.id,
        action="transfer_approve" if approve else "transfer_reject",
        now=now,
    )
    if not approve or target is None:
        lead.transfer_to = None
        session.flush()
        return None
    assign(session, lead=lead, to=target, actor=approver.userid, now=now, how="transfer")
    return target


AWAITING_VISIT = "leads.awaiting_first_visit"


def preload_awaiting_visit(session: Session, *, owners: list[str]) -> None:
    """For a worker's batch of visits (chat/preloaded.py): per owner, their customers whose accepted lead
    waits for its first visit, with one query for all owners (`on_visit` then skips its own query)."""
    found: dict[str, set[int]] = {owner: set() for owner in owners}
    rows = session.execute(
        select(Customer.owner_userid, Lead.customer_id)
        .join(Customer, Customer.id == Lead.customer_id)
        .where(
            Customer.owner_userid.in_(sorted(owners)),
            Lead.status == LeadStatus.ACCEPTED,
            Lead.first_contact_at.is_(None),
        )
    )
    for owner, customer_id in rows:
        if customer_id is not None:
            found.setdefault(owner, set()).add(customer_id)
    preloaded.put(session, AWAITING_VISIT, found)


def on_visit(
    session: Session,
    *,
    config: BusinessConfig,
    customer_id: int,
    actor: str,
    now: datetime,
    owner: str | None = None,
) -> None:
    """The first visit after 接单: first contact time, and the lead's opportunity 线索分配 → 初步接洽.

    `owner` (the customer's owner): lets a batch's preloaded answer say "no lead waits" without a query."""
    if owner is not None:
        known, awaiting = preloaded.take(session, AWAITING_VISIT, owner)
        if known and customer_id not in awaiting:
            return
    leads = session.scalars(
        select(Lead).where(
            Lead.customer_id == customer_id,
            Lead.status == LeadStatus.ACCEPTED,
            Lead.first_contact_at.is_(None),
        )
    ).all()
    for lead in leads:
        lead.first_contact_at = now
        opp = session.get(Opportunity, lead.opportunity_id) if lead.opportunity_id else None
        if opp is None or opp.stage != config.stages[0] or len(config.stages) < 2:
            continue
        savepoint = session.begin_nested()
        try:
            stages.move_stage(
                session,
                config=config,
                opportunity=opp,
                to_stage=config.stages[1],
                actor=actor,
                now=now,
                via="lead_first_visit",
            )
        except DomainError:  # a gate configured on the second stage: the rep moves it by hand
            savepoint.rollback()
        else:
            savepoint.commit()
    session.flush()
