"""线索 (record a lead), and the lead card's 接单 / 转派 / 无效 with the supervisor's 转派 answer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cards.keys import LEAD_ACCEPT, LEAD_INVALID, LEAD_TRANSFER, LEAD_TRANSFER_NO, LEAD_TRANSFER_OK
from cards.lead import lead_card, transfer_card
from chat.errors import DomainError
from chat.inbound import Inbound
from chat.replies import Card, Reply, Text, UpdateCard
from chat.router import Ctx, Router
from handlers.nextsteps import customer_next_steps
from models import Lead, LeadStatus, User
from services import cardtasks, escape, roles
from services import leads as lead_service
from services import reassign as reassign_service
from services.leadpool_cards import lead_card_for, lead_view, transfer_card_for, user_named

router = Router("leads")


class LeadAsk(StrEnum):
    """转派 asks for the colleague's name, 无效 for the reason."""

    TRANSFER = "lead.transfer"
    INVALID = "lead.invalid"


@dataclass
class LeadData:
    lead: int = 0  # Lead.id


GONE = "这张卡片已失效。"


def created_replies(ctx: Ctx, created: lead_service.Created) -> list[Reply]:
    """What the creator is told, plus the assignee's card (also used by the free-form proposal)."""
    lead = created.lead
    company = escape.inline_text(lead.company, 40)
    if created.assignee is None:
        return [Text(f"已登记线索 #{lead.id}「{company}」，但没有可分配的人，请联系管理员配置区域和销售。")]
    to_self = created.assignee.userid == ctx.userid
    who = "您" if to_self else escape.inline_text(created.assignee.name)
    replies: list[Reply] = [
        Text(
            f"已登记线索 #{lead.id}「{company}」（{lead.source}），已按规则分配给{who}。"
            + ("请在线索卡片上点「接单」。" if to_self else "")
        )
    ]
    replies.append(lead_card_for(ctx.session, lead=lead, now=ctx.now))
    return replies


@router.command(
    "线索",
    help="登记线索，按规则自动分配",
    example="线索 宁波华东精密 王总 13812345678 展会 想要报价",
    roles=roles.SALES,
)
def new_lead(msg: Inbound, ctx: Ctx) -> list[Reply]:
    data = lead_service.parse_command(ctx.args, config=ctx.config)
    try:
        created = lead_service.create_lead(
            ctx.session, config=ctx.config, data=data, actor=ctx.userid, user=ctx.user, now=ctx.now
        )
    except lead_service.DuplicateLead as dup:
        return [Text(dup.message)]
    return created_replies(ctx, created)


# --- the assignee's card ----------------------------------------------------------------------------------


def _grey(msg: Inbound, card: dict[str, object], fallback: str) -> Reply:
    card["task_id"] = msg.task_id
    if not msg.response_code:
        return Text(fallback)
    return UpdateCard(card, msg.response_code, fallback_text=fallback)


def _assigned_lead(ctx: Ctx, msg: Inbound, action: str) -> Lead | Reply | list[Reply]:
    """The lead behind the tapped card, if the sender is (still) its assignee; else the answer to give."""
    task = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=cardtasks.CardKind.LEAD,
        action=action,
        now=ctx.now,
        unknown_text=GONE,
    )
    if isinstance(task, list):
        return task
    lead = ctx.session.get(Lead, task.ref_id)
    if lead is None:
        return Text(GONE)
    if lead.assignee_userid != ctx.userid:
        return _grey(msg, lead_card(lead_view(lead), outcome="已改派"), f"线索 #{lead.id} 已改派给同事。")
    if lead.status != LeadStatus.ASSIGNED:
        state = lead_service.status_label(lead)
        return _grey(msg, lead_card(lead_view(lead), outcome=state), f"线索 #{lead.id} {state}。")
    return lead


@router.card(LEAD_ACCEPT)
def tap_accept(msg: Inbound, ctx: Ctx) -> list[Reply] | Reply:
    found = _assigned_lead(ctx, msg, LEAD_ACCEPT)
    if not isinstance(found, Lead):
        return found
    try:
        done = lead_service.accept(ctx.session, config=ctx.config, lead=found, user=ctx.user, now=ctx.now)
    except lead_service.DuplicateLead as dup:
        return Text(dup.message)
    c = done.customer
    name = escape.inline_text(c.name, 40)
    return [
        _grey(msg, lead_card(lead_view(found), outcome="已接单"), f"已接单：线索 #{found.id}"),
        Text(
            f"已接单：客户「{name}」（#{c.id}）和商机 #{done.opportunity_id}（{ctx.config.stages[0]}）已建好，"
            f"联系人 {escape.inline_text(c.contact or '—')} {c.phone or ''}。首次拜访后商机自动进入下一阶段。"
        ),
        customer_next_steps(c, steps=("visit", "followup")),
    ]


@router.card(LEAD_TRANSFER)
def tap_transfer(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    found = _assigned_lead(ctx, msg, LEAD_TRANSFER)
    if not isinstance(found, Lead):
        return found
    ctx.start_dialog(LeadAsk.TRANSFER, LeadData(lead=found.id))
    return Text(f"线索 #{found.id} 转派给哪位同事？请回复同事的姓名（由主管确认）。发送「取消」放弃。")


@router.card(LEAD_INVALID)
def tap_invalid(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    found = _assigned_lead(ctx, msg, LEAD_INVALID)
    if not isinstance(found, Lead):
        return found
    ctx.start_dialog(LeadAsk.INVALID, LeadData(lead=found.id))
    return Text(f"线索 #{found.id} 为什么无效？请回复原因，例如：空号、同行、无需求。发送「取消」放弃。")


def _dialog_lead(ctx: Ctx) -> Lead:
    lead_id = ctx.dialog_data(LeadData).lead
    ctx.clear_dialog()
    return lead_service.lead_for_action(ctx.session, lead_id=lead_id, user=ctx.user)


@router.text(state=LeadAsk.INVALID, label="标记线索无效")
def invalid_reason(msg: Inbound, ctx: Ctx) -> Reply:
    reason = ctx.args.strip()
    if not reason:
        return Text("请回复无效的原因，例如：空号。发送「取消」放弃。")
    lead = _dialog_lead(ctx)
    lead_service.mark_invalid(ctx.session, lead=lead, user=ctx.user, reason=reason, now=ctx.now)
    return Text(
        f"已把线索 #{lead.id}「{escape.inline_text(lead.company, 40)}」标记为无效（{escape.inline_text(reason, 60)}）。"
    )


@router.text(state=LeadAsk.TRANSFER, label="线索转交")
def transfer_target(msg: Inbound, ctx: Ctx) -> list[Reply] | Reply:
    name = ctx.args.strip()
    if not name:
        return Text("请回复同事的姓名。发送「取消」放弃。")
    try:
        target = reassign_service.resolve_assignee(ctx.session, actor=ctx.user, keyword=name)
    except DomainError as exc:
        return Text(f"{exc.message}\n请重新回复同事的姓名，或发送「取消」放弃。")
    lead = _dialog_lead(ctx)
    boss = lead_service.request_transfer(ctx.session, lead=lead, user=ctx.user, target=target, now=ctx.now)
    return [
        Text(
            f"已请{escape.inline_text(boss.name)}确认把线索 #{lead.id} 转给{escape.inline_text(target.name)}；确认前仍由您负责。"
        ),
        transfer_card_for(ctx.session, lead=lead, requester=ctx.user, target=target, boss=boss, now=ctx.now),
    ]


def _transfer_decision(msg: Inbound, ctx: Ctx, approve: bool) -> list[Reply] | Reply:
    action = LEAD_TRANSFER_OK if approve else LEAD_TRANSFER_NO
    task = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=cardtasks.CardKind.LEAD_TRANSFER,
        action=action,
        now=ctx.now,
        unknown_text=GONE,
    )
    if isinstance(task, list):
        return task
    lead = ctx.session.get(Lead, task.ref_id)
    if lead is None:
        return Text(GONE)
    requester = ctx.session.query(User).filter_by(userid=lead.assignee_userid).one_or_none()
    target_name = user_named(ctx.session, lead.transfer_to)
    to = lead_service.decide_transfer(ctx.session, lead=lead, approver=ctx.user, approve=approve, now=ctx.now)
    outcome = "已同意" if to is not None else "未同意"
    card = transfer_card(
        lead_id=lead.id,
        version=lead.assign_count,
        company=lead.company,
        requester=requester.name if requester else "",
        target=target_name,
        outcome=outcome,
    )
    replies: list[Reply] = [_grey(msg, card, f"线索 #{lead.id} 转派{outcome}。")]
    company = escape.inline_text(lead.company, 40)
    if requester is not None:
        text = (
            f"{escape.inline_text(ctx.user.name)}已同意，线索 #{lead.id}「{company}」转给{escape.inline_text(target_name)}。"
            if to is not None
            else f"{escape.inline_text(ctx.user.name)}没有同意转派线索 #{lead.id}「{company}」，请继续跟进。"
        )
        replies.append(Text(text, to=requester.userid))
    if to is not None:
        card_reply: Card = lead_card_for(ctx.session, lead=lead, now=ctx.now)
        replies.append(card_reply)
    return replies


@router.card(LEAD_TRANSFER_OK)
def tap_transfer_ok(msg: Inbound, ctx: Ctx) -> list[Reply] | Reply:
    return _transfer_decision(msg, ctx, True)


@router.card(LEAD_TRANSFER_NO)
def tap_transfer_no(msg: Inbound, ctx: Ctx) -> list[Reply] | Reply:
    return _transfer_decision(msg, ctx, False)
