"""Writing replies to the transactional outbox: rows written in the handler's (or job's) transaction, with
the effect they report, each under a natural dedup key; `bot/outbox.py` delivers them after commit.

Also here: the single-use response code a sent card got back, found from its task (`card_send_code`).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.replies import Card, Image, Markdown, Reply, Text, UpdateCard
from models import CardTask, OutboxMessage, OutboxStatus, Role, User
from models.db import insert_for
from services import escape

log = logging.getLogger("salesbot.outbox")

MAX_CONTENT_BYTES = 2048


def split_content(content: str, limit: int = MAX_CONTENT_BYTES) -> list[str]:
    """Split text/markdown at paragraph, then line, boundaries so each part fits WeCom's byte limit."""
    if len(content.encode("utf-8")) <= limit:
        return [content]
    parts: list[str] = []
    current = ""
    for line in content.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode("utf-8")) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(line.encode("utf-8")) > limit:  # one overlong line: cut on characters
            cut = len(line)
            while len(line[:cut].encode("utf-8")) > limit:
                cut -= 1
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        parts.append(current)
    return parts


def payloads_for(reply: Reply) -> list[tuple[str, dict[str, Any]]]:
    """(kind, payload) rows for one reply; long text and markdown become several messages."""
    if isinstance(reply, Text):
        # The bot's own text never holds markup, so the whole message is escaped: a name or note someone typed
        # can never become a live <a href> in another person's chat (issue 16 #7).
        content = escape.text(reply.content)
        return [("text", {"msgtype": "text", "text": {"content": part}}) for part in split_content(content)]
    if isinstance(reply, Markdown):
        return [
            ("markdown", {"msgtype": "markdown", "markdown": {"content": part}})
            for part in split_content(reply.content)
        ]
    if isinstance(reply, Card):
        return [("card", {"msgtype": "template_card", "template_card": reply.card})]
    if isinstance(reply, UpdateCard):
        return [
            (
                "update_card",
                {
                    "response_code": reply.response_code,
                    "template_card": reply.card,
                    "fallback_text": escape.text(reply.fallback_text)
                    if reply.fallback_text
                    else reply.fallback_text,
                },
            )
        ]
    if isinstance(reply, Image):
        return [("image", {"png_b64": base64.b64encode(reply.png).decode(), "filename": reply.filename})]
    raise TypeError(f"unknown reply type {type(reply).__name__}")


def enqueue(session: Session, *, reply: Reply, recipient: str, dedup_key: str, now: datetime) -> int:
    """Write the reply's rows; a row whose key exists already is skipped. Returns how many rows were new."""
    return enqueue_rows(session, rows=payloads_for(reply), recipient=recipient, dedup_key=dedup_key, now=now)


def enqueue_rows(
    session: Session,
    *,
    rows: list[tuple[str, dict[str, Any]]] | list[list[Any]],
    recipient: str,
    dedup_key: str,
    now: datetime,
) -> int:
    """Write prepared (kind, payload) rows (`payloads_for`), each once per key (services/pushes.py keeps
    an event's rows so a held one can be handed over later)."""
    created = 0
    for index, (kind, payload) in enumerate(rows):
        key = dedup_key if len(rows) == 1 else f"{dedup_key}#{index + 1}"
        stmt = (
            insert_for(session)(OutboxMessage)
            .values(
                dedup_key=key[:512],
                recipient=recipient,
                kind=kind,
                payload=payload,
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(OutboxMessage.id)
        )
        # rowcount is -1 on PostgreSQL for ON CONFLICT DO NOTHING; RETURNING tells the truth on both.
        created += 1 if session.execute(stmt).scalar() is not None else 0
    return created


def enqueue_all(
    session: Session, *, replies: Iterable[Reply], default_recipient: str, key_prefix: str, now: datetime
) -> int:
    total = 0
    for index, reply in enumerate(replies):
        total += enqueue(
            session,
            reply=reply,
            recipient=reply.to or default_recipient,
            dedup_key=f"{key_prefix}:{index}",
            now=now,
        )
    return total


def alert_admins(session: Session, *, key: str, text: str, now: datetime) -> int:
    """Send an operational alert to every active admin, once per key."""
    admins = session.scalars(select(User.userid).where(User.role == Role.ADMIN, User.active.is_(True))).all()
    log.warning("alert %s", key)
    return sum(
        enqueue(
            session, reply=Text(f"【告警】{text}"), recipient=admin, dedup_key=f"alert:{key}:{admin}", now=now
        )
        for admin in admins
    )


def card_send_code(session: Session, *, task: CardTask) -> OutboxMessage | None:
    """The outbox row that sent this card, if the (single-use) response_code its send returned is still unused.

    The caller takes the code by setting the row's `response_code` to None in the same transaction.
    """
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.recipient == task.recipient,
            OutboxMessage.kind == "card",
            OutboxMessage.response_code.is_not(None),
            OutboxMessage.created_at >= task.created_at - timedelta(minutes=1),
        )
        .order_by(OutboxMessage.id)
    )
    for row in rows:
        if (row.payload or {}).get("template_card", {}).get("task_id") == task.task_id:
            return row
    return None
