"""The pool through WeCom: countdown cards and their buttons, the release message, 公海 / 领取 / 分配."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from cards.keys import POOL_EXTEND as EXTEND
from cards.keys import POOL_EXTEND_OK as EXTEND_OK
from cards.keys import POOL_FOLLOWUP as FOLLOWUP
from cards.keys import POOL_RETURN as RETURN
from cards.keys import CardKey
from models import POOL_OWNER, AuditEntry, Customer, Visit
from tests.harness import SHANGHAI, Bot

T0 = datetime(2026, 9, 1, 10, 0, tzinfo=SHANGHAI)  # Tuesday; 30 days later is Thursday 10-01
WARN = datetime(2026, 9, 28, 8, 0, tzinfo=SHANGHAI)  # Monday: 3 working days before


def _customer(bot: Bot, name: str, owner: str = "rep_e1", region: str = "华东") -> int:
    with bot.session() as s, s.begin():
        c = Customer(
            name=name,
            name_norm=name,
            region=region,
            owner_userid=owner,
            contact="王总",
            phone="13900001111",
            industry="机械",
            custom={},
            owner_since=T0,
            created_at=T0,
            updated_at=T0,
        )
        s.add(c)
        s.flush()
        return c.id


def _countdown(bot: Bot, userid: str) -> dict:
    cards = [
        c
        for c in bot.cards(userid)
        if c["task_id"].startswith("pool") and not c["task_id"].startswith("poolext")
    ]
    assert cards, f"no countdown card for {userid}"
    return cards[-1]


def test_countdown_card_once_a_day_and_followup_resets(bot: Bot) -> None:
    cid = _customer(bot, "华东精密")
    bot.run_job("pool", WARN)
    bot.run_job("pool", WARN + timedelta(hours=3))
    cards = [c for c in bot.cards("rep_e1") if c["task_id"].startswith("pool")]
    assert len(cards) == 1
    card = cards[0]
    assert [b["text"] for b in card["button_list"]] == ["记一条跟进", "申请延期7天", "放回公海"]
    assert card["horizontal_content_list"][0]["keyname"] == "华东精密"
    bot.tap("rep_e1", card["task_id"], CardKey(FOLLOWUP).pack())
    assert "回复这次跟进" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "电话回访，下月有新需求")
    bot.deliver()
    with bot.session() as s:
        assert s.scalar(select(Visit.summary).where(Visit.customer_id == cid)) == "电话回访，下月有新需求"
    # The clock restarted: no release on the old day, no card the next day.
    bot.run_job("pool", datetime(2026, 10, 2, 8, 0, tzinfo=SHANGHAI))
    with bot.session() as s:
        assert s.get(Customer, cid).owner_userid == "rep_e1"
    assert len([c for c in bot.cards("rep_e1") if c["task_id"].startswith("pool")]) == 1


def test_extension_with_several_customers_and_approval(bot: Bot) -> None:
    first = _customer(bot, "华东精密")
    _customer(bot, "东方机床")
    bot.run_job("pool", WARN)
    card = _countdown(bot, "rep_e1")
    assert len(card["horizontal_content_list"]) == 2 and "button_selection" in card
    bot.tap("rep_e1", card["task_id"], CardKey(EXTEND).pack())  # no selection sent: a numbered list
    assert "请回复编号" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "1")
    assert "审批" in bot.last_text("rep_e1")
    ext_card = [c for c in bot.cards("sup_east") if c["task_id"].startswith("poolext")][-1]
    bot.tap("rep_e2", ext_card["task_id"], CardKey(EXTEND_OK).pack())
    assert "不是发给您的" in bot.last_text("rep_e2")
    bot.tap("sup_east", ext_card["task_id"], CardKey(EXTEND_OK).pack())
    assert "同意了" in bot.last_text("rep_e1")
    bot.run_job("pool", datetime(2026, 10, 1, 12, 0, tzinfo=SHANGHAI))
    with bot.session() as s:
        assert s.get(Customer, first).owner_userid == "rep_e1"  # extended
        assert s.scalar(select(Customer.owner_userid).where(Customer.name == "东方机床")) == POOL_OWNER
    released = [t for t in bot.texts("rep_e1") if "已回收到公海" in t]
    assert len(released) == 1 and "东方机床" in released[0] and "华东精密" not in released[0]
    with bot.session() as s:
        assert (
            s.scalar(select(AuditEntry.action).where(AuditEntry.action == "pool_release")) == "pool_release"
        )


def test_return_to_pool_with_reason(bot: Bot) -> None:
    cid = _customer(bot, "华东精密")
    bot.run_job("pool", WARN)
    bot.tap("rep_e1", _countdown(bot, "rep_e1")["task_id"], CardKey(RETURN).pack())
    assert "原因" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "已转向竞品")
    assert "已把「华东精密」放回公海" in bot.last_text("rep_e1")
    with bot.session() as s:
        assert s.get(Customer, cid).owner_userid == POOL_OWNER


def test_pool_list_claim_and_scope(bot: Bot) -> None:
    cid = _customer(bot, "华东精密", owner="rep_e1")
    with bot.session() as s, s.begin():
        s.add(Visit(customer_id=cid, userid="rep_e1", summary="首访谈了二期", visited_at=T0))
    bot.run_job("pool", datetime(2026, 10, 2, 8, 0, tzinfo=SHANGHAI))
    bot.send_text("rep_e1", "客户 华东精密")
    assert "首访谈了二期" not in bot.last_text("rep_e1")
    bot.send_text("rep_e2", "公海")
    listing = bot.last_text("rep_e2")
    assert (
        "华东精密" in listing and "机械" in listing and "13900001111" not in listing and "王总" not in listing
    )
    bot.send_text("rep_s1", "公海")
    assert "华东精密" not in bot.last_text("rep_s1")
    bot.send_text("rep_s1", "领取 华东精密")
    assert "没有找到" in bot.last_text("rep_s1")
    bot.send_text("rep_e1", f"领取 #{cid}")
    assert "天内不能再领取" in bot.last_text("rep_e1")
    bot.send_text("rep_e2", "领取 华东精密")
    claimed = bot.last_text("rep_e2")
    assert "已领取" in claimed and "13900001111" in claimed and "首访谈了二期" in claimed


def test_supervisor_assigns_from_the_pool(bot: Bot) -> None:
    cid = _customer(bot, "华东精密", owner=POOL_OWNER)
    with bot.session() as s, s.begin():
        s.get(Customer, cid).pooled_at = T0
    bot.send_text("sup_east", "分配 华东精密 李娜")
    assert "从公海分配给李娜" in bot.last_text("sup_east")
    with bot.session() as s:
        c = s.get(Customer, cid)
        assert c.owner_userid == "rep_e2" and c.pooled_at is None
