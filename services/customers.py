"""Customers: creation with field validation and duplicate detection, and the 360 view.

Every query goes through services/scope.py (directly or via services/lookup.py): out of scope is not found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from cards.customer import (
    CustomerView,
    OpenOpportunityLine,
    RoutedCustomerView,
    RoutedQuote,
    VisitLine,
)
from chat.errors import DomainError
from models import Customer, Opportunity, Reminder, ReminderStatus, StepStatus, User, Visit
from services import audit, roles
from services.config import BusinessConfig, CustomerField
from services.customer_fields import clean_value, get_value, is_complete, missing_required, set_value
from services.parsing import (
    SHANGHAI,
    format_amount,
    normalize_name,
    normalize_text,
    parse_kv_pairs,
    split_args,
)
from services.scope import Scope

NEW_USAGE = "用法：新客户 名称 [字段=值 ...]\n例：新客户 华东精密 行业=机械 联系人=王经理 电话=13812345678"


@dataclass
class Draft:
    """A customer being created: its name and the cleaned values so far (field key -> value)."""

    name: str
    values: dict[str, str] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        return {"name": self.name, "values": dict(self.values)}

    @staticmethod
    def from_data(data: dict[str, Any]) -> Draft:
        return Draft(name=str(data.get("name", "")), values=dict(data.get("values") or {}))


def field_names(config: BusinessConfig) -> str:
    return "、".join(f.label for f in config.customer_fields)


def parse_new_customer(args: str, *, config: BusinessConfig) -> Draft:
    """`名称 [字段=值 ...]` → Draft with cleaned values; DomainError (usage) for anything wrong."""
    tokens = split_args(normalize_text(args))
    # The name comes first; a value may contain spaces (电话=0513 8888 6666): words after a pair continue it.
    name_words: list[str] = []
    pairs: list[list[str]] = []
    for token in tokens:
        pair, _ = parse_kv_pairs([token])
        if pair:
            key, value = next(iter(pair.items()))
            pairs.append([key, value])
        elif pairs:
            pairs[-1][1] = f"{pairs[-1][1]} {token}".strip()
        else:
            name_words.append(token)
    draft = Draft(name=" ".join(name_words))
    for raw_key, raw_value in pairs:
        spec = config.field_by_label_or_key(raw_key)
        if spec is None:
            raise DomainError(f"没有「{raw_key}」这个字段。可用字段：{field_names(config)}\n{NEW_USAGE}")
        if not raw_value:
            continue
        try:
            value = clean_value(spec, raw_value)
        except DomainError as exc:
            raise DomainError(f"{exc.message}\n{NEW_USAGE}") from None
        if spec.key == "name":
            draft.name = draft.name or value
            continue
        draft.values[spec.key] = value
    if not draft.name:
        raise DomainError(f"请写上客户名称。\n{NEW_USAGE}")
    try:
        draft.name = clean_value(config.field_by_label_or_key("name") or _name_field(config), draft.name)
    except DomainError as exc:
        raise DomainError(f"{exc.message}\n{NEW_USAGE}") from None
    return draft


def _name_field(config: BusinessConfig) -> CustomerField:
    return next(f for f in config.customer_fields if f.key == "name")


def apply_defaults(draft: Draft, *, owner: User) -> None:
    """A customer's region is its owner's (issue 16 #6): a typed 区域= cannot move it out of the owner's
    supervisor's sight. Only an administrator chooses a region (or an owner without one, e.g. the 总经理)."""
    if owner.region and owner.role != roles.Role.ADMIN:
        draft.values["region"] = owner.region


def missing_fields(draft: Draft, *, config: BusinessConfig) -> list[CustomerField]:
    values = {"name": draft.name, **draft.values}
    return missing_required(values, config)


def find_duplicate(
    session: Session, *, user: User, name: str, phone_norm: str | None, allow_phone_of: int | None = None
) -> Customer | None:
    """A customer in `user`'s scope with the same normalised name or phone (`allow_phone_of`: a customer whose
    phone the user has confirmed is shared, e.g. by two companies of one group)."""
    conditions = [Customer.name_norm == normalize_name(name)]
    if phone_norm:
        same_phone = Customer.phone_norm == phone_norm
        conditions.append(
            same_phone if allow_phone_of is None else and_(same_phone, Customer.id != allow_phone_of)
        )
    return session.scalar(
        select(Customer).where(or_(*conditions), Scope.of(user).customers()).order_by(Customer.id).limit(1)
    )


def same_name(existing: Customer, name: str) -> bool:
    return existing.name_norm == normalize_name(name)


def duplicate_message(existing: Customer) -> str:
    return f"已有客户「{existing.name}」（#{existing.id}），没有重复创建。查看：客户 #{existing.id}"


def create_customer(
    session: Session,
    *,
    config: BusinessConfig,
    user: User,
    draft: Draft,
    now: datetime,
    allow_phone_of: int | None = None,
) -> Customer:
    """Create from a complete draft (all required fields present). The creator is the owner."""
    apply_defaults(draft, owner=user)
    missing = missing_fields(draft, config=config)
    if missing:
        raise DomainError(f"还缺少：{'、'.join(f.label for f in missing)}。\n{NEW_USAGE}")
    existing = find_duplicate(
        session,
        user=user,
        name=draft.name,
        phone_norm=draft.values.get("phone"),
        allow_phone_of=allow_phone_of,
    )
    if existing is not None:
        raise DomainError(duplicate_message(existing))
    customer = Customer(
        name=draft.name,
        name_norm=normalize_name(draft.name),
        custom={},
        owner_userid=user.userid,
        created_at=now,
        updated_at=now,
    )
    for spec in config.customer_fields:
        if spec.key == "name":
            continue
        value = draft.values.get(spec.key)
        if value:
            set_value(customer, spec, value)
    customer.complete = is_complete(customer, config)
    session.add(customer)
    session.flush()
    changes: dict[str, Any] = {"name": [None, customer.name], "owner_userid": [None, user.userid]}
    changes.update({k: [None, v] for k, v in draft.values.items()})
    audit.record(
        session,
        actor=user.userid,
        entity="customer",
        entity_id=customer.id,
        action="create",
        now=now,
        changes=changes,
    )
    return customer


# --- the 360 view (gathered here, shown by cards/customer.py) ------------------------------------------------


def _card_view(session: Session, *, user: User, customer: Customer) -> RoutedCustomerView:
    """What a 技术负责人/财务经理 may see of a customer: what their approval cards show, nothing more
    (no phone, contact, visits or other opportunities; issue 16 #5)."""
    from models import ApprovalStep, Quote

    rows = session.execute(
        select(Quote, Opportunity, ApprovalStep)
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .join(ApprovalStep, ApprovalStep.quote_id == Quote.id)
        .where(
            Opportunity.customer_id == customer.id,
            ApprovalStep.approver_userid == user.userid,
            or_(ApprovalStep.status == StepStatus.PENDING, ApprovalStep.acted_by == user.userid),
        )
        .order_by(Quote.id)
    ).all()
    names = dict(session.execute(select(User.userid, User.name)).all())
    return RoutedCustomerView(
        name=customer.name,
        id=customer.id,
        quotes=[
            RoutedQuote(
                quote_id=quote.id,
                opportunity=opp.name,
                amount=format_amount(quote.amount),
                requester=names.get(quote.requester_userid, quote.requester_userid),
                status=step.status,
            )
            for quote, opp, step in rows
        ],
    )


def _local(dt: datetime) -> datetime:
    return dt.astimezone(SHANGHAI)


def customer_360(
    session: Session, *, config: BusinessConfig, user: User, customer: Customer, now: datetime
) -> CustomerView | RoutedCustomerView:
    """The 360 view: fields, segment, owner, open opportunities, contracts, last 3 visits, next follow-up; for
    someone who sees a customer only through approval cards, just those quotes."""
    if Scope.of(user).card_only:
        return _card_view(session, user=user, customer=customer)
    owner = session.scalar(select(User).where(User.userid == customer.owner_userid))
    fields = [
        (spec.label, value)
        for spec in config.customer_fields
        if spec.key != "name" and (value := get_value(customer, spec))
    ]
    missing = [f.label for f in config.completeness_fields() if not get_value(customer, f)]
    opps = list(
        session.scalars(
            select(Opportunity)
            .where(Opportunity.customer_id == customer.id, Opportunity.closed_at.is_(None))
            .order_by(Opportunity.id)
        )
    )
    from services.plans import customer_lines  # the contracts and their payment plans

    visits = list(
        session.scalars(
            select(Visit)
            .where(Visit.customer_id == customer.id)
            .order_by(Visit.visited_at.desc(), Visit.id.desc())
            .limit(3)
        )
    )
    names = (
        dict(
            session.execute(
                select(User.userid, User.name).where(User.userid.in_({v.userid for v in visits}))
            ).all()
        )
        if visits
        else {}
    )
    reminder = session.scalar(
        select(Reminder)
        .where(Reminder.customer_id == customer.id, Reminder.status == ReminderStatus.OPEN)
        .order_by(Reminder.due_at)
        .limit(1)
    )
    return CustomerView(
        name=customer.name,
        id=customer.id,
        segment=customer.segment,
        owner=owner.name if owner else customer.owner_userid,
        fields=fields,
        missing=missing,
        opportunities=[
            OpenOpportunityLine(
                id=o.id,
                name=o.name,
                amount=format_amount(o.amount) if o.amount is not None else None,
                stage=o.stage,
                priority=o.priority,
            )
            for o in opps
        ],
        contract_lines=customer_lines(session, customer_id=customer.id, today=_local(now).date()),
        visits=[
            VisitLine(
                day=_local(v.visited_at),
                who=names.get(v.userid, v.userid),
                summary=v.summary,
                location=v.location_label,
                photos=v.photo_count,
                flagged=bool(v.location_anomaly),
                distance_m=v.distance_m,
                flag_note=v.flag_note,
            )
            for v in visits
        ],
        next_followup=(_local(reminder.due_at), reminder.title) if reminder is not None else None,
    )
