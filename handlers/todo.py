"""待办 (paged with 更多), the folded push's 查看待办, and the team escalation card (查看客户 · 已协助).

待办 also hands over what the push budget held back: the lines of held events, and the approval cards that
were held or folded (still needed to approve)."""

from __future__ import annotations

from cards.escalation import ASSISTED, escalation_card
from cards.keys import ESCALATION_ASSISTED, ESCALATION_CUSTOMER, TODO_MORE, TODO_OPEN
from cards.paging import more_card, page_of, read_more_key
from chat.inbound import Inbound
from chat.replies import Card, Reply, Text, UpdateCard
from chat.router import Ctx, HandlerResult, Router
from handlers.common import run_command
from models import CardTask
from services import cardtasks, escalations, escape, pushes
from services.todo import todo_list

router = Router("todo")

EMPTY = "您目前没有待办。可以用「跟进 华东精密 明天下午3点 送样品」设置跟进提醒。"


def todo_replies(ctx: Ctx, *, page: int = 1) -> list[Reply]:
    todo = todo_list(ctx.session, user=ctx.user, now=ctx.now, tz=ctx.tz, limit=10_000)
    held = (
        pushes.release(ctx.session, userid=ctx.userid, now=ctx.now) if page == 1 else pushes.Pending([], [])
    )
    shown = page_of(todo.lines, page)
    lines = shown.items
    out: list[str] = []
    if page == 1:
        out.append("您的待办：" if lines else EMPTY)
    else:
        out.append(f"您的待办（第{page}页）：" if lines else "没有更多待办了。")
    out += lines
    if page == 1:
        if todo.reminders:
            out.append(
                "跟进做完后，点提醒卡片上的「已完成」或发送「完成 <编号>」；要改时间发「改期 <编号> <时间>」。"
            )
        if todo.approvals:
            out.append("待审批的报价，请在审批卡片上点「同意」或「驳回」。")
        if todo.own_quotes:  # not to-dos (they wait on the approvers), but the requester may withdraw them
            out += [
                "您发起、正在审批的报价：",
                *todo.own_lines,
                f"如需修改，先发送「撤回 #{todo.own_quotes[0]}」，改好后重新「报价」。",
            ]
        if held.lines:
            out.append(f"今天未单独推送的消息（{len(held.lines)} 条）：")
            out += [f"· {line}" for line in held.lines]
    replies: list[Reply] = [Text("\n".join(out))]
    replies += pushes.pending_replies(held)
    if more := more_card(shown, action=TODO_MORE, what="待办"):
        replies.append(Card(more))
    return replies


@router.command(
    "待办", help="查看我的待办和等我审批的报价", example="待办", aliases=("todo",), read_only=True
)
def todo(msg: Inbound, ctx: Ctx) -> list[Reply]:
    return todo_replies(ctx)


@router.card(TODO_OPEN)
def tap_open(msg: Inbound, ctx: Ctx) -> list[Reply]:
    return todo_replies(ctx)


@router.card(TODO_MORE)
def tap_more(msg: Inbound, ctx: Ctx) -> list[Reply]:
    page, _ = read_more_key(ctx.card_key.arg if ctx.card_key else "")
    return todo_replies(ctx, page=page or 2)


def _escalation_task(ctx: Ctx, msg: Inbound, action: str) -> CardTask | list[Reply]:
    """The escalation card this tap may act on (any of the three causes): its recipient only."""
    return cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=escalations.kind_of(ctx.session, msg.task_id),
        action=action,
        now=ctx.now,
        unknown_text="这张卡片已失效。",
    )


@router.card(ESCALATION_CUSTOMER)
def tap_escalation_customer(msg: Inbound, ctx: Ctx) -> HandlerResult:
    """查看客户: the customer 360 as if the manager had typed 客户 #id (their own scope applies now); a lead
    not accepted yet is shown as the lead. The customer comes from the server's record, not the button."""
    task = _escalation_task(ctx, msg, ESCALATION_CUSTOMER)
    if isinstance(task, list):
        return task
    customer_id = escalations.customer_of(ctx.session, task=task)
    if customer_id is not None:
        return run_command(msg, ctx, command="客户", args=f"#{customer_id}")
    summary = escalations.lead_summary(ctx.session, task=task)
    return Text(escape.text(summary) if summary else "这张卡片已失效。")


@router.card(ESCALATION_ASSISTED)
def tap_escalation_ack(msg: Inbound, ctx: Ctx) -> HandlerResult:
    """已协助: the card turns grey; recorded for the audit once, nobody else is told, nothing else changes."""
    task = _escalation_task(ctx, msg, ESCALATION_ASSISTED)
    if isinstance(task, list):
        return task
    if not escalations.assist(ctx.session, task=task, actor=ctx.user, now=ctx.now):
        return Text(escalations.ALREADY)
    done = "已标记为已协助。"
    view = escalations.view_again(ctx.session, task=task)
    if not msg.response_code or view is None:
        return Text(done)
    card = escalation_card(view, task_id=task.task_id, replace_text=ASSISTED)
    return UpdateCard(card, msg.response_code, fallback_text=done)
