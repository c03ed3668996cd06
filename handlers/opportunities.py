"""商机, 推进, 输单, 评分, 合同, 回款: thin wrappers over services/opportunities.py and services/contracts.py."""

from __future__ import annotations

import re
from decimal import Decimal

from chat.errors import DomainError, NotFound
from chat.inbound import Inbound
from chat.replies import Text
from chat.router import Ctx, HandlerResult, Router
from handlers import finance as finance_handlers
from handlers.common import (
    customer_or_pick,
    example,
    opportunity_or_pick,
    usage_error,
)
from handlers.nextsteps import after_advance, opportunity_next_steps
from models import Customer, Opportunity
from services import contracts as contract_service
from services import opportunities as opp_service
from services import plans as plan_service
from services import receipts, roles
from services.lookup import Ambiguous, find_opportunities
from services.parsing import AmountError, format_amount, parse_amount, split_args

router = Router("opportunities")

_CONTRACT_REF = re.compile(r"^[#＃](\d{1,9})$")
_CUSTOMER_REF = re.compile(r"^客户(#\d{1,9})$")
# A word written as an amount (sign, currency, digits, 万/元/亿), valid or not — never part of a name.
_AMOUNT_LIKE = re.compile(r"^[-+−]?[¥￥]?[-+−]?\d[\d.,，]*(万元|万|元|亿|[wWkK])?$")


def _amount(command: str, raw: str) -> Decimal:
    try:
        return parse_amount(raw)
    except AmountError as exc:
        raise usage_error(command, exc.message) from None


def _maybe_amount(raw: str) -> Decimal | None:
    try:
        return parse_amount(raw)
    except AmountError:
        return None


def _customer_name(ctx: Ctx, customer_id: int) -> str:
    customer = ctx.session.get(Customer, customer_id)
    return customer.name if customer else ""


@router.command("商机", help="新建商机（从「线索分配」开始）", example=example("商机"), roles=roles.SALES)
def new_opportunity(msg: Inbound, ctx: Ctx) -> HandlerResult:
    words = split_args(ctx.args)
    if len(words) < 2:
        raise usage_error("商机", "请写上客户和商机名称。")
    amount = _maybe_amount(words[-1]) if len(words) >= 3 else None
    if amount is None and len(words) >= 3 and _AMOUNT_LIKE.match(words[-1]):
        amount = _amount(
            "商机", words[-1]
        )  # "商机 华东精密 三期 -5万": the amount's problem, not a name "三期 -5万"
    name_words = words[1:-1] if amount is not None else words[1:]
    if len(words) == 2 and _maybe_amount(words[1]) is not None:
        raise usage_error("商机", "请写上商机名称。")
    customer = customer_or_pick(ctx, words[0], then_command="商机", rest=" ".join(words[1:]))
    if not isinstance(customer, Customer):
        return customer  # which one: the numbered pick (or the did-you-mean card)
    opp = opp_service.open_opportunity(
        ctx.session,
        config=ctx.config,
        user=ctx.user,
        customer=customer,
        name=" ".join(name_words),
        amount=amount,
        now=ctx.now,
    )
    shown = f"，金额 {format_amount(amount)}" if amount is not None else ""
    return [
        Text(f"已新建商机 #{opp.id}「{opp.name}」（{customer.name}{shown}），阶段：{opp.stage}。"),
        opportunity_next_steps(opp),
    ]


@router.command("推进", help="把商机推进到下一阶段或指定阶段", example=example("推进"), roles=roles.SALES)
def advance(msg: Inbound, ctx: Ctx) -> HandlerResult:
    words = split_args(ctx.args)
    if not words:
        raise usage_error("推进", "请写上商机名称或编号。")
    target = None
    if len(words) >= 2 and (words[-1] in ctx.config.stages or words[-1] == ctx.config.lost_stage):
        target = words[-1]
        words = words[:-1]
    if target == ctx.config.lost_stage:
        raise usage_error("推进", f"关闭商机请用：输单 {' '.join(words)} 原因")
    keyword = " ".join(words)
    try:
        opp = opportunity_or_pick(ctx, keyword, then_command="推进", rest=target or "", open_only=True)
        if not isinstance(opp, Opportunity):
            return opp  # which one: the numbered pick (or the did-you-mean card)
    except NotFound:
        # "推进 二期产线 火星阶段": the opportunity exists, the last word is not a stage — say that, not "not found".
        if (
            target is None
            and len(words) >= 2
            and find_opportunities(ctx.session, user=ctx.user, keyword=" ".join(words[:-1]), open_only=True)
        ):
            raise usage_error(
                "推进", f"没有「{words[-1]}」这个阶段。可选：{'、'.join(ctx.config.stages)}。"
            ) from None
        raise
    before = opp.stage
    stage = opp_service.advance(
        ctx.session,
        config=ctx.config,
        user=ctx.user,
        opportunity=opp,
        customer_name=_customer_name(ctx, opp.customer_id),
        to_stage=target,
        now=ctx.now,
    )
    done = Text(f"商机 #{opp.id}「{opp.name}」：{before} → {stage}。")
    step = after_advance(opp, config=ctx.config)
    return [done, step] if step is not None else done


@router.command("输单", help="关闭商机为输单，并记录原因", example=example("输单"), roles=roles.SALES)
def lose(msg: Inbound, ctx: Ctx) -> HandlerResult:
    words = split_args(ctx.args)
    if len(words) < 2:
        raise usage_error("输单", "请写上商机和输单原因。")
    reason = " ".join(words[1:])
    opp = opportunity_or_pick(ctx, words[0], then_command="输单", rest=reason, open_only=True)
    if not isinstance(opp, Opportunity):
        return opp  # which one: the numbered pick (or the did-you-mean card)
    opp_service.lose(
        ctx.session, config=ctx.config, user=ctx.user, opportunity=opp, reason=reason, now=ctx.now
    )
    return Text(f"商机 #{opp.id}「{opp.name}」已记为输单，原因：{reason}。")


@router.command(
    "评分", help="记录商机评分卡中成立的项目，得出分数和优先级", example=example("评分"), roles=roles.SALES
)
def score(msg: Inbound, ctx: Ctx) -> HandlerResult:
    words = split_args(ctx.args)
    if len(words) < 2:
        names = "、".join(s.item for s in ctx.config.score_card)
        raise usage_error("评分", f"请写上商机和成立的评分项（{names}）。")
    try:
        items = opp_service.parse_score_items(words[1:], config=ctx.config)
    except DomainError as exc:
        raise usage_error("评分", exc.message) from None
    opp = opportunity_or_pick(ctx, words[0], then_command="评分", rest=" ".join(words[1:]), open_only=True)
    if not isinstance(opp, Opportunity):
        return opp  # which one: the numbered pick (or the did-you-mean card)
    total, priority = opp_service.score(
        ctx.session, config=ctx.config, user=ctx.user, opportunity=opp, items=items, now=ctx.now
    )
    held = "、".join(items) if items else "无"
    return Text(f"商机 #{opp.id}「{opp.name}」评分 {total}，优先级 {priority}（成立：{held}）。")


@router.command("合同", help="登记已签合同（需已批准的报价）", example=example("合同"), roles=roles.SALES)
def contract(msg: Inbound, ctx: Ctx) -> HandlerResult:
    words = split_args(ctx.args)
    if len(words) == 1 and _CONTRACT_REF.match(words[0]):
        return Text(finance_handlers.contract_text(ctx, int(words[0][1:])))
    plan_words: list[str] = []
    if "分期" in words:
        at = words.index("分期")
        words, plan_words = words[:at], words[at + 1 :]
        if not plan_words:
            raise usage_error("合同", "「分期」后面请写比例或金额。")
    if len(words) < 2:
        raise usage_error("合同", "请写上商机和合同金额。")
    amount = _amount("合同", words[-1])
    parts = finance_handlers.plan_parts(ctx, "合同", plan_words, total=amount) if plan_words else None
    keyword = " ".join(words[:-1])
    rest = " ".join([words[-1], *(["分期", *plan_words] if plan_words else [])])
    opp = opportunity_or_pick(ctx, keyword, then_command="合同", rest=rest, open_only=True)
    if not isinstance(opp, Opportunity):
        return opp  # which one: the numbered pick (or the did-you-mean card)
    signed, states = plan_service.sign_contract(
        ctx.session,
        config=ctx.config,
        user=ctx.user,
        opportunity=opp,
        amount=amount,
        parts=parts,
        now=ctx.now,
    )
    customer = ctx.session.get_one(Customer, signed.customer_id)
    default = "（默认计划）" if parts is None else ""
    lines = [
        f"已登记合同 #{signed.id}：{customer.name}「{opp.name}」{format_amount(amount)}，商机阶段：{opp.stage}。",
        f"回款计划{default}：",
        *plan_service.plan_lines(states, today=plan_service.local_day(ctx.now)),
        f"收到款项后发送：回款 #{signed.id} 金额；发货、验收后发送：交付 #{signed.id} 发货",
    ]
    return Text("\n".join(lines))


@router.command(
    "回款", help="登记回款（合同编号如 #3，或客户名称）", example=example("回款"), roles=roles.PAYMENT
)
def payment(msg: Inbound, ctx: Ctx) -> HandlerResult:
    words = split_args(ctx.args)
    if len(words) < 2:
        raise usage_error("回款", "请写上合同编号（如 #3）或客户，以及金额。")
    amount = _amount("回款", words[-1])
    ref = " ".join(words[:-1])
    contract_ref = _CONTRACT_REF.match(ref)
    if contract_ref:
        signed = receipts.resolve_visible_contract(
            ctx.session, user=ctx.user, contract_id=int(contract_ref.group(1))
        )
    else:
        by_id = _CUSTOMER_REF.match(ref)
        customer = customer_or_pick(
            ctx, by_id.group(1) if by_id else ref, then_command="回款", rest=words[-1], prefix="客户"
        )
        if not isinstance(customer, Customer):
            return customer  # which one: the numbered pick (or the did-you-mean card)
        try:
            found = receipts.contract_for_customer(ctx.session, customer=customer)
        except Ambiguous:
            found = None
        if found is None:  # several contracts, or none left to collect: the contracts service says which
            result = contract_service.record_payment(
                ctx.session, user=ctx.user, customer=customer, amount=amount, now=ctx.now
            )
            return Text(
                f"已登记回款 {format_amount(amount)}：{customer.name}，尚未收 {format_amount(result.outstanding_after)}。"
            )
        signed = found
    receipt = receipts.receive(
        ctx.session, config=ctx.config, user=ctx.user, contract=signed, amount=amount, now=ctx.now
    )
    return Text(receipt.text())
