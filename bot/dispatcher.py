"""Accepting and handling one callback.

`accept_many` is the request path: a single INSERT whose unique key deduplicates WeCom's retries. `process_pending`
(the worker thread) claims accepted rows oldest first — one user's messages in order — and runs
route → handler → replies (chat/handle.py) into the outbox, in one transaction that also marks the row done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.preunderstand import understand_early
from bot.settings import Settings
from chat.handle import handle
from chat.inbound import Inbound, from_payload, to_payload
from chat.outbox import enqueue_all
from chat.replies import Reply
from chat.router import RouteTable
from models import InboundEvent, norm_userid
from models.db import insert_for
from services.config import BusinessConfig

log = logging.getLogger("salesbot.dispatch")


class ServiceUnavailable(Exception):
    """The database could not be reached: answer 503 so that WeCom retries."""


@dataclass(frozen=True)
class DispatchResult:
    duplicate: bool
    event_id: int | None = None


class Dispatcher:
    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        settings: Settings,
        config: BusinessConfig,
        routes: RouteTable,
        clock: Callable[[], datetime],
        services: dict[str, Any] | None = None,
        on_committed: Callable[[], None] | None = None,
        on_accepted: Callable[[], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.config = config
        self.routes = routes
        self.clock = clock
        self.services = services or {}
        self.on_committed = on_committed
        self.on_accepted = on_accepted
        self.engine = session_factory.kw["bind"]
        table = InboundEvent.__table__
        earlier = table.alias("earlier")
        self._candidates_sql = (
            select(table.c.id)
            .where(table.c.status == "received")
            .where(
                ~exists().where(
                    earlier.c.userid == table.c.userid, earlier.c.status == "received", earlier.c.id < table.c.id
                )
            )
            .order_by(table.c.id)
            .limit(bindparam("limit"))
        )
        self._claim_sql = (
            update(table)
            .where(table.c.id == bindparam("event_id"), table.c.status == "received")
            .values(status="done", processed_at=bindparam("processed_at"))
            .returning(table.c.userid, table.c.payload, table.c.received_at)
        )

    def accept_many(self, msgs: list[Inbound]) -> list[DispatchResult]:
        """The request path (bot/accept.py batches concurrent callbacks into one call): one INSERT whose
        unique key deduplicates WeCom's retries, one commit. A repeat inserts nothing.

        Raises ServiceUnavailable when the database cannot be reached, so the edge answers 503 and WeCom retries.
        """
        now = self.clock()
        rows = [
            {
                "dedup_key": msg.dedup_key(),
                "userid": norm_userid(msg.userid),
                "kind": msg.kind,
                "received_at": now,
                "status": "received",
                "payload": to_payload(msg),
            }
            for msg in msgs
        ]
        table = InboundEvent.__table__
        try:
            # Core executemany with RETURNING: SQLAlchemy renders it as batched multi-row INSERTs whose compiled
            # form is cached (a `.values(rows)` statement would compile anew for every batch size).
            with self.engine.begin() as conn:
                statement = (
                    insert_for(conn)(table)
                    .on_conflict_do_nothing(index_elements=["dedup_key"])
                    .returning(table.c.dedup_key, table.c.id)
                )
                inserted = dict(conn.execute(statement, rows).tuples().all())
        except (OperationalError, DBAPIError) as exc:
            raise ServiceUnavailable("database unavailable") from exc
        results: list[DispatchResult] = []
        for row in rows:
            event_id = inserted.pop(row["dedup_key"], None)  # pop: a key twice in one batch is new once
            results.append(DispatchResult(duplicate=event_id is None, event_id=event_id))
        if any(not r.duplicate for r in results) and self.on_accepted:
            self.on_accepted()
        return results

    def process_pending(self, *, limit: int = 500, pause: Callable[[], None] | None = None) -> int:
        """Handle received messages oldest first; each in one transaction with its effects and replies.

        `pause` is called between messages (the worker uses it to step aside while callbacks arrive).
        """
        handled = 0
        while handled < limit:
            try:
                candidates = self._candidates(min(50, limit - handled))
            except (OperationalError, DBAPIError):
                log.warning("database unavailable while processing; will retry")
                break
            if not candidates:
                break
            for event_id in candidates:
                try:
                    handled += self._process_one(event_id)
                except (OperationalError, DBAPIError):
                    log.warning("database unavailable while processing; will retry")
                    return handled
                if pause is not None:
                    pause()
        return handled

    def _candidates(self, limit: int) -> list[int]:
        """The oldest received messages, only the first of each user's (so one user's are handled in order).

        Another replica may pick the same ids; the conditional claim in `_process_one` lets one of them win.
        """
        with self.engine.connect() as conn:
            return list(conn.execute(self._candidates_sql, {"limit": limit}).scalars())

    def _understand_early(self, event_id: int) -> tuple[str, Any] | None:
        """With a model configured: its answer for this message, got before the transaction (bot/preunderstand)."""
        model = self.services.get("understand_model")
        if model is None:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(InboundEvent.payload, InboundEvent.received_at).where(
                    InboundEvent.id == event_id, InboundEvent.status == "received"
                )
            ).first()
        if row is None:
            return None
        return understand_early(
            self.session_factory, from_payload(row[0]), now=row[1], routes=self.routes, config=self.config, model=model
        )

    def _process_one(self, event_id: int) -> int:
        after_commit: list[Callable[[], None]] = []
        early = self._understand_early(event_id)
        with self.session_factory() as session, session.begin():
            claimed = session.execute(
                self._claim_sql, {"event_id": event_id, "processed_at": self.clock()}
            ).first()
            if claimed is None:
                return 0
            userid, payload, received_at = claimed
            msg = from_payload(payload)
            replies = self._route(session, msg, received_at, after_commit, early)
            count = enqueue_all(
                session, replies=replies, default_recipient=userid, key_prefix=f"in:{event_id}", now=self.clock()
            )
        for callback in after_commit:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")
        if count and self.on_committed:
            self.on_committed()
        return 1

    def _route(
        self,
        session: Session,
        msg: Inbound,
        now: datetime,
        after_commit: list[Callable[[], None]],
        early: tuple[str, Any] | None = None,
    ) -> list[Reply]:
        services = {**self.services, "understood": early} if early is not None else self.services
        return handle(
            session, msg, now=now, routes=self.routes, settings=self.settings, config=self.config,
            services=services, after_commit=after_commit,
        )
