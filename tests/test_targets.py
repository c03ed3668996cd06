"""Targets: the chat command's limits, achievement and roll-ups, the team view."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models import Contract, Customer, Payment, Target
from models.targets import Level, Metric
from services import target_months
from services import targets as svc
from services.parsing import SHANGHAI
from tests.harness import Bot

SH = ZoneInfo("Asia/Shanghai")


def targets(bot: Bot) -> dict[tuple[str, str, str, str], Decimal]:
    with bot.session() as s:
        return {(t.level, t.key, t.month, t.metric): Decimal(t.value) for t in s.scalars(select(Target))}


def sign(bot: Bot, *, rep: str, amount: int, when: datetime, paid: int = 0) -> None:
    with bot.session() as s, s.begin():
        customer = Customer(
            name=f"客户{amount}{rep}",
            name_norm=f"客户{amount}{rep}",
            owner_userid=rep,
            region="华东",
            custom={},
            created_at=when,
            updated_at=when,
        )
        s.add(customer)
        s.flush()
        contract = Contract(customer_id=customer.id, amount=Decimal(amount), signed_at=when, signed_by=rep)
        s.add(contract)
        s.flush()
        if paid:
            s.add(
                Payment(
                    contract_id=contract.id,
                    customer_id=customer.id,
                    amount=Decimal(paid),
                    received_at=when,
                    recorded_by=rep,
                )
            )


def test_supervisor_sets_a_reps_target_in_chat(bot: Bot) -> None:
    bot.send_text("sup_east", "目标 张伟 12月 签约 50万")
    assert "已设 张伟 2026-12 签约目标 50万" in bot.last_text("sup_east")
    assert targets(bot) == {("rep", "rep_e1", "2026-12", "signed"): Decimal("500000.00")}
    bot.send_text("sup_east", "目标 张伟 12月 签约 40万")  # re-set replaces
    assert targets(bot)[("rep", "rep_e1", "2026-12", "signed")] == Decimal("400000.00")


def test_supervisor_cannot_set_another_regions_rep(bot: Bot) -> None:
    bot.send_text("sup_east", "目标 赵强 12月 签约 50万")
    assert "本区域（华东）没有叫「赵强」的销售" in bot.last_text("sup_east")
    assert targets(bot) == {}


def test_supervisor_cannot_exceed_the_region_target(bot: Bot) -> None:
    bot.send_text("boss", "目标 华东 12月 签约 80万")
    assert "已设 华东 区域" in bot.last_text("boss")
    bot.send_text("sup_east", "目标 张伟 12月 签约 50万")
    bot.send_text("sup_east", "目标 李娜 12月 签约 40万")
    answer = bot.last_text("sup_east")
    assert "超出区域目标" in answer and "最多还能给 李娜 30万" in answer
    assert ("rep", "rep_e2", "2026-12", "signed") not in targets(bot)
    bot.send_text("sup_east", "目标 李娜 12月 签约 30万")
    assert targets(bot)[("rep", "rep_e2", "2026-12", "signed")] == Decimal("300000.00")


def test_a_rep_may_not_set_targets_and_bad_input_explains(bot: Bot) -> None:
    bot.send_text("rep_e1", "目标 张伟 12月 签约 500万")
    assert targets(bot) == {}
    bot.send_text("sup_east", "目标 张伟 13月 签约 5万")
    assert "月份不对" in bot.last_text("sup_east") or "看不懂月份" in bot.last_text("sup_east")
    bot.send_text("sup_east", "目标 张伟 12月 利润 5万")
    assert "签约、回款、新客户 或 拜访" in bot.last_text("sup_east")
    bot.send_text("sup_east", "目标 张伟")
    assert "例：目标 张华 12月 签约 50万" in bot.last_text("sup_east")
    assert targets(bot) == {}


def test_my_targets_show_month_quarter_and_what_is_left(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 12, 15, 10, 0, tzinfo=SH))  # Tuesday; 13 working days left incl. today
    bot.send_text("sup_east", "目标 张伟 12月 签约 50万")
    bot.send_text("sup_east", "目标 张伟 11月 签约 20万")
    sign(bot, rep="rep_e1", amount=200000, when=datetime(2026, 12, 3, 10, tzinfo=SH), paid=50000)
    sign(bot, rep="rep_e1", amount=100000, when=datetime(2026, 11, 20, 10, tzinfo=SH))
    sign(bot, rep="rep_e2", amount=900000, when=datetime(2026, 12, 4, 10, tzinfo=SH))  # someone else's
    bot.send_text("rep_e1", "我的目标")
    text = bot.last_text("rep_e1")
    assert "12月目标（截至 12月15日）" in text
    assert "签约：目标 50万，完成 20万（40%）" in text
    assert "每个工作日还需约 2.3万" in text  # 30万 / 13 working days
    assert "第4季度：签约 30万/70万（43%）" in text
    assert len(text.splitlines()) <= 8
    sign_opp = bot.cards("rep_e1")
    assert not sign_opp  # no open opportunity: no next-step card
    bot.send_text("rep_e1", "新客户 华东精密 行业=机械 联系人=王经理 电话=13812345678")
    bot.send_text("rep_e1", "商机 华东精密 二期产线 30万")
    before = len(bot.cards("rep_e1"))
    bot.send_text("rep_e1", "我的目标")
    card = bot.cards("rep_e1")[-1]
    assert len(bot.cards("rep_e1")) == before + 1 and "二期产线" in card["main_title"]["desc"]
    assert [b["text"] for b in card["button_list"]] == ["推进", "评分"]


def test_team_view_for_supervisor_and_director(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 12, 15, 10, 0, tzinfo=SH))
    bot.send_text("boss", "目标 华东 12月 签约 100万")
    bot.send_text("sup_east", "目标 张伟 12月 签约 50万")
    sign(bot, rep="rep_e1", amount=250000, when=datetime(2026, 12, 3, 10, tzinfo=SH))
    bot.send_text("sup_east", "团队目标")
    text = bot.last_text("sup_east")
    assert "张伟：完成 25万 / 50万（50%）" in text and "李娜：未设目标" in text and "赵强" not in text
    bot.send_text("boss", "团队目标")
    text = bot.last_text("boss")
    assert "华东：完成 25万 / 100万（25%）" in text and "华南：未设目标" in text


def test_quarter_rolls_up_months(bot: Bot) -> None:
    now = datetime(2026, 11, 10, 10, tzinfo=SH).astimezone(UTC)
    with bot.session() as s, s.begin():
        for month, value in (("2026-10", 10), ("2026-11", 20), ("2026-12", 30)):
            svc.upsert_target(
                s,
                level=Level.REP,
                key="rep_e1",
                month=month,
                metric=Metric.SIGNED,
                value=Decimal(value * 10000),
                actor="admin",
                now=now,
            )
    sign(bot, rep="rep_e1", amount=150000, when=datetime(2026, 10, 5, 10, tzinfo=SH))
    with bot.session() as s:
        q = svc.progress(
            s,
            level=Level.REP,
            key="rep_e1",
            months=target_months.quarter_months("2026-11"),
            now=now,
            config=bot.state.config,
            metrics=[Metric.SIGNED],
        )[0]
    assert q.target == Decimal("600000.00") and q.done == Decimal("150000.00")


def _sheet(path, rows: list[list[str]]) -> None:  # type: ignore[no-untyped-def]
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_import_report_rejects_and_rerun(bot: Bot, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", bot.state.settings.database_url)
    monkeypatch.delenv("SALESBOT_CONFIG", raising=False)
    path = tmp_path / "目标.csv"
    _sheet(
        path,
        [
            ["账号", "姓名", "区域", "月份", "指标", "目标"],
            ["rep_e1", "", "", "2026-12", "签约", "50万"],
            ["", "李娜", "", "2026年12月", "回款", "300000"],
            ["", "", "华东", "2026-12", "签约", "60万"],
            ["", "", "全公司", "2026-12", "拜访", "300"],
            ["ghost", "", "", "2026-12", "签约", "5万"],  # nobody
            ["rep_e2", "", "", "2026-13", "签约", "5万"],  # bad month
            ["rep_e2", "", "", "2026-12", "利润", "5万"],  # bad metric
            ["rep_e2", "", "", "2026-12", "拜访", "3.5"],  # counts are integers
            ["rep_s1", "", "", "2026-12", "签约", "abc"],  # bad value
            ["", "", "西北", "2026-12", "签约", "5万"],  # no such region
            ["rep_e2", "", "", "2026-12", "签约", "20万"],
        ],
    )
    assert main(["targets", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "共 11 行：新设 5，更新 0，未变 0" in out and "跳过 6" in out
    assert "组织架构里没有：ghost" in out and "没有这个区域：西北" in out
    assert "华东 2026-12 签约：销售目标合计 70万，高于区域目标 60万" in out
    rejects = tmp_path / "目标.rejects.csv"
    assert rejects.exists() and len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 7
    got = targets(bot)
    assert got[("rep", "rep_e1", "2026-12", "signed")] == Decimal("500000.00")
    assert got[("company", "", "2026-12", "visits")] == Decimal("300.00")
    assert main(["targets", "import", str(path)]) == 0  # rerun changes nothing
    assert "新设 0，更新 0，未变 5" in capsys.readouterr().out
    assert targets(bot) == got
    _sheet(path, [["姓名", "月份"], ["张伟", "2026-12"]])
    assert main(["targets", "import", str(path)]) == 1
    assert "缺少列 指标、目标" in capsys.readouterr().err


def test_export_is_reimportable(bot: Bot, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", bot.state.settings.database_url)
    bot.send_text("boss", "目标 华东 12月 签约 80万")
    bot.send_text("sup_east", "目标 张伟 12月 签约 50万")
    out = tmp_path / "t.xlsx"
    assert main(["targets", "export", str(out)]) == 0
    assert "已导出 2 条目标" in capsys.readouterr().out
    with bot.session() as s, s.begin():
        for t in s.scalars(select(Target)):
            s.delete(t)
    assert main(["targets", "import", str(out)]) == 0
    assert "新设 2" in capsys.readouterr().out
    assert len(targets(bot)) == 2


def test_nudges_at_50_and_100_percent_each_once(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 12, 10, 10, 0, tzinfo=SH))
    bot.send_text("sup_east", "目标 张伟 12月 签约 50万")
    bot.send_text("sup_east", "目标 张伟 12月 回款 20万")
    bot.deliver()
    sign(bot, rep="rep_e1", amount=260000, when=datetime(2026, 12, 3, 10, tzinfo=SH))
    assert "1 target nudges" in bot.run_job("targets")
    assert "本月签约目标已完成过半：26万 / 50万（52%）" in bot.last_text("rep_e1")
    before = len(bot.texts("rep_e1"))
    bot.run_job("targets", datetime(2026, 12, 10, 11, 17, tzinfo=SH))  # again: nothing new
    assert len(bot.texts("rep_e1")) == before
    sign(bot, rep="rep_e1", amount=300000, when=datetime(2026, 12, 10, 12, tzinfo=SH), paid=200000)
    bot.run_job("targets", datetime(2026, 12, 10, 13, 17, tzinfo=SH))
    assert len(bot.texts("rep_e1")) == before  # two events in one run: one folded message (the push budget)
    folded = [c["sub_title_text"] for c in bot.cards("rep_e1")]
    assert (
        len(folded) == 1
        and "本月签约目标已达成（112%）" in folded[0]
        and "本月回款目标已达成（100%）" in folded[0]
    )
    assert "过半" not in folded[0]  # passing 100% at once does not also announce 50%
    bot.run_job("targets", datetime(2026, 12, 11, 9, 17, tzinfo=SH))
    assert len(bot.texts("rep_e1")) == before and len(bot.cards("rep_e1")) == 1


def test_supervisor_hears_once_in_the_last_week_about_reps_behind(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 12, 10, 10, 0, tzinfo=SH))
    bot.send_text("sup_east", "目标 张伟 12月 签约 50万")
    bot.send_text("sup_east", "目标 李娜 12月 签约 10万")
    sign(bot, rep="rep_e2", amount=100000, when=datetime(2026, 12, 3, 10, tzinfo=SH))
    bot.deliver()
    start = len(bot.texts("sup_east"))
    bot.run_job("targets", datetime(2026, 12, 21, 10, 17, tzinfo=SH))  # not yet the last week
    assert len(bot.texts("sup_east")) == start
    bot.run_job("targets", datetime(2026, 12, 28, 10, 17, tzinfo=SH))
    notes = bot.texts("sup_east")[start:]
    assert len(notes) == 1 and "张伟（签约 0%）" in notes[0] and "李娜" not in notes[0]
    assert "<font" not in notes[0]
    bot.run_job("targets", datetime(2026, 12, 29, 10, 17, tzinfo=SH))
    assert len(bot.texts("sup_east")) == start + 1
    assert not any("张伟" in t for t in bot.texts("sup_south"))


def test_digest_shows_completion_beside_time_elapsed_without_colours(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 12, 16, 12, 0, tzinfo=SH))  # 15.5 of 31 days: exactly half the month
    bot.send_text("boss", "目标 华东 12月 签约 100万")
    bot.send_text("sup_east", "目标 张伟 12月 签约 50万")
    sign(bot, rep="rep_e1", amount=315000, when=datetime(2026, 12, 3, 10, tzinfo=SH))
    bot.send_text("sup_east", "日报")
    text = "\n".join(bot.texts("sup_east")[-3:])
    assert "**本月签约目标**（截至 12月16日）" in text
    assert "张伟 完成 63%（31.5万/50万），时间过半 50%" in text
    assert "李娜" not in text.split("本月签约目标")[1].split("**")[0]  # no target, no line
    bot.send_text("boss", "日报")
    text = "\n".join(bot.texts("boss")[-3:])
    assert "华东 完成 32%（31.5万/100万）" in text
    section = text.split("本月签约目标")[1].split("**")[0]
    assert "<font" not in section


def test_demo_company_has_targets_and_a_rep_sees_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from demo.run import build_demo

    now = datetime(2026, 12, 14, 10, 0, tzinfo=SH).astimezone(UTC)
    app, state = build_demo(tmp_path / "demo", now=now, run_worker=False)
    try:
        with TestClient(app) as client:
            messages = client.post("/sim/api/send", json={"userid": "rep_e01", "text": "我的目标"}).json()[
                "messages"
            ]
            answer = "\n".join(m.get("text", "") for m in messages if m["from"] == "bot")
            assert "月目标（截至" in answer and "签约：目标" in answer and "回款：目标" in answer
            assert "季度：签约" in answer
            with state.session_factory() as s:
                regions = {t.key for t in s.scalars(select(Target).where(Target.level == "region"))}
            assert regions and all(regions)
    finally:
        state.engine.dispose()


def test_quarter_counts_only_the_months_that_have_a_target(bot: Bot) -> None:
    now = datetime(2026, 12, 10, 10, tzinfo=SH).astimezone(UTC)
    with bot.session() as s, s.begin():
        svc.upsert_target(
            s,
            level=Level.REP,
            key="rep_e1",
            month="2026-12",
            metric=Metric.SIGNED,
            value=Decimal(300000),
            actor="admin",
            now=now,
        )
    sign(bot, rep="rep_e1", amount=500000, when=datetime(2026, 10, 5, 10, tzinfo=SH))  # before any target
    sign(bot, rep="rep_e1", amount=100000, when=datetime(2026, 12, 5, 10, tzinfo=SH))
    with bot.session() as s:
        q = svc.progress(
            s,
            level=Level.REP,
            key="rep_e1",
            months=target_months.quarter_months("2026-12"),
            now=now,
            config=bot.state.config,
            metrics=[Metric.SIGNED],
        )[0]
    assert (q.target, q.done) == (Decimal("300000.00"), Decimal("100000.00"))


def test_free_form_question_answers_with_the_target(bot: Bot) -> None:
    bot.clock.set(datetime(2026, 12, 15, 10, 0, tzinfo=SH))
    sign(bot, rep="rep_e1", amount=200000, when=datetime(2026, 12, 3, 10, tzinfo=SH))
    bot.send_text("rep_e1", "我这个月完成多少")
    assert "签约" in bot.last_text("rep_e1") and "目标" not in bot.last_text(
        "rep_e1"
    )  # no target: the plain figures
    bot.send_text("sup_east", "目标 张伟 12月 签约 50万")
    bot.send_text("rep_e1", "我这个月完成多少")
    assert "签约：目标 50万，完成 20万（40%）" in bot.last_text("rep_e1")


def test_a_nudge_that_does_not_fit_the_days_budget_waits_in_todo(bot: Bot) -> None:
    from chat.replies import Text as T
    from services import pushes

    bot.clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=SH))
    bot.send_text("sup_east", "目标 张伟 12月 签约 50万")
    sign(bot, rep="rep_e1", amount=260000, when=datetime(2026, 12, 3, 10, tzinfo=SH))
    with bot.session() as s, s.begin():  # three progress pushes already today: progress news has no slot left
        for i in range(3):
            pushes.push(
                s,
                to="rep_e1",
                kind="progress",
                priority=pushes.Priority.PROGRESS,
                reply=T(f"消息{i}"),
                line=f"消息{i}",
                key=f"test:{i}",
                now=bot.clock(),
                tz=SHANGHAI,
                config=bot.state.config.pushes,
            )
    bot.deliver()
    before = len(bot.texts("rep_e1")) + len(bot.cards("rep_e1"))
    bot.run_job("targets", datetime(2026, 12, 10, 9, 17, tzinfo=SH))
    assert len(bot.texts("rep_e1")) + len(bot.cards("rep_e1")) == before  # held, not sent
    bot.send_text("rep_e1", "待办")
    assert "本月签约目标已过半（52%）" in "\n".join(bot.texts("rep_e1")[-3:])


def test_my_targets_format_a_small_remainder_and_offer_only_a_possible_step(bot: Bot) -> None:
    from models import Opportunity, Quote

    bot.clock.set(datetime(2026, 12, 15, 10, 0, tzinfo=SH))  # 13 working days left incl. today
    bot.send_text("sup_east", "目标 张伟 12月 签约 20.6万")
    sign(bot, rep="rep_e1", amount=200000, when=datetime(2026, 12, 3, 10, tzinfo=SH))
    bot.send_text("rep_e1", "新客户 华东精密 行业=机械 联系人=王经理 电话=13812345678")
    bot.send_text("rep_e1", "商机 华东精密 二期产线 30万")
    with bot.session() as s, s.begin():  # a quote waits for approval: the opportunity cannot move on now
        opp = s.scalars(select(Opportunity).where(Opportunity.name == "二期产线")).one()
        opp.stage = "报价审批"
        s.add(
            Quote(
                opportunity_id=opp.id,
                amount=Decimal(280000),
                requester_userid="rep_e1",
                status="pending",
                created_at=bot.clock(),
            )
        )
    bot.send_text("rep_e1", "我的目标")
    assert "每个工作日还需约 ¥462" in bot.last_text("rep_e1")  # ¥6,000 / 13, not "约 0"
    card = bot.cards("rep_e1")[-1]
    assert "二期产线" in card["main_title"]["desc"] and [b["text"] for b in card["button_list"]] == ["评分"]
