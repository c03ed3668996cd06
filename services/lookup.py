"""Finding customers and opportunities by a name fragment or a number, always within the user's scope."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from chat.errors import DomainError, NotFound
from models import Customer, Opportunity, User
from services.parsing.text import normalize_name, normalize_text
from services.scope import Scope

_NUMBER = re.compile(r"^[#＃]?(\d{1,9})$")
T = TypeVar("T")
PICK_LIMIT = (
    200  # matches a numbered pick can hold; it shows them a page at a time with 更多 (cards/paging.py)
)
SHOWN_IN_TEXT = 8  # lines of an Ambiguous message answered as text (where nobody asks for a pick)


class Ambiguous(DomainError):
    """Several matches: the message is a short numbered list; `choices` are (id, label)."""

    def __init__(self, message: str, choices: list[tuple[int, str]]) -> None:
        super().__init__(message)
        self.choices = choices


@dataclass(frozen=True)
class Match:
    id: int
    label: str


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_customers(
    session: Session, *, user: User, keyword: str, limit: int = 8, for_change: bool = False
) -> list[Customer]:
    keyword = normalize_text(keyword)
    if not keyword:
        return []
    scope = Scope.of(user)
    visible = scope.changes_customers() if for_change else scope.customers()
    number = _NUMBER.match(keyword)
    if number:
        found = session.scalar(select(Customer).where(Customer.id == int(number.group(1)), visible))
        if found is not None:
            return [found]
    norm = normalize_name(keyword)
    pattern = f"%{_escape(keyword)}%"
    pattern_norm = f"%{_escape(norm)}%" if norm else pattern
    # One query: the exact names (normalised) first, then the others containing the keyword, by id.
    is_exact = Customer.name_norm == norm
    matches = list(
        session.scalars(
            select(Customer)
            .where(
                or_(
                    is_exact,
                    Customer.name.like(pattern, escape="\\"),
                    Customer.name_norm.like(pattern_norm, escape="\\"),
                )
            )
            .where(visible)
            .order_by(case((is_exact, 0), else_=1), Customer.id)
            .limit(limit)
        )
    )
    exact = [c for c in matches if c.name_norm == norm]
    return exact if exact and len(exact) == len(matches) else matches


def _exact_if_unambiguous(matches: list[T], keyword: str, name: Callable[[T], str]) -> list[T]:
    """The record named exactly `keyword` only when no other record's name contains it (issue 16): `报价 备件`
    with 备件 and 备件年度框架 both existing is a numbered pick, the exact one first."""
    exact = [m for m in matches if name(m) == keyword]
    others = [m for m in matches if name(m) != keyword]
    if exact and not any(keyword in name(m) for m in others):
        return exact
    return exact + others if exact else matches


def resolve_customer(session: Session, *, user: User, keyword: str, for_change: bool = False) -> Customer:
    """Exactly one visible customer, else NotFound (also for out of scope) or Ambiguous with a numbered list.

    `for_change`: the customer will be acted on, which needs more than seeing it (Scope.changes_customers)."""
    found = find_customers(session, user=user, keyword=keyword, for_change=for_change, limit=PICK_LIMIT)
    if not found:
        raise NotFound(f"没有找到客户「{keyword}」。可以用名称中的几个字，或客户编号（如 #12）。")
    if len(found) == 1:
        return found[0]
    choices = [(c.id, f"#{c.id} {c.name}") for c in found]
    raise Ambiguous(_numbered("找到多个客户，请用编号再发一次：", choices), choices)


def _numbered(head: str, choices: list[tuple[int, str]]) -> str:
    lines = [f"{i}. {label}" for i, (_, label) in enumerate(choices[:SHOWN_IN_TEXT], 1)]
    if len(choices) > SHOWN_IN_TEXT:
        lines.append(f"……共{len(choices)}个，请写得更完整些")
    return "\n".join([head, *lines])


def visible_ids(session: Session, *, user: User, customers: bool, ids: list[int]) -> set[int]:
    """Which of `ids` (customers, else opportunities) `user` may see now: a list shown again is re-checked."""
    if not ids:
        return set()
    scope = Scope.of(user)
    if customers:
        query = select(Customer.id).where(Customer.id.in_(ids), scope.customers())
    else:
        query = select(Opportunity.id).where(Opportunity.id.in_(ids), scope.opportunities())
    return set(session.scalars(query))


def find_opportunities(
    session: Session, *, user: User, keyword: str, open_only: bool = False, limit: int = 8
) -> list[Opportunity]:
    keyword = normalize_text(keyword)
    if not keyword:
        return []
    base = select(Opportunity).where(Scope.of(user).opportunities())
    number = _NUMBER.match(keyword)
    if number:
        found = session.scalar(base.where(Opportunity.id == int(number.group(1))))
        if found is not None:
            return [found]
    pattern = f"%{_escape(keyword)}%"
    query = (
        base.join(Customer, Customer.id == Opportunity.customer_id)
        .where(or_(Opportunity.name.like(pattern, escape="\\"), Customer.name.like(pattern, escape="\\")))
        .order_by(Opportunity.id)
        .limit(limit)
    )
    if open_only:
        query = query.where(Opportunity.closed_at.is_(None))
    return _exact_if_unambiguous(list(session.scalars(query)), keyword, lambda o: o.name)


def resolve_opportunity(
    session: Session, *, user: User, keyword: str, open_only: bool = False
) -> Opportunity:
    found = find_opportunities(session, user=user, keyword=keyword, open_only=open_only, limit=PICK_LIMIT)
    if not found:
        raise NotFound(f"没有找到商机「{keyword}」。可以用商机或客户名称中的几个字，或商机编号（如 #7）。")
    if len(found) == 1:
        return found[0]
    names = {
        c.id: c.name
        for c in session.scalars(select(Customer).where(Customer.id.in_({o.customer_id for o in found})))
    }
    choices = [(o.id, f"#{o.id} {o.name}（{names.get(o.customer_id, '')}，{o.stage}）") for o in found]
    raise Ambiguous(_numbered("找到多个商机，请用编号再发一次：", choices), choices)
