"""The push budget (services/pushes.py): at most the configured pushes per person a day, priorities,
several events in one message, nothing lost (every event in a message or in 待办)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from chat.replies import Text
from models import OutboxMessage, Push, PushStatus, Reminder
from services import pushes
from services.config import PushesConfig
from services.parsing import SHANGHAI
from tests import reminders_factory as f
from tests.approvals_factory import make_opportunity
from tests.harness import Bot

APPROVE_KEY = "v1:quote.approve"
DAY = date(2026, 11, 30)  # a Monday


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def event(n: int, priority: pushes.Priority, to: str = "rep_e1", kind: str = "progress") -> pushes.Event:
    return pushes.Event(
        to=to, kind=kind, priority=priority, reply=Text(f"消息{n}"), line=f"消息{n}", key=f"t:{n}"
    )


def counted(bot: Bot, userid: str, day: date = DAY) -> int:
    with bot.session() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(Push)
                .where(Push.recipient == userid, Push.day == day, Push.slot.is_not(None))
            )
            or 0
        )


def test_budget_caps_each_priority_and_holds_the_rest(bot: Bot) -> None:
    cfg = PushesConfig()  # 5 a day; news up to the 3rd, follow-ups up to the 4th, approvals all 5
    now = sh(2026, 11, 30, 9, 0)
    bot.clock.set(now)
    outcomes: list[str] = []
    with bot.session() as s, s.begin():
        for n, priority in enumerate([3, 3, 3, 3, 2, 2, 1, 1], 1):
            d = pushes.push_all(s, [event(n, pushes.Priority(priority))], now=now, tz=SHANGHAI, config=cfg)[
                "rep_e1"
            ]
            outcomes.append("sent" if d.sent else "held")
        again = pushes.push_all(s, [event(1, pushes.Priority.PROGRESS)], now=now, tz=SHANGHAI, config=cfg)[
            "rep_e1"
        ]
    assert outcomes == ["sent", "sent", "sent", "held", "sent", "held", "sent", "held"]
    assert again.duplicates == 1 and not again.sent  # the same event twice is one event
    assert counted(bot, "rep_e1") == 5
    bot.deliver()
    assert [m["text"]["content"] for m in bot.wecom.messages_for("rep_e1")] == [
        "消息1",
        "消息2",
        "消息3",
        "消息5",
        "消息7",
    ]
    # Held is not lost: 待办 lists it (and only once), and the next day has a fresh budget.
    bot.clock.set(sh(2026, 11, 30, 18, 0))
    bot.send_text("rep_e1", "待办")
    todo = bot.last_text("rep_e1")
    assert all(f"消息{n}" in todo for n in (4, 6, 8)) and "消息1" not in todo
    bot.send_text("rep_e1", "待办")
    assert "消息4" not in bot.last_text("rep_e1")
    with bot.session() as s, s.begin():
        assert pushes.push_all(
            s, [event(9, pushes.Priority.PROGRESS)], now=sh(2026, 12, 1, 9, 0), tz=SHANGHAI, config=cfg
        )["rep_e1"].sent


def test_several_events_for_one_person_in_one_run_are_one_message(bot: Bot) -> None:
    bot.clock.set(sh(2026, 11, 30, 9, 0))
    with bot.session() as s, s.begin():
        deliveries = pushes.push_all(
            s,
            [
                event(1, pushes.Priority.PROGRESS),
                event(2, pushes.Priority.FOLLOWUP),
                event(3, pushes.Priority.APPROVAL),
                event(4, pushes.Priority.PROGRESS, to="rep_e2"),
            ],
            now=sh(2026, 11, 30, 9, 0),
            tz=SHANGHAI,
            config=PushesConfig(),
        )
    assert len(deliveries["rep_e1"].folded) == 3 and deliveries["rep_e2"].sent
    bot.deliver()
    [card] = bot.cards("rep_e1")
    assert card["main_title"]["title"] == "3条新消息"
    assert card["sub_title_text"].splitlines() == ["1. 消息3", "2. 消息2", "3. 消息1"]  # by priority
    assert [b["text"] for b in card["button_list"]] == ["查看待办"]
    assert counted(bot, "rep_e1") == 1


def test_the_budget_is_configurable(bot: Bot) -> None:
    cfg = PushesConfig(per_person_per_day=2, reserve_for_approvals=1, reserve_for_followups=0)
    with bot.session() as s, s.begin():
        sent = [
            bool(
                pushes.push_all(s, [event(n, p)], now=sh(2026, 11, 30, 9, 0), tz=SHANGHAI, config=cfg)[
                    "rep_e1"
                ].sent
            )
            for n, p in enumerate(
                [pushes.Priority.PROGRESS, pushes.Priority.PROGRESS, pushes.Priority.APPROVAL], 1
            )
        ]
    assert sent == [True, False, True]


def _tap_through(bot: Bot, approver: str, quote_task: str) -> None:
    bot.tap(approver, quote_task, APPROVE_KEY)
    bot.deliver()


def _quote_cards(bot: Bot, userid: str) -> list[dict[str, Any]]:
    return [c for c in bot.cards(userid) if str(c.get("task_id", "")).startswith("q") and "button_list" in c]


def test_a_busy_day_stays_within_the_budget_and_loses_nothing(bot: Bot) -> None:
    """3 quotes through 3 steps, 6 reminders due, 2 escalations, the morning to-do list — one Monday."""
    with bot.session() as s, s.begin():
        for i in range(3):
            make_opportunity(s, customer=f"客户{i}", name=f"产线{i}")
        c = f.customer(s, "华东精密机械")
        for i in range(6):
            f.reminder(s, c, due_at=sh(2026, 11, 30, 10 + i, 0), title=f"跟进事项{i}")
        for owner in ("rep_e1", "rep_e2"):  # overdue since last week: escalated to 陈主管 today
            f.reminder(s, c, due_at=sh(2026, 11, 27, 9, 0), owner=owner, title=f"逾期{owner}")
    bot.clock.set(sh(2026, 11, 30, 8, 0))
    for i in range(3):
        bot.send_text("rep_e1", f"报价 产线{i} 8万 含安装")  # > 5万: 主管 → 技术 → 财务
    bot.deliver()
    before = {u: len(bot.wecom.messages_for(u)) for u in ("rep_e1", "sup_east", "tech", "fin")}

    bot.run_job("reminders", sh(2026, 11, 30, 8, 30))  # the two overdue ones: one team escalation
    bot.run_job("digest", sh(2026, 11, 30, 8, 40))  # 陈主管's digest, 张伟's to-do list
    for approver in ("sup_east", "tech", "fin"):
        for card in _quote_cards(bot, approver):
            _tap_through(bot, approver, card["task_id"])
    for minute in range(0, 6 * 60, 30):
        bot.run_job("reminders", sh(2026, 11, 30, 10, 0) + timedelta(minutes=minute))
    bot.deliver()

    for userid in ("rep_e1", "sup_east", "tech", "fin"):
        assert counted(bot, userid) <= 5, userid
    # What 张伟 received without asking today: at most 5 messages.
    rep_pushes = bot.wecom.messages_for("rep_e1")[before["rep_e1"] :]
    assert 1 <= len(rep_pushes) <= 5, rep_pushes
    # The approvers acted by tapping; each got each quote's card (their own taps' answers are replies).
    assert len(_quote_cards(bot, "tech")) == 3 and len(_quote_cards(bot, "fin")) == 3

    # Nothing lost: every event for 张伟 was in a message, or is in his 待办 now.
    bot.clock.set(sh(2026, 11, 30, 17, 0))
    with bot.session() as s:
        rows = s.scalars(select(Push).where(Push.recipient == "rep_e1")).all()
        held = [r.line for r in rows if r.status == PushStatus.HELD]
        statuses = Counter(r.status for r in rows)
    assert held and statuses["held"] == len(held)
    bot.send_text("rep_e1", "待办")
    todo = bot.last_text("rep_e1")
    assert all(line in todo for line in held), (held, todo)
    assert all(f"跟进事项{i}" in todo for i in range(6))  # the reminders themselves, with 完成/改期
    delivered = "\n".join(str(m) for m in rep_pushes) + todo
    for i in range(3):  # each quote's outcome reached him, as a message or in 待办
        assert f"产线{i}" in delivered
    # The supervisor got one escalation for both overdue follow-ups (not one per reminder).
    escalations = [c for c in bot.cards("sup_east") if c["main_title"]["title"] == "团队跟进逾期"]
    with bot.session() as s:
        esc_rows = s.scalars(
            select(Push).where(Push.recipient == "sup_east", Push.kind == "escalation")
        ).all()
        overdue = s.scalars(select(Reminder).where(Reminder.title.like("逾期%"))).all()
    assert len(esc_rows) == 1 and all(r.escalated_at is not None for r in overdue)
    assert len(escalations) == 1 or esc_rows[0].status in ("folded", "held")


def test_pg_replicas_racing_for_the_last_slots_never_exceed_the_budget(pg_db: tuple[str, Any]) -> None:
    """Eight 'replicas' push 5 events each to one person at once: 5 messages, every event once, rest held."""
    import threading

    from models.db import make_session_factory

    factory = make_session_factory(pg_db[1])
    now = sh(2026, 11, 30, 9, 0)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def replica(r: int) -> None:
        try:
            start.wait(10)
            for n in range(5):
                with factory() as s, s.begin():
                    # the same 10 events are pushed by several replicas: each must still count once
                    pushes.push_all(
                        s,
                        [event((r * 5 + n) % 10, pushes.Priority.APPROVAL)],
                        now=now,
                        tz=SHANGHAI,
                        config=PushesConfig(),
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(r,)) for r in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with factory() as s:
        rows = s.scalars(select(Push)).all()
        outbox = s.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.recipient == "rep_e1")
        )
    assert len(rows) == 10 and len({r.dedup_key for r in rows}) == 10
    assert sorted(r.slot for r in rows if r.slot) == [1, 2, 3, 4, 5] and outbox == 5
    assert Counter(r.status for r in rows) == {"sent": 5, "held": 5}


def _bot_initiated_per_day(bot: Bot) -> Counter[tuple[str, date]]:
    """Outbox rows the bot wrote on its own initiative (push keys; card updates are not new messages), per
    person and local day: what people really receive unasked."""
    with bot.session() as s:
        rows = s.execute(
            select(OutboxMessage.recipient, OutboxMessage.created_at, OutboxMessage.kind).where(
                OutboxMessage.dedup_key.like("push:%")
            )
        ).all()
    return Counter(
        (who, (at if at.tzinfo else at.replace(tzinfo=SHANGHAI)).astimezone(SHANGHAI).date())
        for who, at, kind in rows
        if kind != "update_card"
    )


def test_a_busy_run_is_one_message_per_person_and_kind_and_the_day_stays_in_budget(bot: Bot) -> None:
    """4 instalments due for one rep, 4 quotes waiting on one supervisor, runs over several days: each run
    gives each person one message per kind, the message lists every event (or says how many wait in 待办),
    and the messages a person gets unasked in a day never exceed the budget."""
    from tests.collections_factory import ready_opportunity

    budget = bot.state.config.pushes.per_person_per_day
    bot.clock.set(sh(2026, 11, 23, 9, 0))  # Monday
    for i in range(4):
        ready_opportunity(bot, customer=f"华瑞电子{i}", name=f"贴片线{i}", phone=f"1381234{i:04d}")
        bot.send_text("rep_e1", f"合同 贴片线{i} 10万 分期 100 2026-12-01")
    with bot.session() as s, s.begin():
        for i in range(4):
            make_opportunity(s, customer=f"苏州客户{i}", name=f"产线{i}")
    for i in range(4):
        bot.send_text("rep_e1", f"报价 产线{i} 4万")  # ≤ 5万: the supervisor alone
    bot.deliver()

    def run(job: str, when: datetime) -> dict[str, int]:
        before = {u: len(bot.wecom.messages_for(u)) for u in ("rep_e1", "sup_east", "fin", "boss")}
        bot.run_job(job, when)
        bot.deliver()
        return {u: len(bot.wecom.messages_for(u)) - n for u, n in before.items()}

    approval_runs, collection_runs = [], []
    day = sh(2026, 11, 24, 0, 0)
    while day < sh(2026, 12, 5, 0, 0):
        collection_runs.append(run("collections", day + timedelta(hours=9, minutes=15)))
        approval_runs.append(run("approvals", day + timedelta(hours=10)))
        approval_runs.append(run("approvals", day + timedelta(hours=15)))
        day += timedelta(days=1)
    assert all(n <= 1 for r in approval_runs + collection_runs for n in r.values()), (
        approval_runs,
        collection_runs,
    )

    # The four reminders of one run came as one card: the list, the first quote's buttons, 全部待批.
    batches = [c for c in bot.cards("sup_east") if c["main_title"]["title"] == "4笔报价待您审批"]
    assert len(batches) >= 2  # 第1次 and 第2次提醒, one card each
    first = batches[0]
    assert "第1次提醒" in first["sub_title_text"] and len(first["sub_title_text"].splitlines()) == 4
    assert [b["text"] for b in first["button_list"]][-1] == "全部待批"
    assert first["button_list"][0]["text"].startswith("同意 #")
    # The due day's four instalments: one card listing them (not four 回款到期 cards), and one list the day after.
    lists = [c for c in bot.cards("rep_e1") if c["main_title"]["title"].startswith("回款跟进")]
    assert len(lists) >= 2 and all("合同 #" in c["sub_title_text"] for c in lists)
    assert not [c for c in bot.cards("rep_e1") if c["main_title"]["title"] == "回款到期"]

    per_day = _bot_initiated_per_day(bot)
    assert per_day and max(per_day.values()) <= budget, per_day
    for (who, when), n in per_day.items():  # the ledger counts what was really sent
        assert counted(bot, who, when) >= n, (who, when, n)

    # Nothing lost: the first batch's 同意 approves that quote, 全部待批 hands over every waiting card.
    from models import Quote

    quote_no = int(first["button_list"][0]["text"].split("#")[1])
    bot.tap("sup_east", first["task_id"], first["button_list"][0]["key"])
    with bot.session() as s:
        assert s.get_one(Quote, quote_no).status == "approved"
    bot.tap("sup_east", first["task_id"], first["button_list"][-1]["key"])
    assert bot.cards("sup_east")[-1]["button_list"][0]["text"] == "同意"


def test_a_held_digest_is_handed_over_by_the_next_todo_and_a_two_part_message_takes_two_slots(
    bot: Bot,
) -> None:
    from chat.replies import Markdown

    cfg = PushesConfig()
    now = sh(2026, 11, 30, 9, 0)
    bot.clock.set(now)
    with bot.session() as s, s.begin():
        two = pushes.Event(
            to="sup_east",
            kind="approval",
            priority=pushes.Priority.APPROVAL,
            reply=[Text("李娜把审批交给您"), Text("报价 #9 待您审批")],
            line="报价 #9",
            key="t:two",
        )
        assert pushes.push_all(s, [two], now=now, tz=SHANGHAI, config=cfg)["sup_east"].sent
        for n in range(3):
            pushes.push_all(
                s, [event(n, pushes.Priority.APPROVAL, to="sup_east")], now=now, tz=SHANGHAI, config=cfg
            )
        digest = pushes.push(
            s,
            to="sup_east",
            kind="digest",
            priority=pushes.Priority.APPROVAL,
            reply=[Markdown("**日报 11月29日**\n拜访 12 次"), Text("图表")],
            line="2026-11-29 日报",
            key="digest:x",
            now=now,
            tz=SHANGHAI,
            config=cfg,
        )
    assert digest.held and counted(bot, "sup_east") == 5  # the two-part message used two of the five slots
    assert _bot_initiated_per_day(bot)[("sup_east", DAY)] == 5
    bot.send_text("sup_east", "待办")
    contents = [m.get("markdown", m.get("text", {})).get("content", "") for m in bot.messages("sup_east")]
    assert any("拜访 12 次" in c for c in contents)  # the digest itself, not a line that opens nothing
    assert not any("· 2026-11-29 日报" in c for c in contents)
