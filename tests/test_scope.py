"""Data scope per role: out of scope is answered exactly like missing, and lists and counts leak nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from models import ApprovalStep, Customer, Opportunity, Quote, StepStatus
from tests.harness import Bot

EAST = "新客户 华东精密 联系人=王经理 电话=13812345678"
EAST2 = "新客户 华东精工 联系人=李工 电话=13812345679"
SOUTH = "新客户 华南精密 联系人=陈工 电话=13912345678"


@pytest.fixture
def world(bot: Bot) -> Bot:
    bot.send_text("rep_e1", EAST)
    bot.send_text("rep_e2", EAST2)
    bot.send_text("rep_s1", SOUTH)
    bot.send_text("rep_e1", "商机 华东精密 二期产线 30万")
    return bot


def ids(bot: Bot) -> dict[str, int]:
    with bot.session() as s:
        return {c.name: c.id for c in s.scalars(select(Customer))}


def same_as_missing(bot: Bot, userid: str, command: str, existing: str) -> None:
    """`command existing` is answered exactly like `command <something that does not exist>`."""
    bot.send_text(userid, f"{command} {existing}")
    seen = bot.last_text(userid).replace(existing, "<KW>")
    bot.send_text(userid, f"{command} 不存在的名字")
    missing = bot.last_text(userid).replace("不存在的名字", "<KW>")
    assert seen == missing


@pytest.mark.parametrize(
    ("userid", "visible"),
    [
        ("rep_e1", {"华东精密"}),
        ("rep_e2", {"华东精工"}),
        ("rep_s1", {"华南精密"}),
        ("sup_east", {"华东精密", "华东精工"}),
        ("sup_south", {"华南精密"}),
        ("boss", {"华东精密", "华东精工", "华南精密"}),
        ("admin", {"华东精密", "华东精工", "华南精密"}),
        ("tech", set()),
        ("fin", set()),
    ],
)
def test_customer_visibility_per_role(world: Bot, userid: str, visible: set[str]) -> None:
    for name, cid in ids(world).items():
        world.send_text(userid, f"客户 #{cid}")
        reply = world.last_text(userid)
        if name in visible:
            assert reply.startswith(f"【{name}】")
        else:
            assert reply == f"没有找到客户「#{cid}」。可以用名称中的几个字，或客户编号（如 #12）。"


def test_search_lists_and_counts_leak_nothing(world: Bot) -> None:
    world.send_text("rep_e1", "客户 精")  # three customers match "精" company-wide; rep_e1 sees one
    reply = world.last_text("rep_e1")
    assert reply.startswith("【华东精密】") and "华东精工" not in reply and "华南" not in reply
    world.send_text("sup_east", "客户 精")
    reply = world.last_text("sup_east")
    assert "找到2个客户" in reply and "华南" not in reply
    world.send_text("boss", "客户 精")
    assert "找到3个客户" in world.last_text("boss")


def test_out_of_scope_errors_match_missing_ones(world: Bot) -> None:
    same_as_missing(world, "rep_s1", "客户", "华东精密")
    same_as_missing(world, "rep_e2", "客户", "华东精密")
    same_as_missing(world, "sup_south", "客户", "华东精密")
    world.send_text("rep_s1", "拜访 华东精密 路过")
    assert world.last_text("rep_s1").startswith("没有找到客户「华东精密」")
    same_as_missing(world, "rep_s1", "推进", "二期产线")
    world.send_text("sup_south", "输单 二期产线 原因")
    assert world.last_text("sup_south").startswith("没有找到商机「二期产线」")
    world.send_text("rep_s1", "商机 华东精密 三期")
    assert world.last_text("rep_s1").startswith("没有找到客户「华东精密」")
    with world.session() as s:
        assert len(list(s.scalars(select(Opportunity)))) == 1


def test_duplicate_check_does_not_reveal_other_scopes(world: Bot) -> None:
    world.send_text("rep_s1", "新客户 华东精密 联系人=某 电话=13700000000")
    assert "已创建" in world.last_text("rep_s1")  # not "已有客户": that would reveal rep_e1's customer


def test_tech_lead_sees_customers_routed_to_them(world: Bot) -> None:
    with world.session() as s, s.begin():
        opp = s.scalars(select(Opportunity)).one()
        quote = Quote(
            opportunity_id=opp.id, amount=Decimal(300000), requester_userid="rep_e1", created_at=world.clock()
        )
        s.add(quote)
        s.flush()
        s.add(
            ApprovalStep(
                quote_id=quote.id, seq=2, role="tech_lead", approver_userid="tech", status=StepStatus.PENDING
            )
        )  # a waiting step shows nothing (issue 16 #5)
    world.send_text("tech", "客户 华东精密")
    assert world.last_text("tech").startswith("【华东精密】")
    world.send_text("tech", "客户 华东精工")
    assert world.last_text("tech").startswith("没有找到客户")
    world.send_text("fin", "客户 华东精密")
    assert world.last_text("fin").startswith("没有找到客户")


def test_supervisor_sees_visits_of_region(world: Bot) -> None:
    world.send_text("rep_e1", "拜访 华东精密 介绍新品")
    world.send_text("sup_east", "客户 华东精密")
    assert "介绍新品" in world.last_text("sup_east")
    same_as_missing(world, "sup_south", "客户", "华东精密")
