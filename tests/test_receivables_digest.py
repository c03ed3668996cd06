"""The digest's receivables section: due this month, overdue by age, collected against planned, the largest
overdue items with owners — a supervisor sees their region, the director the company."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from cards.digest_markdown import render_markdown
from models import User
from services.digest import build_digest
from services.receivables import build_for
from tests.collections_factory import contract_id, ready_opportunity
from tests.harness import SHANGHAI, Bot

MORNING = datetime(2026, 12, 20, 8, 40, tzinfo=SHANGHAI)


def seed(bot: Bot) -> tuple[int, int]:
    # East (rep_e1): 100万, signed 2026-11-27; 40万 was due 2026-09-01 (> 90 days), 30万 on 2026-11-10,
    # 30万 on 2026-12-28 (this month, not yet due).
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 100万 分期 40/30/30 2026-09-01/2026-11-10/2026-12-28")
    east = contract_id(bot)
    bot.send_text("rep_e1", f"回款 #{east} 10万")  # partial: the oldest instalment still owes 30万
    # South (rep_s1): 20万 due 2026-12-05 (this month, overdue 15 days), 10万 paid on 12-20.
    ready_opportunity(bot, customer="广州重工", name="配电柜", owner="rep_s1", phone="13912345678")
    bot.send_text("rep_s1", "合同 配电柜 20万 分期 100 2026-12-05")
    south = contract_id(bot, "配电柜")
    bot.clock.set(MORNING)
    bot.send_text("rep_s1", f"回款 #{south} 5万")
    return east, south


def managers(bot: Bot) -> list[User]:
    with bot.session() as s:
        found = list(s.scalars(select(User).where(User.userid.in_(("boss", "sup_east", "sup_south")))))
        for u in found:
            s.expunge(u)
        return found


def test_scope_buckets_and_largest(bot: Bot) -> None:
    east, south = seed(bot)
    with bot.session() as s:
        views = build_for(s, managers=managers(bot), config=bot.state.config, now=MORNING, tz=SHANGHAI)
    boss, sup_east, sup_south = views["boss"], views["sup_east"], views["sup_south"]
    # East: 30万 left of 第一期 (110 days overdue), 30万 第二期 (40 days), 30万 due 12-28.
    assert sup_east.overdue == [Decimal(0), Decimal(300000), Decimal(0), Decimal(300000)]
    assert (sup_east.due_this_month, sup_east.due_this_month_count) == (Decimal(300000), 1)
    assert (sup_east.planned_month, sup_east.collected_month) == (Decimal(300000), Decimal(0))
    # South: 15万 overdue 15 days; planned 20万 this month, 5万 collected.
    assert sup_south.overdue == [Decimal(150000), Decimal(0), Decimal(0), Decimal(0)]
    assert (sup_south.planned_month, sup_south.collected_month) == (Decimal(200000), Decimal(50000))
    assert boss.overdue_total == Decimal(750000) and boss.collected_month == Decimal(50000)
    assert [(i.contract_id, i.label, i.remaining, i.days, i.owner) for i in boss.largest] == [
        (east, "第一期", Decimal(300000), 110, "张伟"),
        (east, "第二期", Decimal(300000), 40, "张伟"),
        (south, "第一期", Decimal(150000), 15, "赵强"),
    ]
    assert all(i.contract_id == east for i in sup_east.largest)


def digest_text(bot: Bot, userid: str) -> str:
    with bot.session() as s:
        manager = s.scalars(select(User).where(User.userid == userid)).one()
        return "\n\n".join(
            render_markdown(
                build_digest(s, manager=manager, config=bot.state.config, now=MORNING, tz=SHANGHAI)
            )
        )


def test_section_in_the_digest(bot: Bot) -> None:
    seed(bot)
    east, boss = digest_text(bot, "sup_east"), digest_text(bot, "boss")
    assert "**应收回款** 本月到期待收 30万（1 笔）" in east
    assert "> 逾期 60万：31–60天 30万、90天以上 30万" in east
    assert "华瑞电子 合同#1 第一期 30万，逾期110天，负责人 张伟" in east
    assert "广州重工" not in east and "赵强" not in east
    assert "> 本月计划 50万，已收 5万，完成 10%（截至 12月20日）" in boss
    assert "广州重工" in boss and "warning" not in boss.split("**应收回款**")[1].split("**")[0]
