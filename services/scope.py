"""The one data-visibility rule, used by every query and answer (docs/product.md "Data visibility").

A rep sees their own customers; a 销售主管 their region; 总经理 and 管理员 everything; 技术负责人 and 财务经理
the customers whose quotes were routed to them (财务经理 also every customer with a signed contract: they
invoice and collect it). Out of scope is answered exactly like not found.

`Scope.of(user)` decides it once from the user's role; lookups, the 360 view, contracts, the indicators and
the digest all ask the same object (as a WHERE clause on customers, opportunities or users, or as regions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from models import ApprovalStep, Contract, Customer, Opportunity, Quote, StepStatus, User
from services import roles

Regions = tuple[str, ...] | None
"""Customer regions in scope: None = every customer (whatever its region, none included); () = no customer."""


class Reach(StrEnum):
    ALL = "all"  # 总经理, 管理员
    REGION = "region"  # 销售主管 with a region
    OWN = "own"  # a rep: their own customers
    ROUTED = "routed"  # 技术负责人: customers whose quotes were routed to them
    FINANCE = "finance"  # 财务经理: routed quotes, and every customer with a signed contract (they invoice and collect it)
    NONE = "none"  # a supervisor without a region, an unknown role


@dataclass(frozen=True)
class Scope:
    reach: Reach
    userid: str
    region: str | None
    name: str

    @classmethod
    def of(cls, user: User) -> Scope:
        role = user.role
        if role in roles.SEES_ALL:
            reach = Reach.ALL
        elif role == roles.Role.SUPERVISOR:
            reach = Reach.REGION if user.region else Reach.NONE
        elif role == roles.Role.REP:
            reach = Reach.OWN
        elif role == roles.Role.FINANCE:
            reach = Reach.FINANCE
        elif role in roles.SEES_ROUTED:
            reach = Reach.ROUTED
        else:
            reach = Reach.NONE
        return cls(reach=reach, userid=user.userid, region=user.region, name=user.name)

    @property
    def everyone(self) -> bool:
        return self.reach is Reach.ALL

    @property
    def label(self) -> str:
        """How a digest names what it covers: 全公司, the region, or the person."""
        return "全公司" if self.everyone else (self.region or self.name)

    # --- customers ---------------------------------------------------------------------------------------

    def customers(self) -> ColumnElement[bool]:
        """A WHERE clause on `Customer` that keeps exactly what the user may see."""
        if self.reach is Reach.ALL:
            return true()
        if self.reach is Reach.REGION:
            return Customer.region == self.region
        if self.reach is Reach.OWN:
            return Customer.owner_userid == self.userid
        if self.reach in (Reach.ROUTED, Reach.FINANCE):
            routed = (
                select(ApprovalStep.id)
                .join(Quote, Quote.id == ApprovalStep.quote_id)
                .join(Opportunity, Opportunity.id == Quote.opportunity_id)
                .where(
                    and_(
                        ApprovalStep.approver_userid == self.userid,
                        Opportunity.customer_id == Customer.id,
                        # only while a step of theirs waits on them, or one they acted on (issue 16 #5): not a
                        # step not yet reached, nor one cancelled before it came to them
                        or_(ApprovalStep.status == StepStatus.PENDING, ApprovalStep.acted_by == self.userid),
                    )
                )
            )
            if self.reach is Reach.FINANCE:  # docs/finance.md
                signed = aliased(Contract)  # aliased: the outer query may select contracts itself
                contracted = select(signed.id).where(signed.customer_id == Customer.id).correlate(Customer)
                return or_(exists(routed), exists(contracted))
            return exists(routed)
        return false()

    def changes_customers(self) -> ColumnElement[bool]:
        """The customers the user may act on (跟进 and the like): 技术负责人/财务经理 only read what the
        approval card shows, so none (issue 16 #5)."""
        return false() if self.reach in (Reach.ROUTED, Reach.FINANCE) else self.customers()

    @property
    def card_only(self) -> bool:
        """True when the user sees a customer only as far as an approval card shows it."""
        return self.reach in (Reach.ROUTED, Reach.FINANCE)

    def opportunities(self) -> ColumnElement[bool]:
        """A WHERE clause on `Opportunity` (through its customer)."""
        return exists(
            select(Customer.id)
            .where(Customer.id == Opportunity.customer_id, self.customers())
            .correlate(Opportunity)
        )

    def regions(self) -> Regions:
        """The customers a manager's digest covers, as regions (the same set as `customers()` for 总经理/管理员
        and 销售主管); other roles cover no customer there."""
        if self.reach is Reach.ALL:
            return None
        if self.reach is Reach.REGION and self.region:
            return (self.region,)
        return ()

    # --- people ------------------------------------------------------------------------------------------

    def users(self) -> ColumnElement[bool]:
        """A WHERE clause on `User`: whose activity the user may see in lists and digests."""
        if self.reach is Reach.ALL:
            return true()
        if self.reach is Reach.REGION:
            return User.region == self.region
        return User.userid == self.userid

    def visible_among(
        self, userids: Sequence[str], by_region: Mapping[str | None, Sequence[str]]
    ) -> list[str]:
        """`users()` applied to rows already loaded (`userids`, and the same grouped by region)."""
        if self.reach is Reach.ALL:
            return list(userids)
        if self.reach is Reach.REGION:
            return list(by_region.get(self.region, []))
        return [self.userid]


def can_see_customer(session: Session, *, user: User, customer_id: int) -> bool:
    return (
        session.scalar(select(Customer.id).where(Customer.id == customer_id, Scope.of(user).customers()))
        is not None
    )


def visible_userids(session: Session, *, user: User) -> list[str] | None:
    """Whose activity `user` may see in lists and digests: None means everyone."""
    scope = Scope.of(user)
    if scope.everyone:
        return None
    return list(session.scalars(select(User.userid).where(scope.users())))
