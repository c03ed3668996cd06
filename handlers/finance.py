"""回款计划, 交付, 开票, 承诺, `合同 #N` (the contract with its plan), and the due-day card's buttons.

Thin: words → services/plans, receipts, delivery, invoices. The card's buttons are authorised from the
server's records at the moment of the tap (the card task's recipient, the user's role and scope), never
from the button.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select

from cards import collections as cards
from chat.errors import DomainError
from chat.inbound import Inbound
from chat.replies import Reply, Text, UpdateCard
from chat.router import Ctx, HandlerResult, Router
from handlers.common import example, usage_error
from models import Contract, Customer, Instalment, Milestone, Opportunity, User
from services import audit, cardtasks, delivery, plans, receipts, roles
from services import invoices as invoice_service
from services.parsing import AmountError, ParseError, format_amount, parse_amount, split_args
from services.parsing.plans import PlanPart, parse_day, parse_plan

router = Router("finance")


class CollectionAsk(StrEnum):
    """客户承诺日期 on the due-day card asks for the day."""

    PROMISE = "coll.promise"


@dataclass
class PromiseData:
    contract_id: int = 0


_REF = re.compile(r"^[#＃](\d{1,9})$")
GONE = "这张卡片已失效。发送「合同 #编号」查看回款计划。"


def _contract(ctx: Ctx, command: str, word: str) -> Contract:
    m = _REF.match(word)
    if not m:
        raise usage_error(command, "请先写合同编号，如 #3。")
    return receipts.resolve_visible_contract(ctx.session, user=ctx.user, contract_id=int(m.group(1)))


def plan_parts(ctx: Ctx, command: str, words: list[str], *, total: Decimal) -> list[PlanPart]:
    try:
        return parse_plan(
            words[0],
            "".join(words[1:]) or None,
            total=total,
            now=ctx.now,
            tz=ctx.tz,
            default_rules=plans.default_rules(ctx.config),
        )
    except ParseError as exc:
        raise usage_error(command, exc.message) from None


def contract_text(ctx: Ctx, contract_id: int) -> str:
    contract = receipts.resolve_visible_contract(ctx.session, user=ctx.user, contract_id=contract_id)
    customer = ctx.session.get_one(Customer, contract.customer_id)
    opp = ctx.session.get(Opportunity, contract.opportunity_id) if contract.opportunity_id else None
    states = plans.contract_states(ctx.session, contract=contract)
    today = plans.local_day(ctx.now)
    paid = sum((s.paid for s in states), Decimal(0)) if states else Decimal(0)
    billed = invoice_service.invoiced(ctx.session, contract_id=contract.id)
    lines = [
        f"合同 #{contract.id}：{customer.name}「{opp.name if opp else ''}」{format_amount(Decimal(contract.amount))}，"
        f"签约 {plans.local_day(contract.signed_at):%Y-%m-%d}",
        f"已收 {format_amount(paid)}，已开票 {format_amount(billed)}",
    ]
    if states:
        lines.append("回款计划：")
        lines += plans.plan_lines(states, today=today)
    else:
        lines.append(f"未设回款计划。例：回款计划 #{contract.id} 30/60/10 签约后10天/发货前/验收后30天")
    milestones = ctx.session.scalars(
        select(Milestone).where(Milestone.contract_id == contract.id).order_by(Milestone.id)
    ).all()
    if milestones:
        shown = [
            f"{m.kind} {m.reached_on:%m-%d}" if m.reached_on else f"{m.kind} 计划{m.planned_on:%m-%d}"
            for m in milestones
            if m.reached_on or m.planned_on
        ]
        lines.append("交付：" + "、".join(shown))
    return "\n".join(lines)


@router.command("回款计划", help="设置分期回款计划", example=example("回款计划"), roles=roles.SALES)
def set_plan(msg: Inbound, ctx: Ctx) -> Reply:
    words = split_args(ctx.args)
    if len(words) < 2:
        raise usage_error("回款计划", "请写上合同编号和分期比例或金额。")
    contract = _contract(ctx, "回款计划", words[0])
    parts = plan_parts(ctx, "回款计划", words[1:], total=Decimal(contract.amount))
    plans.set_plan(ctx.session, user=ctx.user, contract=contract, parts=parts, now=ctx.now)
    states = plans.contract_states(ctx.session, contract=contract)
    return Text(
        "\n".join(
            [
                f"合同 #{contract.id} 的回款计划已更新：",
                *plans.plan_lines(states, today=plans.local_day(ctx.now)),
            ]
        )
    )


@router.command("交付", help="登记发货、安装、验收", example=example("交付"), roles=roles.SALES)
def milestone(msg: Inbound, ctx: Ctx) -> Reply:
    words = split_args(ctx.args)
    if len(words) < 2 or words[1] not in delivery.KINDS:
        raise usage_error("交付", f"请写上合同编号和节点（{'、'.join(delivery.KINDS)}）。")
    contract = _contract(ctx, "交付", words[0])
    rest = [w for w in words[2:] if w not in ("计划", "预计")]
    try:
        day = parse_day("".join(rest), now=ctx.now, tz=ctx.tz) if rest else None
    except ParseError as exc:
        raise usage_error("交付", exc.message) from None
    result = delivery.record_milestone(
        ctx.session, config=ctx.config, user=ctx.user, contract=contract, kind=words[1], day=day, now=ctx.now
    )
    m = result.milestone
    if not result.reached:
        return Text(
            f"已记录合同 #{contract.id} 计划 {m.planned_on:%Y-%m-%d} {m.kind}。"
            f"到时未完成会提醒负责人；完成后发送：交付 #{contract.id} {m.kind}"
        )
    lines = [f"已登记合同 #{contract.id} {m.kind}：{m.reached_on:%Y-%m-%d}。"]
    for inst in result.fixed:
        if inst.due_on is not None:
            lines.append(
                f"{plans.instalment_label(inst)} {format_amount(Decimal(inst.amount))} 到期日定为 {inst.due_on:%Y-%m-%d}。"
            )
    return Text("\n".join(lines))


@router.command("开票", help="登记已开发票（财务）", example=example("开票"), roles=roles.INVOICING)
def invoice(msg: Inbound, ctx: Ctx) -> Reply:
    words = split_args(ctx.args)
    if len(words) < 2:
        raise usage_error("开票", "请写上合同编号和开票金额。")
    contract = _contract(ctx, "开票", words[0])
    try:
        amount = parse_amount(words[1])
    except AmountError as exc:
        raise usage_error("开票", exc.message) from None
    number = words[2] if len(words) > 2 else None
    if number is not None and not re.fullmatch(r"[0-9A-Za-z\-]{4,64}", number):
        raise usage_error("开票", f"发票号「{number}」只能是数字和字母。")
    inv, left = invoice_service.record_invoice(
        ctx.session, user=ctx.user, contract=contract, amount=amount, number=number, now=ctx.now
    )
    shown = f"（发票号 {inv.number}）" if inv.number else ""
    return Text(
        f"已登记合同 #{contract.id} 开票 {format_amount(amount)}{shown}，尚未开票 {format_amount(left)}。"
    )


@router.command("承诺", help="客户承诺的回款日期", example=example("承诺"), roles=roles.SALES)
def promise(msg: Inbound, ctx: Ctx) -> Reply:
    words = split_args(ctx.args)
    if len(words) < 2:
        raise usage_error("承诺", "请写上合同编号和客户承诺的日期。")
    contract = _contract(ctx, "承诺", words[0])
    return Text(_promise(ctx, contract, "".join(words[1:])))


def _promise(ctx: Ctx, contract: Contract, day_text: str) -> str:
    try:
        day = parse_day(day_text, now=ctx.now, tz=ctx.tz)
    except ParseError as exc:
        raise usage_error("承诺", exc.message) from None
    state = receipts.promise(ctx.session, user=ctx.user, contract=contract, day=day, now=ctx.now)
    return (
        f"已记录：客户承诺 {day:%Y-%m-%d} 支付合同 #{contract.id} {state.label}（未收 {format_amount(state.remaining)}）。"
        f"在那之前不再催收提醒；收到后发送：回款 #{contract.id} 金额"
    )


@router.text(state=CollectionAsk.PROMISE, label="登记承诺付款日期")
def promise_answer(msg: Inbound, ctx: Ctx) -> Reply:
    contract = receipts.resolve_visible_contract(
        ctx.session, user=ctx.user, contract_id=ctx.dialog_data(PromiseData).contract_id
    )
    try:
        reply = _promise(ctx, contract, ctx.args.strip())
    except DomainError as exc:
        return Text(f"{exc.message}\n请回复承诺日期，例如 12月20日；发送「取消」放弃。")
    ctx.clear_dialog()
    return Text(reply)


# --- the due-day card -------------------------------------------------------------------------------------


def _tap(msg: Inbound, ctx: Ctx) -> tuple[Instalment, Contract] | HandlerResult:
    """The instalment and contract a tap may act on: the card task's recipient only, and the contract must
    still be in the tapper's scope now (a handover since the card was sent refuses it)."""
    action = ctx.card_key.action if ctx.card_key else "tap"
    task = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=cardtasks.CardKind.COLLECTION,
        action=action,
        now=ctx.now,
        unknown_text=GONE,
    )
    if isinstance(task, list):
        return task
    instalment = ctx.session.get(Instalment, task.ref_id)
    if instalment is None:  # the plan was replaced since the card was sent
        return Text(GONE)
    contract = receipts.resolve_visible_contract(
        ctx.session, user=ctx.user, contract_id=instalment.contract_id
    )
    return instalment, contract


def _grey(
    ctx: Ctx, msg: Inbound, instalment: Instalment, contract: Contract, replace: str, fallback: str
) -> Reply:
    if not msg.response_code:
        return Text(fallback)
    view = receipts.due_view(ctx.session, instalment=instalment, contract=contract)
    if view is None:
        return Text(fallback)
    return UpdateCard(
        cards.due_card(view, task_id=msg.task_id or "", replace_text=replace),
        msg.response_code,
        fallback_text=fallback,
    )


@router.card(cards.PAID)
def tap_paid(msg: Inbound, ctx: Ctx) -> HandlerResult:
    found = _tap(msg, ctx)
    if not isinstance(found, tuple):
        return found
    instalment, contract = found
    if ctx.user.role not in roles.PAYMENT:
        return Text("您没有权限登记回款。")
    states = plans.contract_states(ctx.session, contract=contract)
    state = next(s for s in states if s.instalment.id == instalment.id)
    if state.settled:
        return _grey(ctx, msg, instalment, contract, "已回款", f"合同 #{contract.id} {state.label}已经收齐。")
    amount = receipts.settle_amount(
        states, instalment_id=instalment.id
    )  # earlier open instalments come first
    receipt = receipts.receive(
        ctx.session, config=ctx.config, user=ctx.user, contract=contract, amount=amount, now=ctx.now
    )
    return _grey(ctx, msg, instalment, contract, f"已回款 {cards.short_amount(amount)}", receipt.text())


@router.card(cards.PROMISE)
def tap_promise(msg: Inbound, ctx: Ctx) -> HandlerResult:
    found = _tap(msg, ctx)
    if not isinstance(found, tuple):
        return found
    _, contract = found
    if ctx.user.role not in roles.SALES:
        return Text(f"客户承诺由销售登记。收到款项后发送：回款 #{contract.id} 金额")
    ctx.start_dialog(CollectionAsk.PROMISE, PromiseData(contract_id=contract.id))
    return Text(
        f"客户承诺哪天支付合同 #{contract.id} 的这笔款？请回复日期，例如 12月20日（发送「取消」放弃）。"
    )


@router.card(cards.INVOICE)
def tap_invoice(msg: Inbound, ctx: Ctx) -> HandlerResult:
    found = _tap(msg, ctx)
    if not isinstance(found, tuple):
        return found
    instalment, contract = found
    state = next(
        s for s in plans.contract_states(ctx.session, contract=contract) if s.instalment.id == instalment.id
    )
    amount = format_amount(Decimal(instalment.amount) - state.invoiced)
    if ctx.user.role in roles.INVOICING:
        return Text(f"开票后请发送：开票 #{contract.id} {amount.lstrip('¥').replace(',', '')} 发票号")
    customer = ctx.session.get_one(Customer, contract.customer_id)
    finance = ctx.session.scalars(
        select(User.userid).where(User.role == roles.Role.FINANCE, User.active.is_(True))
    ).all()
    replies: list[Reply] = [
        Text(
            f"【需要开票】{ctx.user.name}请求为合同 #{contract.id}（{customer.name}）{state.label}开票 {amount}。"
            f"开票后发送：开票 #{contract.id} {amount.lstrip('¥').replace(',', '')} 发票号",
            to=userid,
        )
        for userid in finance
    ]
    audit.record(
        ctx.session,
        actor=ctx.userid,
        entity="instalment",
        entity_id=instalment.id,
        action="invoice_request",
        now=ctx.now,
        task_id=msg.task_id,
    )
    done = "已通知财务开票" if finance else "没有找到财务经理，请联系管理员"
    replies.append(
        _grey(ctx, msg, instalment, contract, done, f"{done}（合同 #{contract.id} {state.label}）。")
    )
    return replies
