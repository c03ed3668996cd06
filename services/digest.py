"""The managers' morning digest (product.md "Scheduled work").

`build_digests` gathers everything for several managers at once with aggregate queries — GROUP BY the
customer's region (or the person), never a query per manager, rep or customer: 14 queries for the morning
job's 21 managers or for one manager's 日报 (`build_digest`), tested — into one `DigestView` per manager;
`render_markdown` turns it into WeCom markdown parts of at most 2048 UTF-8 bytes each, split between sections.

Scope: a 销售主管 sees the users of their region (services/scope.Scope.users) and the customers of
their region (Scope.customers); the 总经理 (and 管理员) everything. Activity of people
(visits, reminders, top reps) is scoped by user; records about customers (opportunities, quotes,
contracts, payments, segments) by the customer's region.

"Yesterday" is the calendar day before `now` in config.digest.timezone (Asia/Shanghai).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from chat.outbox import MAX_CONTENT_BYTES, split_content
from chat.replies import Image, Markdown
from models import Contract, Customer, Opportunity, Payment, Quote, Reminder, Role, StageMove, User, Visit
from services import indicators as ind
from services.config import SEGMENT_NAMES, BusinessConfig
from services.escape import markdown as md
from services.scope import Scope

TOP_REPS = 5
TREND_MONTHS = 6
MAX_NAMED = 10  # names listed per line before "等N个"


@dataclass
class RepVisits:
    userid: str
    name: str
    visits: int


@dataclass
class StageRow:
    stage: str
    count: int
    amount: Decimal


@dataclass
class DigestView:
    manager_userid: str
    manager_name: str
    scope_label: str
    today: date
    yesterday: date
    visits: list[RepVisits] = field(default_factory=list)  # every rep in scope, most visits first
    new_opportunities: int = 0
    new_opportunity_amount: Decimal = Decimal(0)
    stage_moves: list[tuple[str, int]] = field(default_factory=list)  # (to_stage, count) yesterday
    funnel: list[StageRow] = field(default_factory=list)  # config.stages, open opportunities now
    quotes_pending: int = 0
    oldest_pending_since: datetime | None = None
    quotes_approved: int = 0
    quotes_rejected: int = 0
    overdue: list[tuple[str, int]] = field(default_factory=list)  # (rep name, open reminders past due)
    collections_mtd: Decimal = Decimal(0)
    collections_last_month_same: Decimal = Decimal(0)
    collections_trend: list[tuple[str, Decimal]] = field(default_factory=list)  # (YYYY-MM, amount), oldest first
    top_reps: list[tuple[str, Decimal]] = field(default_factory=list)
    segments: dict[str, int] = field(default_factory=dict)  # segment (or 潜在) -> count
    new_dormant: list[str] = field(default_factory=list)
    new_dormant_count: int = 0
    indicators: list[ind.Indicator] = field(default_factory=list)
    now: datetime | None = None

    @property
    def reps_without_visits(self) -> list[str]:
        return [r.name for r in self.visits if r.visits == 0]

    @property
    def oldest_wait_hours(self) -> float | None:
        if self.oldest_pending_since is None or self.now is None:
            return None
        return (self.now - self.oldest_pending_since).total_seconds() / 3600


def build_digest(session: Session, *, manager: User, config: BusinessConfig, now: datetime) -> DigestView:
    """One manager's digest (日报): `build_digests` for that manager alone, its queries limited to the scope."""
    return build_digests(session, managers=[manager], config=config, now=now)[manager.userid]


def build_digests(
    session: Session, *, managers: Sequence[User], config: BusinessConfig, now: datetime
) -> dict[str, DigestView]:
    """Every manager's digest from ONE set of aggregate queries (about 14, whatever the number of managers):
    records about customers are grouped by the customer's region, people's activity by the person, and each
    manager's view takes the groups of their scope (a 销售主管: their region and its people; the 总经理: all
    of them). The queries cover only the union of the managers' scopes."""
    tz = config.digest.tz
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    y_start, y_end = ind.local_midnight(yesterday, tz), ind.local_midnight(today, tz)

    # What the queries must cover: every region (and person) if one manager sees the whole company.
    scoped = [(m, Scope.of(m).regions()) for m in managers]
    if any(regions is None for _, regions in scoped):
        regions: ind.Regions = None
        user_where = true()
    else:
        regions = tuple(sorted({r for _, rs in scoped for r in rs or ()}))
        user_where = or_(*(Scope.of(m).users() for m in managers))

    # 1. The people (Scope.users(), in SQL).
    users = session.execute(
        select(User.userid, User.name, User.role, User.region).where(user_where).order_by(User.userid)
    ).all()
    names = {u.userid: u.name for u in users}
    userids = None if regions is None else tuple(u.userid for u in users)

    # 2. Yesterday's visits per person.
    visits = dict(
        session.execute(
            select(Visit.userid, func.count(Visit.id))
            .where(Visit.visited_at >= y_start, Visit.visited_at < y_end, _owner_in(Visit.userid, userids))
            .group_by(Visit.userid)
        ).all()
    )

    # 3. Opportunities by region and stage: the funnel (open ones) and those created yesterday.
    created_y = and_(Opportunity.created_at >= y_start, Opportunity.created_at < y_end)
    funnel = session.execute(
        select(
            Customer.region,
            Opportunity.stage,
            func.count(Opportunity.id),
            func.coalesce(func.sum(Opportunity.amount), 0),
            func.count(case((created_y, Opportunity.id))),
            func.coalesce(func.sum(case((created_y, Opportunity.amount))), 0),
        )
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(ind.region_clause(regions))
        .group_by(Customer.region, Opportunity.stage)
    ).all()

    # 4. Stage moves yesterday.
    moves = session.execute(
        select(Customer.region, StageMove.to_stage, func.count(StageMove.id))
        .join(Opportunity, Opportunity.id == StageMove.opportunity_id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(ind.region_clause(regions), StageMove.moved_at >= y_start, StageMove.moved_at < y_end)
        .group_by(Customer.region, StageMove.to_stage)
    ).all()

    # 5. Quotes: pending now (oldest wait), approved / rejected yesterday.
    decided_y = and_(Quote.decided_at >= y_start, Quote.decided_at < y_end)
    quotes = session.execute(
        select(Customer.region, Quote.status, func.count(Quote.id), func.min(Quote.created_at))
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .join(Customer, Customer.id == Opportunity.customer_id)
        .where(
            ind.region_clause(regions),
            or_(Quote.status == "pending", and_(Quote.status.in_(("approved", "rejected")), decided_y)),
        )
        .group_by(Customer.region, Quote.status)
    ).all()

    # 6. Overdue follow-ups: open reminders past due, per owner.
    overdue = session.execute(
        select(Reminder.owner_userid, func.count(Reminder.id))
        .where(Reminder.status == "open", Reminder.due_at < now, _owner_in(Reminder.owner_userid, userids))
        .group_by(Reminder.owner_userid)
    ).all()

    # 7. Collections: the 6-month trend, month to date and the same days of last month, in one query.
    this_start, last_start, last_end = ind.same_period_last_month(now, tz)
    months = [ind.add_months(today, -k) for k in range(TREND_MONTHS - 1, -1, -1)]
    bounds = [ind.local_midnight(m, tz) for m in months] + [now]
    sums = [
        func.coalesce(func.sum(case((and_(Payment.received_at >= lo, Payment.received_at < hi), Payment.amount))), 0)
        for lo, hi in zip(bounds, bounds[1:], strict=False)
    ]
    sums.append(
        func.coalesce(
            func.sum(case((and_(Payment.received_at >= last_start, Payment.received_at < last_end), Payment.amount))), 0
        )
    )
    collections = {
        region: [_dec(v) for v in values]
        for region, *values in session.execute(
            select(Customer.region, *sums)
            .join(Customer, Customer.id == Payment.customer_id)
            .where(ind.region_clause(regions), Payment.received_at >= bounds[0], Payment.received_at < now)
            .group_by(Customer.region)
        ).all()
    }

    # 8. Signed contract amount this month per region and signer (for the top reps).
    signed = session.execute(
        select(Customer.region, Contract.signed_by, func.sum(Contract.amount))
        .join(Customer, Customer.id == Contract.customer_id)
        .where(ind.region_clause(regions), Contract.signed_at >= this_start, Contract.signed_at <= now)
        .group_by(Customer.region, Contract.signed_by)
    ).all()

    # 9. Customers per region and segment (also the completeness indicator); 10. newly dormant customers
    # (since yesterday's or today's run): the first MAX_NAMED of each region and the region's count.
    counts = ind.customer_counts(session, regions=regions)
    ranked = (
        select(
            Customer.region,
            Customer.name,
            Customer.segment_since,
            Customer.id,
            func.row_number()
            .over(partition_by=Customer.region, order_by=(Customer.segment_since.desc(), Customer.id))
            .label("rank"),
            func.count().over(partition_by=Customer.region).label("total"),
        )
        .where(ind.region_clause(regions), Customer.segment == "休眠", Customer.segment_since >= yesterday)
        .subquery()
    )
    dormant = session.execute(
        select(ranked.c.region, ranked.c.name, ranked.c.segment_since, ranked.c.id, ranked.c.total).where(
            ranked.c.rank <= MAX_NAMED
        )
    ).all()

    # 11–14. The indicators' parts.
    conversion = ind.conversion_cycle_parts(session, regions=regions, now=now)
    reminders_timely = ind.reminder_timeliness(session, userids=userids, now=now)
    steps_timely = ind.step_timeliness(session, regions=regions, config=config, now=now)
    growth = ind.sales_growth_parts(session, regions=regions, config=config, now=now)

    # Each manager's view: the groups of their scope.
    views: dict[str, DigestView] = {}
    by_region: dict[str | None, list[str]] = {}
    for u in users:
        by_region.setdefault(u.region, []).append(u.userid)
    order = {s: i for i, s in enumerate([*config.stages, config.lost_stage])}
    for manager, mine in scoped:
        scope = ind.scope_for(manager, Scope.of(manager).visible_among([u.userid for u in users], by_region))
        members = None if scope.userids is None else frozenset(scope.userids)
        view = DigestView(
            manager_userid=manager.userid,
            manager_name=manager.name,
            scope_label=scope.label,
            today=today,
            yesterday=yesterday,
            now=now,
        )
        view.visits = sorted(
            (
                RepVisits(u.userid, u.name, int(visits.get(u.userid, 0)))
                for u in users
                if u.role == Role.REP and (members is None or u.userid in members)
            ),
            key=lambda r: (-r.visits, r.userid),
        )

        by_stage: dict[str, tuple[int, Decimal]] = {}
        for region, stage, n, amount, new_n, new_amount in funnel:
            if ind.covers(mine, region):
                count, total = by_stage.get(stage, (0, Decimal(0)))
                by_stage[stage] = (count + int(n), total + _dec(amount))
                view.new_opportunities += int(new_n)
                view.new_opportunity_amount += _dec(new_amount)
        view.funnel = [StageRow(s, *by_stage.get(s, (0, Decimal(0)))) for s in config.stages]

        moved: dict[str, int] = {}
        for region, stage, n in moves:
            if ind.covers(mine, region):
                moved[stage] = moved.get(stage, 0) + int(n)
        view.stage_moves = sorted(moved.items(), key=lambda m: order.get(m[0], 99))

        for region, status, n, oldest in quotes:
            if not ind.covers(mine, region):
                continue
            if status == "pending":
                view.quotes_pending += int(n)
                if view.oldest_pending_since is None or oldest < view.oldest_pending_since:
                    view.oldest_pending_since = oldest
            elif status == "approved":
                view.quotes_approved += int(n)
            elif status == "rejected":
                view.quotes_rejected += int(n)

        view.overdue = sorted(
            ((names.get(u, u), int(n)) for u, n in overdue if members is None or u in members), key=lambda x: (-x[1], x[0])
        )

        totals = [Decimal(0)] * (TREND_MONTHS + 1)
        for values in ind.in_regions(collections, mine):
            totals = [a + b for a, b in zip(totals, values, strict=True)]
        view.collections_trend = [(f"{m:%Y-%m}", v) for m, v in zip(months, totals[:-1], strict=True)]
        view.collections_mtd = totals[-2]
        view.collections_last_month_same = totals[-1]

        by_signer: dict[str, Decimal] = {}
        for region, signer, amount in signed:
            if ind.covers(mine, region):
                by_signer[signer] = by_signer.get(signer, Decimal(0)) + _dec(amount)
        best = sorted(by_signer.items(), key=lambda x: (-x[1], x[0]))[:TOP_REPS]
        view.top_reps = [(names.get(u, u), amount) for u, amount in best]

        segments: dict[str | None, int] = {}
        complete = total_customers = 0
        for (region, segment), (n, done) in counts.items():
            if ind.covers(mine, region):
                segments[segment] = segments.get(segment, 0) + n
                total_customers, complete = total_customers + n, complete + done
        view.segments = {name: segments.get(name, 0) for name in SEGMENT_NAMES}
        view.segments["潜在"] = segments.get(None, 0)

        newly = [row for row in dormant if ind.covers(mine, row.region)]
        view.new_dormant = [r.name for r in sorted(newly, key=lambda r: (_desc(r.segment_since), r.id))[:MAX_NAMED]]
        view.new_dormant_count = sum(int(total) for total in {r.region: r.total for r in newly}.values())

        view.indicators = [
            ind.conversion_cycle_from(*ind.add_pairs(ind.in_regions(conversion, mine))),
            ind.completeness_from(total_customers, complete),
            ind.on_time_rate_from(
                *ind.add_pairs(
                    [*(v for u, v in reminders_timely.items() if members is None or u in members), *ind.in_regions(steps_timely, mine)]
                )
            ),
            ind.sales_growth_from(*ind.add_pairs(ind.in_regions(growth, mine))),
        ]
        views[manager.userid] = view
    return views


def _owner_in(column: ColumnElement[str], userids: tuple[str, ...] | None) -> ColumnElement[bool]:
    return true() if userids is None else column.in_(userids)


def _desc(day: date) -> int:
    """Sort key: the later day first."""
    return -day.toordinal()



# ---------------------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------------------


def render_markdown(view: DigestView, *, limit: int = MAX_CONTENT_BYTES) -> list[str]:
    """WeCom markdown parts, each ≤ `limit` UTF-8 bytes; sections are kept whole unless one alone is too long."""
    sections = _sections(view)
    parts: list[str] = []
    current = ""
    for section in sections:
        candidate = f"{current}\n\n{section}" if current else section
        if _size(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if _size(section) <= limit:
            current = section
        else:  # one very long section (a big team): split between its lines
            pieces = split_content(section, limit)
            parts.extend(pieces[:-1])
            current = pieces[-1]
    if current:
        parts.append(current)
    return parts


def _sections(v: DigestView) -> list[str]:
    out = [f"## 销售日报 · {md(v.scope_label)}\n<font color=\"comment\">{v.yesterday:%m月%d日}（昨日）数据，{md(v.manager_name)} 收</font>"]

    total_visits = sum(r.visits for r in v.visits)
    lines = [f"**昨日拜访** 共 {total_visits} 次"]
    visited = [f"{md(r.name)} {r.visits}次" for r in v.visits if r.visits]
    if visited:
        lines.append("> " + "、".join(visited))
    missing = v.reps_without_visits
    if missing:
        lines.append(f"> 无拜访：<font color=\"warning\">{'、'.join(md(n) for n in missing)}</font>")
    if not v.visits:
        lines.append("> 范围内暂无销售")
    out.append("\n".join(lines))

    lines = [f"**商机** 昨日新增 {v.new_opportunities} 个（{ind.wan(v.new_opportunity_amount)}）"]
    if v.stage_moves:
        lines.append("> 阶段推进：" + "、".join(f"{md(stage)} {n}" for stage, n in v.stage_moves))
    else:
        lines.append("> 昨日无阶段推进")
    out.append("\n".join(lines))

    lines = ["**销售漏斗**（进行中）"]
    lines += [f"> {md(row.stage)}：{row.count} 个 · {ind.wan(row.amount)}" for row in v.funnel]
    out.append("\n".join(lines))

    wait = v.oldest_wait_hours
    oldest = f"，最久已等 {_hours(wait)}" if wait is not None else ""
    out.append(
        f"**报价审批** 待审 {v.quotes_pending} 个{oldest}\n> 昨日通过 {v.quotes_approved} 个，驳回 {v.quotes_rejected} 个"
    )

    overdue_total = sum(n for _, n in v.overdue)
    lines = [f"**逾期跟进** {overdue_total} 项"]
    if v.overdue:
        lines.append("> " + "、".join(f"{md(name)} {n}" for name, n in v.overdue[:MAX_NAMED]))
    out.append("\n".join(lines))

    lines = [
        f"**回款** 本月累计 {ind.wan(v.collections_mtd)}，上月同期 {ind.wan(v.collections_last_month_same)}"
        f"{_change(v.collections_mtd, v.collections_last_month_same)}"
    ]
    lines.append("> 近6个月：" + "、".join(f"{m[5:]}月 {ind.wan(a)}" for m, a in v.collections_trend))
    out.append("\n".join(lines))

    lines = ["**本月签约 Top5**"]
    if v.top_reps:
        lines += [f"> {i}. {md(name)} {ind.wan(amount)}" for i, (name, amount) in enumerate(v.top_reps, 1)]
    else:
        lines.append("> 本月暂无签约")
    out.append("\n".join(lines))

    seg = v.segments
    lines = [
        "**客户分层** " + "、".join(f"{name}{seg.get(name, 0)}" for name in ("明星", "成长", "稳定", "休眠"))
        + f"、潜在{seg.get('潜在', 0)}"
    ]
    if v.new_dormant:
        more = f" 等{v.new_dormant_count}个" if v.new_dormant_count > len(v.new_dormant) else ""
        lines.append(f"> 新增休眠：<font color=\"warning\">{'、'.join(md(n) for n in v.new_dormant)}</font>{more}（已给负责人建唤醒任务）")
    out.append("\n".join(lines))

    lines = ["**管理指标**"]
    for item in v.indicators:
        mark = "" if item.ok is None else ("（达标）" if item.ok else f"<font color=\"warning\">（未达标 {item.target}）</font>")
        detail = f" <font color=\"comment\">{item.detail}</font>" if item.detail else ""
        lines.append(f"> {item.name}：{item.text}{mark}{detail}")
    out.append("\n".join(lines))
    return out


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _hours(hours: float) -> str:
    if hours >= 48:
        return f"{hours / 24:.0f}天"
    return f"{hours:.0f}小时"


def _change(now_amount: Decimal, before: Decimal) -> str:
    if not before:
        return ""
    pct = float((now_amount - before) / before)
    return f"（{pct:+.0%}）"


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def digest_replies(
    session: Session, *, manager: User, config: BusinessConfig, now: datetime
) -> list[Markdown | Image]:
    """One manager's digest as replies (the 日报 command; the job builds everyone's at once)."""
    return view_replies(build_digest(session, manager=manager, config=config, now=now))


def view_replies(view: DigestView) -> list[Markdown | Image]:
    """The digest as replies: markdown parts then the chart."""
    from services.charts import render_chart  # matplotlib: loaded when a digest is drawn, not with the routes

    replies: list[Markdown | Image] = [Markdown(part) for part in render_markdown(view)]
    replies.append(Image(render_chart(view), filename=f"digest-{view.today.isoformat()}.png"))
    return replies
