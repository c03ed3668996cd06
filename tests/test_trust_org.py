"""Issue 16 #1, #2, #4, #12, #16: the org chart is the source of truth, re-checked at every tap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from bot.cli import main
from models import ApprovalStep, Delegation, Quote, User
from tests.approvals_factory import seed_opportunity
from tests.harness import ORG, Bot

APPROVE = "v1:quote.approve"
ROLE_CN = {
    "director": "总经理",
    "admin": "管理员",
    "supervisor": "销售主管",
    "rep": "销售",
    "tech_lead": "技术负责人",
    "finance": "财务经理",
}


def org_csv(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    lines = ["账号,姓名,角色,区域,上级"] + [
        ",".join((u, n, ROLE_CN.get(r, r), g, m)) for u, n, r, g, m in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_import(
    db: tuple[str, Engine],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    path: Path,
    *extra: str,
) -> str:
    monkeypatch.setenv("DATABASE_URL", db[0])
    monkeypatch.delenv("SALESBOT_CONFIG", raising=False)
    assert main(["org", "import", str(path), *extra]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def request(bot: Bot, text: str = "报价 数控改造 8万 含安装", who: str = "rep_e1") -> Quote:
    bot.send_text(who, text)
    with bot.session() as s:
        quote = s.scalars(select(Quote).order_by(Quote.id.desc())).first()
        assert quote is not None, bot.texts(who)
        s.expunge(quote)
        return quote


def step(bot: Bot, quote_id: int, seq: int = 1) -> ApprovalStep:
    with bot.session() as s:
        found = s.scalars(
            select(ApprovalStep).where(ApprovalStep.quote_id == quote_id, ApprovalStep.seq == seq)
        ).one()
        s.expunge(found)
        return found


def test_case1_a_person_missing_from_the_reimport_is_deactivated_and_loses_their_approvals(
    bot: Bot,
    db: tuple[str, Engine],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed_opportunity(bot)
    q = request(bot)
    old_card = bot.cards("sup_east")[-1]
    # 陈主管 left; 李娜 now leads 华东. A partial file with --keep-missing changes nobody's status.
    partial = org_csv(tmp_path / "partial.csv", [r for r in ORG if r[0] == "boss"])
    out = run_import(db, monkeypatch, capsys, partial, "--keep-missing")
    assert "停用" not in out and "按 --keep-missing 保留：8 人" in out
    assert bot.user("sup_east").active
    rows = [r for r in ORG if r[0] != "sup_east"]
    rows = [("rep_e2", "李娜", "supervisor", "华东", "boss") if r[0] == "rep_e2" else r for r in rows]
    rows = [(u, n, ro, g, "rep_e2" if m == "sup_east" else m) for u, n, ro, g, m in rows]
    out = run_import(db, monkeypatch, capsys, org_csv(tmp_path / "org.csv", rows))
    assert out.splitlines()[0].endswith("停用 1 人") and "已停用：陈主管（sup_east）" in out
    assert "已将 1 个待审批步骤转交给现任审批人" in out
    assert not bot.user("sup_east").active
    # her pending step went to 李娜, who got a card; 陈主管's old card changes nothing
    assert step(bot, q.id).approver_userid == "rep_e2"
    bot.clock.set(datetime.now(UTC) + timedelta(minutes=1))  # the CLI ran on the wall clock
    new_card = bot.cards("rep_e2")[-1]
    assert "转交" in new_card["main_title"]["title"]
    bot.tap("sup_east", old_card["task_id"], APPROVE)
    assert step(bot, q.id).status == "pending"
    bot.tap("rep_e2", new_card["task_id"], APPROVE)
    assert step(bot, q.id).status == "approved"


def test_case2_a_demoted_approver_cannot_approve_what_was_routed_to_her(bot: Bot) -> None:
    seed_opportunity(bot)
    q = request(bot)
    card = bot.cards("sup_east")[-1]
    with bot.session() as s, s.begin():  # demoted after the card went out (no re-import yet)
        s.execute(update(User).where(User.userid == "sup_east").values(role="rep"))
    bot.tap("sup_east", card["task_id"], APPROVE)
    assert step(bot, q.id).status == "pending"
    assert "已失效或不属于您" in bot.last_text("sup_east")
    with (
        bot.session() as s,
        s.begin(),
    ):  # moved to another region (and no longer 张伟's manager): not 华东's any more
        s.execute(update(User).where(User.userid == "sup_east").values(role="supervisor", region="华南"))
        s.execute(update(User).where(User.userid == "rep_e1").values(manager_userid="boss"))
    bot.tap("sup_east", card["task_id"], APPROVE)
    assert step(bot, q.id).status == "pending"


def test_case4_delegation_only_to_someone_who_may_approve(bot: Bot) -> None:
    bot.send_text("sup_east", "委托 李娜 今天 下周一")
    assert "不能代您审批" in bot.last_text("sup_east")
    bot.send_text("sup_east", "委托 赵强 今天 下周一")  # a rep of another region
    assert "不能代您审批" in bot.last_text("sup_east")
    with bot.session() as s:
        assert s.scalars(select(Delegation)).all() == []


def test_case4_a_delegate_who_approves_another_step_of_the_quote_gets_no_card_and_cannot_approve(
    bot: Bot,
) -> None:
    seed_opportunity(bot)
    now = bot.clock()
    with bot.session() as s, s.begin():  # an old delegation from 陈主管 to the tech lead
        s.add(
            Delegation(
                approver_userid="sup_east",
                delegate_userid="tech",
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=7),
                created_at=now - timedelta(days=1),
            )
        )
    q = request(bot, "报价 数控改造 80万 含安装")  # supervisor → 技术负责人 → 财务经理
    assert [s_.approver_userid for s_ in (step(bot, q.id, 1), step(bot, q.id, 2))] == ["sup_east", "tech"]
    assert bot.cards("tech") == []
    card = bot.cards("sup_east")[-1]
    bot.tap("tech", card["task_id"], APPROVE)
    assert step(bot, q.id).status == "pending"


def test_case12_forged_and_foreign_task_ids_get_one_answer_and_ids_are_not_sequential(bot: Bot) -> None:
    seed_opportunity(bot)
    q = request(bot)
    card = bot.cards("sup_east")[-1]
    assert card["task_id"] != f"q{q.id}s1" and card["task_id"].startswith(f"q{q.id}s1-")
    bot.tap("rep_e2", card["task_id"], APPROVE)  # exists, not theirs
    foreign = bot.last_text("rep_e2")
    bot.tap("rep_e2", f"q{q.id}s1", APPROVE)  # the old, guessable form
    bot.tap("rep_e2", "q999s1-0123456789ab", APPROVE)  # missing
    assert bot.texts("rep_e2")[-3:] == [foreign] * 3
    assert step(bot, q.id).status == "pending"


def test_case16_org_import_refuses_userids_wecom_never_issues(
    db: tuple[str, Engine],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = org_csv(
        tmp_path / "org.csv",
        [
            ("boss", "王总", "director", "", ""),
            ("@all", "全员", "supervisor", "华东", "boss"),
            ("a|b", "两人", "rep", "华东", "boss"),
            ("zhang.san@x", "张三", "rep", "华东", "boss"),
        ],
    )
    out = run_import(db, monkeypatch, capsys, path)
    assert out.splitlines()[0] == "新建 2 人，更新 0 人，未变 0 人，拒绝 2 行"
    assert "第 3 行 @all：账号「@all」无效" in out and "第 4 行 a|b：账号「a|b」无效" in out
