"""Answers to questions, small talk, help for one command, and the hint for a message not understood.

Thin: the queries are services/answers.py (read-only, in scope), the lines handlers/answer_views.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cards.keys import CUSTOMERS_MORE
from cards.paging import more_card, page_of
from chat.replies import Card, Reply, Text
from chat.router import CommandInfo, Ctx
from handlers import answer_views as views
from handlers.nextsteps import customer_next_steps, opportunity_next_steps
from handlers.targets import targets_answer
from models import Customer, Opportunity
from services import answers as svc
from services import roles
from services.approval_pending import pending_for
from services.asks import Ask
from services.parsing import TimeParseError, parse_when_prefix

NOT_FOUND = "没有找到您说的客户或联系人（只能查看您负责范围内的客户）。可以用客户名称中的几个字再问一次。"
# Commands whose first argument is a customer: a suggested example names the sender's customer, not a fixed one.
_CUSTOMER_FIRST = ("拜访", "跟进", "商机", "客户", "分配")


def _customers(ctx: Ctx, ask: Ask) -> list[Customer]:
    found = svc.visible_customers(ctx.session, user=ctx.user, ids=ask.customer_ids)
    if not found and ask.contact:
        found = svc.customers_with_contact(ctx.session, user=ctx.user, contact=ask.contact)
    return found


def _which(customers: list[Customer]) -> Text:
    names = "、".join(c.name for c in customers[:6])
    return Text(f"找到{len(customers)}个客户：{names}。请带上更完整的名称再问一次。")


def _leading_time(text: str, ctx: Ctx) -> datetime | None:
    """A day the question starts with (明天…, 周五…), read by the command's time parser."""
    try:
        return parse_when_prefix(text, now=ctx.now, tz=ctx.tz)[0]
    except TimeParseError:
        return None


def _todo(ctx: Ctx, ask: Ask) -> Text:
    start = svc.day_start(ctx.now)
    when = ask.when or _leading_time(ask.source, ctx)
    if when is not None and ask.period is None and svc.day_start(when) != start:  # 明天有啥安排
        day = svc.day_start(when)
        items = svc.due_between(ctx.session, user=ctx.user, start=day, end=day + timedelta(days=1))
        items = [i for i in items if i.due_at >= day]
        label = f"{day.month}月{day.day}日"
        return Text(views.todo_view(items, label=label, now=ctx.now, approvals=0, tz=ctx.tz))
    if ask.period == "week":
        end, label = svc.week_start(ctx.now) + timedelta(days=7), "本周"
    elif ask.period == "month":
        end, label = (
            svc.month_start(ctx.now).replace(month=start.month % 12 + 1, year=start.year + start.month // 12),
            "本月",
        )
    else:
        end, label = start + timedelta(days=1), "今天"
    items = svc.due_between(ctx.session, user=ctx.user, start=start, end=end)
    approvals = len(pending_for(ctx.session, userid=ctx.userid, now=ctx.now))
    return Text(views.todo_view(items, label=label, now=ctx.now, approvals=approvals, tz=ctx.tz))


def _area(ctx: Ctx, ask: Ask, *, region: str | None) -> Text:
    week = ask.period == "week"
    since = svc.week_start(ctx.now) if week else svc.month_start(ctx.now)
    result = svc.area_period(ctx.session, user=ctx.user, region=region, since=since)
    if result is None:
        return Text("区域数据只有该区域的主管和总经理可以查看。")
    return Text(views.area_view(result, label="本周" if week else "本月"))


def _asks_about_opportunities(ask: Ask) -> bool:
    return any(word in ask.source for word in ("商机", "单子", "项目"))


def answer(ctx: Ctx, ask: Ask) -> Reply | list[Reply]:
    """A read-only answer, in the asker's scope; an out-of-scope record is answered as not found. Where one
    record is the subject, the next step follows as buttons (handlers/nextsteps.py: 拜访 · 跟进 · 新商机)."""
    intent = ask.intent
    if intent == "query.contact":
        customers = _customers(ctx, ask)
        if not customers:
            return Text(NOT_FOUND)
        return [Text(views.contact_view(customers, contact=ask.contact)), customer_next_steps(customers[0])]
    if intent == "query.customer":
        customers = _customers(ctx, ask)
        if not customers:
            return Text(NOT_FOUND)
        if len(customers) > 1:
            return _which(customers)
        if "地址" in ask.source or "在哪" in ask.source:
            return [Text(views.address_view(customers[0])), customer_next_steps(customers[0])]
        found = svc.situation(ctx.session, user=ctx.user, customer=customers[0])
        return [Text(views.situation_view(found, now=ctx.now, tz=ctx.tz)), customer_next_steps(customers[0])]
    if intent == "query.my_opportunities" or (
        intent == "query.my_customers" and _asks_about_opportunities(ask)
    ):
        opps = svc.my_opportunities(ctx.session, user=ctx.user)
        top = ctx.session.get(Opportunity, opps[0].id) if opps else None
        text = Text(views.opportunities_view(opps))
        return [text, opportunity_next_steps(top)] if top is not None else text
    if intent == "query.my_customers":
        return my_customers_page(ctx, 1)
    if intent == "query.my_todo":
        return _todo(ctx, ask)
    if intent == "query.my_numbers":
        if ctx.user.role in roles.MANAGERS:  # a manager's numbers are their area's (the company for 总经理)
            return _area(ctx, ask, region=ask.region)  # or the region the question named (华东这个月签了多少)
        if target_answer := targets_answer(ctx):
            return target_answer
        return Text(views.numbers_view(svc.my_numbers(ctx.session, user=ctx.user, now=ctx.now)))
    if intent == "query.quote_status":
        return Text(
            views.quotes_view(
                svc.quote_states(ctx.session, user=ctx.user, quote_id=ask.quote_id), now=ctx.now
            )
        )
    if intent == "query.team_today":
        days = svc.team_day(ctx.session, user=ctx.user, now=ctx.now)
        title = "今天团队动态（实时）：" if ctx.user.role in roles.MANAGERS else "您今天："
        return Text(views.team_view(days, title=title))
    if intent == "query.rep_today":
        person = svc.find_person(ctx.session, user=ctx.user, userid=ask.person_userid)
        if person is None:
            return Text("没有找到这位同事（只能查看您团队的成员）。例如：张三今天拜访了哪些客户")
        days = svc.team_day(ctx.session, user=ctx.user, now=ctx.now, only=person.userid)
        return Text(views.person_day_view(days[0]) if days else f"{person.name}今天还没有记录。")
    if intent == "query.pending_quotes":
        everyone = ctx.user.role in roles.SEES_ALL
        items = svc.waiting_quotes(ctx.session, user=ctx.user, now=ctx.now, mine_only=not everyone)
        return Text(views.waiting_view(items, now=ctx.now, mine=not everyone))
    if intent == "query.region":
        return _area(ctx, ask, region=ask.region or ctx.user.region)
    return Text(suggestion(ctx, ask))


def my_customers_page(ctx: Ctx, number: int) -> list[Reply]:
    """我的客户, a page at a time (更多 re-reads them in the sender's scope)."""
    customers = svc.my_customers(ctx.session, user=ctx.user)
    page = page_of(customers, number)
    replies: list[Reply] = [
        Text(views.customers_view(customers, rep=ctx.user.role == roles.Role.REP, page=page))
    ]
    if more := more_card(page, action=CUSTOMERS_MORE, what="客户", unit="个"):
        replies.append(Card(more))
    return replies


def small_talk(text: str) -> str:
    if any(w in text for w in ("谢", "辛苦")):
        return "不客气，有需要随时找我。"
    if any(w in text for w in ("收到", "好的", "好", "嗯", "ok", "OK")):
        return "好的👌"
    if any(w in text for w in ("早", "晚上好", "下午好")):
        return "您好！今天有什么要记录或查询的，直接告诉我就行。"
    return "在的！直接说要做的事就行，比如「今天有什么要做的」。"


def _allowed(ctx: Ctx) -> list[CommandInfo]:
    return ctx.routes.commands_for(ctx.user.role) if ctx.routes else []


def _verb(ctx: Ctx, ask: Ask) -> CommandInfo | None:
    word = ask.command_typo
    infos = _allowed(ctx)
    if word:
        return next((i for i in infos if i.name == word), None)
    found = [i for i in infos if i.name in ask.source and i.name not in ("帮助", "取消")]
    return max(found, key=lambda i: len(i.name)) if found else None


def example_for(info: CommandInfo, customer: str | None) -> str:
    """The command's example with the sender's own customer in it (or a placeholder), never a fixed name."""
    tokens = info.example.split(" ")
    if info.name in _CUSTOMER_FIRST and len(tokens) > 1:
        tokens[1] = customer or "客户名"
    return " ".join(tokens)


def help_for(ctx: Ctx, ask: Ask) -> str:
    info = _verb(ctx, ask)
    if info is None:
        from handlers.system import help_text

        return help_text(ctx)
    own = svc.my_customers(ctx.session, user=ctx.user)[:1]
    customer = views.short_name(own[0].name) if own else None
    return f"「{info.name}」：{info.help}\n例：{example_for(info, customer)}\n也可以直接说，我会先给您确认。"


def suggestion(ctx: Ctx, ask: Ask) -> str:
    """Built from what the message contained (its customer, its verb); names only what the sender may see."""
    customers = svc.visible_customers(ctx.session, user=ctx.user, ids=ask.customer_ids)
    name = views.short_name(customers[0].name) if customers else None
    info = _verb(ctx, ask)
    if info is not None:
        return f"没完全看懂。如果是要{info.help}，可以这样发：\n{example_for(info, name)}"
    if name:
        return (
            f"没完全看懂。关于「{name}」，您可以：\n客户 {name}（看情况）\n拜访 {name} 纪要（记拜访）\n"
            f"跟进 {name} 明天上午10点 事项（设提醒）"
        )
    return "没看懂这条消息。可以直接说要做的事，例如「我的客户有哪些」「今天有什么要做的」；发送「帮助」查看全部命令。"
