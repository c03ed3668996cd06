"""The one home of every push: messages the bot sends a person on its own initiative.

Every scheduler and every "tell somebody else" path calls `push` / `push_all` instead of writing to the
outbox directly. Here the per-person daily budget is applied (default 5), with priorities (an approval
waiting on you > your overdue follow-up > progress news); several events for one person in one call become
one message; what does not fit is held and shown in the person's next 待办 — never dropped.

A reply to what the person just did (`replies=True`) goes out at once and does not count.

Everything is written in the caller's transaction (the outbox rows and the `pushes` ledger), so the push
commits with its effect. Exactly-once across replicas: each event has a natural `key` (unique in the
ledger) and each counted message takes a numbered slot of the day with an insert that conflicts when another
replica took that slot first (unique recipient, day, slot); no lock, no read-then-write race.
See docs/pushes.md.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cards.pushes import approval_batch_card, collection_batch_card, fitting, folded_card
from chat.outbox import enqueue, enqueue_rows, payloads_for
from chat.replies import Card, Image, Markdown, Reply, Text, UpdateCard
from models import Push, PushStatus
from models.db import insert_for
from services.config import PushesConfig

# Kinds whose cards 待办 hands over when they were folded or held: their buttons do the work (同意 / 驳回; the
# due-day card's 已回款 · 客户承诺日期 · 需要开票).
HANDED_OVER = frozenset({"approval", "collection"})
APPROVAL_TASK = re.compile(r"^q\d+s\d+")  # cards.approval.task_id_for: the approval card and its copies
ESCALATION_TASK = re.compile(r"^esc[0-9a-f]{24}$")  # cards.escalation.escalation_task_id: 查看客户 · 已协助


class Priority(IntEnum):
    APPROVAL = 1  # an approval waiting on you (also: the daily digest and morning 待办, which fold the rest)
    FOLLOWUP = 2  # your follow-up due or overdue; your team's overdue follow-ups
    PROGRESS = 3  # progress news: a step approved, a customer handed over, ...


@dataclass(frozen=True)
class Event:
    """One thing to tell `to`. `key` is natural (the same cause gives the same key); `line` is the event
    in one short line, used when it is folded with others or held for 待办."""

    to: str
    kind: str
    priority: Priority
    reply: Reply | Sequence[Reply]
    line: str
    key: str

    @property
    def replies(self) -> list[Reply]:
        return [self.reply] if not isinstance(self.reply, Sequence) else list(self.reply)


@dataclass
class Delivery:
    """What happened to one recipient's events: sent alone, sent folded in one message, or held."""

    sent: list[Event] = field(default_factory=list)
    folded: list[Event] = field(default_factory=list)
    held: list[Event] = field(default_factory=list)
    duplicates: int = 0

    @property
    def messages(self) -> int:
        return 1 if self.sent or self.folded else 0


def local_day(now: datetime, tz: ZoneInfo) -> date:
    """The recipient's day the budget counts in: local in the configured zone."""
    return now.astimezone(tz).date()


def push(
    session: Session,
    *,
    to: str,
    kind: str,
    priority: Priority,
    reply: Reply | Sequence[Reply],
    line: str,
    key: str,
    now: datetime,
    tz: ZoneInfo,
    config: PushesConfig,
    replies: bool = False,
) -> Delivery:
    """Push one event to one person (see `push_all`)."""
    event = Event(to=to, kind=kind, priority=priority, reply=reply, line=line, key=key)
    return push_all(session, [event], now=now, tz=tz, config=config, replies=replies).get(to, Delivery())


def push_all(
    session: Session,
    events: Iterable[Event],
    *,
    now: datetime,
    tz: ZoneInfo,
    config: PushesConfig,
    replies: bool = False,
) -> dict[str, Delivery]:
    """Push events, grouped by recipient: one message per recipient (the event's own when alone, else one
    folded message listing them by priority), if the day's budget has a slot the group's most urgent
    priority may use; otherwise everything is held for the recipient's next 待办."""
    by_person: dict[str, list[Event]] = {}
    for event in events:
        by_person.setdefault(event.to, []).append(event)
    out: dict[str, Delivery] = {}
    for person, group in by_person.items():
        if replies:
            out[person] = _reply(session, group, now=now)
        else:
            out[person] = _push_person(session, person, group, now=now, tz=tz, config=config)
    return out


def notice(reply: Reply, *, to: str, key: str) -> Event:
    """A handler's message to somebody other than the sender, as a push: a card to approve is an approval
    waiting on them; anything else (a step's outcome, a handover, a delegation) is progress news."""
    if isinstance(reply, Card) and APPROVAL_TASK.match(str(reply.card.get("task_id", ""))):
        return Event(
            to=to, kind="approval", priority=Priority.APPROVAL, reply=reply, line=_line_of(reply), key=key
        )
    return Event(
        to=to, kind="progress", priority=Priority.PROGRESS, reply=reply, line=_line_of(reply), key=key
    )


def _line_of(reply: Reply) -> str:
    if isinstance(reply, Text | Markdown):
        first = reply.content.strip().split("\n", 1)[0]
    elif isinstance(reply, Card):
        title = reply.card.get("main_title", {})
        first = " ".join(x for x in (title.get("title", ""), title.get("desc", "")) if x)
        sub = str(reply.card.get("sub_title_text", "")).split("\n", 1)[0]
        items = " ".join(
            f"{i.get('keyname')}:{i.get('value')}" for i in reply.card.get("horizontal_content_list", [])[:3]
        )
        first = f"{first} {sub or items}".strip()
    else:
        first = "新消息"
    return first if len(first) <= 60 else first[:59] + "…"


def push_to_others(
    session: Session,
    *,
    replies: list[Reply],
    sender: str,
    key_prefix: str,
    now: datetime,
    tz: ZoneInfo,
    config: PushesConfig,
) -> list[Reply]:
    """What a handler returned: messages to other people become pushes (budget, folding); what one handled
    message tells one other person is one event (a delegation notice and its card go together). Returns the
    replies to the sender and card updates (no new message), which the caller writes as answers (not counted).
    """
    answers: list[Reply] = []
    others: dict[str, list[tuple[int, Reply]]] = {}
    for index, reply in enumerate(replies):
        to = reply.to or sender
        if to == sender or isinstance(reply, UpdateCard):
            answers.append(reply)
        else:
            others.setdefault(to, []).append((index, reply))
    events: list[Event] = []
    for to, items in others.items():
        parts = [notice(reply, to=to, key=f"{key_prefix}:{index}") for index, reply in items]
        lead = min(parts, key=lambda e: e.priority)
        events.append(
            Event(
                to=to,
                kind=lead.kind,
                priority=lead.priority,
                reply=[r for _, r in items],
                line=lead.line,
                key=parts[0].key,
            )
        )
    push_all(session, events, now=now, tz=tz, config=config)
    return answers


def _reply(session: Session, group: list[Event], *, now: datetime) -> Delivery:
    delivery = Delivery()
    for event in group:
        for index, reply in enumerate(event.replies):
            enqueue(session, reply=reply, recipient=event.to, dedup_key=f"push:{event.key}:{index}", now=now)
        delivery.sent.append(event)
    return delivery


def _known(session: Session, keys: list[str]) -> set[str]:
    return set(session.scalars(select(Push.dedup_key).where(Push.dedup_key.in_(keys)))) if keys else set()


def _rows(event: Event) -> dict[str, Any]:
    return {"rows": [[kind, payload] for reply in event.replies for kind, payload in payloads_for(reply)]}


def _insert(
    session: Session, event: Event, *, day: date, slot: int | None, status: PushStatus, now: datetime
) -> bool:
    """Write the ledger row; False when its key (or, with a slot, that slot) is already taken."""
    inserted = session.execute(
        insert_for(session)(Push)
        .values(
            dedup_key=event.key[:512],
            recipient=event.to,
            day=day,
            slot=slot,
            kind=event.kind,
            priority=int(event.priority),
            status=status,
            line=event.line,
            payload=_rows(event),
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(Push.id)
    ).scalar()
    return inserted is not None


def used_today(session: Session, *, userid: str, now: datetime, tz: ZoneInfo) -> int:
    """How many counted messages `userid` got today."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Push)
            .where(Push.recipient == userid, Push.day == local_day(now, tz), Push.slot.is_not(None))
        )
        or 0
    )


def _take_slot(
    session: Session, lead: Event, *, day: date, cap: int, now: datetime, status: PushStatus
) -> bool | None:
    """Insert `lead` on the next free slot ≤ cap. True: got one; False: budget used up; None: a duplicate."""
    used = session.scalar(select(func.max(Push.slot)).where(Push.recipient == lead.to, Push.day == day)) or 0
    for slot in range(used + 1, cap + 1):
        if _insert(session, lead, day=day, slot=slot, status=status, now=now):
            return True
        if _known(session, [lead.key]):  # another replica pushed this very event
            return None
    return False


def _push_person(
    session: Session, person: str, group: list[Event], *, now: datetime, tz: ZoneInfo, config: PushesConfig
) -> Delivery:
    delivery = Delivery()
    known = _known(session, [e.key for e in group])
    fresh: list[Event] = []
    for event in group:
        if event.key in known or any(e.key == event.key for e in fresh):
            delivery.duplicates += 1
        else:
            fresh.append(event)
    if not fresh:
        return delivery
    fresh.sort(key=lambda e: e.priority)
    day = local_day(now, tz)
    lead = fresh[0]
    alone = len(fresh) == 1
    got = _take_slot(
        session,
        lead,
        day=day,
        cap=config.cap(lead.priority),
        now=now,
        status=PushStatus.SENT if alone else PushStatus.FOLDED,
    )
    if got is None:
        delivery.duplicates += 1
        fresh = fresh[1:]
        return (
            _merge(delivery, _push_person(session, person, fresh, now=now, tz=tz, config=config))
            if fresh
            else delivery
        )
    if not got:
        return _hold_all(session, fresh, delivery, day=day, now=now)
    if alone:
        rows = _rows(lead)["rows"]
        if not _take_parts(
            session, lead, parts=_cost(lead, rows) - 1, day=day, cap=config.cap(lead.priority), now=now
        ):
            return _hold_all(session, fresh, delivery, day=day, now=now)
        enqueue_rows(session, rows=rows, recipient=person, dedup_key=f"push:{lead.key}", now=now)
        delivery.sent.append(lead)
        return delivery
    fits = fitting([e.line for e in fresh])
    folded = [lead]
    for index, event in enumerate(fresh[1:], start=1):
        status = (
            PushStatus.FOLDED if index < fits else PushStatus.HELD
        )  # beyond the card's text: listed in 待办
        if not _insert(session, event, day=day, slot=None, status=status, now=now):
            delivery.duplicates += 1
        elif status == PushStatus.FOLDED:
            folded.append(event)
        else:
            delivery.held.append(event)
    card = _batch_card(folded, task_id=f"fold{_ledger_id(session, lead.key)}", more=len(delivery.held))
    enqueue(session, reply=Card(card), recipient=person, dedup_key=f"push:{lead.key}:fold", now=now)
    delivery.folded.extend(folded)
    return delivery


def _batch_card(folded: list[Event], *, task_id: str, more: int) -> dict[str, Any]:
    """The one message for several events: events of one kind get that kind's list (the approvals waiting on
    you with the first one's 同意 / 驳回 and 全部待批; the collections with 回款 hints and 查看待办); a mix of
    kinds the generic folded card."""
    lines = [e.line for e in folded]
    kinds = {e.kind for e in folded}
    if kinds == {"approval"}:
        first = next(
            (
                r.card
                for r in folded[0].replies
                if isinstance(r, Card) and APPROVAL_TASK.match(str(r.card.get("task_id", "")))
            ),
            None,
        )
        if first is not None:
            return approval_batch_card(first, lines, more=more)
    if kinds == {"collection"}:
        return collection_batch_card(lines, task_id=task_id, more=more)
    return folded_card(lines, task_id=task_id, more=more)


def _cost(event: Event, rows: list[Any]) -> int:
    """How many of the day's slots a message takes: one per WeCom message it sends, so the ledger counts what
    is really sent. A digest (its text and its chart) is one push by design (docs/pushes.md)."""
    return 1 if event.kind == "digest" else max(len(rows), 1)


def _take_parts(session: Session, lead: Event, *, parts: int, day: date, cap: int, now: datetime) -> bool:
    """The further slots of a message of several parts (ledger rows `<key>#<n>`, status `part`); when the
    budget has no room for all of them, the lead's own row is taken back and False returned."""
    if parts <= 0:
        return True
    taken: list[str] = []
    for n in range(1, parts + 1):
        part = Event(
            to=lead.to,
            kind=lead.kind,
            priority=lead.priority,
            reply=[],
            line=lead.line,
            key=f"{lead.key}#{n}",
        )
        if not _take_slot(session, part, day=day, cap=cap, now=now, status=PushStatus.PART):
            session.execute(
                delete(Push)
                .where(Push.dedup_key.in_([lead.key[:512], *taken]))
                .execution_options(synchronize_session=False)
            )
            return False
        taken.append(part.key[:512])
    return True


def _hold_all(
    session: Session, events: list[Event], delivery: Delivery, *, day: date, now: datetime
) -> Delivery:
    for event in events:
        if _insert(session, event, day=day, slot=None, status=PushStatus.HELD, now=now):
            delivery.held.append(event)
        else:
            delivery.duplicates += 1
    return delivery


def _merge(first: Delivery, second: Delivery) -> Delivery:
    first.sent += second.sent
    first.folded += second.folded
    first.held += second.held
    first.duplicates += second.duplicates
    return first


def _ledger_id(session: Session, key: str) -> int:
    return session.scalar(select(Push.id).where(Push.dedup_key == key[:512])) or 0


# --- what 待办 shows of held and folded events -------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """Events not yet seen as their own message: `lines` to list, `cards` to hand over with the reply
    (an approval card that was held or folded is still needed to approve)."""

    lines: list[str]
    cards: list[tuple[str, dict[str, Any]]]
    waiting: int = 0  # rows with messages to hand over, left for the next 待办 (hand_over=False)


def _escalation_card(payload: dict[str, Any]) -> bool:
    return bool(ESCALATION_TASK.match(str((payload.get("template_card") or {}).get("task_id", ""))))


def release(session: Session, *, userid: str, now: datetime, hand_over: bool = True) -> Pending:
    """For 待办: the held lines, and what must be handed over as messages — the cards of held or folded
    approval and collection events (their buttons do the work) and a held digest itself (its line alone opens nothing). Marks
    them released so each is shown once.

    `hand_over=False` (the morning to-do push, itself a push: it may not add messages) lists and releases
    only what is a line; the rows to hand over stay for the next 待办 and are counted in `waiting`."""
    rows = list(
        session.scalars(
            select(Push)
            .where(Push.recipient == userid, Push.status.in_((PushStatus.HELD, PushStatus.FOLDED)))
            .order_by(Push.priority, Push.id)
        )
    )

    def handed(row: Push) -> list[tuple[str, dict[str, Any]]]:
        found = [tuple(r) for r in (row.payload or {}).get("rows", [])]
        if row.kind in HANDED_OVER:
            return [(k, p) for k, p in found if k == "card"]
        if any(k == "card" and _escalation_card(p) for k, p in found):  # 查看客户 · 已协助 still to tap
            return [(k, p) for k, p in found if k == "card" and _escalation_card(p)]
        if row.kind == "digest" and row.status == PushStatus.HELD:
            return list(found)
        return []

    waiting = [row for row in rows if handed(row)] if not hand_over else []
    chosen = [row for row in rows if row not in waiting]
    lines = [
        row.line
        for row in chosen
        if row.status == PushStatus.HELD and not (row.kind == "digest" and hand_over)
    ]
    cards = [part for row in chosen for part in handed(row)]
    if chosen:
        session.execute(
            update(Push)
            .where(Push.id.in_([r.id for r in chosen]), Push.status.in_((PushStatus.HELD, PushStatus.FOLDED)))
            .values(status=PushStatus.RELEASED, released_at=now)
            .execution_options(synchronize_session=False)
        )
    return Pending(lines, cards, waiting=len(waiting))


def pending_replies(pending: Pending) -> list[Reply]:
    """The handed-over rows of `release` as replies (cards, a digest's text, markdown and chart)."""
    out: list[Reply] = []
    for kind, payload in pending.cards:
        if kind == "card":
            out.append(Card(payload["template_card"]))
        elif kind == "text":
            out.append(Text(payload["text"]["content"]))  # escaped already; escaping again changes nothing
        elif kind == "markdown":
            out.append(Markdown(payload["markdown"]["content"]))
        elif kind == "image":
            out.append(
                Image(base64.b64decode(payload["png_b64"]), filename=payload.get("filename", "chart.png"))
            )
    return out


__all__ = [
    "Delivery",
    "Event",
    "Pending",
    "Priority",
    "local_day",
    "pending_replies",
    "push_to_others",
    "notice",
    "push",
    "push_all",
    "release",
    "used_today",
]
