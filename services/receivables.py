"""The digest's receivables figures (应收; cards/digest_markdown.receivables_section shows them): due this month, overdue by age, collected against planned this
month, and the largest overdue items with their owners — a 销售主管 for their region, the 总经理 for the
company (services/scope.Scope.regions, the same rule as the rest of the digest).

Built for all managers at once from one query (each instalment with its contract's customer, owner and
payment totals), whatever the number of managers or contracts; what an
instalment has received is allocated in plan order (services/plans.allocate_amounts). Age buckets are in
calendar days past the due date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Contract, Customer, Instalment, Payment, User
from services import plans
from services.config import BusinessConfig
from services.indicators import Regions, covers
from services.scope import Scope


def bucket_of(days: int) -> int:
    return 0 if days <= 30 else 1 if days <= 60 else 2 if days <= 90 else 3


@dataclass(frozen=True)
class OverdueItem:
    contract_id: int
    customer: str
    label: str
    remaining: Decimal
    days: int
    owner: str


@dataclass
class ReceivablesView:
    due_this_month: Decimal = Decimal(0)  # still open, due from the 1st to the end of this month
    due_this_month_count: int = 0
    overdue: list[Decimal] = field(
        default_factory=lambda: [Decimal(0)] * 4
    )  # by age (cards/digest_markdown.OVERDUE_BUCKETS)
    overdue_count: list[int] = field(default_factory=lambda: [0] * 4)
    planned_month: Decimal = Decimal(0)  # instalments due this month, in full
    collected_month: Decimal = Decimal(0)  # received this month on contracts in scope
    largest: list[OverdueItem] = field(default_factory=list)

    @property
    def overdue_total(self) -> Decimal:
        return sum(self.overdue, Decimal(0))

    @property
    def empty(self) -> bool:
        return not (self.planned_month or self.collected_month or self.overdue_total or self.due_this_month)


@dataclass
class _Row:
    region: str | None
    customer: str
    contract_id: int
    owner: str
    instalments: list[Instalment]


def build_for(
    session: Session, *, managers: Sequence[User], config: BusinessConfig, now: datetime, tz: ZoneInfo
) -> dict[str, ReceivablesView]:
    today = now.astimezone(tz).date()
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    month_start = datetime.combine(first, time(0), tzinfo=tz)
    scoped: list[tuple[User, Regions]] = [(m, Scope.of(m).regions()) for m in managers]
    contracts: dict[int, _Row] = {}
    totals: dict[int, tuple[Decimal, Decimal]] = {}
    paid_total = (
        select(func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.contract_id == Contract.id)
        .scalar_subquery()
    )
    paid_month = (
        select(func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.contract_id == Contract.id, Payment.received_at >= month_start)
        .scalar_subquery()
    )
    owner_id = func.coalesce(func.nullif(Customer.owner_userid, ""), Contract.signed_by)  # plans.owner_of
    query = (
        select(Instalment, Customer.region, Customer.name, owner_id, User.name, paid_total, paid_month)
        .join(Contract, Contract.id == Instalment.contract_id)
        .join(Customer, Customer.id == Contract.customer_id)
        .outerjoin(User, User.userid == owner_id)
        .order_by(Instalment.contract_id, Instalment.seq)
    )
    if not any(regions is None for _, regions in scoped):
        wanted = sorted({r for _, regions in scoped for r in regions or ()})
        query = query.where(Customer.region.in_(wanted))
    for inst, region, customer, owner, owner_name, paid, month in session.execute(query):
        row = contracts.setdefault(
            inst.contract_id, _Row(region, customer, inst.contract_id, owner_name or owner, [])
        )
        row.instalments.append(inst)
        totals[inst.contract_id] = (Decimal(paid or 0), Decimal(month or 0))

    per_contract: list[tuple[_Row, list[plans.InstalmentState], Decimal]] = []
    for row in contracts.values():
        paid, month = totals.get(row.contract_id, (Decimal(0), Decimal(0)))
        per_contract.append((row, plans.states_from(row.instalments, paid=paid, invoiced=Decimal(0)), month))

    views: dict[str, ReceivablesView] = {}
    for manager, regions in scoped:
        view = ReceivablesView()
        items: list[OverdueItem] = []
        for row, states, month in per_contract:
            if not covers(regions, row.region):
                continue
            view.collected_month += month
            for s in states:
                due = s.instalment.due_on
                if due is None:
                    continue
                if first <= due < following:
                    view.planned_month += Decimal(s.instalment.amount)
                if s.settled:
                    continue
                if first <= due < following and due >= today:
                    view.due_this_month += s.remaining
                    view.due_this_month_count += 1
                elif due < today:
                    days = (today - due).days
                    b = bucket_of(days)
                    view.overdue[b] += s.remaining
                    view.overdue_count[b] += 1
                    items.append(
                        OverdueItem(row.contract_id, row.customer, s.label, s.remaining, days, row.owner)
                    )
        view.largest = sorted(items, key=lambda i: (-i.remaining, -i.days, i.contract_id))[
            : config.collections.largest_overdue
        ]
        views[manager.userid] = view
    return views
