"""新客户 (one message, the missing-field dialog across a restart, duplicates), 客户 (360 and picking), 分配."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Customer, Dialog, Opportunity, Reminder
from tests.harness import Bot, make_bot

FULL = "新客户 华东精密 行业=机械 联系人=王经理 电话=138-1234-5678 地址=上海嘉定 用电负荷等级=二级"


def count(bot: Bot, model: type) -> int:
    with bot.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def customer(bot: Bot, name: str) -> Customer:
    with bot.session() as s:
        found = s.scalars(select(Customer).where(Customer.name == name)).one()
        s.expunge(found)
        return found


def test_create_with_all_fields_in_one_message(bot: Bot) -> None:
    bot.send_text("rep_e1", FULL)
    reply = bot.last_text("rep_e1")
    assert "已创建客户「华东精密」" in reply and "信息完整" in reply
    c = customer(bot, "华东精密")
    assert (c.owner_userid, c.region, c.phone, c.contact) == ("rep_e1", "华东", "13812345678", "王经理")
    assert c.custom == {"power_load_grade": "二级"} and c.complete
    with bot.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "customer")).one()
        assert (
            entry.actor == "rep_e1"
            and entry.action == "create"
            and entry.changes["phone"] == [None, "13812345678"]
        )


def test_full_width_punctuation_and_keys(bot: Bot) -> None:
    bot.send_text("rep_e1", "新客户　南通机电　contact：李工　phone＝+86 0513-8888 6666")
    assert "已创建" in bot.last_text("rep_e1")
    c = customer(bot, "南通机电")
    assert c.contact == "李工" and c.phone_norm and "8888" in c.phone_norm
    assert not c.complete  # 行业/地址 are recommended and missing
    bot.send_text("rep_e1", "客户 南通")
    assert "待补充：行业、地址" in bot.last_text("rep_e1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("新客户", "用法：新客户"),
        ("新客户 华东精密 电话=12345", "电话"),
        ("新客户 华东精密 颜色=红", "没有「颜色」这个字段"),
        ("新客户 华东精密 用电负荷等级=五级", "只能是"),
    ],
)
def test_bad_input_changes_nothing(bot: Bot, text: str, expected: str) -> None:
    bot.send_text("rep_e1", text)
    assert expected in bot.last_text("rep_e1")
    assert count(bot, Customer) == 0 and count(bot, Dialog) == 0


def test_missing_fields_asked_one_by_one_across_restart(bot: Bot, db: tuple[str, object]) -> None:
    bot.send_text("rep_e1", "新客户 苏州精工 行业=电子")
    assert "请发送「联系人」" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "王经理")
    assert "请发送「电话」" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "不是电话")
    assert "电话" in bot.last_text("rep_e1") and count(bot, Customer) == 0

    url, engine = db  # a restart: a new app on the same database
    bot.client.close()
    again = make_bot(url, engine, clock=bot.clock)
    again.send_text("rep_e1", "0512-6666 8888")
    assert "已创建客户「苏州精工」" in again.last_text("rep_e1")
    c = customer(again, "苏州精工")
    assert (c.contact, c.industry, c.region) == ("王经理", "电子", "华东")
    assert count(again, Dialog) == 0
    again.client.close()


def test_dialog_expires_and_cancel(bot: Bot) -> None:
    bot.send_text("rep_e1", "新客户 苏州精工")
    bot.send_text("rep_e1", "取消")
    assert "已取消" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "新客户 苏州精工")
    bot.clock.advance(minutes=31)
    bot.send_text("rep_e1", "王经理")  # expired: not taken as the contact
    assert "已创建" not in bot.last_text("rep_e1") and count(bot, Customer) == 0


def test_duplicate_by_name_or_phone_is_pointed_out(bot: Bot) -> None:
    bot.send_text("rep_e1", FULL)
    bot.send_text("rep_e1", "新客户 华东精密有限公司 联系人=赵 电话=13900000000")
    assert "已有客户「华东精密」" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "新客户 别的名字 联系人=赵 电话=+86 138 1234 5678")
    assert "已有客户「华东精密」" in bot.last_text("rep_e1")
    assert count(bot, Customer) == 1
    # another rep's customer is out of scope: no hint, so rep_e2 may create their own record
    bot.send_text("rep_e2", "新客户 华东精密 联系人=赵 电话=13900000001")
    assert "已创建" in bot.last_text("rep_e2")


def test_360_view_and_numbered_pick(bot: Bot) -> None:
    bot.send_text("rep_e1", FULL)
    bot.send_text("rep_e1", "新客户 华东精密二厂 联系人=赵 电话=13900000000")
    bot.send_text("rep_e1", "客户 华东")
    listing = bot.last_text("rep_e1")
    assert "1." in listing and "2." in listing and "华东精密二厂" in listing
    bot.send_text("rep_e1", "2")
    view = bot.last_text("rep_e1")
    assert view.startswith("【华东精密二厂】") and "潜在客户" in view and "负责人：张伟" in view
    bot.send_text(
        "rep_e1", "客户 华东精密"
    )  # exact, but 华东精密二厂 contains it too: a pick, exact first (issue 16)
    assert bot.last_text("rep_e1").splitlines()[1] == "1. #1 华东精密"
    bot.send_text("rep_e1", "1")
    view = bot.last_text("rep_e1")
    assert view.startswith("【华东精密】") and "联系人：王经理" in view and "下次跟进：未安排" in view


def test_pick_rejects_bad_number(bot: Bot) -> None:
    bot.send_text("rep_e1", FULL)
    bot.send_text("rep_e1", "新客户 华东精密二厂 联系人=赵 电话=13900000000")
    bot.send_text("rep_e1", "客户 华东")
    bot.send_text("rep_e1", "7")
    assert "请回复 1-2" in bot.last_text("rep_e1")


def test_customer_usage(bot: Bot) -> None:
    bot.send_text("rep_e1", "客户")
    assert "用法：客户 关键词" in bot.last_text("rep_e1") and "例：" in bot.last_text("rep_e1")


def test_reassign_moves_open_work_and_notifies(bot: Bot) -> None:
    bot.send_text("rep_e1", FULL)
    bot.send_text("rep_e1", "商机 华东精密 二期产线 30万")
    c = customer(bot, "华东精密")
    with bot.session() as s, s.begin():
        s.add(
            Reminder(
                owner_userid="rep_e1",
                customer_id=c.id,
                title="送样",
                due_at=bot.clock(),
                created_at=bot.clock(),
            )
        )
    bot.send_text("sup_east", "分配 华东精密 李娜")
    assert "已把客户「华东精密」从张伟分配给李娜" in bot.last_text("sup_east")
    handover = bot.last_text("rep_e2")
    assert "交给您负责" in handover and "二期产线" in handover and "送样" in handover
    step = bot.cards("rep_e2")[-1]  # the handover ends with its next step as buttons
    assert step["main_title"]["desc"] == "华东精密"
    assert [b["text"] for b in step["button_list"]] == ["拜访", "跟进", "新商机"]
    bot.tap("rep_e2", step["task_id"], step["button_list"][1]["key"])
    assert "跟进时间和事项" in bot.last_text("rep_e2")
    assert "转交给李娜" in bot.last_text("rep_e1")
    with bot.session() as s:
        assert s.get_one(Customer, c.id).owner_userid == "rep_e2"
        assert {o.owner_userid for o in s.scalars(select(Opportunity))} == {"rep_e2"}
        assert {r.owner_userid for r in s.scalars(select(Reminder))} == {"rep_e2"}
        assert (
            s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "reassign")) == 2
        )
    bot.send_text("rep_e1", "客户 华东精密")
    assert "没有找到客户" in bot.last_text("rep_e1")


@pytest.mark.parametrize(
    ("who", "text", "expected"),
    [
        ("rep_e1", "分配 华东精密 李娜", "只有"),  # role
        ("sup_south", "分配 华东精密 赵强", "没有找到客户「华东精密」"),  # another region: like missing
        ("sup_east", "分配 华东精密 赵强", "没有找到可分配的销售"),  # not in the supervisor's region
        ("sup_east", "分配 华东精密", "用法：分配"),
        ("sup_east", "分配 华东精密 张伟", "已经由张伟负责"),
    ],
)
def test_reassign_refusals(bot: Bot, who: str, text: str, expected: str) -> None:
    bot.send_text("rep_e1", FULL)
    bot.send_text(who, text)
    assert expected in bot.last_text(who)
    assert customer(bot, "华东精密").owner_userid == "rep_e1"


def test_director_may_move_across_regions(bot: Bot) -> None:
    bot.send_text("rep_e1", FULL)
    bot.send_text("boss", "分配 华东精密 赵强")
    c = customer(bot, "华东精密")
    assert (c.owner_userid, c.region) == ("rep_s1", "华南")


def test_help_lists_commands_with_examples(bot: Bot) -> None:
    bot.send_text("rep_e1", "帮助")
    text = bot.last_text("rep_e1")
    for word in ("客户", "拜访", "商机", "推进"):  # the most used, each with an example
        assert f"• {word} " in text
    for word in ("新客户", "输单", "评分", "合同", "回款"):  # the rest by name: 帮助 <命令> shows each
        assert word in text.splitlines()[-2]
    assert "分配" not in text
