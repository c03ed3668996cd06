"""Group commit for the request path: concurrent callbacks share one INSERT and one commit.

Each request awaits its own result, so a 200 still means "stored"; while one batch is being written, the
next requests queue up and go together in the next batch. Under load this turns N commits into one.
"""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from bot.dispatcher import Dispatcher, DispatchResult
from bot.inbound import Inbound

MAX_BATCH = 128


class AcceptBatcher:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._pending: list[tuple[Inbound, asyncio.Future[DispatchResult]]] = []
        self._writing = False

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
                    results = await run_in_threadpool(self.dispatcher.accept_many, [msg for msg, _ in batch])
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
    """One batcher per event loop (the test client runs the app on a loop of its own)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._by_loop: dict[int, AcceptBatcher] = {}
        self.inflight = 0

    async def accept(self, msg: Inbound) -> DispatchResult:
        key = id(asyncio.get_running_loop())
        batcher = self._by_loop.get(key)
        if batcher is None:
            batcher = self._by_loop[key] = AcceptBatcher(self.dispatcher)
        self.inflight += 1
        try:
            return await batcher.accept(msg)
        finally:
            self.inflight -= 1
