"""Group commit for the request path: concurrent callbacks share one INSERT and one commit.

Each request awaits its own result, so a 200 still means "stored"; while one batch is being written, the
next requests queue up and go together in the next batch. Under load this turns N commits into one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC
from typing import Any

from starlette.concurrency import run_in_threadpool

from bot.dispatcher import Dispatcher, DispatchResult, ServiceUnavailable
from bot.wakeup import INBOUND_CHANNEL
from chat.inbound import Inbound, to_payload
from models import InboundStatus, norm_userid

log = logging.getLogger("salesbot.accept")

MAX_BATCH = 128


class AcceptBatcher:
    def __init__(self, dispatcher: Dispatcher, *, pg: PgAcceptor | None = None) -> None:
        self.dispatcher = dispatcher
        self._pending: list[tuple[Inbound, asyncio.Future[DispatchResult]]] = []
        self._writing = False
        self._pg = pg

    async def accept(self, msg: Inbound) -> DispatchResult:
        future: asyncio.Future[DispatchResult] = asyncio.get_running_loop().create_future()
        self._pending.append((msg, future))
        if not self._writing:
            self._writing = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    msgs = [msg for msg, _ in batch]
                    if self._pg is not None:
                        results = await self._pg.accept_many(msgs)
                    else:
                        results = await run_in_threadpool(self.dispatcher.accept_many, msgs)
                except Exception as exc:  # ServiceUnavailable and anything else: every waiter gets it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._writing = False


class BatcherPerLoop:
    """One batcher per event loop (the test client runs the app on a loop of its own).

    `pg_fast_path` (set by `salesbot serve` on PostgreSQL, where there is one long-lived loop) writes with
    an async connection in the loop instead of a thread; elsewhere the same INSERT runs in a thread.
    """

    def __init__(self, dispatcher: Dispatcher, *, pg_fast_path: bool = False) -> None:
        self.dispatcher = dispatcher
        self.pg_fast_path = pg_fast_path
        self._by_loop: dict[int, AcceptBatcher] = {}
        self.inflight = 0

    async def accept(self, msg: Inbound) -> DispatchResult:
        key = id(asyncio.get_running_loop())
        batcher = self._by_loop.get(key)
        if batcher is None:
            use_pg = self.pg_fast_path and self.dispatcher.engine.dialect.name == "postgresql"
            pg = PgAcceptor(self.dispatcher) if use_pg else None
            batcher = self._by_loop[key] = AcceptBatcher(self.dispatcher, pg=pg)
        self.inflight += 1
        try:
            return await batcher.accept(msg)
        finally:
            self.inflight -= 1


class PgAcceptor:
    """PostgreSQL fast path: the same INSERT as `Dispatcher.accept_many`, on an async connection in the loop.

    The hot path of every callback, so it skips the ORM and the thread hop (reliability.md: the ack path
    only verifies, decrypts and writes one row). The statement must stay equivalent to accept_many's.
    """

    # One statement text for every batch size (arrays, not a VALUES list), so psycopg prepares it once. The
    # same statement notifies the worker processes (bot/wakeup.py): delivered on commit, no extra round trip.
    SQL = (
        "WITH ins AS (INSERT INTO inbound_events (dedup_key, userid, kind, received_at, status, payload) "
        f"SELECT k, u, t, %s, '{InboundStatus.RECEIVED.value}', p::json FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) "
        "AS batch(k, u, t, p) ON CONFLICT (dedup_key) DO NOTHING RETURNING dedup_key, id) "
        f"SELECT ins.dedup_key, ins.id FROM ins, (SELECT pg_notify('{INBOUND_CHANNEL}', '')) AS wake"
    )

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        url = dispatcher.engine.url.set(drivername="postgresql")
        self.dsn = url.render_as_string(hide_password=False)
        self._conn: Any = None

    async def _connection(self) -> Any:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self.dsn, connect_timeout=3)
        return self._conn

    async def accept_many(self, msgs: list[Inbound]) -> list[DispatchResult]:
        import psycopg

        received_at = self.dispatcher.clock().astimezone(UTC).replace(tzinfo=None)
        keys = [m.dedup_key() for m in msgs]
        params = [
            received_at,
            keys,
            [norm_userid(m.userid) for m in msgs],
            [m.kind for m in msgs],
            [json.dumps(to_payload(m), ensure_ascii=False) for m in msgs],
        ]
        try:
            conn = await self._connection()
            async with conn.transaction():
                cursor = await conn.execute(self.SQL, params, binary=True)  # no text-array escaping
                inserted = dict(await cursor.fetchall())
        except psycopg.Error as exc:
            log.warning("accept failed: %s", type(exc).__name__)
            if self._conn is not None and (self._conn.closed or self._conn.broken):
                self._conn = None
            raise ServiceUnavailable("database unavailable") from exc
        results = []
        for key in keys:
            event_id = inserted.pop(key, None)
            results.append(DispatchResult(duplicate=event_id is None, event_id=event_id))
        if any(not r.duplicate for r in results) and self.dispatcher.on_accepted:
            self.dispatcher.on_accepted()
        return results
