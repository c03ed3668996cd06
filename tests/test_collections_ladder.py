"""The collections ladder on working days (with a holiday), promise dates, the due-day card's buttons."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from cards.keys import CardKey
from models import JobOccurrence, Payment
from services.config import default_config
from services.ladder import Rung, steps_for
from tests.collections_factory import contract_id, instalments, ready_opportunity
from tests.harness import SHANGHAI, Bot


def _config(holidays: list[date] | None = None):  # type: ignore[no-untyped-def]
    config = default_config()
    return config.model_copy(
        update={"approval": config.approval.model_copy(update={"holidays": holidays or []})}
    )


def rungs(
    today: date,
    *,
    due: date = date(2026, 12, 15),
    promised: date | None = None,
    settled: bool = False,
    holidays: list[date] | None = None,
) -> list[Rung]:
    steps = steps_for(
        instalment_id=1,
        due_on=due,
        promised_on=promised,
        settled=settled,
        needs_invoice=False,
        today=today,
        config=_config(holidays),
    )
    return [s.rung for s in steps]


def test_every_rung_on_working_days() -> None:
    # Due Tuesday 2026-12-15. Seven working days before is Friday 12-04 (weekends do not count).
    assert rungs(date(2026, 12, 3)) == []
    assert rungs(date(2026, 12, 4)) == [Rung.BEFORE]
    assert rungs(date(2026, 12, 14)) == [Rung.BEFORE]
    assert rungs(date(2026, 12, 12)) == []  # Saturday: the ladder rests
    assert rungs(date(2026, 12, 15)) == [Rung.DUE]
    assert rungs(date(2026, 12, 16)) == [
        Rung.DUE,
        Rung.OVERDUE,
    ]  # DUE is claimed once, so only OVERDUE is new
    # 15 working days after 12-15 is 2027-01-05; 30 is 2027-01-26.
    assert Rung.SUPERVISOR not in rungs(date(2027, 1, 4))
    assert rungs(date(2027, 1, 5))[-1] == Rung.SUPERVISOR
    assert Rung.DIRECTOR not in rungs(date(2027, 1, 25))
    assert rungs(date(2027, 1, 26))[-2:] == [Rung.SUPERVISOR, Rung.DIRECTOR]
    assert rungs(date(2027, 1, 26), settled=True) == []


def test_a_holiday_moves_every_rung() -> None:
    holiday = [date(2026, 12, 7), date(2026, 12, 8)]  # two days off before the due date
    # Seven working days before 12-15 is now Wednesday 12-02 (not Friday 12-04).
    assert rungs(date(2026, 12, 1), holidays=holiday) == []
    assert rungs(date(2026, 12, 2), holidays=holiday) == [Rung.BEFORE]
    assert rungs(date(2026, 12, 1)) == rungs(date(2026, 12, 3)) == []  # without the holiday: not yet
    assert rungs(date(2026, 12, 7), holidays=holiday) == []  # the holiday itself: the ladder rests
    # Overdue by working days: with 2027-01-01 off, the supervisor hears one working day later.
    assert Rung.SUPERVISOR not in rungs(date(2027, 1, 5), holidays=[date(2027, 1, 1)])
    assert rungs(date(2027, 1, 6), holidays=[date(2027, 1, 1)])[-1] == Rung.SUPERVISOR
    # A due date on a holiday: the due-day card comes on the next working day.
    assert rungs(date(2026, 12, 15), due=date(2026, 12, 15), holidays=[date(2026, 12, 15)]) == []
    assert rungs(date(2026, 12, 16), due=date(2026, 12, 15), holidays=[date(2026, 12, 15)]) == [Rung.DUE]


def test_a_promise_pauses_the_ladder_until_that_day() -> None:
    assert rungs(date(2026, 12, 18), promised=date(2026, 12, 22)) == []
    assert rungs(date(2026, 12, 22), promised=date(2026, 12, 22)) == [Rung.DUE, Rung.OVERDUE]


def at(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SHANGHAI)


@pytest.fixture
def signed(bot: Bot) -> int:
    """A 50万 contract signed Friday 2026-11-27: 30% due 2026-12-15, 70% after acceptance."""
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万 分期 30/70 2026-12-15/验收后30天")
    return contract_id(bot)


def messages_since(bot: Bot, userid: str, n: int) -> list[dict]:  # type: ignore[type-arg]
    return bot.messages(userid)[n:]


def test_the_ladder_end_to_end(bot: Bot, signed: int) -> None:
    counts = {u: len(bot.messages(u)) for u in ("rep_e1", "fin", "sup_east", "boss")}
    assert "outside" in bot.run_job("collections", at(2026, 12, 4, 7))  # before the send window
    bot.run_job("collections", at(2026, 12, 4))
    new = messages_since(bot, "rep_e1", counts["rep_e1"])
    assert (
        len(new) == 1
        and "【回款提醒】" in new[0]["text"]["content"]
        and "12月15日 到期" in new[0]["text"]["content"]
    )
    fin = messages_since(bot, "fin", counts["fin"])
    assert len(fin) == 1 and "【待开票】" in fin[0]["text"]["content"]  # due soon, not invoiced
    bot.run_job("collections", at(2026, 12, 4, 10))  # a rerun the same day sends nothing again
    assert len(bot.messages("rep_e1")) == counts["rep_e1"] + 1

    bot.run_job("collections", at(2026, 12, 15))
    card = bot.cards("rep_e1")[-1]
    assert card["main_title"]["title"] == "回款今日到期" and [b["text"] for b in card["button_list"]] == [
        "已回款 ¥15万",
        "客户承诺日期",
        "需要开票",
    ]
    assert bot.cards("fin")[-1]["main_title"]["title"] == "回款今日到期"

    n = len(bot.messages("rep_e1"))
    bot.run_job("collections", at(2026, 12, 16))
    assert "已逾期 1 个工作日" in bot.last_text("rep_e1")
    bot.run_job("collections", at(2026, 12, 19))  # Saturday
    bot.run_job("collections", at(2026, 12, 21))
    assert "已逾期 4 个工作日" in bot.last_text("rep_e1") and len(bot.messages("rep_e1")) == n + 2
    assert len(bot.messages("sup_east")) == counts["sup_east"]
    bot.run_job("collections", at(2027, 1, 5))
    assert "【回款逾期 15 个工作日】" in bot.last_text("sup_east") and "负责人 张伟" in bot.last_text(
        "sup_east"
    )
    assert len(bot.messages("boss")) == counts["boss"]
    bot.run_job("collections", at(2027, 1, 26))
    assert "【回款逾期 30 个工作日】" in bot.last_text("boss")

    bot.send_text("rep_e1", f"回款 #{signed} 15万")  # paid: the ladder stops
    n = len(bot.messages("rep_e1"))
    bot.run_job("collections", at(2027, 1, 27))
    assert len(bot.messages("rep_e1")) == n


def test_due_card_paid_button_records_the_instalment(bot: Bot, signed: int) -> None:
    bot.send_text("rep_e1", f"回款 #{signed} 5万")  # partly paid before the due day
    bot.run_job("collections", at(2026, 12, 15))
    card = bot.cards("rep_e1")[-1]
    assert card["button_list"][0]["text"] == "已回款 ¥10万"
    bot.tap("rep_e2", card["task_id"], CardKey("coll.paid").pack())  # not the recipient
    assert "不是发给您的" in bot.last_text("rep_e2")
    bot.tap("rep_e1", card["task_id"], CardKey("coll.paid").pack())
    with bot.session() as s:
        assert [p.amount for p in s.scalars(select(Payment).order_by(Payment.id))] == [
            Decimal(50000),
            Decimal(100000),
        ]
    bot.deliver()
    updates = [c.json for c in bot.wecom.calls if c.path == "message/update_template_card"]
    assert updates and updates[-1]["template_card"]["replace_text"] == "已回款 ¥10万"
    bot.tap(
        "rep_e1", card["task_id"], CardKey("coll.paid").pack(), response_code="used-once-x"
    )  # a second tap
    with bot.session() as s:
        assert len(list(s.scalars(select(Payment)))) == 2


def test_due_card_promise_button_pauses(bot: Bot, signed: int) -> None:
    bot.run_job("collections", at(2026, 12, 15))
    card = bot.cards("rep_e1")[-1]
    bot.tap("rep_e1", card["task_id"], CardKey("coll.promise").pack())
    assert "请回复日期" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "下雨天")
    assert "看不懂日期" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "12月22日")
    assert "客户承诺 2026-12-22" in bot.last_text("rep_e1")
    assert instalments(bot, signed)[0].promised_on == date(2026, 12, 22)
    n = len(bot.messages("rep_e1"))
    bot.run_job("collections", at(2026, 12, 16))
    bot.run_job("collections", at(2026, 12, 21))
    assert len(bot.messages("rep_e1")) == n  # paused
    bot.run_job("collections", at(2026, 12, 23))
    assert "已逾期 6 个工作日" in bot.last_text("rep_e1")  # resumes after the promised day


def test_due_card_invoice_button_tells_finance(bot: Bot, signed: int) -> None:
    bot.run_job("collections", at(2026, 12, 15))
    card = bot.cards("rep_e1")[-1]
    n = len(bot.messages("fin"))
    bot.tap("rep_e1", card["task_id"], CardKey("coll.invoice").pack())
    assert "【需要开票】张伟请求为合同" in bot.last_text("fin") and len(bot.messages("fin")) == n + 1
    bot.send_text("fin", f"开票 #{signed} 15万")
    with bot.session() as s:
        assert s.scalar(select(JobOccurrence.id).where(JobOccurrence.job == "collections")) is not None


def test_paid_button_on_a_later_instalment_settles_the_earlier_ones_too(bot: Bot) -> None:
    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万 分期 30/70 2026-12-14/2026-12-15")
    cid = contract_id(bot)
    bot.send_text("rep_e1", f"回款 #{cid} 10万")  # 第一期 still owes 5万
    bot.run_job("collections", at(2026, 12, 15))
    [batch] = [c for c in bot.cards("rep_e1") if c["main_title"]["title"] == "回款跟进 2笔"]  # one message
    bot.tap("rep_e1", batch["task_id"], batch["button_list"][0]["key"])  # 查看待办 hands over both cards
    second = next(c for c in bot.cards("rep_e1") if "第二期" in c["main_title"]["desc"])
    assert second["button_list"][0]["text"] == "已回款 ¥40万"  # 5万 of 第一期 comes first
    assert {"keyname": "连同前期", "value": "共待收 ¥40万"} in second["horizontal_content_list"]
    bot.tap("rep_e1", second["task_id"], CardKey("coll.paid").pack())
    with bot.session() as s:
        assert [p.amount for p in s.scalars(select(Payment).order_by(Payment.id))] == [
            Decimal(100000),
            Decimal(400000),
        ]


def test_the_ladder_stays_within_the_push_budget(bot: Bot) -> None:
    """Eight instalments falling due on one morning: one message lists them (what does not fit its text is held
    for the owner's 待办, services/pushes.py), and a rerun adds nothing."""
    from models import Push

    for i in range(8):
        ready_opportunity(bot, customer=f"华瑞电子{i}", name=f"贴片线{i}", phone=f"1381234{i:04d}")
        bot.send_text("rep_e1", f"合同 贴片线{i} 10万 分期 100 2026-12-01")

    def ledger() -> list[tuple[str | None, int | None]]:
        with bot.session() as s:
            return [
                (p.status, p.slot)
                for p in s.scalars(select(Push).where(Push.recipient == "rep_e1", Push.kind == "collection"))
            ]

    bot.run_job("collections", at(2026, 12, 3))
    rows = ledger()
    assert len(rows) == 8 and [slot for _, slot in rows if slot] == [1]  # one message, one slot
    assert {status for status, _ in rows} == {"folded", "held"}
    from models import OutboxMessage

    with bot.session() as s:  # the outbox (the setup's 30-odd answers used up this hour's send rate)
        [message] = s.scalars(
            select(OutboxMessage.payload).where(
                OutboxMessage.recipient == "rep_e1", OutboxMessage.dedup_key.like("push:%")
            )
        ).all()
    assert message["template_card"]["main_title"]["title"] == "回款跟进 8笔"
    bot.run_job("collections", at(2026, 12, 3, 10))
    assert ledger() == rows


def test_a_reassigned_customer_takes_its_contracts_along(bot: Bot, signed: int) -> None:
    """分配 moves the customer: the ladder chases the new owner, who can record 回款; the old owner hears
    nothing more about a contract they can no longer see (the won opportunity is closed and stays theirs)."""
    from models import Opportunity

    with bot.session() as s, s.begin():
        s.scalars(select(Opportunity)).one().closed_at = bot.clock()
    bot.send_text("sup_east", "分配 华瑞电子 李娜")
    assert "分配给李娜" in bot.last_text("sup_east")
    old, new = len(bot.messages("rep_e1")), len(bot.messages("rep_e2"))
    bot.run_job("collections", at(2026, 12, 15))
    assert len(bot.messages("rep_e1")) == old
    card = bot.cards("rep_e2")[-1]
    assert len(bot.messages("rep_e2")) > new and card["main_title"]["title"].startswith("回款")
    bot.send_text("rep_e1", f"回款 #{signed} 1万")
    assert "没有找到合同" in bot.last_text("rep_e1")
    bot.send_text("rep_e2", f"回款 #{signed} 1万")
    assert "没有找到合同" not in bot.last_text("rep_e2")
    old = len(bot.messages("rep_e1"))
    bot.run_job("collections", at(2026, 12, 16))
    assert "已逾期 1 个工作日" in bot.last_text("rep_e2") and len(bot.messages("rep_e1")) == old


def test_notices_say_the_real_state_of_the_instalment(bot: Bot) -> None:
    """An instalment first seen by the ladder long after its due date is 逾期N个工作日, not 今日到期; one due soon
    is 即将到期 (the card's title and the line 待办 lists)."""
    from models import Push

    ready_opportunity(bot)
    bot.send_text("rep_e1", "合同 贴片线 50万 分期 50/50 2026-11-02/2026-12-18")
    bot.run_job("collections", at(2026, 12, 14))
    batch = bot.cards("rep_e1")[-1]  # both in one message
    assert "回款逾期30个工作日：" in batch["sub_title_text"] and "回款即将到期：" in batch["sub_title_text"]
    bot.tap("rep_e1", batch["task_id"], batch["button_list"][0]["key"])  # 查看待办 hands over the card
    assert bot.cards("rep_e1")[-1]["main_title"]["title"] == "回款逾期30个工作日"
    with bot.session() as s:
        lines = [p.line for p in s.scalars(select(Push).where(Push.recipient == "rep_e1"))]
    assert any(line.startswith("回款逾期30个工作日：") for line in lines)
    assert any(line.startswith("回款即将到期：") for line in lines)
    assert not any("今日到期" in line for line in lines)
