"""Changing a reminder: completing (`完成 <编号>`, the card's 完成), snoozing (推迟1天 / 推迟1周), moving
(`改期 <编号> <时间>`) and cancelling (`删除 <编号>`, the card's 删除 button).

A card's tap acts only on the version that card showed (``snooze_count``); a stale tap changes nothing. A move
keeps the reminder open with a new due time (a new card version: the old card goes stale); a cancellation sets
status 'cancelled', which 关键节点按时完成率 leaves out (services/reminder_escalation.on_time_rate). Neither
counts as done. Only the sender's own open reminders; others' look missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from chat.errors import DomainError, NotFound
from models import Reminder, ReminderStatus, User
from models.db import affected
from services.config import BusinessConfig
from services.followup_time import on_working_time, when_of
from services.parsing import TimeParseError, format_when
from services.parsing.text import normalize_text

DONE_USAGE = "用法：完成 <待办编号>\n例：完成 12（编号见「待办」或提醒卡片）"
SNOOZE = {"1d": timedelta(days=1), "1w": timedelta(weeks=1)}
SNOOZE_LABELS = {"1d": "推迟1天", "1w": "推迟1周"}


@dataclass(frozen=True)
class Outcome:
    reminder: Reminder
    changed: bool  # False: stale (already done, cancelled or snoozed since that card was sent)
    action: str  # done | snooze


def _load(session: Session, reminder_id: int) -> Reminder | None:
    return session.scalar(
        select(Reminder).where(Reminder.id == reminder_id).execution_options(populate_existing=True)
    )


def complete(
    session: Session, *, reminder_id: int, userid: str, now: datetime, snooze_count: int | None = None
) -> Outcome:
    """Mark done if still open (and, from a card, still the version that card showed)."""
    conditions = [
        Reminder.id == reminder_id,
        Reminder.owner_userid == userid,
        Reminder.status == ReminderStatus.OPEN,
    ]
    if snooze_count is not None:
        conditions.append(Reminder.snooze_count == snooze_count)
    result = session.execute(
        update(Reminder)
        .where(*conditions)
        .values(status=ReminderStatus.DONE, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    reminder = _load(session, reminder_id)
    if reminder is None:
        raise NotFound("没有找到这条待办。")
    return Outcome(reminder, bool(affected(result)), "done")


def snooze(
    session: Session,
    *,
    reminder_id: int,
    userid: str,
    arg: str,
    now: datetime,
    tz: ZoneInfo,
    snooze_count: int,
    config: BusinessConfig | None = None,
) -> Outcome:
    """Move the due time by 1 day / 1 week (from the later of due_at and now, so a late tap cannot
    produce a due time already in the past), clear notified_at so the tick sends a new card."""
    if arg not in SNOOZE:
        raise DomainError("这个按钮已失效。")
    reminder = _load(session, reminder_id)
    if reminder is None or reminder.owner_userid != userid:
        raise NotFound("没有找到这条待办。")
    if reminder.status != ReminderStatus.OPEN or reminder.snooze_count != snooze_count:
        return Outcome(reminder, False, "snooze")
    new_due = max(reminder.due_at, now) + SNOOZE[arg]
    if config is not None and config.reminders.working_time_only:
        new_due = on_working_time(new_due, config, keep_clock=True, tz=tz)  # 推迟1天 on a Friday: Monday
    result = session.execute(
        update(Reminder)
        .where(
            Reminder.id == reminder_id,
            Reminder.status == ReminderStatus.OPEN,
            Reminder.snooze_count == snooze_count,
        )
        .values(due_at=new_due, notified_at=None, notified_late=False, snooze_count=snooze_count + 1)
        .execution_options(synchronize_session=False)
    )
    reminder = _load(session, reminder_id)
    assert reminder is not None
    return Outcome(reminder, bool(affected(result)), "snooze")


def complete_by_text(session: Session, *, user: User, args: str, now: datetime) -> Outcome:
    """`完成 <编号>`: only the sender's own reminders (others' look missing)."""
    number = _ID.match(normalize_text(args))
    if not number:
        raise DomainError(DONE_USAGE)
    rid = int(number.group(1))
    reminder = session.scalar(
        select(Reminder).where(Reminder.id == rid, Reminder.owner_userid == user.userid)
    )
    if reminder is None or reminder.status == ReminderStatus.CANCELLED:
        raise NotFound(f"没有找到待办 #{rid}。发送「待办」查看您的待办和编号。")
    return complete(session, reminder_id=rid, userid=user.userid, now=now)


MOVE_USAGE = "用法：改期 <待办编号> <时间>\n例：改期 12 下周一上午10点"
CANCEL_USAGE = "用法：删除 <待办编号>\n例：删除 12（编号见「待办」或提醒卡片）"
_ID = re.compile(r"^[#＃]?(\d{1,9})$")


@dataclass(frozen=True)
class Change:
    reminder: Reminder
    changed: bool


def _own_open(session: Session, *, user: User, token: str, usage: str) -> Reminder:
    match = _ID.match(token)
    if not match:
        raise DomainError(usage)
    rid = int(match.group(1))
    reminder = session.scalar(
        select(Reminder)
        .where(Reminder.id == rid, Reminder.owner_userid == user.userid)
        .execution_options(populate_existing=True)
    )
    if reminder is None or reminder.status == ReminderStatus.CANCELLED:
        raise NotFound(f"没有找到待办 #{rid}。发送「待办」查看您的待办和编号。")
    if reminder.status == ReminderStatus.DONE:
        raise DomainError(f"待办 #{rid}「{reminder.title}」已经完成，不需要改期或删除。")
    return reminder


def move(
    session: Session, *, user: User, args: str, now: datetime, tz: ZoneInfo, config: BusinessConfig
) -> Change:
    """`改期 <编号> <时间>`: a future time (relative ones land on working time); a past one is refused."""
    token, _, when_text = normalize_text(args).partition(" ")
    if not token or not when_text.strip():
        raise DomainError(MOVE_USAGE)
    reminder = _own_open(session, user=user, token=token, usage=MOVE_USAGE)
    try:
        landing = when_of(when_text, now=now, config=config, tz=tz)
    except TimeParseError as exc:
        raise DomainError(f"{exc.message}\n{MOVE_USAGE}") from None
    if landing.ask_year or landing.when <= now:
        raise DomainError(
            f"「{when_text.strip()}」已经过去了，没有改期。请写一个将来的时间（跨年请写年份，如 2027-11-30）。\n{MOVE_USAGE}"
        )
    return reschedule(session, reminder=reminder, due_at=landing.when)


def reschedule(session: Session, *, reminder: Reminder, due_at: datetime) -> Change:
    version = reminder.snooze_count
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Reminder)
            .where(
                Reminder.id == reminder.id,
                Reminder.status == ReminderStatus.OPEN,
                Reminder.snooze_count == version,
            )
            .values(due_at=due_at, notified_at=None, notified_late=False, snooze_count=version + 1)
            .execution_options(synchronize_session=False)
        ),
    )
    session.refresh(reminder)
    return Change(reminder, bool(result.rowcount))


def cancel(
    session: Session, *, user: User, reminder_id: int, now: datetime, snooze_count: int | None = None
) -> Change:
    """Cancel an open reminder of `user` (from a card: only the version that card showed)."""
    conditions = [
        Reminder.id == reminder_id,
        Reminder.owner_userid == user.userid,
        Reminder.status == ReminderStatus.OPEN,
    ]
    if snooze_count is not None:
        conditions.append(Reminder.snooze_count == snooze_count)
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Reminder)
            .where(*conditions)
            .values(status=ReminderStatus.CANCELLED)
            .execution_options(synchronize_session=False)
        ),
    )
    reminder = _load(session, reminder_id)
    if reminder is None or reminder.owner_userid != user.userid:
        raise NotFound("没有找到这条待办。")
    return Change(reminder, bool(result.rowcount))


def cancel_by_text(session: Session, *, user: User, args: str, now: datetime) -> Change:
    reminder = _own_open(session, user=user, token=normalize_text(args), usage=CANCEL_USAGE)
    return cancel(session, user=user, reminder_id=reminder.id, now=now)


def moved_text(change: Change, *, now: datetime, tz: ZoneInfo) -> str:
    r = change.reminder
    return f"已把待办 #{r.id}「{r.title}」改到 {format_when(r.due_at, now=now, tz=tz)}，到时提醒您。"
