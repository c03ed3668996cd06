"""Opportunities: open, advance (through services/stages.py gates), lose, score."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from chat.errors import DomainError
from models import Customer, Opportunity, StageMove, User
from services import audit, stages
from services.config import BusinessConfig
from services.limits import check_length


def open_opportunity(
    session: Session,
    *,
    config: BusinessConfig,
    user: User,
    customer: Customer,
    name: str,
    amount: Decimal | None,
    now: datetime,
) -> Opportunity:
    """A new opportunity at the first stage; owned by the customer's owner."""
    name = name.strip()
    if not name:
        raise DomainError("请写上商机名称。")
    check_length(name, column=Opportunity.name, label="商机名称")
    opp = Opportunity(
        customer_id=customer.id,
        name=name,
        amount=amount,
        stage=config.stages[0],
        score=0,
        priority=config.priority_for(0),
        score_items=[],
        owner_userid=customer.owner_userid,
        created_at=now,
        updated_at=now,
    )
    session.add(opp)
    session.flush()
    session.add(
        StageMove(
            opportunity_id=opp.id, from_stage=None, to_stage=opp.stage, moved_by=user.userid, moved_at=now
        )
    )
    audit.record(
        session,
        actor=user.userid,
        entity="opportunity",
        entity_id=opp.id,
        action="create",
        now=now,
        changes={
            "name": [None, opp.name],
            "customer_id": [None, customer.id],
            "amount": [None, amount],
            "stage": [None, opp.stage],
        },
    )
    return opp


def advance(
    session: Session,
    *,
    config: BusinessConfig,
    user: User,
    opportunity: Opportunity,
    customer_name: str,
    to_stage: str | None,
    now: datetime,
) -> str:
    """Move to `to_stage` or the next stage; returns the new stage. Gates raise DomainError."""
    if opportunity.closed_at is not None or opportunity.stage == config.lost_stage:
        raise DomainError(f"商机「{opportunity.name}」已关闭（{opportunity.stage}），不能再推进。")
    target = to_stage or stages.next_stage(config, opportunity.stage)
    if target is None:
        raise DomainError(f"商机「{opportunity.name}」已在最后阶段（{opportunity.stage}）。")
    moved = stages.move_stage(
        session,
        config=config,
        opportunity=opportunity,
        to_stage=target,
        actor=user.userid,
        now=now,
        customer_name=customer_name,
    )
    if moved is None:
        raise DomainError(f"商机「{opportunity.name}」已经在「{target}」阶段。")
    return target


def lose(
    session: Session,
    *,
    config: BusinessConfig,
    user: User,
    opportunity: Opportunity,
    reason: str,
    now: datetime,
) -> None:
    reason = reason.strip()
    if not reason:
        raise DomainError("请写上输单原因。")
    if opportunity.closed_at is not None or opportunity.stage == config.lost_stage:
        raise DomainError(f"商机「{opportunity.name}」已关闭（{opportunity.stage}）。")
    session.add(
        StageMove(
            opportunity_id=opportunity.id,
            from_stage=opportunity.stage,
            to_stage=config.lost_stage,
            moved_by=user.userid,
            moved_at=now,
        )
    )
    changes = audit.diff(
        opportunity, {"stage": config.lost_stage, "lost_reason": reason[:255], "closed_at": now}
    )
    opportunity.updated_at = now
    audit.record(
        session,
        actor=user.userid,
        entity="opportunity",
        entity_id=opportunity.id,
        action="lost",
        now=now,
        changes=changes,
    )
    session.flush()


def parse_score_items(words: list[str], *, config: BusinessConfig) -> list[str]:
    """Items from words split on spaces, 、 and commas; `无` means none hold. Unknown items raise DomainError."""
    items: list[str] = []
    for word in words:
        for part in word.replace("、", ",").replace("，", ",").split(","):
            part = part.strip()
            if part and part not in items:
                items.append(part)
    if items == ["无"]:
        return []
    known = [s.item for s in config.score_card]
    unknown = [i for i in items if i not in known]
    if unknown or not items:
        raise DomainError(
            f"未知的评分项：{'、'.join(unknown) or '（空）'}。可选：{'、'.join(known)}（都不满足写「无」）"
        )
    return items


def score(
    session: Session,
    *,
    config: BusinessConfig,
    user: User,
    opportunity: Opportunity,
    items: list[str],
    now: datetime,
) -> tuple[int, str]:
    total, priority = config.score(items)
    changes = audit.diff(opportunity, {"score_items": list(items), "score": total, "priority": priority})
    if changes:
        opportunity.updated_at = now
        audit.record(
            session,
            actor=user.userid,
            entity="opportunity",
            entity_id=opportunity.id,
            action="score",
            now=now,
            changes=changes,
        )
    session.flush()
    return total, priority
