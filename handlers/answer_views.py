"""Views of the read-only answers (pure: data in, text out): at most 8 lines each, the last one the next step.

User text (notes, names) is shown as plain text in a Text reply, clipped to one line.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from cards.digest_markdown import waited_text
from cards.paging import Page
from models import Customer, QuoteStatus
from services import escape
from services.answers import (
    AreaPeriod,
    DueItem,
    Numbers,
    OpenOpportunity,
    PersonDay,
    QuoteState,
    Situation,
    Waiting,
)
from services.parsing import format_amount, format_when

MAX_LINES = 8
_QUOTE_STATUS = {
    QuoteStatus.PENDING: "审批中",
    QuoteStatus.APPROVED: "已通过",
    QuoteStatus.REJECTED: "已驳回",
    QuoteStatus.WITHDRAWN: "已撤回",
}


def clip(text: str, limit: int = 30) -> str:
    """A user value on one line of a text answer (escaped for WeCom text, capped)."""
    return escape.inline_text(text or "", limit)


def short_name(name: str) -> str:
    """A customer as people say it: the full name without city prefix or legal form is still unambiguous enough
    for a hint; we simply keep the first 4 characters after a leading 市/省 name when it is long."""
    for suffix in ("股份有限公司", "有限责任公司", "有限公司", "公司"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            name = name[: -len(suffix)]
            break
    return name


def lines(body: list[str], next_step: str = "") -> str:
    """Cap at MAX_LINES, keeping the next step as the last line."""
    room = MAX_LINES - (1 if next_step else 0)
    if len(body) > room:
        hidden = len(body) - room + 1
        body = [*body[: room - 1], f"…还有{hidden}条"]
    # Every value above came through `clip`/escape; this also covers names placed whole (customers, people).
    return escape.text("\n".join([*body, *([next_step] if next_step else [])]))


def _when(dt: datetime, now: datetime, tz: ZoneInfo) -> str:
    return format_when(dt, now=now, tz=tz)


def _waited(since: datetime, now: datetime) -> str:
    return waited_text((now - since).total_seconds() / 3600)


def contact_view(customers: list[Customer], *, contact: str | None) -> str:
    body = []
    for c in customers[:6]:
        who = c.contact or "（未填联系人）"
        body.append(f"{c.name}：{who} {c.phone or '（未填电话）'}")
    return lines(body)


def address_view(customer: Customer) -> str:
    return lines(
        [
            f"{customer.name}",
            f"地址：{customer.address or '（未填地址）'}",
            f"联系人：{customer.contact or '—'} {customer.phone or ''}".rstrip(),
        ],
    )


def situation_view(s: Situation, *, now: datetime, tz: ZoneInfo) -> str:
    c = s.customer
    body = [f"【{c.name}】负责人：{s.owner_name}"]
    for o in s.opportunities[:3]:
        amount = f" {format_amount(o.amount)}" if o.amount is not None else ""
        body.append(f"• {o.name}{amount}｜{o.stage}")
    if not s.opportunities:
        body.append("进行中的商机：无")
    if s.last_visit is not None:
        when = s.last_visit.visited_at.astimezone(tz)
        body.append(f"上次拜访：{when:%m-%d} {s.last_visit_by}：{clip(s.last_visit.summary, 24)}")
    else:
        body.append("上次拜访：暂无")
    if s.next_followup is not None:
        body.append(f"下次跟进：{_when(s.next_followup.due_at, now, tz)} {clip(s.next_followup.title, 16)}")
    else:
        body.append("下次跟进：未安排")
    return lines(body)


def customers_view(customers: list[Customer], *, rep: bool, page: Page[Customer]) -> str:
    """One page of the sender's customers (the 更多 under it is cards/paging.py's)."""
    if not customers:
        return "您名下还没有客户。新建：新客户 名称 联系人=… 电话=…"
    if not page.items:
        return "没有更多客户了。"
    head = f"您{'负责' if rep else '可查看'}的客户共{len(customers)}个"
    head += "：" if page.number == 1 else f"（第{page.number}页）："
    shown = "、".join(short_name(c.name) for c in page.items)
    return lines([head, shown], f"查看一个：客户 {short_name(page.items[0].name)}")


def opportunities_view(opps: list[OpenOpportunity]) -> str:
    if not opps:
        return "您目前没有进行中的商机。新建：商机 客户 名称 金额"
    total = sum((o.amount or Decimal(0) for o in opps), Decimal(0))
    body = [f"进行中的商机{len(opps)}个，合计 {format_amount(total)}："]
    body += [
        f"• #{o.id} {o.name}（{short_name(o.customer)}）{format_amount(o.amount) if o.amount is not None else ''}｜{o.stage}"
        for o in opps
    ]
    return lines(body)


def todo_view(items: list[DueItem], *, label: str, now: datetime, approvals: int, tz: ZoneInfo) -> str:
    body: list[str] = []
    if not items and not approvals:
        return f"{label}没有到期的跟进。设置一个：跟进 客户 明天上午10点 事项"
    body.append(f"{label}要跟进{len(items)}项：" if items else f"{label}没有到期的跟进。")
    for item in items:
        late = "（已逾期）" if item.due_at < now else ""
        body.append(
            f"• #{item.id} {_when(item.due_at, now, tz)} {short_name(item.customer)}：{clip(item.title, 16)}{late}"
        )
    if approvals:
        body.append(f"另有{approvals}个报价等您审批。")
    step = f"做完后：完成 {items[0].id}" if items else "查看全部：待办"
    return lines(body, step)


def numbers_view(n: Numbers) -> str:
    return lines(
        [
            f"本月（{n.since:%m月%d日}起）：",
            f"签约 {format_amount(n.signed)}（{n.contracts}份合同）",
            f"回款 {format_amount(n.collected)}",
            f"拜访 {n.visits}次",
        ],
        "查看商机：我的商机",
    )


def quotes_view(states: list[QuoteState], *, now: datetime) -> str:
    if not states:
        return "没有找到您的报价。申请报价：报价 商机 金额 说明"
    body = []
    for q in states:
        status = _QUOTE_STATUS.get(q.status, q.status)
        extra = (
            f"，等{q.waiting_on}审批 {_waited(q.since, now)}"
            if q.status == QuoteStatus.PENDING and q.waiting_on
            else ""
        )
        reason = (
            f"，理由：{clip(q.reason or '', 16)}" if q.status == QuoteStatus.REJECTED and q.reason else ""
        )
        body.append(
            f"报价 #{q.id} {q.opportunity}（{short_name(q.customer)}）{format_amount(q.amount)}：{status}{extra}{reason}"
        )
    pending = next((q for q in states if q.status == QuoteStatus.PENDING), None)
    step = f"需要修改：撤回 #{pending.id}" if pending else ""
    return lines(body, step)


def team_view(days: list[PersonDay], *, title: str) -> str:
    body = [title]
    for d in days:
        parts = []
        if d.visits:
            parts.append(f"拜访{len(d.visits)}（{'、'.join(short_name(c) for c, _ in d.visits[:3])}）")
        if d.new_opportunities:
            parts.append(f"新商机{len(d.new_opportunities)}")
        if d.quotes:
            parts.append(f"报价{d.quotes}")
        body.append(f"• {d.name}：{'，'.join(parts) if parts else '今天还没有记录'}")
    return lines(body, f"看某人明细：{days[0].name}今天拜访了哪些客户" if len(days) > 1 else "")


def person_day_view(day: PersonDay) -> str:
    if not day.visits and not day.new_opportunities and not day.quotes:
        return f"{day.name}今天还没有拜访或商机记录。"
    body = [f"{day.name}今天："]
    body += [f"• 拜访 {short_name(c)}：{clip(s, 24)}" for c, s in day.visits]
    if day.new_opportunities:
        body.append(f"• 新商机：{'、'.join(day.new_opportunities)}")
    if day.quotes:
        body.append(f"• 申请报价 {day.quotes} 个")
    return lines(body)


def waiting_view(items: list[Waiting], *, now: datetime, mine: bool) -> str:
    if not items:
        return "目前没有等您审批的报价。" if mine else "目前没有审批中的报价。"
    head = (
        f"等您审批的报价{len(items)}个（最早的在前）："
        if mine
        else f"审批中的报价{len(items)}个，等得最久的在前："
    )
    body = [head]
    for w in items:
        who = "" if mine else f"，在{w.approver}处"
        body.append(
            f"• #{w.quote_id} {short_name(w.customer)}·{w.opportunity} {format_amount(w.amount)}"
            f"（{w.requester}申请{who}，已等{_waited(w.since, now)}）"
        )
    step = f"审批：同意 #{items[0].quote_id}  或  驳回 #{items[0].quote_id} 理由" if mine else ""
    return lines(body, step)


def area_view(r: AreaPeriod, *, label: str) -> str:
    return lines(
        [
            f"{r.area}{label}（{r.since:%m月%d日}起）：",
            f"拜访 {r.visits}次，新商机 {r.new_opportunities}个",
            f"签约 {format_amount(r.signed)}，回款 {format_amount(r.collected)}",
            f"进行中商机金额 {format_amount(r.pipeline)}",
        ],
        "看今天的团队动态：今天团队都干了啥",
    )
