"""Quote approvals end to end through encrypted callbacks against the fake WeCom API (and routing tables)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from chat.errors import DomainError
from models import ApprovalStep, AuditEntry, Opportunity, Quote, User
from services import approval_pending, approval_routing
from services.config import BusinessConfig
from tests.approvals_factory import make_opportunity, seed_opportunity
from tests.harness import Bot

APPROVE_KEY = "v1:quote.approve"
REJECT_KEY = "v1:quote.reject"


def quote_of(bot: Bot) -> Quote:
    with bot.session() as s:
        q = s.scalars(select(Quote).order_by(Quote.id.desc())).first()
        s.expunge(q)
        return q


def steps_of(bot: Bot, quote_id: int) -> list[tuple[str, str, str]]:
    with bot.session() as s:
        rows = s.scalars(
            select(ApprovalStep).where(ApprovalStep.quote_id == quote_id).order_by(ApprovalStep.seq)
        )
        return [(r.role, r.approver_userid, r.status) for r in rows]


def stage_of(bot: Bot, opp_id: int) -> str:
    with bot.session() as s:
        return s.get(Opportunity, opp_id).stage


def task_of(bot: Bot, quote_id: int, seq: int) -> str:
    """The task id of the step's card (random, issue 16 #12)."""
    with bot.session() as s:
        step = s.scalars(
            select(ApprovalStep).where(ApprovalStep.quote_id == quote_id, ApprovalStep.seq == seq)
        ).one()
        return str(step.task_id)


def denials(bot: Bot, actor: str) -> list[AuditEntry]:
    with bot.session() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.actor == actor, AuditEntry.outcome == "denied"))
        )


def codes_unique(bot: Bot) -> None:
    codes = [c.json["response_code"] for c in bot.wecom.calls_to("message/update_template_card")]
    assert all(n == 1 for n in Counter(codes).values()), codes


def escalations(bot: Bot, userid: str) -> list[dict[str, Any]]:
    return [c for c in bot.cards(userid) if c["main_title"]["title"] == "审批等待较久"]


def request(bot: Bot, text: str = "报价 数控改造 8万 含安装", who: str = "rep_e1") -> Quote:
    bot.send_text(who, text)
    bot.deliver()
    return quote_of(bot)


# --- routing tables ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "roles"),
    [
        ("50000", ["supervisor"]),
        ("50000.00", ["supervisor"]),
        ("50000.01", ["supervisor", "tech_lead", "finance"]),
        ("1", ["supervisor"]),
        ("80000", ["supervisor", "tech_lead", "finance"]),
    ],
)
def test_chain_by_amount(bot: Bot, amount: str, roles: list[str]) -> None:
    with bot.session() as s:
        rep = s.scalar(select(User).where(User.userid == "rep_e1"))
        chain = approval_routing.route(s, config=BusinessConfig(), requester=rep, amount=Decimal(amount))
    assert [c.role for c in chain] == roles
    assert [c.approver.userid for c in chain] == ["sup_east", "tech", "fin"][: len(roles)]


def test_manager_else_region_supervisor(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        # rep_e2's manager is not a supervisor → the 华东 region's supervisor; rep_s1 keeps their manager.
        s.scalar(select(User).where(User.userid == "rep_e2")).manager_userid = "boss"
        s.scalar(select(User).where(User.userid == "rep_s1")).region = "华东"
    with bot.session() as s:
        cfg = BusinessConfig()
        e2 = s.scalar(select(User).where(User.userid == "rep_e2"))
        s1 = s.scalar(select(User).where(User.userid == "rep_s1"))
        assert (
            approval_routing.route(s, config=cfg, requester=e2, amount=Decimal(1))[0].approver.userid
            == "sup_east"
        )
        assert (
            approval_routing.route(s, config=cfg, requester=s1, amount=Decimal(1))[0].approver.userid
            == "sup_south"
        )


def test_requester_is_routed_past(bot: Bot) -> None:
    oid = seed_opportunity(bot, owner="sup_east")
    q = request(bot, "报价 数控改造 3万", who="sup_east")
    assert steps_of(bot, q.id) == [
        ("supervisor", "boss", "pending")
    ]  # their own manager instead of themselves
    with bot.session() as s:
        assert (
            s.scalar(select(AuditEntry).where(AuditEntry.detail.like("routed past requester%"))) is not None
        )
    assert stage_of(bot, oid) == "报价审批"
    assert "王总" in bot.last_text("sup_east")


def test_missing_approver_is_explained(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        s.scalar(select(User).where(User.userid == "fin")).active = False
    oid = seed_opportunity(bot)
    bot.send_text("rep_e1", "报价 数控改造 8万")
    assert "财务经理" in bot.last_text("rep_e1")
    assert stage_of(bot, oid) == "方案制定"
    with bot.session() as s:
        assert s.scalar(select(Quote)) is None


def test_bad_input_and_duplicates(bot: Bot) -> None:
    seed_opportunity(bot)
    bot.send_text("rep_e1", "报价 数控改造")
    assert "用法" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "报价 数控改造 很多钱")
    assert "例" in bot.last_text("rep_e1")
    request(bot, "报价 数控改造 3万")
    bot.send_text("rep_e1", "报价 数控改造 4万")
    assert "撤回 #1" in bot.last_text("rep_e1")
    bot.send_text("rep_s1", "报价 数控改造 4万")  # out of scope looks like missing
    assert "没有找到" in bot.last_text("rep_s1")


def test_ambiguous_opportunity_asks_for_a_number_and_the_number_requests(bot: Bot) -> None:
    seed_opportunity(bot, customer="华东精密", name="数控改造一期")
    second = seed_opportunity(bot, customer="华东精工", name="数控改造二期")
    bot.send_text("rep_e1", "报价 数控改造 8万 含安装")
    assert "1. " in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "2")
    q = quote_of(bot)
    assert (
        q.opportunity_id == second and q.amount == Decimal(80000) and "已提交报价" in bot.texts("rep_e1")[-1]
    )


# --- the "Done when" ------------------------------------------------------------------------------


def test_done_when_full_chain(bot: Bot) -> None:
    oid = seed_opportunity(bot)
    q = request(bot)
    assert "陈主管" in bot.texts("rep_e1")[0] and "孙工" in bot.texts("rep_e1")[0]
    assert stage_of(bot, oid) == "报价审批"
    card = bot.cards("sup_east")[-1]
    assert card["task_id"].startswith(f"q{q.id}s1-")

    # another rep tapping it changes nothing (E33), and is audited
    bot.tap("rep_e2", card["task_id"], APPROVE_KEY)
    assert "已失效或不属于您" in bot.last_text("rep_e2")  # the same answer as a forged task id (issue 16 #12)
    assert steps_of(bot, q.id)[0][2] == "pending" and not bot.cards("tech")
    assert denials(bot, "rep_e2")[0].task_id == card["task_id"]

    # the supervisor's tap greys their card and sends the tech lead's card
    bot.tap("sup_east", card["task_id"], APPROVE_KEY)
    bot.deliver()
    sup_card = [m for m in bot.wecom.messages_for("sup_east") if m.get("msgtype") == "template_card"][-1]
    assert sup_card["updated"] and sup_card["template_card"]["replace_text"] == "已同意"
    assert len(bot.cards("tech")) == 1
    assert "孙工" in bot.last_text("rep_e1")

    # a second tap sends nothing new (E34)
    before = len(bot.wecom.calls_to("message/send"))
    bot.tap("sup_east", card["task_id"], APPROVE_KEY)
    bot.deliver()
    assert len(bot.wecom.calls_to("message/send")) == before
    assert len(bot.cards("tech")) == 1

    tech_card = bot.cards("tech")[-1]
    bot.tap("tech", tech_card["task_id"], APPROVE_KEY)
    fin_card = bot.cards("fin")[-1]
    bot.tap("fin", fin_card["task_id"], APPROVE_KEY)
    assert "审批通过" in bot.last_text("rep_e1")
    assert quote_of(bot).status == "approved"
    assert [s[2] for s in steps_of(bot, q.id)] == ["approved"] * 3
    assert stage_of(bot, oid) == "报价审批"  # moves to 合同签署 with 合同 (or 推进), not by itself
    codes_unique(bot)


def test_small_quote_needs_only_supervisor(bot: Bot) -> None:
    seed_opportunity(bot)
    q = request(bot, "报价 数控改造 ¥30,000")
    assert q.step_count == 1
    card = bot.cards("sup_east")[-1]
    bot.tap("sup_east", card["task_id"], APPROVE_KEY)
    assert "审批通过" in bot.last_text("rep_e1")
    assert not bot.cards("tech") and not bot.cards("fin")
    codes_unique(bot)


def test_card_of_an_unscored_opportunity_says_unscored(bot: Bot) -> None:
    seed_opportunity(bot, score=0, priority="C")
    request(bot, "报价 数控改造 ¥30,000")
    items = {i["keyname"]: i["value"] for i in bot.cards("sup_east")[-1]["horizontal_content_list"]}
    assert items["评分"] == "未评分"
    seed_opportunity(bot, customer="华东电气", name="产线升级")
    request(bot, "报价 产线升级 ¥30,000")
    items = {i["keyname"]: i["value"] for i in bot.cards("sup_east")[-1]["horizontal_content_list"]}
    assert items["评分"] == "75分 / A"


def test_reject_with_reason_reaches_rep(bot: Bot) -> None:
    oid = seed_opportunity(bot)
    q = request(bot)
    card = bot.cards("sup_east")[-1]
    bot.tap("sup_east", card["task_id"], REJECT_KEY)
    assert "理由" in bot.last_text("sup_east")
    assert steps_of(bot, q.id)[0][2] == "pending"  # nothing decided until the reason comes
    bot.send_text("sup_east", "价格低于成本线")
    rejected = bot.cards("rep_e1")[-1]
    assert "驳回" in rejected["sub_title_text"] and "价格低于成本线" in rejected["sub_title_text"]
    assert [b["text"] for b in rejected["button_list"]] == ["重新报价"]  # the next step, as a button
    assert quote_of(bot).status == "rejected" and quote_of(bot).reject_reason == "价格低于成本线"
    assert [s[2] for s in steps_of(bot, q.id)] == ["rejected", "cancelled", "cancelled"]
    assert stage_of(bot, oid) == "方案制定"
    bot.deliver()
    sup_card = [m for m in bot.wecom.messages_for("sup_east") if m.get("msgtype") == "template_card"][-1]
    assert sup_card["template_card"]["replace_text"] == "已驳回"
    # the old card is stale now: refused, greyed with the click's own code, nothing changes
    bot.tap("sup_east", card["task_id"], APPROVE_KEY)
    assert quote_of(bot).status == "rejected"
    codes_unique(bot)
    # a new quote can be requested afterwards
    request(bot, "报价 数控改造 7万")
    assert quote_of(bot).status == "pending"


def test_reject_cancelled_leaves_step_pending(bot: Bot) -> None:
    seed_opportunity(bot)
    q = request(bot)
    card = bot.cards("sup_east")[-1]
    bot.tap("sup_east", card["task_id"], REJECT_KEY)
    bot.send_text("sup_east", "取消")
    bot.tap("sup_east", card["task_id"], APPROVE_KEY)
    assert steps_of(bot, q.id)[0][2] == "approved"
    codes_unique(bot)


# --- E33–E38 -------------------------------------------------------------------------------------------


def test_e33_denials_alert_admins_once(bot: Bot) -> None:
    seed_opportunity(bot)
    request(bot)
    card = bot.cards("sup_east")[-1]
    for _ in range(6):
        bot.tap("rep_e2", card["task_id"], APPROVE_KEY)
    assert len(denials(bot, "rep_e2")) == 6
    alerts = [t for t in bot.texts("admin") if "李娜" in t]
    assert len(alerts) == 1
    bot.clock.advance(minutes=11)
    for _ in range(5):
        bot.tap("rep_e2", card["task_id"], APPROVE_KEY)
    assert len([t for t in bot.texts("admin") if "李娜" in t]) == 2


def test_e34_double_tap_one_transition(bot: Bot) -> None:
    seed_opportunity(bot)
    q = request(bot)
    card = bot.cards("sup_east")[-1]
    bot.tap("sup_east", card["task_id"], APPROVE_KEY)
    bot.tap("sup_east", card["task_id"], APPROVE_KEY)
    bot.deliver()
    assert steps_of(bot, q.id)[0][2] == "approved"
    # An intermediate step tells the requester nothing (one message at the end); the next approver gets one card.
    assert [t for t in bot.texts("rep_e1") if "第1" in t] == [] and len(bot.cards("tech")) == 1
    with bot.session() as s:
        decisions = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "approve", AuditEntry.outcome == "ok")
        ).all()
        assert len(decisions) == 1
    codes_unique(bot)


def test_e35_withdrawn_card_is_stale(bot: Bot) -> None:
    oid = seed_opportunity(bot)
    q = request(bot)
    card = bot.cards("sup_east")[-1]
    bot.send_text("rep_e1", f"撤回 #{q.id}")
    assert "已撤回" in bot.last_text("rep_e1")
    bot.deliver()
    sup_card = [m for m in bot.wecom.messages_for("sup_east") if m.get("msgtype") == "template_card"][-1]
    assert sup_card["updated"] and sup_card["template_card"]["replace_text"] == "已撤回"
    assert stage_of(bot, oid) == "方案制定"
    assert quote_of(bot).status == "withdrawn"
    bot.tap("sup_east", card["task_id"], APPROVE_KEY)
    assert quote_of(bot).status == "withdrawn" and steps_of(bot, q.id)[0][2] == "cancelled"
    assert not bot.cards("tech")
    codes_unique(bot)


def test_e35_expired_code_falls_back_to_text(bot: Bot) -> None:
    seed_opportunity(bot)
    request(bot)
    card = bot.cards("sup_east")[-1]
    bot.tap("sup_east", card["task_id"], APPROVE_KEY, response_code="expired-or-used")
    assert "已同意" in bot.last_text("sup_east")
    assert len(bot.cards("tech")) == 1


def test_withdraw_by_name_and_only_own(bot: Bot) -> None:
    seed_opportunity(bot)
    q = request(bot)
    bot.send_text("rep_e2", f"撤回 #{q.id}")
    assert quote_of(bot).status == "pending"
    assert "没有找到您提交的报价 #" in bot.last_text("rep_e2") and "商机" not in bot.last_text("rep_e2")
    bot.send_text("rep_e1", "撤回 #999")  # #N is a quote number, never read as an opportunity's name
    assert "没有找到您提交的报价 #999" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "撤回 数控改造")
    assert quote_of(bot).status == "withdrawn"
    bot.send_text("rep_e1", "撤回 数控改造")
    assert "不能撤回" in bot.last_text("rep_e1")


def test_e36_forged_task_or_action(bot: Bot) -> None:
    seed_opportunity(bot)
    q = request(bot)
    bot.tap("sup_east", "q999s1", APPROVE_KEY)  # unknown task
    assert "失效" in bot.last_text("sup_east")
    task_id = bot.cards("sup_east")[-1]["task_id"]
    bot.tap("sup_east", task_id, "v1:quote.delete")  # action not in the allowlist
    bot.tap("sup_east", task_id, "v1:quote.approve:999")  # the arg is ignored: authorised by task only
    assert steps_of(bot, q.id)[0][2] == "approved"
    assert len(denials(bot, "sup_east")) == 1


def test_e37_userid_case(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        s.add(
            User(
                userid="zhangsan",
                display_userid="ZhangSan",
                name="张三",
                role="supervisor",
                region="华北",
                manager_userid=None,
                active=True,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        s.add(
            User(
                userid="zhangsan1",
                display_userid="zhangsan1",
                name="张三一",
                role="rep",
                region="华北",
                manager_userid="ZhangSan",
                active=True,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        s.add(
            User(
                userid="rep_n",
                display_userid="rep_n",
                name="钱多",
                role="rep",
                region="华北",
                manager_userid="ZhangSan",
                active=True,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    seed_opportunity(bot, owner="rep_n", region="华北")
    q = request(bot, "报价 数控改造 2万", who="rep_n")
    assert steps_of(bot, q.id)[0][1] == "zhangsan"
    bot.tap("zhangsan1", task_of(bot, q.id, 1), APPROVE_KEY)
    assert steps_of(bot, q.id)[0][2] == "pending"
    bot.tap("ZhangSan", task_of(bot, q.id, 1), APPROVE_KEY)
    assert steps_of(bot, q.id)[0][2] == "approved"


def test_e38_requester_cannot_approve_own(bot: Bot) -> None:
    seed_opportunity(bot)
    q = request(bot)
    bot.tap("rep_e1", task_of(bot, q.id, 1), APPROVE_KEY)
    assert "自己" in bot.last_text("rep_e1")
    assert steps_of(bot, q.id)[0][2] == "pending"
    assert denials(bot, "rep_e1")[0].detail == "requester tapped own quote"


# --- delegation ------------------------------------------------------------------------------------------


def test_delegate_approves_within_window(bot: Bot) -> None:
    seed_opportunity(bot)
    q = request(bot)
    card = bot.cards("sup_east")[-1]
    bot.tap("rep_e2", card["task_id"], APPROVE_KEY)  # not a delegate yet
    assert steps_of(bot, q.id)[0][2] == "pending"
    bot.send_text("sup_east", "委托 王总 今天 下周一")
    assert "王总" in bot.last_text("sup_east")
    delegate_cards = bot.cards("boss")
    assert delegate_cards and "代陈主管" in delegate_cards[-1]["main_title"]["title"]
    with bot.session() as s:
        assert [p.quote_id for p in approval_pending.pending_for(s, userid="boss", now=bot.clock())] == [q.id]
        assert [p.quote_id for p in approval_pending.pending_for(s, userid="sup_east", now=bot.clock())] == [
            q.id
        ]
        assert approval_pending.pending_for(s, userid="rep_e1", now=bot.clock()) == []
    bot.tap("boss", delegate_cards[-1]["task_id"], APPROVE_KEY)
    assert steps_of(bot, q.id)[0][2] == "approved"
    with bot.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "approve", AuditEntry.outcome == "ok"))
        assert entry.actor == "boss" and entry.detail == "on behalf of sup_east"
    bot.deliver()
    sup_card = [m for m in bot.wecom.messages_for("sup_east") if m.get("msgtype") == "template_card"][-1]
    assert sup_card["template_card"]["replace_text"] == "已同意"  # the approver's own card greys too
    codes_unique(bot)


def test_delegate_sees_the_delegated_quote_in_todo(bot: Bot) -> None:
    """待办 lists the approvals waiting on the sender by the one rule (approval_pending.pending_for): a delegate
    sees the step they may approve, marked whose it is, while the window lasts; a delegate who could not approve
    it (another region's 销售主管: no card was sent) does not see it."""
    seed_opportunity(bot)
    q = request(bot)
    line = f"待审批 报价#{q.id}"
    bot.send_text("boss", "待办")
    assert line not in bot.last_text("boss")
    bot.send_text("sup_east", "委托 王总 今天 下周一")
    bot.send_text("boss", "待办")
    todo = bot.last_text("boss")
    assert line in todo and "（第1/3步，代陈主管）" in todo
    assert "请在审批卡片上点「同意」或「驳回」" in todo
    bot.send_text("sup_east", "待办")
    assert line in bot.last_text("sup_east") and "代" not in bot.last_text("sup_east")
    bot.send_text("sup_east", "委托 取消")
    bot.send_text("boss", "待办")
    assert line not in bot.last_text("boss")

    bot.send_text("sup_east", "委托 黄主管 今天 下周一")  # a peer, but of 华南: may not approve a 华东 quote
    assert not bot.cards("sup_south")
    bot.send_text("sup_south", "待办")
    assert line not in bot.last_text("sup_south")
    with bot.session() as s:
        assert approval_pending.pending_for(s, userid="sup_south", now=bot.clock()) == []


def test_delegation_window_ends(bot: Bot) -> None:
    seed_opportunity(bot)
    bot.send_text("sup_east", "委托 boss 明天 后天")
    q = request(bot)
    assert not bot.cards("boss")  # the window has not started
    bot.tap("boss", task_of(bot, q.id, 1), APPROVE_KEY)
    assert steps_of(bot, q.id)[0][2] == "pending"
    bot.clock.advance(days=3)
    bot.tap("boss", task_of(bot, q.id, 1), APPROVE_KEY)
    assert steps_of(bot, q.id)[0][2] == "pending"
    bot.send_text("sup_east", "委托 取消")
    bot.send_text("rep_e1", "委托 李娜 明天 后天")
    assert "只有" in bot.last_text("rep_e1")
    bot.send_text("sup_east", "委托 李娜")
    assert "用法" in bot.last_text("sup_east")


# --- timeouts ----------------------------------------------------------------------------------------------


def test_reminders_and_escalation_on_working_days(bot: Bot) -> None:
    seed_opportunity(bot, owner="rep_e1")
    q = request(bot)  # Friday 10:00
    tz = bot.clock.local().tzinfo
    bot.run_job("approvals", datetime(2026, 11, 29, 20, 0, tzinfo=tz))  # Sunday: only 14 working hours
    assert len(bot.cards("sup_east")) == 1
    bot.run_job("approvals", datetime(2026, 11, 30, 10, 30, tzinfo=tz))  # Monday: 24.5 h → reminder 1
    assert len(bot.cards("sup_east")) == 2
    bot.run_job("approvals", datetime(2026, 11, 30, 15, 0, tzinfo=tz))  # same day: no second reminder
    assert len(bot.cards("sup_east")) == 2
    bot.run_job(
        "approvals", datetime(2026, 12, 1, 10, 30, tzinfo=tz)
    )  # Tuesday: 48.5 h → reminder 2 + escalation
    assert len(bot.cards("sup_east")) == 3
    # the approver is the requester's supervisor → their manager
    assert len(escalations(bot, "boss")) == 1
    for day in (2, 3, 4, 7):
        bot.run_job("approvals", datetime(2026, 12, day, 11, 0, tzinfo=tz))
    assert len(bot.cards("sup_east")) == 4  # three reminders at most
    assert len(escalations(bot, "boss")) == 1
    # a reminder card works like the original
    reminder = bot.cards("sup_east")[-1]
    assert reminder["task_id"].startswith(f"q{q.id}s1r3-")
    bot.tap("sup_east", reminder["task_id"], APPROVE_KEY)
    assert steps_of(bot, q.id)[0][2] == "approved"
    codes_unique(bot)


def test_escalation_goes_to_requester_supervisor(bot: Bot) -> None:
    seed_opportunity(bot)
    q = request(bot)
    bot.tap("sup_east", task_of(bot, q.id, 1), APPROVE_KEY)
    tz = bot.clock.local().tzinfo
    bot.run_job("approvals", datetime(2026, 12, 2, 10, 30, tzinfo=tz))
    [card] = escalations(bot, "sup_east")
    assert "孙工" in card["sub_title_text"] and [b["text"] for b in card["button_list"]] == [
        "查看客户",
        "已协助",
    ]


def test_route_service_raises_domain_error_without_supervisor(bot: Bot) -> None:
    with bot.session() as s:
        s.add(
            User(
                userid="lonely",
                display_userid="lonely",
                name="孤",
                role="rep",
                region="西北",
                manager_userid=None,
                active=True,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        s.flush()
        make_opportunity(s, owner="lonely", region="西北")
        lonely = s.scalar(select(User).where(User.userid == "lonely"))
        with pytest.raises(DomainError, match="销售主管"):
            approval_routing.route(s, config=BusinessConfig(), requester=lonely, amount=Decimal(100))
        s.rollback()
