"""The managers' morning digest: scope, exactly-once, catch-up window, markdown size, query budget, 日报."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import event, func, select

from cards.digest_markdown import render_markdown
from models import Customer, JobOccurrence, OutboxMessage, QuoteStatus, User, Visit
from services.config import default_config
from services.digest import build_digest, build_digests
from services.digest_view import DigestView, RepVisits
from services.scope import visible_userids
from tests import digest_factory as f
from tests.harness import SHANGHAI, Bot

MORNING = datetime(2026, 11, 28, 8, 45, tzinfo=SHANGHAI)


def two_regions(bot: Bot) -> None:
    """A Friday (2026-11-27) of work in 华东 and 华南; the digest is read on Saturday morning."""
    with bot.session() as s, s.begin():
        east = f.customer(s, "华东精密", owner="rep_e1", region="华东")
        east2 = f.customer(s, "苏州机电", owner="rep_e2", region="华东", complete=False)
        south = f.customer(s, "广州重工", owner="rep_s1", region="华南")
        f.customer(
            s, "佛山老客户", owner="rep_s1", region="华南", segment="休眠", segment_since=MORNING.date()
        )
        f.customer(
            s, "无锡老客户", owner="rep_e1", region="华东", segment="休眠", segment_since=MORNING.date()
        )
        f.visit(s, east, userid="rep_e1", when=f.at(2026, 11, 27, 9))
        f.visit(s, east, userid="rep_e1", when=f.at(2026, 11, 27, 15))
        f.visit(s, east2, userid="rep_e1", when=f.at(2026, 11, 26, 15))  # the day before: not counted
        f.visit(s, south, userid="rep_s1", when=f.at(2026, 11, 27, 11))
        opp_e = f.opportunity(
            s, east, name="产线改造", stage="方案制定", amount=120000, created=f.at(2026, 11, 27, 9)
        )
        opp_s = f.opportunity(
            s, south, name="配电柜", stage="初步接洽", amount=80000, created=f.at(2026, 11, 27, 9)
        )
        f.stage_move(s, opp_e, frm="初步接洽", to="方案制定", when=f.at(2026, 11, 27, 16))
        f.quote(s, opp_e, created=f.at(2026, 11, 26, 9))
        f.quote(
            s, opp_s, status=QuoteStatus.REJECTED, created=f.at(2026, 11, 25), decided=f.at(2026, 11, 27, 14)
        )
        f.reminder(s, owner="rep_e2", due=f.at(2026, 11, 26, 9), cust=east2, title="送样品")
        f.reminder(s, owner="rep_s1", due=f.at(2026, 11, 26, 9), cust=south, title="催款")
        f.reminder(s, owner="rep_e1", due=f.at(2026, 11, 28, 15), cust=east, title="确认技术方案")
        f.payment(s, east, amount=50000, when=f.at(2026, 11, 10))
        f.payment(s, east, amount=30000, when=f.at(2026, 10, 5))
        f.payment(s, south, amount=70000, when=f.at(2026, 11, 11))
        f.contract(s, east, amount=200000, signed=f.at(2026, 11, 20), opp=opp_e)
        f.contract(s, south, amount=90000, signed=f.at(2026, 11, 15), opp=opp_s)


def digest_text(bot: Bot, userid: str, when: datetime = MORNING) -> tuple[DigestView, str]:
    with bot.session() as s:
        manager = s.scalars(select(User).where(User.userid == userid)).one()
        view = build_digest(s, manager=manager, config=bot.state.config, now=when, tz=SHANGHAI)
    return view, "\n".join(render_markdown(view))


def test_east_supervisor_sees_her_region_only(bot: Bot) -> None:
    two_regions(bot)
    view, text = digest_text(bot, "sup_east")
    assert [(r.name, r.visits) for r in view.visits] == [("张伟", 2), ("李娜", 0)]
    assert "昨日未记录拜访：李娜（还没有拜访记录）" in text  # neutral words, no colour
    assert view.new_opportunities == 1 and view.new_opportunity_amount == Decimal(120000)
    assert view.stage_moves == [("方案制定", 1)]
    assert {r.stage: r.count for r in view.funnel}["方案制定"] == 1
    assert view.quotes_pending == 1 and view.quotes_rejected == 0
    assert view.oldest_pending_since is not None and view.oldest_wait_hours > 40
    assert view.overdue == [("李娜", 1)]
    assert view.collections_mtd == Decimal(50000)
    assert view.collections_trend[-2:] == [("2026-10", Decimal(30000)), ("2026-11", Decimal(50000))]
    assert view.collections_last_month_same == Decimal(30000)
    assert view.top_reps == [("张伟", Decimal(200000))]
    assert view.new_dormant == ["无锡老客户"] and view.segments["休眠"] == 1
    assert [i.name for i in view.indicators] == [
        "平均商机转化周期",
        "客户信息完整率",
        "关键节点按时完成率",
        "销售额环比增长",
    ]
    for south_thing in ("赵强", "广州重工", "佛山老客户", "配电柜", "华南", "7万"):
        assert south_thing not in text, south_thing
    assert "销售漏斗" in text and "管理指标" in text and "客户信息完整率" in text


def test_south_supervisor_and_director(bot: Bot) -> None:
    two_regions(bot)
    south, text = digest_text(bot, "sup_south")
    assert [r.name for r in south.visits] == ["赵强"]
    assert south.quotes_rejected == 1 and south.quotes_pending == 0
    assert "张伟" not in text and "无锡老客户" not in text and "佛山老客户" in text

    boss, text = digest_text(bot, "boss")
    assert {r.name for r in boss.visits} == {"张伟", "李娜", "赵强"}
    assert boss.new_opportunities == 2 and boss.quotes_pending == 1 and boss.quotes_rejected == 1
    assert boss.collections_mtd == Decimal(120000)
    assert boss.top_reps == [("张伟", Decimal(200000)), ("赵强", Decimal(90000))]
    assert set(boss.new_dormant) == {"无锡老客户", "佛山老客户"}
    assert "全公司" in text


def test_user_scope_matches_the_visibility_rule(bot: Bot) -> None:
    """The digest applies the rule to rows it already loaded (Scope.visible_among); it must agree with SQL."""
    from services.scope import Scope

    with bot.session() as s:
        everyone = s.execute(select(User.userid, User.region)).all()
        by_region: dict[str | None, list[str]] = {}
        for userid, region in everyone:
            by_region.setdefault(region, []).append(userid)
        for userid in ("sup_east", "sup_south", "boss"):
            manager = s.scalars(select(User).where(User.userid == userid)).one()
            mine = sorted(Scope.of(manager).visible_among([u for u, _ in everyone], by_region))
            rule = visible_userids(s, user=manager)
            assert mine == (sorted(rule) if rule is not None else sorted(s.scalars(select(User.userid))))


@contextmanager
def count_queries(bot: Bot) -> Iterator[list[str]]:
    engine = bot.state.session_factory.kw["bind"]
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_digest_is_built_from_aggregate_queries(bot: Bot) -> None:
    two_regions(bot)
    # More reps and customers must not mean more queries.
    with bot.session() as s, s.begin():
        from tests.harness import seed_org

        seed_org(s, [(f"rep_x{i}", f"新人{i}", "rep", "华东", "sup_east") for i in range(20)])
        for i in range(20):
            c = f.customer(s, f"客户{i}", owner=f"rep_x{i}", region="华东")
            f.visit(s, c, userid=f"rep_x{i}", when=f.at(2026, 11, 27, 10))
            f.reminder(s, owner=f"rep_x{i}", due=f.at(2026, 11, 20), cust=c)
    for userid in ("sup_east", "boss"):
        with bot.session() as s:
            manager = s.scalars(select(User).where(User.userid == userid)).one()
            with count_queries(bot) as statements:
                view = build_digest(s, manager=manager, config=bot.state.config, now=MORNING, tz=SHANGHAI)
        assert len(statements) <= 22, (
            statements
        )  # 15 + this month's targets + the leads and pool lines' 5 grouped queries + receivables
    assert len(view.visits) == 23


def test_all_managers_at_once_equal_each_alone(bot: Bot) -> None:
    """The job builds every digest from one set of queries; each must equal that manager's own 日报."""
    two_regions(bot)
    with bot.session() as s:
        managers = list(s.scalars(select(User).where(User.userid.in_(("boss", "sup_east", "sup_south")))))
        together = build_digests(s, managers=managers, config=bot.state.config, now=MORNING, tz=SHANGHAI)
        supervisors = build_digests(
            s,
            managers=[m for m in managers if m.userid != "boss"],
            config=bot.state.config,
            now=MORNING,
            tz=SHANGHAI,
        )
        for manager in managers:
            alone = build_digest(s, manager=manager, config=bot.state.config, now=MORNING, tz=SHANGHAI)
            assert together[manager.userid] == alone, manager.userid
            if manager.userid != "boss":
                assert supervisors[manager.userid] == alone, manager.userid
    east = "\n".join(render_markdown(together["sup_east"]))
    for south_thing in ("赵强", "广州重工", "佛山老客户", "配电柜", "华南", "7万"):
        assert south_thing not in east, south_thing
    assert together["boss"].collections_mtd == Decimal(120000)


def test_the_job_queries_once_for_all_managers(bot: Bot) -> None:
    """More supervisors (regions) must not mean more queries: the job's build stays within one digest's budget."""
    from schedulers.digest import pending_views
    from tests.harness import seed_org

    two_regions(bot)
    with bot.session() as s, s.begin():
        seed_org(s, [(f"sup_x{i}", f"主管{i}", "supervisor", f"区域{i}", "boss") for i in range(5)])
        seed_org(s, [(f"rep_y{i}", f"销售{i}", "rep", f"区域{i}", f"sup_x{i}") for i in range(5)])
        for i in range(5):
            c = f.customer(s, f"区域客户{i}", owner=f"rep_y{i}", region=f"区域{i}")
            f.visit(s, c, userid=f"rep_y{i}", when=f.at(2026, 11, 27, 10))
    with bot.session() as s, count_queries(bot) as statements:
        pending, already, views = pending_views(
            s, config=bot.state.config, now=MORNING, day="2026-11-28", tz=SHANGHAI
        )
    assert len(pending) == 8 and already == 0 and set(views) == set(pending)
    assert len(statements) <= 22, (
        statements
    )  # 15 + this month's targets + the leads and pool lines' 5 grouped queries + receivables
    assert [(r.name, r.visits) for r in views["sup_x3"].visits] == [("销售3", 1)]
    assert "sent 8" in bot.run_job("digest", MORNING)
    with bot.session() as s, count_queries(bot) as statements:
        pending, already, views = pending_views(
            s, config=bot.state.config, now=MORNING, day="2026-11-28", tz=SHANGHAI
        )
    assert pending == [] and already == 8 and views == {} and len(statements) == 1  # nothing left to build


def outbox_for(bot: Bot, userid: str) -> list[OutboxMessage]:
    with bot.session() as s:
        return list(
            s.scalars(
                select(OutboxMessage).where(OutboxMessage.recipient == userid).order_by(OutboxMessage.id)
            )
        )


def test_job_sends_each_manager_one_digest_with_chart(bot: Bot) -> None:
    two_regions(bot)
    summary = bot.run_job("digest", MORNING)
    assert "sent 3" in summary
    for userid in ("sup_east", "sup_south", "boss"):
        kinds = [m["msgtype"] for m in bot.messages(userid)]
        assert kinds[-1] == "image" and "markdown" in kinds, (userid, kinds)
    east = "\n".join(bot.texts("sup_east"))
    assert "张伟" in east and "赵强" not in east
    image = bot.messages("sup_east")[-1]
    assert image["data"][:8] == b"\x89PNG\r\n\x1a\n"
    assert not [m for m in bot.messages("rep_e2") if m["msgtype"] == "markdown"]  # reps get no digest

    before = {u: len(bot.messages(u)) for u in ("sup_east", "sup_south", "boss", "rep_e1")}
    assert "sent 0" in bot.run_job("digest", datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI))
    assert "sent 0" in bot.run_job("digest", datetime(2026, 11, 28, 11, 45, tzinfo=SHANGHAI))
    assert {u: len(bot.messages(u)) for u in before} == before
    with bot.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(JobOccurrence).where(JobOccurrence.job == "digest"))
            == 4
        )


def test_reps_get_todays_todo_list_once(bot: Bot) -> None:
    two_regions(bot)
    bot.run_job("digest", MORNING)
    todo = [t for t in bot.texts("rep_e1") if "今日待办" in t]
    assert len(todo) == 1 and "确认技术方案" in todo[0] and "华东精密" in todo[0] and "15:00" in todo[0]
    assert not [t for t in bot.texts("rep_e2") if "今日待办" in t]  # only an overdue one, nothing due today
    bot.run_job("digest", datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI))
    assert len([t for t in bot.texts("rep_e1") if "今日待办" in t]) == 1


def test_d29_catch_up_window(bot: Bot) -> None:
    two_regions(bot)
    # Too early (before 08:30 + jitter) and after noon: nothing at all.
    assert "nothing sent" in bot.run_job("digest", datetime(2026, 11, 28, 8, 0, tzinfo=SHANGHAI))
    assert "nothing sent" in bot.run_job("digest", datetime(2026, 11, 28, 13, 0, tzinfo=SHANGHAI))
    assert not bot.messages("sup_east")
    # Next day the server comes back at 11:00: the missed digest goes out once.
    assert "sent 3" in bot.run_job("digest", datetime(2026, 11, 29, 11, 0, tzinfo=SHANGHAI))
    assert "sent 0" in bot.run_job("digest", datetime(2026, 11, 29, 11, 15, tzinfo=SHANGHAI))
    assert [m["msgtype"] for m in bot.messages("sup_east")].count("image") == 1


def test_a_failed_delivery_is_not_sent_twice_on_rerun(bot: Bot) -> None:
    two_regions(bot)
    bot.wecom.fail_next(45009, times=1)  # rate limited once: the outbox retries, the job does not re-enqueue
    bot.run_job("digest", MORNING)
    bot.run_job("digest", datetime(2026, 11, 28, 8, 50, tzinfo=SHANGHAI))
    with bot.session() as s:
        keys = list(s.scalars(select(OutboxMessage.dedup_key).where(OutboxMessage.recipient == "sup_east")))
    assert len(keys) == len(set(keys)) and all(k.startswith("push:digest:2026-11-28:sup_east") for k in keys)


def test_markdown_parts_fit_wecom_and_split_between_sections() -> None:
    view = DigestView(
        manager_userid="boss",
        manager_name="王总",
        scope_label="全公司",
        today=MORNING.date(),
        yesterday=MORNING.date(),
        visits=[RepVisits(f"r{i}", f"销售员工第{i}号", i % 3) for i in range(300)],
    )
    parts = render_markdown(view)
    assert len(parts) > 1
    for part in parts:
        assert len(part.encode("utf-8")) <= 2048
    joined = "\n".join(parts)
    for heading in ("**昨日拜访**", "**销售漏斗**", "**报价审批**", "**管理指标**"):
        assert joined.count(heading) == 1
    # A section that fits is never cut: the funnel starts a part or follows another whole section.
    funnel_part = next(p for p in parts if "**销售漏斗**" in p)
    assert "**报价审批**" in funnel_part or funnel_part.rstrip().endswith("元")
    short = render_markdown(DigestView("b", "王总", "全公司", MORNING.date(), MORNING.date()))
    assert len(short) == 1


def test_ribao_command_sends_my_digest_now(bot: Bot) -> None:
    two_regions(bot)
    bot.send_text("sup_east", "日报")
    kinds = [m["msgtype"] for m in bot.messages("sup_east")]
    assert "markdown" in kinds and kinds[-1] == "image"
    assert "张伟" in "\n".join(bot.texts("sup_east"))
    # On demand does not use up the scheduled one.
    assert "sent 3" in bot.run_job("digest", MORNING)
    bot.send_text("rep_e1", "日报")
    assert "只有" in bot.last_text("rep_e1")
    assert default_config().digest.send_time.strftime("%H:%M") == "08:37"


def test_d28_two_replicas_at_once_send_one_digest_each(bot: Bot) -> None:
    """[PG] Two processes run the job at the same moment: the unique claim lets exactly one build each digest."""
    import threading

    import pytest

    from schedulers.jobs import by_name

    if bot.state.session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    two_regions(bot)
    bot.clock.set(MORNING)
    job = by_name("digest").run
    barrier = threading.Barrier(3)
    results: list[str] = []

    def replica() -> None:
        barrier.wait()
        results.append(job(bot.state, MORNING.astimezone(SHANGHAI)))

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(int(r.split("sent ")[1].split(",")[0]) for r in results) == 3, results
    for userid in ("sup_east", "sup_south", "boss"):
        kinds = [m["msgtype"] for m in bot.messages(userid)]
        assert kinds.count("image") == 1, (userid, kinds)
    assert len([t for t in bot.texts("rep_e1") if "今日待办" in t]) == 1


def test_no_warning_colour_on_people_regions_side_by_side_and_as_of_labels(bot: Bot) -> None:
    """Issue 14: the digest informs and encourages."""
    two_regions(bot)
    _, sup = digest_text(bot, "sup_east")
    view, boss = digest_text(bot, "boss")
    for text in (sup, boss):
        assert 'color="warning"' not in text and "无拜访" not in text
        assert "截至 11月28日" in text  # month-to-date figures say up to which day
    assert [row.region for row in view.regions] == ["华东", "华南"]
    assert "**区域对比**" in boss and "> 华东：拜访 2 · 新商机 1" in boss and "> 华南：" in boss
    assert "李娜" not in boss  # the director sees regions and exceptions, not names without visits
    assert "**值得关注**" in boss and "报价审批最久已等" in boss
    assert "区域对比" not in sup


def test_quiet_reps_show_working_days_since_their_last_visit(bot: Bot) -> None:
    two_regions(bot)
    with bot.session() as s, s.begin():
        east = s.scalars(select(Customer).where(Customer.name == "华东精密")).first()
        s.add(Visit(customer_id=east.id, userid="rep_e2", summary="回访", visited_at=f.at(2026, 11, 23, 10)))
    _, text = digest_text(bot, "sup_east")  # Saturday morning: Mon 23rd → Fri 27th = 4 working days
    assert "李娜（上次拜访在 4 个工作日前）" in text


def test_today_live_for_supervisor_and_director(bot: Bot) -> None:
    two_regions(bot)
    bot.clock.set(datetime(2026, 11, 28, 16, 0, tzinfo=SHANGHAI))
    with bot.session() as s, s.begin():
        east = s.scalars(select(Customer).where(Customer.name == "华东精密")).first()
        s.add(
            Visit(
                customer_id=east.id,
                userid="rep_e2",
                summary="今天上午拜访",
                visited_at=f.at(2026, 11, 28, 10),
            )
        )
    for userid in ("sup_east", "boss"):
        bot.send_text(userid, "日报 今天")
        text = "\n".join(
            m["markdown"]["content"] for m in bot.messages(userid) if m.get("msgtype") == "markdown"
        )
        assert "今日拜访" in text and "李娜 1次" in text, text[:400]
    before = len(bot.messages("sup_east"))
    bot.send_text("sup_east", "日报")
    latest = "\n".join(
        m["markdown"]["content"] for m in bot.messages("sup_east")[before:] if m.get("msgtype") == "markdown"
    )
    assert "昨日拜访" in latest and "今日拜访" not in latest
    bot.send_text("sup_east", "日报 明年")
    assert "用法：日报" in bot.last_text("sup_east")


def test_new_opportunities_without_amount_and_the_oldest_wait_read_like_the_lists(bot: Bot) -> None:
    """新增 商机 without an amount does not read 0元; the oldest quote's wait is counted down like each quote's
    已等 (3.6 days is 3天 in both)."""
    from cards.digest_markdown import waited_text
    from handlers.answer_views import _waited

    with bot.session() as s, s.begin():
        east = f.customer(s, "华东精密", owner="rep_e1", region="华东")
        f.opportunity(s, east, name="新线", stage="初步接洽", amount=None, created=f.at(2026, 11, 27, 9))
        f.opportunity(s, east, name="二线", stage="初步接洽", amount=None, created=f.at(2026, 11, 27, 10))
    _, text = digest_text(bot, "sup_east")
    [line] = [line for line in text.splitlines() if line.startswith("**商机**")]
    assert line.endswith("新增 2 个（未填金额）"), line
    assert waited_text(3.6 * 24) == "3天" == _waited(MORNING - timedelta(hours=86.4), MORNING)
