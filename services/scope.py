"""The one data-visibility rule, used by every query and answer (product.md "Data visibility").

A rep sees their own customers; a 销售主管 their region; 总经理 and 管理员 everything; 技术负责人 and 财务经理
the customers whose quotes were routed to them. Out of scope is answered exactly like not found.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, select, true
from sqlalchemy.orm import Session

from models import ApprovalStep, Customer, Opportunity, Quote, Role, User


def customer_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on `Customer` that keeps exactly what `user` may see."""
    role = user.role
    if role in (Role.DIRECTOR.value, Role.ADMIN.value):
        return true()
    if role == Role.SUPERVISOR.value:
        return Customer.region == user.region if user.region else false()
    if role == Role.REP.value:
        return Customer.owner_userid == user.userid
    if role in (Role.TECH_LEAD.value, Role.FINANCE.value):
        routed = (
            select(ApprovalStep.id)
            .join(Quote, Quote.id == ApprovalStep.quote_id)
            .join(Opportunity, Opportunity.id == Quote.opportunity_id)
            .where(and_(ApprovalStep.approver_userid == user.userid, Opportunity.customer_id == Customer.id))
        )
        return exists(routed)
    return false()


def opportunity_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on `Opportunity` (through its customer)."""
    return exists(
        select(Customer.id).where(Customer.id == Opportunity.customer_id, customer_filter(user)).correlate(Opportunity)
    )


def can_see_customer(session: Session, *, user: User, customer_id: int) -> bool:
    return session.scalar(select(Customer.id).where(Customer.id == customer_id, customer_filter(user))) is not None


def visible_userids(session: Session, *, user: User) -> list[str] | None:
    """Whose activity `user` may see in lists and digests: None means everyone."""
    if user.role in (Role.DIRECTOR.value, Role.ADMIN.value):
        return None
    if user.role == Role.SUPERVISOR.value:
        return list(session.scalars(select(User.userid).where(User.region == user.region))) if user.region else [user.userid]
    return [user.userid]
