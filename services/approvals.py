"""Quote approvals: routing, cards, taps (exactly one transition per step), withdrawal, delegation, timeouts.

Approval state lives here; a card is only a view. A tap is authorised from the card's task_id (CardTask →
ApprovalStep) and the decrypted sender, never from the button key. Every state change of a step is a
conditional UPDATE ... WHERE status='pending' whose rowcount decides the single winner.

Notifications are returned as `chat.replies` objects with `to=` set; the caller (dispatcher or job) writes
them to the outbox in the same transaction.

Long because routing, cards, taps, delegation and withdrawal are one state machine over ApprovalStep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cards import approval as cards
from chat.errors import DomainError
from chat.outbox import card_send_code
from chat.replies import Card, Reply, Text, UpdateCard
from models import (
    ApprovalStep,
    CardTask,
    Customer,
    Opportunity,
    Quote,
    Role,
    StageMove,
    User,
)
from models.db import affected
from services import approval_rules, audit, cardtasks, roles, stages
from services.config import BusinessConfig
from services.delegation import active_delegates, active_delegation
from services.parsing import format_amount

CARD_KIND = cardtasks.CardKind.APPROVAL

OWN_QUOTE = "不能审批自己提交的报价（审批与申请须由不同的人完成），没有做任何更改。"
# One answer for a card that does not exist, is not the sender's, or that the sender may no longer act on:
# a forged TaskId learns nothing about which ids exist (issue 16 #12).
UNKNOWN_CARD = "这张卡片已失效或不属于您，没有做任何更改。"
NOT_YOURS = UNKNOWN_CARD


# --- routing -------------------------------------------------------------------------------------------


def _active_user(session: Session, userid: str | None) -> User | None:
    if not userid:
        return None
    return session.scalar(select(User).where(User.userid == userid.lower(), User.active.is_(True)))


def region_supervisor(session: Session, *, region: str | None, exclude: str | None = None) -> User | None:
    if not region:
        return None
    query = select(User).where(User.role == Role.SUPERVISOR, User.region == region, User.active.is_(True))
    if exclude:
        query = query.where(User.userid != exclude)
    return session.scalar(query.order_by(User.id).limit(1))


def supervisor_of(session: Session, *, user: User) -> User | None:
    """The requester's 销售主管: their manager if that manager is a supervisor, else their region's supervisor."""
    manager = _active_user(session, user.manager_userid)
    if manager is not None and manager.role == Role.SUPERVISOR and manager.userid != user.userid:
        return manager
    return region_supervisor(session, region=user.region, exclude=user.userid)


@dataclass(frozen=True)
class RoutedStep:
    role: str
    approver: User
    routed_past_requester: bool = False


def route(session: Session, *, config: BusinessConfig, requester: User, amount: Decimal) -> list[RoutedStep]:
    """The approvers, in order, for a quote of `amount` by `requester` (DomainError names a missing role)."""
    steps: list[RoutedStep] = []
    for role in config.approval.chain_for(amount):
        past = False
        approver: User | None
        if role == Role.SUPERVISOR:
            natural = _active_user(session, requester.manager_userid)
            if natural is None or natural.role != Role.SUPERVISOR:
                natural = region_supervisor(session, region=requester.region)
            past = natural is not None and natural.userid == requester.userid or requester.role == role
            approver = supervisor_of(session, user=requester)
            if approver is None and past:
                approver = _active_user(session, requester.manager_userid)  # route up past the requester
        else:
            candidates = list(
                session.scalars(
                    select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
                )
            )
            past = any(c.userid == requester.userid for c in candidates)
            others = [c for c in candidates if c.userid != requester.userid]
            approver = others[0] if others else None
            if approver is None and past:
                approver = _active_user(session, requester.manager_userid)
        if approver is None or approver.userid == requester.userid:
            label = roles.label(role)
            who = "您本人以外的" if past else ""
            raise DomainError(
                f"找不到{who}「{label}」来审批这份报价，没有提交。请联系管理员在组织架构中设置{label}"
                f"{'（或您的上级）' if role == Role.SUPERVISOR else ''}。"
            )
        steps.append(RoutedStep(role=role, approver=approver, routed_past_requester=past))
    return steps


def _quote_stage(config: BusinessConfig) -> str:
    for stage in config.stages:
        if any(str(getattr(g, "value", g)) == "quote_request" for g in config.gates.get(stage, [])):
            return stage
    return "报价审批"


def _back_stage(config: BusinessConfig) -> str | None:
    stages_ = list(config.stages)
    quote_stage = _quote_stage(config)
    if quote_stage in stages_ and stages_.index(quote_stage) > 0:
        return stages_[stages_.index(quote_stage) - 1]
    return None


# --- card contents ---------------------------------------------------------------------------------------


def card_info(session: Session, *, quote: Quote, step: ApprovalStep) -> cards.ApprovalCardInfo:
    opp = session.get(Opportunity, quote.opportunity_id)
    customer = session.get(Customer, opp.customer_id) if opp else None
    requester = _active_user(session, quote.requester_userid) or session.scalar(
        select(User).where(User.userid == quote.requester_userid)
    )
    return cards.ApprovalCardInfo(
        quote_id=quote.id,
        customer=customer.name if customer else "",
        opportunity=opp.name if opp else "",
        amount=format_amount(quote.amount),
        requester=requester.name if requester else quote.requester_userid,
        note=quote.note or "",
        score=cards.score_text(opp.score, opp.priority, opp.score_items) if opp else "",
        step=step.seq,
        steps=quote.step_count,
        role_label=roles.label(step.role),
    )


def _send_card(
    session: Session,
    *,
    quote: Quote,
    step: ApprovalStep,
    recipient: str,
    task_id: str,
    now: datetime,
    headline: str,
) -> Card:
    cardtasks.issue(session, task_id=task_id, kind=CARD_KIND, ref_id=step.id, recipient=recipient, now=now)
    return Card(
        cards.approval_card(card_info(session, quote=quote, step=step), task_id=task_id, headline=headline),
        to=recipient,
    )


def _activate(session: Session, *, quote: Quote, step: ApprovalStep, now: datetime) -> list[Reply]:
    """Step waiting → pending: card to the approver and to anyone currently delegated by them."""
    step.status = "pending"
    step.activated_at = now
    step.task_id = cards.task_id_for(quote.id, step.seq)
    session.flush()
    out: list[Reply] = [
        _send_card(
            session,
            quote=quote,
            step=step,
            recipient=step.approver_userid,
            task_id=step.task_id,
            now=now,
            headline="报价审批",
        )
    ]
    out += _delegate_cards(session, quote=quote, step=step, now=now)
    return out


def _delegate_cards(
    session: Session, *, quote: Quote, step: ApprovalStep, now: datetime, only: str | None = None
) -> list[Reply]:
    out: list[Reply] = []
    for delegate in active_delegates(session, approver_userid=step.approver_userid, now=now):
        if delegate == quote.requester_userid or (only and delegate != only):
            continue
        person = _active_user(session, delegate)
        if person is None or not approval_rules.may_act_as_delegate(
            session, delegate=person, step=step, quote=quote
        ):
            continue  # separation of duties: no card, so nothing about the customer reaches them
        delegation = active_delegation(
            session, approver_userid=step.approver_userid, delegate_userid=delegate, now=now
        )
        task_id = cards.task_id_for(quote.id, step.seq, f"d{delegation.id}" if delegation else "d")
        sent = session.scalar(
            select(CardTask.task_id)
            .where(CardTask.kind == CARD_KIND, CardTask.ref_id == step.id, CardTask.recipient == delegate)
            .limit(1)
        )
        if sent is not None:
            continue
        approver = _active_user(session, step.approver_userid)
        out.append(
            _send_card(
                session,
                quote=quote,
                step=step,
                recipient=delegate,
                task_id=task_id,
                now=now,
                headline=f"报价审批（代{approver.name if approver else step.approver_userid}）",
            )
        )
    return out


def cards_for_new_delegation(
    session: Session, *, approver_userid: str, delegate_userid: str, now: datetime
) -> list[Reply]:
    """A delegation that starts now also gets the cards of the steps already waiting on the approver."""
    out: list[Reply] = []
    steps = session.scalars(
        select(ApprovalStep).where(
            ApprovalStep.approver_userid == approver_userid, ApprovalStep.status == "pending"
        )
    ).all()
    for step in steps:
        quote = session.get(Quote, step.quote_id)
        if quote is not None and quote.status == "pending":
            out += _delegate_cards(session, quote=quote, step=step, now=now, only=delegate_userid)
    return out


# --- request ------------------------------------------------------------------------------------------


@dataclass
class QuoteRequest:
    quote: Quote
    chain: list[RoutedStep]
    notifications: list[Reply]


def request_quote(
    session: Session,
    *,
    config: BusinessConfig,
    requester: User,
    opportunity: Opportunity,
    amount: Decimal,
    note: str | None,
    now: datetime,
) -> QuoteRequest:
    if opportunity.closed_at is not None or opportunity.stage == config.lost_stage:
        raise DomainError(f"商机「{opportunity.name}」已关闭（{opportunity.stage}），不能申请报价。")
    pending = session.scalar(
        select(Quote).where(Quote.opportunity_id == opportunity.id, Quote.status == "pending").limit(1)
    )
    if pending is not None:
        raise DomainError(
            f"商机「{opportunity.name}」已有一份审批中的报价 #{pending.id}（{format_amount(pending.amount)}）。"
            f"如需修改，先发送：撤回 #{pending.id}"
        )
    chain = route(session, config=config, requester=requester, amount=amount)
    customer = session.get(Customer, opportunity.customer_id)
    stages.move_stage(
        session,
        config=config,
        opportunity=opportunity,
        to_stage=_quote_stage(config),
        actor=requester.userid,
        now=now,
        via=stages.QUOTE_REQUEST,
        customer_name=customer.name if customer else "",
    )
    quote = Quote(
        opportunity_id=opportunity.id,
        amount=amount,
        note=(note or None) and note[:255],
        requester_userid=requester.userid,
        status="pending",
        current_step=1,
        step_count=len(chain),
        created_at=now,
    )
    session.add(quote)
    session.flush()
    steps = []
    for seq, routed in enumerate(chain, 1):
        step = ApprovalStep(
            quote_id=quote.id,
            seq=seq,
            role=routed.role,
            approver_userid=routed.approver.userid,
            status="waiting",
        )
        session.add(step)
        steps.append(step)
        if routed.routed_past_requester:
            audit.record(
                session,
                actor=requester.userid,
                entity="quote",
                entity_id=quote.id,
                action="route",
                now=now,
                detail=f"routed past requester: step {seq} ({routed.role}) → {routed.approver.userid}",
            )
    session.flush()
    audit.record(
        session,
        actor=requester.userid,
        entity="quote",
        entity_id=quote.id,
        action="request",
        now=now,
        changes={
            "amount": amount,
            "opportunity_id": opportunity.id,
            "chain": [s.approver.userid for s in chain],
        },
    )
    notes = _activate(session, quote=quote, step=steps[0], now=now)
    return QuoteRequest(quote=quote, chain=chain, notifications=notes)


# --- taps ---------------------------------------------------------------------------------------------


def _lock_quote(session: Session, quote_id: int) -> Quote | None:
    query = select(Quote).where(Quote.id == quote_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def _outcome_label(quote: Quote, step: ApprovalStep) -> str:
    if step.status == "approved":
        return cards.OUTCOME_APPROVED
    if step.status == "rejected":
        return cards.OUTCOME_REJECTED
    if quote.status == "withdrawn":
        return cards.OUTCOME_WITHDRAWN
    if quote.status == "rejected":
        return cards.OUTCOME_REJECTED
    return cards.OUTCOME_DONE


@dataclass
class TapTarget:
    task: CardTask
    step: ApprovalStep
    quote: Quote
    on_behalf_of: str | None


def _authorise(
    session: Session, *, actor: User, task_id: str | None, action: str, now: datetime
) -> TapTarget | list[Reply]:
    """The step this tap may act on, or the refusal replies (audited)."""
    found = cardtasks.authorise(
        session,
        actor=actor,
        task_id=task_id,
        kind=CARD_KIND,
        action=action,
        now=now,
        unknown_text=UNKNOWN_CARD,
        recipient_only=False,
    )
    if isinstance(found, list):
        return found
    task = found

    def deny(reason: str, entity_id: int | None) -> list[Reply]:
        return cardtasks.deny(
            session,
            actor=actor,
            kind=CARD_KIND,
            task_id=task_id,
            action=action,
            reason=reason,
            entity_id=entity_id,
            now=now,
        )

    step = session.get(ApprovalStep, task.ref_id)
    quote = _lock_quote(session, step.quote_id) if step else None
    if step is None or quote is None:
        return [Text(UNKNOWN_CARD), *deny("no such step", task.ref_id)]
    session.refresh(step)
    if actor.userid == quote.requester_userid:
        return [Text(OWN_QUOTE), *deny("requester tapped own quote", step.id)]
    # Authority is re-checked against the org chart at the moment of the tap (issue 16 #2, #4).
    if actor.userid == step.approver_userid:
        if approval_rules.may_approve(session, user=actor, step=step, quote=quote):
            return TapTarget(task, step, quote, None)
        return [Text(NOT_YOURS), *deny(f"no longer holds the {step.role} role", step.id)]
    if active_delegation(
        session, approver_userid=step.approver_userid, delegate_userid=actor.userid, now=now
    ) and approval_rules.may_act_as_delegate(session, delegate=actor, step=step, quote=quote):
        return TapTarget(task, step, quote, step.approver_userid)
    return [Text(NOT_YOURS), *deny(f"not the approver ({step.approver_userid})", step.id)]


def _stale(
    session: Session, *, target: TapTarget, actor: User, action: str, response_code: str | None, now: datetime
) -> list[Reply]:
    label = _outcome_label(target.quote, target.step)
    audit.record(
        session,
        actor=actor.userid,
        entity="approval_step",
        entity_id=target.step.id,
        action=action,
        outcome="stale",
        detail=f"step {target.step.status}, quote {target.quote.status}",
        task_id=target.task.task_id,
        now=now,
    )
    text = f"这条审批已处理（{label}），无需再操作，没有做任何更改。"
    if not response_code:
        return [Text(text)]
    card = cards.decided_card(
        card_info(session, quote=target.quote, step=target.step), task_id=target.task.task_id, outcome=label
    )
    return [UpdateCard(card, response_code, fallback_text=text)]


def _update_cards(
    session: Session,
    *,
    quote: Quote,
    step: ApprovalStep,
    outcome: str,
    skip_task: str | None,
    fallback: str | None,
) -> list[Reply]:
    """Grey the step's other cards with their send codes (each used once; then cleared); text when none."""
    out: list[Reply] = []
    info = card_info(session, quote=quote, step=step)
    tasks = session.scalars(
        select(CardTask)
        .where(CardTask.kind == CARD_KIND, CardTask.ref_id == step.id)
        .order_by(CardTask.created_at)
    ).all()
    for task in tasks:
        if task.task_id == skip_task:
            continue
        row = card_send_code(session, task=task)
        if row is not None and row.response_code:
            code, row.response_code = row.response_code, None
            card = cards.decided_card(info, task_id=task.task_id, outcome=outcome)
            out.append(UpdateCard(card, code, fallback_text=fallback, to=task.recipient))
        elif fallback:
            out.append(Text(fallback, to=task.recipient))
    return out


def _name(session: Session, userid: str) -> str:
    user = session.scalar(select(User).where(User.userid == userid))
    return user.name if user else userid


def _claim_step(session: Session, *, step: ApprovalStep, status: str, actor: str, now: datetime) -> bool:
    result = session.execute(
        update(ApprovalStep)
        .where(ApprovalStep.id == step.id, ApprovalStep.status == "pending")
        .values(status=status, acted_by=actor, acted_at=now)
        .execution_options(synchronize_session=False)
    )
    if affected(result) != 1:
        return False
    session.refresh(step)
    return True


def approve(
    session: Session,
    *,
    config: BusinessConfig,
    actor: User,
    task_id: str | None,
    response_code: str | None,
    now: datetime,
) -> list[Reply]:
    target = _authorise(session, actor=actor, task_id=task_id, action="approve", now=now)
    if isinstance(target, list):
        return target
    step, quote = target.step, target.quote
    if quote.status != "pending" or step.status != "pending":
        return _stale(
            session, target=target, actor=actor, action="approve", response_code=response_code, now=now
        )
    if not _claim_step(session, step=step, status="approved", actor=actor.userid, now=now):
        session.refresh(step)
        return _stale(
            session, target=target, actor=actor, action="approve", response_code=response_code, now=now
        )
    behalf = f"on behalf of {target.on_behalf_of}" if target.on_behalf_of else None
    audit.record(
        session,
        actor=actor.userid,
        entity="approval_step",
        entity_id=step.id,
        action="approve",
        now=now,
        changes={"status": ["pending", "approved"]},
        detail=behalf,
        task_id=target.task.task_id,
    )
    info = card_info(session, quote=quote, step=step)
    out: list[Reply] = []
    confirm = f"已同意报价 #{quote.id}（{info.customer} {info.amount}）。"
    if response_code:
        out.append(
            UpdateCard(
                cards.decided_card(info, task_id=target.task.task_id, outcome=cards.OUTCOME_APPROVED),
                response_code,
                fallback_text=confirm,
            )
        )
    else:
        out.append(Text(confirm))
    skip = (
        target.task.task_id if response_code else None
    )  # by text (同意 #12): the actor's own card updates too
    out += _update_cards(
        session, quote=quote, step=step, outcome=cards.OUTCOME_APPROVED, skip_task=skip, fallback=None
    )
    if step.seq < quote.step_count:
        nxt = session.scalars(
            select(ApprovalStep).where(ApprovalStep.quote_id == quote.id, ApprovalStep.seq == step.seq + 1)
        ).one()
        quote.current_step = nxt.seq
        out += _activate(session, quote=quote, step=nxt, now=now)
        # No message to the requester for an intermediate step: one at the end says how every step went
        # (the approvals job tells them earlier only when a step waits past the re-announce time).
        return out
    quote.status, quote.decided_at = "approved", now
    audit.record(
        session,
        actor=actor.userid,
        entity="quote",
        entity_id=quote.id,
        action="approved",
        now=now,
        changes={"status": ["pending", "approved"]},
    )
    opp = session.get(Opportunity, quote.opportunity_id)
    if opp is not None and opp.amount != quote.amount:  # the opportunity is worth what was approved
        audit.record(
            session,
            actor=actor.userid,
            entity="opportunity",
            entity_id=opp.id,
            action="amount",
            now=now,
            changes={"amount": [opp.amount, quote.amount]},
            detail=f"approved quote #{quote.id}",
        )
        opp.amount = quote.amount
    out.append(
        Text(
            f"🎉 报价 #{quote.id}（{info.customer} · {info.opportunity} {info.amount}）已审批通过。\n"
            f"{steps_summary(session, quote=quote)}\n"
            f"签约后发送：合同 {opp.name if opp else '商机'} 金额",
            to=quote.requester_userid,
        )
    )
    return out


class RejectReason(StrEnum):
    """The 驳回 dialog: a reject tap waits for its reason."""

    ASKING = "quote.reject_reason"


@dataclass
class RejectData:
    task_id: str = ""  # the tapped card's task: authorised again when the reason arrives
    response_code: str | None = None  # that tap's own code, to update the card
    step_id: int | None = None


def task_for_text(session: Session, *, actor: User, quote_id: int) -> str | None:
    """`同意 #12` / `驳回 #12 理由`: the approval card of quote 12's pending step that was sent to `actor` (as
    approver or delegate), else the approver's own; `approve`/`finish_reject` then authorise it exactly as a
    tap on that card. None when the quote has no pending step."""
    step = session.scalar(
        select(ApprovalStep)
        .where(ApprovalStep.quote_id == quote_id, ApprovalStep.status == "pending")
        .limit(1)
    )
    if step is None:
        return None
    tasks = session.scalars(
        select(CardTask)
        .where(CardTask.kind == CARD_KIND, CardTask.ref_id == step.id)
        .order_by(CardTask.created_at)
    ).all()
    chosen = next((t for t in tasks if t.recipient == actor.userid), tasks[0] if tasks else None)
    return chosen.task_id if chosen is not None else step.task_id


def start_reject(
    session: Session,
    *,
    config: BusinessConfig,
    actor: User,
    task_id: str | None,
    response_code: str | None,
    now: datetime,
) -> tuple[list[Reply], RejectData | None]:
    """Authorise a 驳回 tap; returns (replies, dialog data) — the step changes only when the reason arrives."""
    target = _authorise(session, actor=actor, task_id=task_id, action="reject", now=now)
    if isinstance(target, list):
        return target, None
    if target.quote.status != "pending" or target.step.status != "pending":
        return _stale(
            session, target=target, actor=actor, action="reject", response_code=response_code, now=now
        ), None
    info = card_info(session, quote=target.quote, step=target.step)
    data = RejectData(task_id=target.task.task_id, response_code=response_code, step_id=target.step.id)
    text = (
        f"请回复驳回报价 #{target.quote.id}（{info.customer} {info.amount}）的理由，一句话即可，会转告{info.requester}。"
        "发送「取消」则不驳回。"
    )
    return [Text(text)], data


def finish_reject(
    session: Session, *, config: BusinessConfig, actor: User, data: RejectData, reason: str, now: datetime
) -> list[Reply]:
    reason = reason.strip()[:255]
    if not reason:
        return [Text("请写一句驳回理由，例如：价格低于成本线。发送「取消」则不驳回。")]
    task_id, response_code = data.task_id, data.response_code or None
    target = _authorise(session, actor=actor, task_id=task_id, action="reject", now=now)
    if isinstance(target, list):
        return target
    step, quote = target.step, target.quote
    if (
        quote.status != "pending"
        or step.status != "pending"
        or not _claim_step(session, step=step, status="rejected", actor=actor.userid, now=now)
    ):
        session.refresh(step)
        return _stale(
            session, target=target, actor=actor, action="reject", response_code=response_code, now=now
        )
    behalf = f"on behalf of {target.on_behalf_of}" if target.on_behalf_of else None
    audit.record(
        session,
        actor=actor.userid,
        entity="approval_step",
        entity_id=step.id,
        action="reject",
        now=now,
        changes={"status": ["pending", "rejected"], "reason": reason},
        detail=behalf,
        task_id=task_id,
    )
    quote.status, quote.decided_at, quote.reject_reason = "rejected", now, reason
    _cancel_waiting(session, quote=quote)
    info = card_info(session, quote=quote, step=step)
    moved = _move_back(session, config=config, quote=quote, actor=actor.userid, now=now)
    who = actor.name + (f"（代{_name(session, target.on_behalf_of)}）" if target.on_behalf_of else "")
    confirm = f"已驳回报价 #{quote.id}（{info.customer} {info.amount}），理由已转告{info.requester}。"
    out: list[Reply] = []
    if response_code:
        out.append(
            UpdateCard(
                cards.decided_card(info, task_id=task_id, outcome=cards.OUTCOME_REJECTED),
                response_code,
                fallback_text=confirm,
            )
        )
    out.append(Text(confirm))
    skip = task_id if response_code else None  # by text (驳回 #12 理由): the actor's own card updates too
    out += _update_cards(
        session, quote=quote, step=step, outcome=cards.OUTCOME_REJECTED, skip_task=skip, fallback=None
    )
    requote_task = cards.requote_task_id(quote.id)
    cardtasks.issue(
        session,
        task_id=requote_task,
        kind=cardtasks.CardKind.REQUOTE,
        ref_id=quote.id,
        recipient=quote.requester_userid,
        now=now,
    )
    text = (
        f"报价 #{quote.id}（{info.customer} · {info.opportunity} {info.amount}）被{who}驳回。\n理由：{reason}\n"
        + (f"商机已回到「{moved}」。" if moved else "")
        + steps_summary(session, quote=quote)
    )
    out.append(Card(cards.rejected_card(text, task_id=requote_task), to=quote.requester_userid))
    return out


def steps_summary(session: Session, *, quote: Quote) -> str:
    """How each step went, in one line: 第1步 王主管 同意 → 第2步 李工 驳回."""
    labels = {
        "approved": "同意",
        "rejected": "驳回",
        "pending": "审批中",
        "waiting": "未开始",
        "cancelled": "未进行",
    }
    steps = session.scalars(
        select(ApprovalStep).where(ApprovalStep.quote_id == quote.id).order_by(ApprovalStep.seq)
    ).all()
    parts = [
        f"第{s.seq}步 {_name(session, s.acted_by or s.approver_userid)} {labels.get(s.status, s.status)}"
        for s in steps
        if s.status != "cancelled"
    ]
    return "审批经过：" + " → ".join(parts)


def _cancel_waiting(session: Session, *, quote: Quote) -> None:
    session.execute(
        update(ApprovalStep)
        .where(ApprovalStep.quote_id == quote.id, ApprovalStep.status.in_(("waiting", "pending")))
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )


def _move_back(
    session: Session,
    *,
    config: BusinessConfig,
    quote: Quote,
    actor: str,
    now: datetime,
    via: str = stages.QUOTE_REJECTED,
) -> str | None:
    """Opportunity back from the quote stage to where it was when the quote was requested (issue 16: never to a
    stage it did not reach); a gate that refuses leaves it where it is (audited by move_stage)."""
    opp = session.get(Opportunity, quote.opportunity_id)
    quote_stage = _quote_stage(config)
    entered = session.scalar(
        select(StageMove.from_stage)
        .where(
            StageMove.opportunity_id == quote.opportunity_id,
            StageMove.to_stage == quote_stage,
            StageMove.moved_at <= quote.created_at,
        )
        .order_by(StageMove.moved_at.desc(), StageMove.id.desc())
        .limit(1)
    )
    back = entered if entered in config.stages and entered != quote_stage else _back_stage(config)
    if opp is None or back is None or opp.stage != quote_stage:
        return None
    try:
        with session.begin_nested():
            stages.move_stage(
                session, config=config, opportunity=opp, to_stage=back, actor=actor, now=now, via=via
            )
    except DomainError:
        return None
    return back


# --- withdraw -----------------------------------------------------------------------------------------


def find_own_pending(session: Session, *, requester: User, keyword: str) -> Quote:
    from services.lookup import resolve_opportunity

    key = keyword.strip().lstrip("#＃")
    if key.isdigit():
        quote = session.scalar(
            select(Quote).where(Quote.id == int(key), Quote.requester_userid == requester.userid)
        )
        if quote is not None:
            return quote
    opp = resolve_opportunity(session, user=requester, keyword=keyword)
    quote = session.scalar(
        select(Quote)
        .where(Quote.opportunity_id == opp.id, Quote.requester_userid == requester.userid)
        .order_by(Quote.id.desc())
        .limit(1)
    )
    if quote is None:
        raise DomainError(f"商机「{opp.name}」没有您提交的报价。")
    return quote


def withdraw(
    session: Session, *, config: BusinessConfig, requester: User, quote: Quote, now: datetime
) -> list[Reply]:
    locked = _lock_quote(session, quote.id)
    if locked is None or locked.requester_userid != requester.userid:
        raise DomainError("只能撤回您自己提交的报价。")
    quote = locked
    if quote.status != "pending":
        label = {"approved": "已审批通过", "rejected": "已被驳回", "withdrawn": "已撤回"}.get(
            quote.status, quote.status
        )
        raise DomainError(f"报价 #{quote.id} {label}，不能撤回。")
    result = session.execute(
        update(Quote)
        .where(Quote.id == quote.id, Quote.status == "pending")
        .values(status="withdrawn", decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if affected(result) != 1:
        raise DomainError(f"报价 #{quote.id} 刚刚已被处理，不能撤回。")
    session.refresh(quote)
    pending = list(
        session.scalars(
            select(ApprovalStep).where(ApprovalStep.quote_id == quote.id, ApprovalStep.status == "pending")
        )
    )
    _cancel_waiting(session, quote=quote)
    audit.record(
        session,
        actor=requester.userid,
        entity="quote",
        entity_id=quote.id,
        action="withdraw",
        now=now,
        changes={"status": ["pending", "withdrawn"]},
    )
    out: list[Reply] = []
    for step in pending:
        session.refresh(step)
        info = card_info(session, quote=quote, step=step)
        out += _update_cards(
            session,
            quote=quote,
            step=step,
            outcome=cards.OUTCOME_WITHDRAWN,
            skip_task=None,
            fallback=f"{info.requester}已撤回报价 #{quote.id}（{info.customer} {info.amount}），无需再审批。",
        )
    moved = _move_back(
        session, config=config, quote=quote, actor=requester.userid, now=now, via=stages.QUOTE_WITHDRAWN
    )
    out.insert(
        0,
        Text(
            f"已撤回报价 #{quote.id}（{format_amount(quote.amount)}）。"
            + (f"商机已回到「{moved}」。" if moved else "")
        ),
    )
    return out


# --- queries for others ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingApproval:
    step_id: int
    quote_id: int
    seq: int
    steps: int
    approver_userid: str
    on_behalf_of: str | None  # set when the user would act as a delegate
    customer: str
    opportunity: str
    amount: Decimal
    requester_userid: str
    waiting_since: datetime


def pending_for(session: Session, *, userid: str, now: datetime) -> list[PendingApproval]:
    """Steps waiting on `userid` (also as an active delegate, never on their own quotes), oldest first."""
    from services.delegation import approvers_delegating_to

    userid = userid.lower()
    approvers = [userid, *approvers_delegating_to(session, delegate_userid=userid, now=now)]
    rows = session.execute(
        select(ApprovalStep, Quote, Opportunity, Customer)
        .join(Quote, Quote.id == ApprovalStep.quote_id)
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(
            ApprovalStep.status == "pending",
            Quote.status == "pending",
            ApprovalStep.approver_userid.in_(approvers),
            Quote.requester_userid != userid,
        )
        .order_by(ApprovalStep.activated_at, ApprovalStep.id)
    ).all()
    return [
        PendingApproval(
            step_id=step.id,
            quote_id=quote.id,
            seq=step.seq,
            steps=quote.step_count,
            approver_userid=step.approver_userid,
            on_behalf_of=None if step.approver_userid == userid else step.approver_userid,
            customer=customer.name,
            opportunity=opp.name,
            amount=quote.amount,
            requester_userid=quote.requester_userid,
            waiting_since=step.activated_at or quote.created_at,
        )
        for step, quote, opp, customer in rows
    ]
