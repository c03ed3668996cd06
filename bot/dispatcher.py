"""Accepting and handling callbacks.

`accept_many` is the request path: a single INSERT whose unique key deduplicates WeCom's retries. `handle_batch`
(a worker) claims several users' oldest accepted messages at once (bot/inbox.py: exactly once, one user's in
order) and runs route → handler → replies (chat/handle.py) for each, all in one transaction that also marks
the rows done and writes every reply with one INSERT.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.inbox import Claimed, claim_batch, peek_heads
from bot.outbox import Deliverer, DeliveryStats
from bot.outbox_batch import OutRow, PendingMarks, insert_rows, replies_rows
from bot.preunderstand import understand_early
from bot.wakeup import INBOUND_CHANNEL
from chat import preloaded
from chat.dialogs import SqlDialogStore
from chat.handle import NeedsIsolation, count_writes, handle, split_command
from chat.inbound import Inbound, from_payload, to_payload
from chat.replies import Reply
from chat.router import RouteTable
from chat.settings import Settings
from models import Dialog, InboundEvent, InboundStatus, User, norm_userid
from models.db import insert_for
from services.config import BusinessConfig
from services.pushes import push_to_others

log = logging.getLogger("salesbot.dispatch")


class ServiceUnavailable(Exception):
    """The database could not be reached: answer 503 so that WeCom retries."""


@dataclass(frozen=True)
class HandledBatch:
    handled: int
    outbox: list[OutRow]  # the replies written (claimed for sending when a deliverer was given)
    more: bool = False  # a handled message's user has a later one waiting (claimable now that this committed)


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
        batch_size: int = 32,
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
        self.batch_size = batch_size
        # Handlers run without a savepoint each unless one fails after writing (chat/handle.py): that needs
        # every statement counted, so the counter is installed on the engine here.
        if not event.contains(self.engine, "before_cursor_execute", count_writes):
            event.listen(self.engine, "before_cursor_execute", count_writes)
        self._notify_sql = text(f"SELECT pg_notify('{INBOUND_CHANNEL}', '')")

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
                "status": InboundStatus.RECEIVED,
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
                if conn.dialect.name == "postgresql":  # wakes `salesbot worker` processes (bot/wakeup.py)
                    conn.execute(self._notify_sql)
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
        """Handle received messages in batches until none is left (or `limit`); replies wait in the outbox.

        `pause` is called between batches.
        """
        handled = 0
        while handled < limit:
            try:
                batch = self.handle_batch(limit=min(self.batch_size, limit - handled))
            except (OperationalError, DBAPIError):
                log.warning("database unavailable while processing; will retry")
                break
            if not batch.handled:
                break
            handled += batch.handled
            if pause is not None:
                pause()
        return handled

    def handle_batch(
        self,
        *,
        limit: int,
        deliverer: Deliverer | None = None,
        marks: PendingMarks | None = None,
        stats: DeliveryStats | None = None,
    ) -> HandledBatch:
        """Claim up to `limit` users' oldest messages and handle them in ONE transaction, each handler in its
        own savepoint (a failing handler undoes only its own effects), every reply written with one INSERT.

        With `deliverer`, the replies are born claimed by this process (status 'sending') and returned for a
        send right after the commit, after the per-member rate limit (checked in the same transaction);
        `marks` (rows this process sent earlier) are marked 'sent' in the same transaction too.
        """
        try:
            return self._handle_batch(
                limit=limit, deliverer=deliverer, marks=marks, stats=stats, isolated=False
            )
        except NeedsIsolation:
            log.info(
                "a handler failed after writing: the batch is handled again, each message in a savepoint"
            )
            return self._handle_batch(
                limit=limit, deliverer=deliverer, marks=marks, stats=stats, isolated=True
            )

    def _understand_early(self, limit: int) -> dict[int, tuple[str, Any]]:
        """With a model configured: its answers for the messages the next claim will most likely take, got
        before the transaction (bot/preunderstand.py). A message another worker claims instead, or one claimed
        without having been read here, is understood by the rules alone."""
        model = self.services.get("understand_model")
        if model is None:
            return {}
        with self.engine.connect() as conn:
            heads = peek_heads(conn, limit=limit)
        early: dict[int, tuple[str, Any]] = {}
        for event_id, payload, received_at in heads:
            found = understand_early(
                self.session_factory,
                from_payload(payload),
                now=received_at,
                tz=self.settings.tz,
                routes=self.routes,
                config=self.config,
                model=model,
            )
            if found is not None:
                early[event_id] = found
        return early

    def _handle_batch(
        self,
        *,
        limit: int,
        deliverer: Deliverer | None,
        marks: PendingMarks | None,
        stats: DeliveryStats | None,
        isolated: bool,
    ) -> HandledBatch:
        early = self._understand_early(limit)
        now = self.clock()
        after_commit: list[Callable[[], None]] = []
        outbox: list[OutRow] = []
        with self.session_factory() as session, session.begin():
            if marks:
                marks.flush_into(session)
            claimed = claim_batch(session, limit=limit, now=now)
            if claimed:
                users, dialogs = self._load_senders(session, {c.userid for c in claimed})
                self._preload(session, claimed, users)
                rows: list[dict[str, Any]] = []
                for item in claimed:
                    own: list[Callable[[], None]] = []
                    replies = self._route(
                        session,
                        from_payload(item.payload),
                        item.received_at,
                        own,
                        early.get(item.id),
                        sender=(users.get(item.userid), dialogs),
                        isolated=isolated,
                    )
                    after_commit += own
                    # Messages to other people go through the push budget (services/pushes.py); the rest are answers.
                    replies = push_to_others(
                        session,
                        replies=replies,
                        sender=item.userid,
                        key_prefix=f"in:{item.id}",
                        now=now,
                        tz=self.settings.tz,
                        config=self.config.pushes,
                    )
                    rows += replies_rows(replies, default_recipient=item.userid, key_prefix=f"in:{item.id}")
                outbox = insert_rows(session, rows, now=now, claim=deliverer is not None)
                if deliverer is not None:
                    outbox = deliverer.rate_limit(session, outbox, now=now, stats=stats or DeliveryStats())
            preloaded.clear(session)
        if marks:
            marks.committed()
        for callback in after_commit:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")
        if outbox and deliverer is None and self.on_committed:
            self.on_committed()
        return HandledBatch(len(claimed), outbox, more=any(c.has_next for c in claimed))

    def _route(
        self,
        session: Session,
        msg: Inbound,
        now: datetime,
        after_commit: list[Callable[[], None]],
        early: tuple[str, Any] | None = None,
        *,
        sender: tuple[User | None, SqlDialogStore] | None = None,
        isolated: bool = True,
    ) -> list[Reply]:
        services = {**self.services, "understood": early} if early is not None else self.services
        return handle(
            session,
            msg,
            now=now,
            routes=self.routes,
            settings=self.settings,
            config=self.config,
            services=services,
            after_commit=after_commit,
            sender=sender,
            isolated=isolated,
        )

    def _preload(self, session: Session, claimed: list[Claimed], users: dict[str, User]) -> None:
        """The routers' batch preloaders (chat/preloaded.py) for the commands this batch starts with."""
        words = self.routes.command_words()
        senders: list[tuple[str | None, User]] = []
        for item in claimed:
            user = users.get(item.userid)
            if user is not None and item.payload.get("kind") == "text":
                senders.append((split_command(item.payload.get("content") or "", words)[0], user))
        if senders:
            earliest = min(item.received_at for item in claimed)
            self.routes.preload(session, senders, now=earliest, config=self.config)

    def _load_senders(self, session: Session, userids: set[str]) -> tuple[dict[str, User], SqlDialogStore]:
        """The batch's senders (active users) and their dialogs, with one query for the whole batch.

        Read inside the handling transaction, so a role changed by an org import counts from the next batch
        on: authority comes from the records at the moment of the action (docs/worker.md: why no longer cache).
        """
        found = session.execute(
            select(User, Dialog)
            .outerjoin(Dialog, Dialog.userid == User.userid)
            .where(User.userid.in_(sorted(userids)), User.active.is_(True))
        ).all()
        users = {user.userid: user for user, _ in found}
        known: dict[str, Dialog | None] = {user.userid: dialog for user, dialog in found}
        return users, SqlDialogStore(session, known=known)
