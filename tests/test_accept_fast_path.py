"""The PostgreSQL fast path of the request path (bot/accept.PgAcceptor), as `salesbot serve` uses it."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.accept import AcceptBatcher, PgAcceptor
from bot.dispatcher import ServiceUnavailable
from models import InboundEvent
from tests.harness import Bot
from tests.procs import free_port


def _inbound(bot: Bot, content: str, msg_id: int):
    from bot.crypto import parse_xml
    from chat.inbound import from_dict

    return from_dict(parse_xml(bot.text_xml("rep_e1", content, msg_id=msg_id)))


def test_concurrent_callbacks_share_one_insert_and_repeats_are_duplicates(pg_db, bot: Bot) -> None:
    dispatcher = bot.state.dispatcher
    msgs = [_inbound(bot, "帮助", 5000 + i) for i in range(20)] + [_inbound(bot, "帮助", 5000)]

    async def run() -> list:
        batcher = AcceptBatcher(dispatcher, pg=PgAcceptor(dispatcher))
        return await asyncio.gather(*(batcher.accept(m) for m in msgs))

    results = asyncio.run(run())
    assert [r.duplicate for r in results] == [False] * 20 + [True]
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(InboundEvent)) == 20
    assert bot.process() == 20  # the worker handles what the fast path stored, payload included
    assert len(bot.texts("rep_e1")) >= 1


def test_database_down_is_service_unavailable(pg_db, bot: Bot) -> None:
    dispatcher = bot.state.dispatcher
    acceptor = PgAcceptor(dispatcher)
    acceptor.dsn = make_url(f"postgresql://postgres@127.0.0.1:{free_port()}/test").render_as_string()

    async def run() -> None:
        await AcceptBatcher(dispatcher, pg=acceptor).accept(_inbound(bot, "帮助", 6001))

    try:
        asyncio.run(run())
    except ServiceUnavailable:
        pass
    else:
        raise AssertionError("expected ServiceUnavailable")
