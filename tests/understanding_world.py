"""Seed a corpus-style `world` (people, customers, opportunities, visits, quotes) into a test database,
and score Understanding results against a message's `expect` (used by the corpus and generalisation tests)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Contract, Customer, Opportunity, User, Visit
from services import approval_request
from services.config import BusinessConfig
from services.parsing import normalize_name
from services.understanding import Intent, Understanding

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROLES = {
    "销售": "rep",
    "销售主管": "supervisor",
    "技术负责人": "tech_lead",
    "财务经理": "finance",
    "总经理": "director",
}
_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@dataclass
class World:
    today: datetime
    users: dict[str, User] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)  # full name -> id
    opportunities: dict[str, int] = field(default_factory=dict)  # name -> id
    quotes: dict[str, int] = field(default_factory=dict)  # opportunity name -> quote id


def parse_today(value: str) -> datetime:
    day, clock, _zone = value.split()
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


def seed_world(session: Session, world: dict[str, Any], *, config: BusinessConfig) -> World:
    now = parse_today(str(world["today"]))
    out = World(today=now)
    past = now - timedelta(days=30)
    for p in world["people"]:
        user = User(
            userid=p["userid"],
            display_userid=p["userid"],
            name=p["name"],
            role=ROLES[p["role"]],
            region=p.get("region") or None,
            manager_userid=p.get("manager") or None,
            active=True,
            created_at=past,
            updated_at=past,
        )
        session.add(user)
        out.users[user.userid] = user
    session.flush()
    for c in world["customers"]:
        owner = out.users[c["owner"]]
        customer = Customer(
            name=c["name"],
            name_norm=normalize_name(c["name"]),
            industry=c.get("industry"),
            region=owner.region,
            contact=c.get("contact"),
            phone=c.get("phone"),
            phone_norm=c.get("phone"),
            address=c.get("address"),
            custom={},
            owner_userid=owner.userid,
            complete=True,
            created_at=past,
            updated_at=past,
        )
        session.add(customer)
        session.flush()
        out.customers[customer.name] = customer.id
    for v in world.get("visits", []):
        session.add(
            Visit(
                customer_id=out.customers[v["customer"]], userid=v["by"], summary=v["note"], visited_at=past
            )
        )
    for o in world["opportunities"]:
        owner_of = session.get(Customer, out.customers[o["customer"]])
        assert owner_of is not None
        opp = Opportunity(
            customer_id=owner_of.id,
            name=o["name"],
            amount=Decimal(o["amount"]),
            stage=o["stage"],
            score=0,
            priority="C",
            score_items=[],
            owner_userid=owner_of.owner_userid,
            created_at=past,
            updated_at=past,
        )
        session.add(opp)
        session.flush()
        out.opportunities[opp.name] = opp.id
        if o.get("contract"):
            session.add(
                Contract(
                    opportunity_id=opp.id,
                    customer_id=owner_of.id,
                    amount=Decimal(o["contract"]),
                    signed_at=past,
                    signed_by=owner_of.owner_userid,
                )
            )
    session.flush()
    for q in world.get("quotes", []):
        quoted = session.get(Opportunity, out.opportunities[q["opportunity"]])
        assert quoted is not None
        requested = approval_request.request_quote(
            session,
            config=config,
            requester=out.users[quoted.owner_userid],
            opportunity=quoted,
            amount=Decimal(q["amount"]),
            note=None,
            now=now - timedelta(days=1),
        )
        out.quotes[quoted.name] = requested.quote.id
    session.flush()
    return out


def substitute(text: str, world: World) -> str:
    return re.sub(r"\{quote:([^}]+)\}", lambda m: str(world.quotes[m[1]]), text)


def due_matches(spec: str, when: datetime | None, today: datetime) -> bool:
    """`+1d 09:00`, `+1d morning`, `+3d`, `this fri`, `next wed`, `next tue 15:00`, `end of month`."""
    if when is None:
        return False
    local = when.astimezone(SHANGHAI)
    day0 = today.date()
    parts = spec.split()
    target: date
    if parts[0].startswith("+") and parts[0].endswith("d"):
        target = day0 + timedelta(days=int(parts[0][1:-1]))
        rest = parts[1:]
    elif parts[0] in ("this", "next") and parts[1] in _WEEKDAYS:
        monday = day0 - timedelta(days=day0.weekday())
        target = monday + timedelta(days=_WEEKDAYS[parts[1]] + (7 if parts[0] == "next" else 0))
        rest = parts[2:]
    elif spec == "end of month":
        target = day0.replace(day=calendar.monthrange(day0.year, day0.month)[1])
        rest = []
    else:
        raise ValueError(f"unknown due spec {spec!r}")
    if local.date() != target:
        return False
    if rest == ["morning"]:
        return local.hour < 12
    if rest:
        return local.strftime("%H:%M") == rest[0]
    return True


# The corpus has no `query.my_opportunities`: its "how many opportunities do I have" is labelled
# query.my_customers; the engine's finer intent counts as that label.
_SAME_INTENT = {"query.my_customers": {"query.my_opportunities"}}


def check(found: Understanding, item: dict[str, Any], world: World, *, session: Session) -> list[str]:
    """The reasons `found` does not match the corpus item (empty: understood)."""
    problems: list[str] = []
    want = str(item["intent"])
    if found.intent.value != want and found.intent.value not in _SAME_INTENT.get(want, set()):
        problems.append(f"intent {found.intent.value} != {want}")
    expect: dict[str, Any] = item.get("expect") or {}
    if "customer" in expect and found.customer_ids != (world.customers[expect["customer"]],):
        problems.append(f"customer {found.customer_ids} != {expect['customer']}")
    if "did_you_mean" in expect and world.customers[expect["did_you_mean"]] not in found.customer_ids:
        problems.append(f"did_you_mean {found.customer_ids} lacks {expect['did_you_mean']}")
    if "contact" in expect and found.contact != expect["contact"]:
        problems.append(f"contact {found.contact} != {expect['contact']}")
    if "amount" in expect and found.amount != Decimal(expect["amount"]):
        problems.append(f"amount {found.amount} != {expect['amount']}")
    for key in ("due", "offer_followup"):
        if key in expect and not due_matches(str(expect[key]), found.when, world.today):
            problems.append(f"{key} {found.when} != {expect[key]}")
    if "stage" in expect and found.stage != expect["stage"]:
        problems.append(f"stage {found.stage} != {expect['stage']}")
    if "opportunity" in expect and found.opportunity_ids != (world.opportunities[expect["opportunity"]],):
        problems.append(f"opportunity {found.opportunity_ids} != {expect['opportunity']}")
    if "items" in expect and set(found.items) != set(expect["items"]):
        problems.append(f"items {found.items} != {expect['items']}")
    if "quote" in expect and found.quote_id != world.quotes[expect["quote"]]:
        problems.append(f"quote {found.quote_id} != {expect['quote']}")
    if "to" in expect and found.person_userid != expect["to"]:
        problems.append(f"to {found.person_userid} != {expect['to']}")
    for key in ("note_has", "title_has", "name_has", "reason_has"):
        for word in expect.get(key, []):
            if word.lower() not in found.text.lower():
                problems.append(f"{key} {word!r} not in {found.text!r}")
    problems += _answer_entities(found, expect, world, session=session)
    if item.get("scope") and (found.customer_ids or found.contact or found.opportunity_ids):
        problems.append(f"scope: resolved {found.customer_ids} {found.contact} {found.opportunity_ids}")
    return problems


def _answer_entities(
    found: Understanding, expect: dict[str, Any], world: World, *, session: Session
) -> list[str]:
    """An answer can only show a customer's phone, address or projects if that customer was found."""
    problems = []
    for fact in expect.get("answer_has", []):
        fact = str(fact)
        owners: list[Customer | None] = [
            c
            for c in session.scalars(select(Customer).where(Customer.id.in_(list(world.customers.values()))))
            if fact in (c.phone or "") or fact in (c.address or "")
        ]
        owners += (
            [
                session.get(Customer, o.customer_id)
                for o in session.scalars(select(Opportunity).where(Opportunity.name == fact))
            ]
            if found.intent is Intent.QUERY_CUSTOMER
            else []
        )
        for owner in owners:
            if owner is not None and found.customer_ids != (owner.id,):
                problems.append(f"answer needs customer {owner.name}, got {found.customer_ids}")
        if (
            fact in {u.region for u in world.users.values()}
            and found.intent is Intent.QUERY_REGION
            and found.region != fact
        ):
            problems.append(f"region {found.region} != {fact}")
    return problems
