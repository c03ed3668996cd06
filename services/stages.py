"""Opportunity stages and their gates, enforced on every write path (chat, cards, import)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from chat.errors import DomainError
from models import Contract, Opportunity, Quote, QuoteStatus, StageMove, Visit
from services import audit
from services.config import BusinessConfig

# How a move happens. Only these system paths may move backwards or enter gated stages directly.
MANUAL = "manual"
QUOTE_REQUEST = "quote_request"
QUOTE_REJECTED = "quote_rejected"
QUOTE_WITHDRAWN = "quote_withdrawn"
QUOTE_APPROVED = "quote_approved"
CONTRACT = "contract"
SYSTEM_BACKWARD = {QUOTE_REJECTED, QUOTE_WITHDRAWN}

GATE_MESSAGES = {
    "visit": "进入「{stage}」前需要至少一次拜访记录。先发：拜访 {customer} 纪要",
    "quote_request": "「{stage}」只能通过申请报价进入。发送：报价 {opp} 金额 [说明]",
    "approved_quote": "进入「{stage}」需要一份已审批通过的报价。",
    "signed_contract": "进入「{stage}」需要先登记合同。发送：合同 {opp} 金额",
}


def gate_failures(
    session: Session, *, config: BusinessConfig, opportunity: Opportunity, to_stage: str, via: str
) -> list[str]:
    failures = []
    for gate in config.gates.get(to_stage, []):
        gate_name = str(getattr(gate, "value", gate))
        if gate_name == "visit":
            ok = session.scalar(select(exists().where(Visit.customer_id == opportunity.customer_id)))
        elif gate_name == "quote_request":
            ok = via == QUOTE_REQUEST
        elif gate_name == "approved_quote":
            ok = session.scalar(
                select(
                    exists().where(
                        Quote.opportunity_id == opportunity.id, Quote.status == QuoteStatus.APPROVED
                    )
                )
            )
        elif gate_name == "signed_contract":
            ok = via == CONTRACT or session.scalar(
                select(exists().where(Contract.opportunity_id == opportunity.id))
            )
        else:
            ok = False
        if not ok:
            failures.append(gate_name)
    return failures


def next_stage(config: BusinessConfig, stage: str) -> str | None:
    stages = list(config.stages)
    if stage not in stages:
        return None
    index = stages.index(stage)
    return stages[index + 1] if index + 1 < len(stages) else None


def move_stage(
    session: Session,
    *,
    config: BusinessConfig,
    opportunity: Opportunity,
    to_stage: str,
    actor: str,
    now: datetime,
    via: str = MANUAL,
    customer_name: str = "",
) -> StageMove | None:
    """Move the opportunity, applying the gates; raises DomainError (in Chinese) when a gate refuses.

    Returns None when it is already at `to_stage`.
    """
    stages = list(config.stages)
    if opportunity.closed_at is not None or opportunity.stage == config.lost_stage:
        raise DomainError(f"商机「{opportunity.name}」已关闭（{opportunity.stage}），不能再推进。")
    if to_stage not in stages:
        raise DomainError(f"没有「{to_stage}」这个阶段。阶段依次为：{' → '.join(stages)}")
    if opportunity.stage == to_stage:
        return None
    current = stages.index(opportunity.stage) if opportunity.stage in stages else -1
    target = stages.index(to_stage)
    if target < current and via not in SYSTEM_BACKWARD:
        raise DomainError(f"商机只能向前推进（当前：{opportunity.stage}）。")
    failures = gate_failures(session, config=config, opportunity=opportunity, to_stage=to_stage, via=via)
    if failures:
        raise DomainError(
            "\n".join(
                GATE_MESSAGES.get(f, "未满足「{stage}」的条件。").format(
                    stage=to_stage, customer=customer_name or "客户名", opp=opportunity.name
                )
                for f in failures
            )
        )
    # Skipping over a gated stage by naming a later one is not allowed either.
    for skipped in stages[current + 1 : target]:
        if gate_failures(session, config=config, opportunity=opportunity, to_stage=skipped, via=via):
            raise DomainError(f"不能跳过「{skipped}」阶段。当前：{opportunity.stage}")
    move = StageMove(
        opportunity_id=opportunity.id,
        from_stage=opportunity.stage,
        to_stage=to_stage,
        moved_by=actor,
        moved_at=now,
    )
    session.add(move)
    audit.record(
        session,
        actor=actor,
        entity="opportunity",
        entity_id=opportunity.id,
        action="stage",
        now=now,
        changes={"stage": [opportunity.stage, to_stage]},
        detail=via,
    )
    opportunity.stage = to_stage
    opportunity.updated_at = now
    session.flush()
    return move
