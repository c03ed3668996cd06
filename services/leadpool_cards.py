"""Issuing lead and pool cards: the card (cards/lead.py, cards/pool.py) plus the server's record of it
(services/cardtasks.py: which lead / extension / owner a tap refers to and who may tap)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards.lead import LeadView, lead_card, lead_task_id, transfer_card, transfer_task_id
from cards.pool import AtRisk, countdown_card, countdown_task_id, extension_card, extension_task_id
from chat.replies import Card
from models import Customer, Lead, PoolExtension, User
from services.cardtasks import CardKind, issue
from services.config import BusinessConfig
from services.parsing import SHANGHAI
from services.pool import Due, working_days_until


def lead_view(lead: Lead) -> LeadView:
    return LeadView(
        id=lead.id,
        company=lead.company,
        contact=lead.contact or "",
        source=lead.source,
        note=lead.note or "",
        region=lead.region or "",
        version=lead.assign_count,
        reassigned=lead.assign_count > 1,
    )


def lead_card_for(session: Session, *, lead: Lead, now: datetime) -> Card:
    """The card to the lead's current assignee (one per assignment)."""
    assert lead.assignee_userid is not None
    issue(
        session,
        task_id=lead_task_id(lead.id, lead.assign_count),
        kind=CardKind.LEAD,
        ref_id=lead.id,
        recipient=lead.assignee_userid,
        now=now,
    )
    return Card(lead_card(lead_view(lead)), to=lead.assignee_userid)


def transfer_card_for(
    session: Session, *, lead: Lead, requester: User, target: User, boss: User, now: datetime
) -> Card:
    issue(
        session,
        task_id=transfer_task_id(lead.id, lead.assign_count),
        kind=CardKind.LEAD_TRANSFER,
        ref_id=lead.id,
        recipient=boss.userid,
        now=now,
    )
    return Card(
        transfer_card(
            lead_id=lead.id,
            version=lead.assign_count,
            company=lead.company,
            requester=requester.name,
            target=target.name,
        ),
        to=boss.userid,
    )


def at_risk(dues: list[Due], *, now: datetime, config: BusinessConfig) -> list[AtRisk]:
    today = now.astimezone(SHANGHAI).date()
    out = []
    for d in dues:
        day = d.release_at.astimezone(SHANGHAI).date()
        left = working_days_until(today, day, config=config)
        out.append(AtRisk(d.customer.id, d.customer.name, f"{day:%m-%d}（还有{left}个工作日）", d.reason))
    return out


def countdown_card_for(session: Session, *, owner: User, items: list[AtRisk], now: datetime) -> Card:
    day = now.astimezone(SHANGHAI).strftime("%Y%m%d")
    task_id = countdown_task_id(str(owner.id), day)
    issue(
        session,
        task_id=task_id,
        kind=CardKind.POOL_COUNTDOWN,
        ref_id=owner.id,
        recipient=owner.userid,
        now=now,
    )
    return Card(countdown_card(items, task_id=task_id), to=owner.userid)


def extension_card_for(
    session: Session,
    *,
    ext: PoolExtension,
    customer: Customer,
    requester: User,
    release: datetime,
    used: int,
    limit: int,
    now: datetime,
) -> Card:
    issue(
        session,
        task_id=extension_task_id(ext.id),
        kind=CardKind.POOL_EXTENSION,
        ref_id=ext.id,
        recipient=ext.approver_userid,
        now=now,
    )
    card = extension_card(
        ext_id=ext.id,
        customer=customer.name,
        requester=requester.name,
        release=f"{release.astimezone(SHANGHAI):%m-%d}",
        days=ext.days,
        used=used,
        limit=limit,
    )
    return Card(card, to=ext.approver_userid)


def user_named(session: Session, userid: str | None) -> str:
    if not userid:
        return "公海"
    return session.scalar(select(User.name).where(User.userid == userid)) or userid
