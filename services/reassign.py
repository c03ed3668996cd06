"""分配: move a customer with its open opportunities and open reminders to another rep."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chat.errors import DomainError, NotFound
from models import Customer, Opportunity, PoolEvent, Quote, QuoteStatus, Reminder, ReminderStatus, User, Visit
from services import audit, roles
from services.parsing import SHANGHAI, format_amount, normalize_text


def resolve_assignee(session: Session, *, actor: User, keyword: str) -> User:
    """A sales person by userid or name. A supervisor may only hand over within their own region."""
    keyword = normalize_text(keyword)
    query = select(User).where(
        User.active.is_(True),
        User.role.in_(roles.ASSIGNABLE),
        or_(User.userid == keyword.lower(), User.name == keyword),
    )
    if actor.role == roles.Role.SUPERVISOR:
        query = query.where(User.region == actor.region)
    found = list(session.scalars(query.limit(3)))
    if not found:
        raise NotFound(f"没有找到可分配的销售「{keyword}」。请写销售的姓名或账号。")
    if len(found) > 1:
        raise DomainError(
            f"有多位销售叫「{keyword}」，请改用账号："
            + "、".join(f"{u.name}（{u.display_userid}）" for u in found)
        )
    return found[0]


@dataclass
class Handover:
    customer: Customer
    old_owner: str
    new_owner: User
    opportunities: list[Opportunity] = field(default_factory=list)
    reminders: list[Reminder] = field(default_factory=list)
    last_visit: Visit | None = None

    def summary_for_new_owner(self, *, actor_name: str, old_name: str) -> str:
        c = self.customer
        lines = [f"{actor_name}把客户「{c.name}」（#{c.id}）交给您负责（原负责人：{old_name}）。"]
        contact = "，".join(x for x in (c.contact, c.phone) if x)
        if contact:
            lines.append(f"联系人：{contact}")
        if self.opportunities:
            lines.append("进行中的商机：")
            lines += [
                f"• #{o.id} {o.name}{' ' + format_amount(o.amount) if o.amount is not None else ''}｜{o.stage}"
                for o in self.opportunities
            ]
        if self.reminders:
            lines.append("待跟进：")
            lines += [f"• {r.due_at.astimezone(SHANGHAI):%m-%d %H:%M} {r.title}" for r in self.reminders]
        if self.last_visit is not None:
            v = self.last_visit
            lines.append(f"上次拜访：{v.visited_at.astimezone(SHANGHAI):%m-%d} {v.summary[:60]}")
        lines.append(f"查看详情：客户 #{c.id}")
        return "\n".join(lines)


def reassign_customer(
    session: Session, *, actor: User, customer: Customer, new_owner: User, now: datetime
) -> Handover:
    """Move `customer` (already resolved in `actor`'s scope) to `new_owner`, with its open work."""
    if customer.owner_userid == new_owner.userid:
        raise DomainError(f"客户「{customer.name}」已经由{new_owner.name}负责。")
    old_owner = customer.owner_userid
    values: dict[str, object] = {"owner_userid": new_owner.userid, "owner_since": now, "pooled_at": None}
    if customer.pooled_at is not None:  # 分配 from the pool (公海)
        session.add(
            PoolEvent(
                customer_id=customer.id,
                kind="assign",
                userid=new_owner.userid,
                actor=actor.userid,
                region=customer.region,
                at=now,
            )
        )
    if new_owner.region and customer.region != new_owner.region:
        values["region"] = new_owner.region
    changes = audit.diff(customer, values)
    customer.updated_at = now
    audit.record(
        session,
        actor=actor.userid,
        entity="customer",
        entity_id=customer.id,
        action="reassign",
        now=now,
        changes=changes,
    )
    opps = list(
        session.scalars(
            select(Opportunity)
            .where(Opportunity.customer_id == customer.id, Opportunity.closed_at.is_(None))
            .order_by(Opportunity.id)
        )
    )
    for opp in opps:
        if opp.owner_userid != new_owner.userid:
            opp_changes = audit.diff(opp, {"owner_userid": new_owner.userid})
            opp.updated_at = now
            audit.record(
                session,
                actor=actor.userid,
                entity="opportunity",
                entity_id=opp.id,
                action="reassign",
                now=now,
                changes=opp_changes,
            )
    # The previous owner is out of the loop on the customer's open quotes (issue 16 #11): the new owner hears
    # about them, sees them in 待办 and is the one who may 撤回.
    open_quotes = session.scalars(
        select(Quote).where(
            Quote.opportunity_id.in_([o.id for o in opps] or [-1]), Quote.status == QuoteStatus.PENDING
        )
    ).all()
    for quote in open_quotes:
        if quote.requester_userid != new_owner.userid:
            audit.record(
                session,
                actor=actor.userid,
                entity="quote",
                entity_id=quote.id,
                action="reassign",
                now=now,
                changes={"requester_userid": [quote.requester_userid, new_owner.userid]},
            )
            quote.requester_userid = new_owner.userid
    reminders = list(
        session.scalars(
            select(Reminder)
            .where(
                or_(
                    Reminder.customer_id == customer.id,
                    Reminder.opportunity_id.in_([o.id for o in opps] or [-1]),
                ),
                Reminder.status == ReminderStatus.OPEN,
            )
            .order_by(Reminder.due_at)
        )
    )
    for reminder in reminders:
        reminder.owner_userid = new_owner.userid
    last_visit = session.scalar(
        select(Visit)
        .where(Visit.customer_id == customer.id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(1)
    )
    session.flush()
    return Handover(
        customer=customer,
        old_owner=old_owner,
        new_owner=new_owner,
        opportunities=opps,
        reminders=reminders,
        last_visit=last_visit,
    )
