"""跟进 / 待办 / 完成, the reminder card's buttons and the visit card's follow-up buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from cards.keys import (
    REMINDER_CANCEL,
    REMINDER_DONE,
    REMINDER_SNOOZE,
    REMINDER_YEAR_CHANGE,
    REMINDER_YEAR_YES,
    VISIT_FOLLOWUP,
)
from cards.reminder import ReminderView, is_current_card, reminder_card, visit_followup_card, year_card
from chat.errors import NotFound
from chat.inbound import Inbound
from chat.replies import Card, Reply, Text, UpdateCard
from chat.router import Ctx, HandlerResult, Router
from handlers.common import customer_or_pick
from models import Customer, Reminder, ReminderStatus, Visit
from services import audit, cardtasks, reminder_create, reminder_tick
from services import reminder_changes as changes
from services.followup_time import when_of
from services.lookup import find_customers
from services.parsing import TimeParseError, format_when

router = Router("reminders")

GONE = "这张卡片已失效。发送「待办」查看您的待办。"


@router.command("跟进", help="设置跟进提醒，到时推送卡片", example="跟进 华东精密 明天下午3点 送样品")
def followup(msg: Inbound, ctx: Ctx) -> HandlerResult:
    ctx.args = reminder_create.time_first(ctx.session, user=ctx.user, args=ctx.args, now=ctx.now, tz=ctx.tz)
    head, _, rest = ctx.args.partition(" ")
    if head and rest.strip():
        # Several customers match → the numbered list; replying "2" re-runs 跟进 on that one (as 客户 does).
        customer = customer_or_pick(ctx, head, then_command="跟进", rest=rest)
        if not isinstance(customer, Customer):
            return customer  # which one: the numbered pick (or the did-you-mean card)
        if not find_customers(ctx.session, user=ctx.user, keyword=head, limit=1):
            ctx.args = f"#{customer.id} {rest.strip()}"  # found by the understanding step (pinyin, initials)
    created = reminder_create.create_followup(
        ctx.session, user=ctx.user, args=ctx.args, now=ctx.now, tz=ctx.tz, config=ctx.config
    )
    if isinstance(created, reminder_create.YearQuestion):
        return ask_year(ctx, created)
    r = created.reminder
    return Text(
        f"已设置跟进 #{r.id}：{format_when(r.due_at, now=ctx.now, tz=ctx.tz)}{'（按工作日顺延）' if created.moved else ''} "
        f"提醒您「{r.title}」（{created.customer.name}）。\n"
        f"到时会推送提醒卡片；做完后点「已完成」或发送「完成 {r.id}」，改时间发「改期 {r.id} <时间>」。"
    )


class FollowupDate(StrEnum):
    """A follow-up whose date has passed this year: 是指明年…吗？, then (改日期) the new time."""

    YEAR = "followup.year"
    REDATE = "followup.redate"


@dataclass
class FollowupDraft:
    """The follow-up not yet written (nothing is, until 是 or a new time)."""

    customer_id: int = 0
    title: str = ""
    due_at: str = ""  # ISO, the date read as next year's
    opportunity_id: int | None = None


def ask_year(ctx: Ctx, question: reminder_create.YearQuestion) -> Reply:
    """`是指明年 11月30日 吗？[是] [改日期]`: nothing is written until 是."""
    local = question.due_at.astimezone(ctx.tz)
    ctx.start_dialog(
        FollowupDate.YEAR,
        FollowupDraft(
            customer_id=question.customer.id,
            title=question.title,
            due_at=question.due_at.isoformat(),
            opportunity_id=question.opportunity_id,
        ),
    )
    return Card(
        year_card(month=local.month, day=local.day, title=question.title, customer=question.customer.name)
    )


def _year_answer(ctx: Ctx, yes: bool) -> Reply:
    asked = ctx.dialog is not None and ctx.dialog.state in (FollowupDate.YEAR, FollowupDate.REDATE)
    data = ctx.dialog_data(FollowupDraft) if asked else FollowupDraft()
    if not data.customer_id or not data.due_at:
        return Text("这个问题已失效，请重新发送「跟进 <客户> <时间> <事项>」。")
    if not yes:
        ctx.start_dialog(FollowupDate.REDATE, data)
        return Text("请回复新的跟进时间，例：下周一上午10点。发送「取消」放弃。")
    ctx.clear_dialog()
    return _create_from(ctx, data, datetime.fromisoformat(data.due_at))


def _create_from(ctx: Ctx, data: FollowupDraft, due_at: datetime) -> Reply:
    customer = ctx.session.get(Customer, data.customer_id)
    if customer is None:
        return Text("这个客户已不存在，没有设置跟进。")
    r = reminder_create.create_reminder(
        ctx.session,
        owner_userid=ctx.userid,
        title=data.title,
        due_at=due_at,
        now=ctx.now,
        customer_id=customer.id,
        opportunity_id=data.opportunity_id or None,
    )
    return Text(
        f"已设置跟进 #{r.id}：{format_when(r.due_at, now=ctx.now, tz=ctx.tz)} 提醒您「{r.title}」（{customer.name}）。"
    )


@router.card(REMINDER_YEAR_YES)
def tap_year_yes(msg: Inbound, ctx: Ctx) -> Reply:
    return _year_answer(ctx, True)


@router.card(REMINDER_YEAR_CHANGE)
def tap_year_change(msg: Inbound, ctx: Ctx) -> Reply:
    return _year_answer(ctx, False)


@router.text(state=FollowupDate.YEAR, label="设置跟进")
def year_text(msg: Inbound, ctx: Ctx) -> Reply:
    answer = ctx.args.strip()
    if answer in ("是", "是的", "对", "好"):
        return _year_answer(ctx, True)
    if answer in ("改日期", "不是", "否"):
        return _year_answer(ctx, False)
    return _redate(ctx)


@router.text(state=FollowupDate.REDATE, label="设置跟进")
def redate_text(msg: Inbound, ctx: Ctx) -> Reply:
    return _redate(ctx)


def _redate(ctx: Ctx) -> Reply:
    data = ctx.dialog_data(FollowupDraft)
    try:
        landing = when_of(ctx.args, now=ctx.now, config=ctx.config, tz=ctx.tz)
    except TimeParseError as exc:
        return Text(f"{exc.message}\n请回复新的跟进时间，或发送「取消」放弃。")
    if landing.ask_year or landing.when <= ctx.now:
        return Text(
            "这个时间已经过去了，请回复一个将来的时间（跨年请写年份，如 2027-11-30），或发送「取消」放弃。"
        )
    ctx.clear_dialog()
    return _create_from(ctx, data, landing.when)


@router.command("改期", help="修改一条待办的提醒时间", example="改期 12 下周一上午10点")
def move(msg: Inbound, ctx: Ctx) -> Reply:
    change = changes.move(
        ctx.session, user=ctx.user, args=ctx.args, now=ctx.now, tz=ctx.tz, config=ctx.config
    )
    audit.record(
        ctx.session,
        actor=ctx.userid,
        entity="reminder",
        entity_id=change.reminder.id,
        action="move",
        now=ctx.now,
        changes={"due_at": change.reminder.due_at.isoformat()},
    )
    return Text(changes.moved_text(change, now=ctx.now, tz=ctx.tz))


@router.command("删除", help="删除一条待办（不计入按时完成率）", example="删除 12")
def cancel(msg: Inbound, ctx: Ctx) -> Reply:
    change = changes.cancel_by_text(ctx.session, user=ctx.user, args=ctx.args, now=ctx.now)
    audit.record(
        ctx.session,
        actor=ctx.userid,
        entity="reminder",
        entity_id=change.reminder.id,
        action="cancel",
        now=ctx.now,
    )
    return Text(f"已删除待办 #{change.reminder.id}「{change.reminder.title}」，不会再提醒。")


@router.command("完成", help="把一条待办标记为已完成", example="完成 12")
def done_by_text(msg: Inbound, ctx: Ctx) -> Reply:
    outcome = changes.complete_by_text(ctx.session, user=ctx.user, args=ctx.args, now=ctx.now)
    r = outcome.reminder
    if not outcome.changed:
        return Text(f"待办 #{r.id}「{r.title}」已经完成过了。")
    audit.record(ctx.session, actor=ctx.userid, entity="reminder", entity_id=r.id, action="done", now=ctx.now)
    return Text(f"已完成待办 #{r.id}「{r.title}」。")


def _reminder_update(ctx: Ctx, msg: Inbound, reminder: Reminder, replace_text: str, fallback: str) -> Reply:
    view = ReminderView(
        id=reminder.id,
        title=reminder.title,
        customer=reminder_tick.customer_name(ctx.session, reminder.customer_id),
        due_text=format_when(reminder.due_at, now=ctx.now, tz=ctx.tz),
        snooze_count=reminder.snooze_count,
        late=False,
    )
    card = reminder_card(view, task_id=msg.task_id or "", replace_text=replace_text)  # the very card tapped
    if not msg.response_code:
        return Text(fallback)
    return UpdateCard(card, msg.response_code, fallback_text=fallback)


def _state_text(reminder: Reminder, ctx: Ctx) -> str:
    if reminder.status == ReminderStatus.DONE:
        return "已完成"
    if reminder.status == ReminderStatus.CANCELLED:
        return "已删除"
    return f"已推迟至 {format_when(reminder.due_at, now=ctx.now, tz=ctx.tz)}"


def _reminder_tap(msg: Inbound, ctx: Ctx) -> HandlerResult:
    key = ctx.card_key
    assert key is not None
    task = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=cardtasks.CardKind.REMINDER,
        action=key.action,
        now=ctx.now,
        unknown_text=GONE,
    )
    if isinstance(task, list):
        return task
    reminder = ctx.session.get(Reminder, task.ref_id)
    if reminder is None or reminder.owner_userid != ctx.userid:  # handed over (分配) since the card was sent
        return [
            Text(cardtasks.NOT_FOR_YOU),
            *cardtasks.deny(
                ctx.session,
                actor=ctx.user,
                kind=cardtasks.CardKind.REMINDER,
                task_id=msg.task_id,
                action=key.action,
                reason="not the reminder's owner",
                entity_id=task.ref_id,
                now=ctx.now,
            ),
        ]
    current = is_current_card(task.task_id, reminder_id=reminder.id, snooze_count=reminder.snooze_count)
    if reminder.status != ReminderStatus.OPEN or not current:
        return _reminder_update(
            ctx,
            msg,
            reminder,
            _state_text(reminder, ctx),
            f"待办 #{reminder.id} {_state_text(reminder, ctx)}。",
        )
    if key.action == REMINDER_DONE:
        outcome = changes.complete(
            ctx.session,
            reminder_id=reminder.id,
            userid=ctx.userid,
            now=ctx.now,
            snooze_count=reminder.snooze_count,
        )
    elif key.action == REMINDER_CANCEL:
        change = changes.cancel(
            ctx.session,
            user=ctx.user,
            reminder_id=reminder.id,
            now=ctx.now,
            snooze_count=reminder.snooze_count,
        )
        outcome = changes.Outcome(change.reminder, change.changed, "cancel")
    else:
        if key.arg not in changes.SNOOZE:
            return Text(GONE)
        outcome = changes.snooze(
            ctx.session,
            reminder_id=reminder.id,
            userid=ctx.userid,
            arg=key.arg,
            now=ctx.now,
            tz=ctx.tz,
            snooze_count=reminder.snooze_count,
            config=ctx.config,
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


@router.card(REMINDER_CANCEL)
def tap_cancel(msg: Inbound, ctx: Ctx) -> HandlerResult:
    return _reminder_tap(msg, ctx)


@router.card(VISIT_FOLLOWUP)
def tap_visit_followup(msg: Inbound, ctx: Ctx) -> HandlerResult:
    key = ctx.card_key
    assert key is not None
    task = cardtasks.authorise(
        ctx.session,
        actor=ctx.user,
        task_id=msg.task_id,
        kind=cardtasks.CardKind.VISIT,
        action=key.action,
        now=ctx.now,
        unknown_text=GONE,
    )
    if isinstance(task, list):
        return task
    if key.arg not in reminder_create.VISIT_FOLLOWUP:
        return Text(GONE)
    visit = ctx.session.get(Visit, task.ref_id)
    if visit is None:
        raise NotFound("这条拜访记录不存在了。")
    result = reminder_create.followup_from_visit(
        ctx.session, user=ctx.user, visit_id=visit.id, arg=key.arg, now=ctx.now, tz=ctx.tz, config=ctx.config
    )
    r = result.reminder
    when = format_when(r.due_at, now=ctx.now, tz=ctx.tz)
    customer = ctx.session.scalar(select(Customer.name).where(Customer.id == visit.customer_id)) or ""
    fallback = (
        f"已设置跟进 #{r.id}：{when}「{r.title}」。"
        if result.created
        else f"这张卡片已设置过跟进 #{r.id}：{when}「{r.title}」，没有重复设置。如需改时间，请在待办中推迟。"
    )
    if not msg.response_code:
        return Text(fallback)
    card = visit_followup_card(
        task_id=msg.task_id or task.task_id,
        customer=customer,
        summary=visit.summary,
        replace_text=f"已设置跟进 {when}",
    )
    return UpdateCard(card, msg.response_code, fallback_text=fallback)
