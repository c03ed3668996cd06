"""Issue 16 (retention): a daily job prunes handled inbound events and delivered outbox rows after 30 days;
dead letters and anything still in work are kept."""

from __future__ import annotations

from sqlalchemy import select, update

from models import InboundEvent, InboundStatus, OutboxMessage, OutboxStatus
from tests.harness import Bot


def _rows(bot: Bot) -> tuple[dict[int, str], dict[int, str]]:
    with bot.session() as s:
        inbound = {r.id: r.status for r in s.scalars(select(InboundEvent))}
        outbox = {r.id: r.status for r in s.scalars(select(OutboxMessage))}
    return inbound, outbox


def test_retention_prunes_old_handled_rows_and_keeps_dead_letters(bot: Bot) -> None:
    bot.send_text("rep_e1", "帮助")
    bot.send_text("rep_e2", "帮助")
    bot.deliver()
    inbound, outbox = _rows(bot)
    assert set(inbound.values()) == {"done"} and set(outbox.values()) == {"sent"} and len(outbox) >= 2
    old_inbound, old_outbox = sorted(inbound), sorted(outbox)
    bot.clock.advance(days=29)
    bot.send_text("rep_e1", "帮助")  # recent traffic
    bot.deliver()
    assert "pruned 0 handled inbound events and 0 delivered" in bot.run_job("retention")

    bot.clock.advance(days=2)  # the first messages are now 31 days old
    with bot.session() as s, s.begin():  # one old row of each kind is still in work / dead
        s.execute(
            update(InboundEvent)
            .where(InboundEvent.id == old_inbound[0])
            .values(status=InboundStatus.RECEIVED)
        )
        s.execute(
            update(OutboxMessage).where(OutboxMessage.id == old_outbox[0]).values(status=OutboxStatus.DEAD)
        )
    summary = bot.run_job("retention")
    inbound, outbox = _rows(bot)
    assert old_inbound[0] in inbound and all(i not in inbound for i in old_inbound[1:])
    assert outbox.get(old_outbox[0]) == "dead" and all(i not in outbox for i in old_outbox[1:])
    assert len(inbound) == 2 and "sent" in outbox.values()  # the recent ones stay
    assert (
        f"pruned {len(old_inbound) - 1} handled inbound events and {len(old_outbox) - 1} delivered" in summary
    )


def test_retention_period_is_configurable(bot: Bot) -> None:
    bot.send_text("rep_e1", "帮助")
    bot.deliver()
    bot.state.settings.salesbot_retention_days = 7
    bot.clock.advance(days=8, minutes=1)
    bot.run_job("retention")
    assert _rows(bot) == ({}, {})
