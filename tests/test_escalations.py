"""Every escalation is a card ending with 查看客户 · 已协助 (issue 14): a team's overdue follow-ups, an approval
step waiting too long, a lead not accepted in time. 查看客户 shows the customer within the tapper's scope;
已协助 is recorded once (audit row, card greyed) and changes nothing else; only the recipient may tap."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from models import ApprovalStep, AuditEntry, CardTask, Lead, Reminder
from services.parsing import SHANGHAI
from tests import reminders_factory as f
from tests.approvals_factory import seed_opportunity
from tests.harness import Bot
from tests.test_leads_chat import MONDAY, _new_lead

ALREADY = "这张卡片已处理过。"


def _button(card: dict[str, Any], text: str) -> str:
    return next(b["key"] for b in card["button_list"] if b["text"] == text)


def _escalation(bot: Bot, userid: str, title: str) -> dict[str, Any]:
    [card] = [c for c in bot.cards(userid) if c["main_title"]["title"] == title]
    return card


def _greyed(bot: Bot, userid: str, task_id: str) -> dict[str, Any]:
    [card] = [c for c in bot.cards(userid) if c["task_id"] == task_id]  # the fake WeCom updates in place
    return card


def _assisted_rows(bot: Bot, task_id: str) -> list[AuditEntry]:
    with bot.session() as s:
        return list(
            s.scalars(
                select(AuditEntry).where(AuditEntry.task_id == task_id, AuditEntry.action == "assisted")
            )
        )


def _refused_for_another_and_idempotent(bot: Bot, card: dict[str, Any], owner: str, other: str) -> None:
    task_id = card["task_id"]
    assert task_id.startswith("esc") and len(task_id) == len("esc") + 24  # random, not esc<reminder id>
    bot.tap(other, task_id, _button(card, "已协助"))
    assert "不是发给您的" in bot.last_text(other)
    bot.tap(other, task_id, _button(card, "查看客户"))
    assert "不是发给您的" in bot.last_text(other)
    assert _assisted_rows(bot, task_id) == []
    with bot.session() as s:
        denied = s.scalars(
            select(AuditEntry).where(AuditEntry.task_id == task_id, AuditEntry.outcome == "denied")
        ).all()
        assert len(denied) == 2 and all(d.actor == other for d in denied)
    bot.tap(owner, task_id, _button(card, "已协助"))
    greyed = _greyed(bot, owner, task_id)
    assert greyed.get("replace_text") == "已协助" and greyed["main_title"] == card["main_title"]
    assert greyed["sub_title_text"] == card["sub_title_text"]  # the same card, only greyed
    [row] = _assisted_rows(bot, task_id)
    assert row.actor == owner
    bot.tap(owner, task_id, _button(card, "已协助"))
    assert bot.last_text(owner) == ALREADY and len(_assisted_rows(bot, task_id)) == 1


def test_an_approval_waiting_too_long_escalates_as_a_card(bot: Bot) -> None:
    seed_opportunity(bot)
    bot.send_text("rep_e1", "报价 数控改造 8万 含安装")
    bot.deliver()
    # 陈主管 has waited 48+ working hours; the approver is the requester's supervisor, so 王总 is told
    bot.run_job("approvals", datetime(2026, 12, 2, 10, 30, tzinfo=SHANGHAI))
    card = _escalation(bot, "boss", "审批等待较久")
    assert [b["text"] for b in card["button_list"]] == ["查看客户", "已协助"]
    assert "陈主管" in card["sub_title_text"] and "张伟的报价" in card["sub_title_text"]
    assert "超时" not in str(card) and "red" not in str(card)
    bot.tap("boss", card["task_id"], _button(card, "查看客户"))
    assert bot.texts("boss")[-1].startswith("【")  # the customer 360
    _refused_for_another_and_idempotent(bot, card, "boss", "sup_south")
    with bot.session() as s:
        step = s.scalars(select(ApprovalStep).order_by(ApprovalStep.seq)).first()
        assert step is not None and step.status == "pending" and step.approver_userid == "sup_east"


def test_a_team_escalation_is_recorded_once_and_keeps_its_lines(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "华东精密机械")
        f.reminder(s, c, due_at=datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI), title="送样品")
        f.reminder(
            s, c, due_at=datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI), owner="rep_e2", title="催回款"
        )
    bot.run_job("reminders", datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI))
    card = _escalation(bot, "sup_east", "团队跟进逾期")
    assert "送样品" in card["sub_title_text"] and "催回款" in card["sub_title_text"]
    bot.tap("sup_east", card["task_id"], _button(card, "查看客户"))
    assert "华东精密机械" in bot.texts("sup_east")[-1]
    _refused_for_another_and_idempotent(bot, card, "sup_east", "sup_south")
    with bot.session() as s:
        assert [r.status for r in s.scalars(select(Reminder))] == ["open", "open"]


def test_a_lead_not_accepted_in_time_escalates_as_a_card(bot: Bot) -> None:
    bot.clock.set(MONDAY)
    lead = _new_lead(bot)
    bot.run_job("leads", datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))
    card = _escalation(bot, "sup_east", "线索未按时接单")
    assert [b["text"] for b in card["button_list"]] == ["查看客户", "已协助"]
    bot.tap("sup_east", card["task_id"], _button(card, "查看客户"))
    shown = bot.texts("sup_east")[-1]
    assert f"线索 #{lead.id}「宁波华东精密」" in shown and "待接单" in shown
    _refused_for_another_and_idempotent(bot, card, "sup_east", "sup_south")
    with bot.session() as s:
        assert s.get_one(Lead, lead.id).status == "assigned"


def test_reminder_and_visit_cards_have_unguessable_ids_and_refuse_like_approvals(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        c = f.customer(s, "华东精密机械")
        rid = f.reminder(s, c, due_at=datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI), title="寄资料").id
    bot.run_job("reminders", datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI))
    [card] = [c for c in bot.cards("rep_e1") if c["task_id"].startswith(f"rem{rid}n0-")]
    assert len(card["task_id"]) > len(f"rem{rid}n0-") + 8
    done = _button(card, "已完成")
    bot.tap("rep_e1", f"rem{rid}n0", done)  # the id as it used to be: no such card
    assert "已失效" in bot.last_text("rep_e1")
    bot.tap("rep_e2", card["task_id"], done)  # someone else's card
    assert bot.last_text("rep_e2") == "这张卡片不是发给您的，无法操作。"
    bot.send_text("rep_e1", "拜访 华东精密机械 谈了二期")
    visit = bot.cards("rep_e1")[-1]
    assert visit["task_id"].startswith("visit-") and len(visit["task_id"]) >= len("visit-1-") + 12
    bot.tap("rep_e2", visit["task_id"], visit["button_list"][0]["key"])
    assert bot.last_text("rep_e2") == "这张卡片不是发给您的，无法操作。"
    with bot.session() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
        assert {(d.actor, d.entity) for d in denied} == {
            ("rep_e1", "reminder"),
            ("rep_e2", "reminder"),
            ("rep_e2", "visit"),
        }
        assert s.get_one(Reminder, rid).status == "open"
        assert s.scalar(select(CardTask.recipient).where(CardTask.task_id == visit["task_id"])) == "rep_e1"
    bot.tap("rep_e1", card["task_id"], done)
    assert "已完成" in str(_greyed(bot, "rep_e1", card["task_id"]).get("replace_text"))


def test_an_escalation_held_by_the_push_budget_comes_with_todo_and_still_works(bot: Bot) -> None:
    from chat.replies import Text
    from services import pushes
    from services.config import PushesConfig

    with bot.session() as s, s.begin():  # 陈主管's day is full already
        for n in range(5):
            event = pushes.Event(
                to="sup_east",
                kind="approval",
                priority=pushes.Priority.APPROVAL,
                reply=Text(f"消息{n}"),
                line=f"消息{n}",
                key=f"t:{n}",
            )
            pushes.push_all(
                s,
                [event],
                now=datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI),
                tz=SHANGHAI,
                config=PushesConfig(),
            )
        c = f.customer(s, "华东精密机械")
        f.reminder(s, c, due_at=datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI), title="送样品")
    bot.run_job("reminders", datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI))
    assert not [c for c in bot.cards("sup_east") if c["main_title"]["title"] == "团队跟进逾期"]  # held
    bot.send_text("sup_east", "待办")
    assert "团队跟进逾期 1 条" in bot.texts("sup_east")[-1]
    card = _escalation(bot, "sup_east", "团队跟进逾期")  # handed over with 待办, buttons and all
    bot.tap("sup_east", card["task_id"], _button(card, "已协助"))
    assert _greyed(bot, "sup_east", card["task_id"]).get("replace_text") == "已协助"
    assert len(_assisted_rows(bot, card["task_id"])) == 1
