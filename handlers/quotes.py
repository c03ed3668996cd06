"""报价 / 撤回 / 委托 and the approval card taps (同意 / 驳回 → reason)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from cards.keys import QUOTE_APPROVE, QUOTE_REJECT, QUOTE_REQUOTE
from chat.inbound import Inbound
from chat.replies import Reply, Text
from chat.router import Ctx, Router
from handlers.common import opportunity_or_pick
from models import Opportunity, Quote
from services import (
    approval_cards,
    approval_decisions,
    approval_request,
    approval_taps,
    approval_withdrawal,
    cardtasks,
    delegation,
    roles,
)
from services.parsing import format_amount, format_when, parse_amount, parse_when

router = Router("quotes")

QUOTE_USAGE = "用法：报价 <商机> <金额> [说明]\n例：报价 华东精密 8万 含安装调试"
WITHDRAW_USAGE = "用法：撤回 <报价编号或商机>\n例：撤回 #3"
DELEGATE_USAGE = "用法：委托 <账号或姓名> <开始> <结束>\n例：委托 李娜 明天 下周一\n结束委托：委托 取消"
# Quotes are requested (and withdrawn) by the sales side (roles.SALES); 技术负责人/财务经理 only approve them.


@router.command("报价", help="申请报价审批", example="报价 华东精密 8万 含安装调试", roles=roles.SALES)
def request(msg: Inbound, ctx: Ctx) -> list[Reply] | Reply:
    parts = ctx.args.split(" ", 2) if ctx.args else []
    if len(parts) < 2:
        return Text(QUOTE_USAGE)
    keyword, amount_text = parts[0], parts[1]
    note = parts[2] if len(parts) > 2 else None
    try:
        amount = parse_amount(amount_text)
    except Exception as exc:  # ParseError: a Chinese hint
        return Text(f"{getattr(exc, 'message', '金额无法识别')}\n{QUOTE_USAGE}")
    # Several open opportunities match → the numbered list; replying "2" re-runs 报价 on that one.
    opp = opportunity_or_pick(ctx, keyword, then_command="报价", rest=" ".join(parts[1:]), open_only=True)
    if not isinstance(opp, Opportunity):
        return opp  # which one: the numbered pick (or the did-you-mean card)
    return _submit(ctx, opp, amount, note)


def _submit(ctx: Ctx, opp: Opportunity, amount: Decimal, note: str | None) -> list[Reply]:
    result = approval_request.request_quote(
        ctx.session,
        config=ctx.config,
        requester=ctx.user,
        opportunity=opp,
        amount=amount,
        note=note,
        now=ctx.now,
    )
    chain = " → ".join(f"{s.approver.name}（{roles.label(s.role)}）" for s in result.chain)
    ack = (
        f"已提交报价 #{result.quote.id}：{opp.name} {format_amount(amount)}。\n审批流程：{chain}\n"
        f"已发给{result.chain[0].approver.name}审批，有结果会通知您。需要撤回时发送：撤回 #{result.quote.id}"
    )
    return [Text(ack), *result.notifications]


@router.command("撤回", help="撤回审批中的报价", example="撤回 #3", roles=roles.SALES)
def withdraw(msg: Inbound, ctx: Ctx) -> list[Reply] | Reply:
    if not ctx.args:
        return Text(WITHDRAW_USAGE)
    quote = approval_withdrawal.find_own_pending(ctx.session, requester=ctx.user, keyword=ctx.args)
    return approval_withdrawal.withdraw(
        ctx.session, config=ctx.config, requester=ctx.user, quote=quote, now=ctx.now
    )


@router.command(
    "委托", help="出差/休假时委托他人代为审批", example="委托 李娜 明天 下周一", roles=roles.APPROVERS
)
def delegate(msg: Inbound, ctx: Ctx) -> list[Reply] | Reply:
    args = ctx.args.split(" ") if ctx.args else []
    if args == ["取消"]:
        count = delegation.cancel_all(ctx.session, approver=ctx.user, now=ctx.now)
        return Text("已结束您的审批委托。" if count else "您目前没有生效或待生效的委托。")
    if len(args) < 3:
        return Text(DELEGATE_USAGE)
    who = delegation.find_user(ctx.session, keyword=args[0])
    rest = args[1:]
    # The start and end may each contain spaces (明天 上午9点): try every split point.
    found = None
    for cut in range(1, len(rest)):
        try:
            starts = parse_when(" ".join(rest[:cut]), now=ctx.now, tz=ctx.tz)
            ends = parse_when(" ".join(rest[cut:]), now=ctx.now, tz=ctx.tz)
        except Exception:
            continue
        found = (starts, ends)
        break
    if found is None:
        return Text(f"开始或结束时间无法识别。\n{DELEGATE_USAGE}")
    starts, ends = found
    record = delegation.create(
        ctx.session, approver=ctx.user, delegate=who, starts_at=starts, ends_at=ends, now=ctx.now
    )
    out: list[Reply] = [
        Text(
            f"已委托{who.name}在 {format_when(starts, now=ctx.now, tz=ctx.tz)} 至 {format_when(ends, now=ctx.now, tz=ctx.tz)} 代您审批报价，"
            "审计记录会注明「代审批」。提前结束：委托 取消"
        ),
        Text(
            f"{ctx.user.name}委托您在 {format_when(starts, now=ctx.now, tz=ctx.tz)} 至 {format_when(ends, now=ctx.now, tz=ctx.tz)} 代为审批报价。"
            "期间的审批卡片会同时发给您。",
            to=who.userid,
        ),
    ]
    if record.starts_at <= ctx.now:
        out += approval_cards.cards_for_new_delegation(
            ctx.session, approver_userid=ctx.user.userid, delegate_userid=who.userid, now=ctx.now
        )
    return out


@router.card(QUOTE_APPROVE)
def tap_approve(msg: Inbound, ctx: Ctx) -> list[Reply]:
    return approval_decisions.approve(
        ctx.session,
        config=ctx.config,
        actor=ctx.user,
        task_id=msg.task_id,
        response_code=msg.response_code,
        now=ctx.now,
    )


@router.card(QUOTE_REJECT)
def tap_reject(msg: Inbound, ctx: Ctx) -> list[Reply]:
    replies, data = approval_decisions.start_reject(
        ctx.session,
        config=ctx.config,
        actor=ctx.user,
        task_id=msg.task_id,
        response_code=msg.response_code,
        now=ctx.now,
    )
    if data is not None:
        ctx.start_dialog(approval_decisions.RejectReason.ASKING, data)
    return replies


def _reject_label(data: dict[str, Any]) -> str:
    return f"驳回（报价 #{data['quote_id']}）" if data.get("quote_id") else "驳回"


@router.text(state=approval_decisions.RejectReason.ASKING, label=_reject_label)
def reject_reason(msg: Inbound, ctx: Ctx) -> list[Reply]:
    data = ctx.dialog_data(approval_decisions.RejectData)
    replies = approval_decisions.finish_reject(
        ctx.session, config=ctx.config, actor=ctx.user, data=data, reason=ctx.args, now=ctx.now
    )
    if ctx.args.strip():
        ctx.clear_dialog()
    return replies


_QUOTE_REF = re.compile(r"^[#＃]?(\d{1,9})$")
APPROVE_USAGE = "用法：同意 #报价编号\n例：同意 #12（编号见审批卡片或「有哪些报价等我批」）"
REJECT_USAGE = "用法：驳回 #报价编号 理由\n例：驳回 #12 价格低于成本线"
# One answer for a quote that does not exist, is outside the sender's reach, or has no step waiting on them.
NOT_WAITING = "没有等您审批的报价 #{quote_id}，没有做任何更改。发送「待办」查看等您审批的报价。"


def _quote_ref(ctx: Ctx, usage: str) -> tuple[int, str] | Text:
    head, _, rest = ctx.args.partition(" ")
    found = _QUOTE_REF.match(head.strip())
    if not found:
        return Text(usage)
    return int(found.group(1)), rest.strip()


# Not listed in 帮助 (already at WeCom's 2048-byte limit): named on the approval answers (有哪些报价等我批).
# No role rule here: exactly as for a tap on the card, the step's approver or their delegate may act.
@router.command(
    "同意", help="按编号同意或驳回报价", example="同意 #12 / 驳回 #12 理由", aliases=("驳回",), listed=False
)
def decide_by_text(msg: Inbound, ctx: Ctx) -> list[Reply] | Reply:
    """`同意 #12` / `驳回 #12 理由`: the same authorisation as a tap on that quote's approval card."""
    usage = REJECT_USAGE if ctx.command == "驳回" else APPROVE_USAGE
    ref = _quote_ref(ctx, usage)
    if isinstance(ref, Text):
        return ref
    quote_id, reason = ref
    not_waiting = NOT_WAITING.format(quote_id=quote_id)
    task_id = approval_taps.task_for_text(ctx.session, actor=ctx.user, quote_id=quote_id, now=ctx.now)
    if task_id is None:
        return Text(not_waiting)
    if ctx.command != "驳回":
        replies = approval_decisions.approve(
            ctx.session, config=ctx.config, actor=ctx.user, task_id=task_id, response_code=None, now=ctx.now
        )
    elif not reason:
        return Text(f"请写上驳回理由。\n{REJECT_USAGE}")
    else:
        data = approval_decisions.RejectData(task_id=task_id, quote_id=quote_id)
        replies = approval_decisions.finish_reject(
            ctx.session, config=ctx.config, actor=ctx.user, data=data, reason=reason, now=ctx.now
        )
    # A typed number has no card: a refusal the card would word as "这张卡片已失效或不属于您" (an approver who
    # lost the role since) is the same answer as for a quote that is not theirs.
    return [Text(not_waiting) if r == Text(approval_taps.UNKNOWN_CARD) else r for r in replies]


class Requote(StrEnum):
    """重新报价 on a rejection asks for the new amount."""

    AMOUNT = "quote.requote"


@dataclass
class RequoteData:
    opportunity_id: int = 0


@router.card(QUOTE_REQUOTE)
def tap_requote(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    """重新报价 on a rejection: asks for the new amount (authorised by the card's task record)."""
    task = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=cardtasks.CardKind.REQUOTE,
        action=QUOTE_REQUOTE,
        now=ctx.now,
        unknown_text="这张卡片已失效。需要报价时发送：报价 <商机> <金额>",
    )
    if isinstance(task, list):
        return task
    quote = ctx.session.get(Quote, task.ref_id)
    opp = ctx.session.get(Opportunity, quote.opportunity_id) if quote else None
    if quote is None or opp is None or opp.closed_at is not None:
        return Text("这个商机已关闭，不能重新报价。")
    ctx.start_dialog(Requote.AMOUNT, RequoteData(opportunity_id=opp.id))
    return Text(
        f"重新报价「{opp.name}」（上次 {format_amount(quote.amount)}）：请回复新的金额和说明。\n"
        f"例：{format_amount(quote.amount * Decimal('0.95'))} 含安装调试\n发送「取消」则不报价。"
    )


@router.text(state=Requote.AMOUNT, label="重新报价")
def requote_amount(msg: Inbound, ctx: Ctx) -> list[Reply] | Reply:
    data = ctx.dialog_data(RequoteData)
    amount_text, _, note = ctx.args.strip().partition(" ")
    try:
        amount = parse_amount(amount_text)
    except Exception as exc:  # ParseError: a Chinese hint; the dialog stays open for another try
        return Text(
            f"{getattr(exc, 'message', '金额无法识别')}\n请回复新的金额和说明，例：7.5万 含安装调试；发送「取消」则不报价。"
        )
    opp = ctx.session.get(Opportunity, data.opportunity_id)
    ctx.clear_dialog()
    if opp is None or opp.owner_userid != ctx.userid:
        return Text("没有找到这个商机，没有提交报价。")
    return _submit(ctx, opp, amount, note.strip() or None)
