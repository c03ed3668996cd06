"""`jobs run digest`: each 销售主管 and the 总经理 get their morning digest, each rep with follow-ups due
today a short to-do list — exactly once per person per day.

The job acts only between config.digest.send_time (08:30 + jitter) and config.digest.catch_up_until (12:00)
local time (the configured zone, Settings.salesbot_timezone): the in-process schedule fires at the send time and again every 15 minutes, so a digest missed
while the server was down goes out on restart until noon, and never after (no stale digest in the afternoon).
Each person is claimed with a unique JobOccurrence row (insert ... on conflict do nothing) in the same
transaction as the outbox rows, so reruns, restarts and replicas send nothing twice. The managers' digests
are built together first, from one set of aggregate queries (services/digest.build_digests), for those not
yet claimed today; the claims then go one manager at a time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, literal, select
from sqlalchemy.orm import Session

from chat.replies import Reply, Text
from models import Customer, JobOccurrence, Reminder, ReminderStatus, User
from schedulers.base import JobEnv, claim_occurrence
from services import pushes, roles
from services.config import BusinessConfig
from services.digest import build_digest, build_digests, view_replies
from services.digest_view import DigestView
from services.indicators import local_midnight

log = logging.getLogger("salesbot.jobs.digest")

TODO_MAX = 10


def pending_views(
    session: Session, *, config: BusinessConfig, now: datetime, tz: ZoneInfo, day: str
) -> tuple[list[str], int, dict[str, DigestView]]:
    """(managers still without today's digest, how many already have it, their views built at once).

    One set of GROUP BY queries for all of them (services/digest.build_digests) instead of a set per manager;
    the views are {} when that failed, and each manager's digest is then built on its own."""
    claimed = (
        exists()
        .where(JobOccurrence.job == "digest", JobOccurrence.occurrence == literal(f"{day}:") + User.userid)
        .label("claimed")
    )
    rows = session.execute(
        select(User, claimed)
        .where(User.role.in_(roles.DIGEST_RECIPIENTS), User.active.is_(True))
        .order_by(User.userid)
    ).all()
    pending = [manager for manager, done in rows if not done]
    views: dict[str, DigestView] = {}
    if pending:
        try:
            views = build_digests(session, managers=pending, config=config, now=now, tz=tz)
        except Exception:  # e.g. one bad row: fall back to one digest at a time, so the others still go out
            log.exception("building all digests at once failed; building them one by one")
            session.rollback()
    return [m.userid for m in pending], len(rows) - len(pending), views


def run(env: JobEnv, now: datetime) -> str:
    cfg = env.config.digest
    tz = env.settings.tz
    local = now.astimezone(tz)
    if not (cfg.send_time <= local.time() < cfg.catch_up_until):
        return (
            f"digest: outside {cfg.send_time:%H:%M}–{cfg.catch_up_until:%H:%M} ({local:%H:%M}), nothing sent"
        )
    day = local.date().isoformat()

    with env.session_factory() as session:
        managers, skipped, views = pending_views(session, config=env.config, now=now, tz=tz, day=day)
    sent = failed = 0
    for userid in managers:
        try:
            with env.session_factory() as session, session.begin():
                if not claim_occurrence(session, job="digest", occurrence=f"{day}:{userid}", now=now):
                    skipped += 1  # another replica got there first
                    continue
                view = views.get(userid)
                if view is None:
                    manager = session.scalars(select(User).where(User.userid == userid)).one()
                    view = build_digest(session, manager=manager, config=env.config, now=now, tz=tz)
                pushes.push(
                    session,
                    to=userid,
                    kind="digest",
                    priority=pushes.Priority.APPROVAL,
                    reply=view_replies(view),
                    line=f"{day} 日报",
                    key=f"digest:{day}:{userid}",
                    now=now,
                    tz=tz,
                    config=env.config.pushes,
                )
                sent += 1
        except Exception:  # one broken digest must not stop the others; the claim rolled back, so it retries
            log.exception("digest for %s failed", userid)
            failed += 1

    todos = _send_todos(env, now=now, day=day)
    return f"digest: sent {sent}, already sent {skipped}, failed {failed}; to-do lists {todos}"


def _send_todos(env: JobEnv, *, now: datetime, day: str) -> int:
    """Each rep with open follow-ups due today gets one short list (one query for all reps)."""
    tz = env.settings.tz
    start = local_midnight(now.astimezone(tz).date(), tz)
    end = start + timedelta(days=1)
    with env.session_factory() as session:
        rows = session.execute(
            select(Reminder.owner_userid, Reminder.title, Reminder.due_at, Customer.name)
            .join(User, User.userid == Reminder.owner_userid)
            .outerjoin(Customer, Customer.id == Reminder.customer_id)
            .where(
                Reminder.status == ReminderStatus.OPEN,
                Reminder.due_at >= start,
                Reminder.due_at < end,
                User.role == roles.Role.REP,
                User.active.is_(True),
            )
            .order_by(Reminder.owner_userid, Reminder.due_at, Reminder.id)
        ).all()
    by_owner: dict[str, list[str]] = {}
    for owner, title, due_at, customer in rows:
        who = f"【{customer}】" if customer else ""
        by_owner.setdefault(owner, []).append(f"{due_at.astimezone(tz):%H:%M} {who}{title}")
    sent = 0
    for owner, items in by_owner.items():
        with env.session_factory() as session, session.begin():
            if not claim_occurrence(session, job="digest", occurrence=f"todo:{day}:{owner}", now=now):
                continue
            lines = [f"今日待办（{len(items)} 项）："]
            lines += [f"{i}. {item}" for i, item in enumerate(items[:TODO_MAX], 1)]
            if len(items) > TODO_MAX:
                lines.append(f"……另有 {len(items) - TODO_MAX} 项")
            # This list is itself a push: it lists what was held but hands over no further messages (held
            # approval cards and digests wait for the 待办 the rep asks for).
            held = pushes.release(session, userid=owner, now=now, hand_over=False)
            if held.lines:
                lines.append(f"此前未单独推送的消息（{len(held.lines)} 条）：")
                lines += [f"· {line}" for line in held.lines]
            if held.waiting:
                lines.append(f"另有 {held.waiting} 条待审批报价或日报，发送「待办」查看。")
            lines.append("发送「待办」查看全部并处理。")
            replies: list[Reply] = [Text("\n".join(lines))]
            pushes.push(
                session,
                to=owner,
                kind="todo",
                priority=pushes.Priority.APPROVAL,
                reply=replies,
                line="今日待办",
                key=f"todo:{day}:{owner}",
                now=now,
                tz=tz,
                config=env.config.pushes,
            )
            sent += 1
    return sent
