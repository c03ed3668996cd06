"""跟进 / 待办 / 完成, the reminder card's buttons and the visit card's follow-up buttons."""

from __future__ import annotations

from sqlalchemy import select

from cards.keys import REMINDER_DONE, REMINDER_SNOOZE, VISIT_FOLLOWUP
from cards.reminder import ReminderView, reminder_card, reminder_task_id, visit_followup_card
from chat.errors import NotFound
from chat.inbound import Inbound
from chat.replies import Reply, Text, UpdateCard
from chat.router import Ctx, HandlerResult, Router
from handlers.common import customer_or_pick, picks
from models import Customer, Reminder, Visit
from services import audit, cardtasks
from services import reminders as svc
from services.lookup import find_customers
from services.parsing import format_when

router = Router("reminders")

GONE = "这张卡片已失效。发送「待办」查看您的待办。"


@router.command("跟进", help="设置跟进提醒，到时推送卡片", example="跟进 华东精密 明天下午3点 送样品")
@picks
def followup(msg: Inbound, ctx: Ctx) -> Reply:
    ctx.args = svc.time_first(ctx.session, user=ctx.user, args=ctx.args, now=ctx.now)
    head, _, rest = ctx.args.partition(" ")
    if head and rest.strip():
        # Several customers match → the numbered list; replying "2" re-runs 跟进 on that one (as 客户 does).
        customer = customer_or_pick(ctx, head, then_command="跟进", rest=rest)
        if not find_customers(ctx.session, user=ctx.user, keyword=head, limit=1):
            ctx.args = f"#{customer.id} {rest.strip()}"  # found by the understanding step (pinyin, initials)
    created = svc.create_followup(ctx.session, user=ctx.user, args=ctx.args, now=ctx.now)
    r = created.reminder
    return Text(
        f"已设置跟进 #{r.id}：{format_when(r.due_at, now=ctx.now)} 提醒您「{r.title}」（{created.customer.name}）。\n"
        f"到时会推送提醒卡片；做完后点「已完成」或发送「完成 {r.id}」。"
    )


@router.command("待办", help="查看我的待办和等我审批的报价", example="待办", aliases=("todo",))
def todo(msg: Inbound, ctx: Ctx) -> Reply:
    todo = svc.todo_list(ctx.session, user=ctx.user, now=ctx.now)
    own: list[str] = []
    if todo.own_quotes:  # not to-dos (they wait on the approvers), but the requester may withdraw them
        own = [
            "您发起、正在审批的报价：",
            *todo.own_lines,
            f"如需修改，先发送「撤回 #{todo.own_quotes[0]}」，改好后重新「报价」。",
        ]
    if todo.empty:
        return Text("\n".join(["您目前没有待办。可以用「跟进 华东精密 明天下午3点 送样品」设置跟进提醒。", *own]))
    hints: list[str] = []
    if todo.reminders:
        hints.append("跟进做完后，点提醒卡片上的「已完成」或发送「完成 <编号>」。")
    if todo.approvals:
        hints.append("待审批的报价，请在审批卡片上点「同意」或「驳回」。")
    return Text("\n".join(["您的待办：", *todo.lines, *hints, *own]))


@router.command("完成", help="把一条待办标记为已完成", example="完成 12")
def done_by_text(msg: Inbound, ctx: Ctx) -> Reply:
    outcome = svc.complete_by_text(ctx.session, user=ctx.user, args=ctx.args, now=ctx.now)
    r = outcome.reminder
    if not outcome.changed:
        return Text(f"待办 #{r.id}「{r.title}」已经完成过了。")
    audit.record(ctx.session, actor=ctx.userid, entity="reminder", entity_id=r.id, action="done", now=ctx.now)
    return Text(f"已完成待办 #{r.id}「{r.title}」。")


def _reminder_update(ctx: Ctx, msg: Inbound, reminder: Reminder, replace_text: str, fallback: str) -> Reply:
    view = ReminderView(
        id=reminder.id,
        title=reminder.title,
        customer=svc.customer_name(ctx.session, reminder.customer_id),
        due_text=format_when(reminder.due_at, now=ctx.now),
        snooze_count=reminder.snooze_count,
        late=False,
    )
    card = reminder_card(view, replace_text=replace_text)
    card["task_id"] = msg.task_id  # update the very card that was tapped
    if not msg.response_code:
        return Text(fallback)
    return UpdateCard(card, msg.response_code, fallback_text=fallback)


def _state_text(reminder: Reminder, ctx: Ctx) -> str:
    if reminder.status == "done":
        return "已完成"
    if reminder.status == "cancelled":
        return "已取消"
    return f"已推迟至 {format_when(reminder.due_at, now=ctx.now)}"


def _reminder_tap(msg: Inbound, ctx: Ctx) -> HandlerResult:
    key = ctx.card_key
    assert key is not None
    task = cardtasks.authorise(
        ctx.session, actor=ctx.user, task_id=msg.task_id, kind=cardtasks.CardKind.REMINDER, action=key.action,
        now=ctx.now, unknown_text=GONE,
    )
    if isinstance(task, list):
        return task
    reminder = ctx.session.get(Reminder, task.ref_id)
    if reminder is None or reminder.owner_userid != ctx.userid:  # handed over (分配) since the card was sent
        return [Text(cardtasks.NOT_FOR_YOU), *cardtasks.deny(
            ctx.session, actor=ctx.user, kind=cardtasks.CardKind.REMINDER, task_id=msg.task_id, action=key.action,
            reason="not the reminder's owner", entity_id=task.ref_id, now=ctx.now,
        )]
    current = reminder_task_id(reminder.id, reminder.snooze_count)
    if reminder.status != "open" or current != task.task_id:
        return _reminder_update(ctx, msg, reminder, _state_text(reminder, ctx), f"待办 #{reminder.id} {_state_text(reminder, ctx)}。")
    if key.action == REMINDER_DONE:
        outcome = svc.complete(
            ctx.session, reminder_id=reminder.id, userid=ctx.userid, now=ctx.now, snooze_count=reminder.snooze_count
        )
    else:
        if key.arg not in svc.SNOOZE:
            return Text(GONE)
        outcome = svc.snooze(
            ctx.session,
            reminder_id=reminder.id,
            userid=ctx.userid,
            arg=key.arg,
            now=ctx.now,
            snooze_count=reminder.snooze_count,
        )
    r = outcome.reminder
    if outcome.changed:
        audit.record(
            ctx.session,
            actor=ctx.userid,
            entity="reminder",
            entity_id=r.id,
            action=outcome.action,
            now=ctx.now,
            task_id=msg.task_id,
            changes={"due_at": r.due_at.isoformat()} if outcome.action == "snooze" else None,
        )
    state = _state_text(r, ctx)
    return _reminder_update(ctx, msg, r, state, f"待办 #{r.id}「{r.title}」{state}。")


@router.card(REMINDER_DONE)
def tap_done(msg: Inbound, ctx: Ctx) -> HandlerResult:
    return _reminder_tap(msg, ctx)


@router.card(REMINDER_SNOOZE)
def tap_snooze(msg: Inbound, ctx: Ctx) -> HandlerResult:
    return _reminder_tap(msg, ctx)


@router.card(VISIT_FOLLOWUP)
def tap_visit_followup(msg: Inbound, ctx: Ctx) -> HandlerResult:
    key = ctx.card_key
    assert key is not None
    task = cardtasks.authorise(
        ctx.session, actor=ctx.user, task_id=msg.task_id, kind=cardtasks.CardKind.VISIT, action=key.action,
        now=ctx.now, unknown_text=GONE,
    )
    if isinstance(task, list):
        return task
    if key.arg not in svc.VISIT_FOLLOWUP:
        return Text(GONE)
    visit = ctx.session.get(Visit, task.ref_id)
    if visit is None:
        raise NotFound("这条拜访记录不存在了。")
    result = svc.followup_from_visit(ctx.session, user=ctx.user, visit_id=visit.id, arg=key.arg, now=ctx.now)
    r = result.reminder
    when = format_when(r.due_at, now=ctx.now)
    customer = ctx.session.scalar(select(Customer.name).where(Customer.id == visit.customer_id)) or ""
    fallback = f"已设置跟进 #{r.id}：{when}「{r.title}」。"
    if not msg.response_code:
        return Text(fallback)
    card = visit_followup_card(
        task_id=msg.task_id or task.task_id, customer=customer, summary=visit.summary, replace_text=f"已设置跟进 {when}"
    )
    return UpdateCard(card, msg.response_code, fallback_text=fallback)
