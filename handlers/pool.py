"""公海 (the region's pool) and 领取, and the countdown card's 记一条跟进 / 申请延期7天 / 放回公海 with the
supervisor's answer to an extension."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from enum import StrEnum

from cards.customer import customer_text
from cards.keys import POOL_EXTEND, POOL_EXTEND_NO, POOL_EXTEND_OK, POOL_FOLLOWUP, POOL_MORE, POOL_RETURN
from cards.paging import PAGE_SIZE, Page, more_card, pack_text, read_more_key, unpack_text
from cards.pool import QUESTION, extension_card
from chat.inbound import Inbound
from chat.replies import Card, Reply, Text, UpdateCard
from chat.router import Ctx, HandlerResult, Router
from handlers.visits import visit as visit_handler
from models import Customer, User
from services import cardtasks, escape, pool, roles
from services import customers as customer_service
from services import pool_extension as ext_service
from services.leadpool_cards import extension_card_for
from services.parsing import SHANGHAI

router = Router("pool")


class PoolAsk(StrEnum):
    """The countdown card's follow-ups: which customer (a numbered pick), the follow-up's summary, the reason
    for returning a customer to the pool."""

    PICK = "pool.pick"
    VISIT = "pool.visit"
    RETURN = "pool.return"


@dataclass
class PoolPickData:
    ids: list[int] = field(default_factory=list)
    action: str = ""  # the countdown button's action key, applied to the chosen customer


@dataclass
class PoolCustomerData:
    customer: int = 0  # Customer.id


GONE = "这张卡片已失效。"
ACTIONS = {POOL_FOLLOWUP: "记一条跟进", POOL_EXTEND: "申请延期", POOL_RETURN: "放回公海"}


@router.command(
    "公海", help="查看本区域公海里可领取的客户", example="公海 机械", roles=roles.SALES, read_only=True
)
def show_pool(msg: Inbound, ctx: Ctx) -> list[Reply]:
    return _pool_page(ctx, ctx.args.strip(), 1)


@router.card(POOL_MORE)
def pool_more(msg: Inbound, ctx: Ctx) -> list[Reply]:
    number, token = read_more_key(ctx.card_key.arg if ctx.card_key else "")
    keyword = unpack_text(token) if token else ""
    if not number or keyword is None:
        return [Text("这个列表已失效，请重新发送「公海」。")]
    return _pool_page(ctx, keyword, number)


def _pool_page(ctx: Ctx, keyword: str, number: int) -> list[Reply]:
    """One page of the region's pool, re-read in the sender's region at every 更多."""
    start = (number - 1) * PAGE_SIZE
    rows, total = pool.list_pool(ctx.session, user=ctx.user, keyword=keyword, limit=PAGE_SIZE, offset=start)
    if not rows:
        if number > 1:
            return [Text("公海里没有更多客户了。")]
        what = f"没有匹配「{escape.inline_text(keyword, 20)}」的客户" if keyword else "暂时没有客户"
        return [Text(f"本区域公海{what}。")]
    page = Page(rows, number, start, max(total - start - len(rows), 0))
    head = f"本区域公海共 {total} 个客户"
    lines = [head + ("：" if total <= len(rows) else f"（第{number}页）：")]
    for r in rows:
        last = f"{r.last_activity.astimezone(SHANGHAI):%Y-%m-%d}" if r.last_activity else "无"
        lines.append(
            f"#{r.id} {escape.inline_text(r.name, 30)}｜{escape.inline_text(r.industry or '行业未填', 12)}"
            f"｜最近跟进 {last}｜{r.segment or '潜在'}客户"
        )
    lines.append(f"领取：领取 #{rows[0].id}（联系人和电话领取后可见）")
    replies: list[Reply] = [Text("\n".join(lines))]
    token = pack_text(keyword) if keyword else ""
    if token is not None and (
        more := more_card(page, action=POOL_MORE, what="公海客户", token=token, unit="个")
    ):
        replies.append(Card(more))
    return replies


@router.command("领取", help="从公海领取一个客户", example="领取 华东精密", roles=frozenset({roles.Role.REP}))
def claim(msg: Inbound, ctx: Ctx) -> Reply:
    keyword = ctx.args.strip()
    if not keyword:
        return Text(
            "请写上要领取的客户。\n用法：领取 客户\n例：领取 华东精密（先发「公海」查看可领取的客户）"
        )
    customer = pool.resolve_pool_customer(ctx.session, user=ctx.user, keyword=keyword)
    pool.claim(ctx.session, config=ctx.config, user=ctx.user, customer=customer, now=ctx.now)
    view = customer_text(
        customer_service.customer_360(
            ctx.session, config=ctx.config, user=ctx.user, customer=customer, now=ctx.now
        )
    )
    return Text(f"已领取「{escape.inline_text(customer.name, 40)}」，它的拜访和商机记录都在：\n{view}")


# --- the countdown card ------------------------------------------------------------------------------------


def _at_risk_ids(ctx: Ctx) -> list[int]:
    """The sender's customers in the countdown now (the server's view, not the card's)."""
    dues = pool.scan(ctx.session, config=ctx.config, now=ctx.now, owner=ctx.userid)
    warned = pool.countdown(dues, config=ctx.config, now=ctx.now).get(ctx.userid, [])
    return [d.customer.id for d in warned]


def _selected(msg: Inbound) -> int | None:
    for item in msg.selected:
        if item.question_key == QUESTION and item.option_ids and item.option_ids[0].isdigit():
            return int(item.option_ids[0])
    return None


def _countdown_tap(msg: Inbound, ctx: Ctx, action: str) -> Reply | list[Reply]:
    task = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=cardtasks.CardKind.POOL_COUNTDOWN,
        action=action,
        now=ctx.now,
        unknown_text=GONE,
    )
    if isinstance(task, list):
        return task
    ids = _at_risk_ids(ctx)
    chosen = _selected(msg)
    if chosen is None and len(ids) == 1:
        chosen = ids[0]
    if chosen is None:
        if not ids:
            return Text("这些客户已经不在回收倒计时里了（已跟进、已延期或已回收）。")
        names = dict(ctx.session.query(Customer.id, Customer.name).filter(Customer.id.in_(ids)).all())
        ctx.start_dialog(PoolAsk.PICK, PoolPickData(ids=ids, action=action))
        lines = [f"{ACTIONS[action]}：请回复编号选择客户："]
        lines += [f"{i}. {escape.inline_text(names.get(cid, ''), 30)}" for i, cid in enumerate(ids, 1)]
        return Text("\n".join(lines + ["（发送「取消」放弃）"]))
    return _act(msg, ctx, action, chosen)


def _act(msg: Inbound, ctx: Ctx, action: str, customer_id: int) -> Reply | list[Reply]:
    customer = ext_service.owned(ctx.session, user=ctx.user, customer_id=customer_id)
    name = escape.inline_text(customer.name, 40)
    if action == POOL_FOLLOWUP:
        ctx.start_dialog(PoolAsk.VISIT, PoolCustomerData(customer=customer.id))
        return Text(
            f"请用一条消息回复这次跟进「{name}」的纪要（可先发位置或照片），记下后回收重新计时。发送「取消」放弃。"
        )
    if action == POOL_RETURN:
        ctx.start_dialog(PoolAsk.RETURN, PoolCustomerData(customer=customer.id))
        return Text(f"把「{name}」放回公海的原因是？请回复，例如：暂无需求。发送「取消」放弃。")
    ext, boss = ext_service.request_extension(
        ctx.session, config=ctx.config, user=ctx.user, customer=customer, now=ctx.now
    )
    due = next(
        (
            d.release_at
            for d in pool.scan(ctx.session, config=ctx.config, now=ctx.now, owner=ctx.userid)
            if d.customer.id == customer.id
        ),
        ctx.now,
    )
    used = ext_service.used_this_quarter(ctx.session, customer_id=customer.id, now=ctx.now)
    card = extension_card_for(
        ctx.session,
        ext=ext,
        customer=customer,
        requester=ctx.user,
        release=due,
        used=used,
        limit=ctx.config.pool.extensions_per_quarter,
        now=ctx.now,
    )
    return [
        Text(f"已请{escape.inline_text(boss.name)}审批「{name}」延期 {ext.days} 天，结果会通知您。"),
        card,
    ]


@router.card(POOL_FOLLOWUP)
def tap_followup(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    return _countdown_tap(msg, ctx, POOL_FOLLOWUP)


@router.card(POOL_EXTEND)
def tap_extend(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    return _countdown_tap(msg, ctx, POOL_EXTEND)


@router.card(POOL_RETURN)
def tap_return(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    return _countdown_tap(msg, ctx, POOL_RETURN)


_NUMBER = re.compile(r"^\d{1,3}$")


@router.text(state=PoolAsk.PICK, label="选择")
def picked(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    data = ctx.dialog_data(PoolPickData)
    ids = [int(i) for i in data.ids]
    text = ctx.args.strip()
    if not _NUMBER.match(text) or not 1 <= int(text) <= len(ids):
        return Text(f"请回复 1-{len(ids)} 之间的编号；发送「取消」放弃。")
    ctx.clear_dialog()
    return _act(msg, ctx, data.action, ids[int(text) - 1])


@router.text(state=PoolAsk.VISIT, label="跟进纪要")
def followup_summary(msg: Inbound, ctx: Ctx) -> HandlerResult:
    summary = ctx.args.strip()
    if not summary:
        return Text("请回复跟进纪要；发送「取消」放弃。")
    customer_id = ctx.dialog_data(PoolCustomerData).customer
    ctx.clear_dialog()
    ext_service.owned(ctx.session, user=ctx.user, customer_id=customer_id)
    return visit_handler(
        msg, dataclasses.replace(ctx, args=f"#{customer_id} {summary}", command="拜访", dialog=None)
    )


@router.text(state=PoolAsk.RETURN, label="放回公海")
def return_reason(msg: Inbound, ctx: Ctx) -> Reply:
    reason = ctx.args.strip()
    if not reason:
        return Text("请回复放回公海的原因；发送「取消」放弃。")
    customer = ext_service.owned(
        ctx.session, user=ctx.user, customer_id=ctx.dialog_data(PoolCustomerData).customer
    )
    ctx.clear_dialog()
    ext_service.return_to_pool(ctx.session, user=ctx.user, customer=customer, reason=reason, now=ctx.now)
    return Text(
        f"已把「{escape.inline_text(customer.name, 40)}」放回公海（{escape.inline_text(reason, 60)}）。"
    )


# --- the supervisor's answer to an extension ----------------------------------------------------------------


def _extension_decision(msg: Inbound, ctx: Ctx, approve: bool) -> Reply | list[Reply]:
    action = POOL_EXTEND_OK if approve else POOL_EXTEND_NO
    task = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=cardtasks.CardKind.POOL_EXTENSION,
        action=action,
        now=ctx.now,
        unknown_text=GONE,
    )
    if isinstance(task, list):
        return task
    ext, customer = ext_service.decide_extension(
        ctx.session, config=ctx.config, ext_id=task.ref_id, approver=ctx.user, approve=approve, now=ctx.now
    )
    requester = ctx.session.query(User).filter_by(userid=ext.requester_userid).one_or_none()
    outcome = "已同意" if approve else "已驳回"
    card = extension_card(
        ext_id=ext.id,
        customer=customer.name,
        requester=requester.name if requester else "",
        release="—",
        days=ext.days,
        used=0,
        limit=ctx.config.pool.extensions_per_quarter,
        outcome=outcome,
    )
    card["task_id"] = msg.task_id
    fallback = f"「{escape.inline_text(customer.name, 40)}」的延期申请{outcome}。"
    replies: list[Reply] = [
        UpdateCard(card, msg.response_code, fallback_text=fallback) if msg.response_code else Text(fallback)
    ]
    if requester is not None:
        if approve and customer.pool_hold_until is not None:
            until = f"{customer.pool_hold_until.astimezone(SHANGHAI):%m-%d}"
            text = f"{escape.inline_text(ctx.user.name)}同意了「{escape.inline_text(customer.name, 40)}」的延期，{until} 前不会回收。"
        else:
            text = f"{escape.inline_text(ctx.user.name)}没有同意「{escape.inline_text(customer.name, 40)}」的延期，记一条跟进即可重新计时。"
        replies.append(Text(text, to=requester.userid))
    return replies


@router.card(POOL_EXTEND_OK)
def tap_extend_ok(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    return _extension_decision(msg, ctx, True)


@router.card(POOL_EXTEND_NO)
def tap_extend_no(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    return _extension_decision(msg, ctx, False)
