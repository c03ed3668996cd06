"""The managers' morning digest (product.md "Scheduled work"): the gathering. About 400 lines because
`build_digests` is one set of aggregate queries for every manager's digest and then one pass per manager over
their groups; splitting it would split the one query plan.

`build_digests` gathers everything for several managers at once with aggregate queries — GROUP BY the
customer's region (or the person), never a query per manager, rep or customer: 20 queries for the morning
job's 21 managers or for one manager's 日报 (`build_digest`), tested — into one `DigestView` per manager;
the views are cards: `cards/digest_markdown.py` `render_markdown` (WeCom markdown parts of at most 2048 UTF-8
bytes each, split between sections) and `cards/digest_chart.py` `render_chart`. The view model is
services/digest_view.py, the director's region rows and the target lines services/digest_regions.py.

Scope: a 销售主管 sees the users of their region (services/scope.Scope.users) and the customers of
their region (Scope.customers); the 总经理 (and 管理员) everything. Activity of people
(visits, reminders, top reps) is scoped by user; records about customers (opportunities, quotes,
contracts, payments, segments) by the customer's region.

"Yesterday" is the calendar day before `now` in the configured zone `tz` (Settings.salesbot_timezone).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from cards.digest_markdown import render_markdown
from chat.replies import Image, Markdown
from models import (
    Contract,
    Customer,
    Opportunity,
    Payment,
    Quote,
    QuoteStatus,
    Reminder,
    ReminderStatus,
    Role,
    StageMove,
    Target,
    User,
    Visit,
)
from models.targets import Metric
from services import indicators as ind
from services import lead_digest, receivables
from services.config import SEGMENT_NAMES, BusinessConfig
from services.digest_regions import as_decimal, quiet_reps, region_rows, target_lines
from services.digest_view import DigestView, RepVisits, StageRow
from services.scope import Scope
from services.target_months import elapsed_share, month_key

TOP_REPS = 5
TREND_MONTHS = 6
MAX_NAMED = 10  # names listed per line before "等N个"


def build_digest(
    session: Session,
    *,
    manager: User,
    config: BusinessConfig,
    now: datetime,
    tz: ZoneInfo,
    live: bool = False,
) -> DigestView:
    """One manager's digest (日报): `build_digests` for that manager alone, its queries limited to the scope.
    `live` (日报 今天): today's figures so far instead of yesterday's."""
    return build_digests(session, managers=[manager], config=config, now=now, tz=tz, live=live)[
        manager.userid
    ]


def build_digests(
    session: Session,
    *,
    managers: Sequence[User],
    config: BusinessConfig,
    now: datetime,
    tz: ZoneInfo,
    live: bool = False,
) -> dict[str, DigestView]:
    """Every manager's digest from ONE set of aggregate queries (about 20, whatever the number of managers):
    records about customers are grouped by the customer's region, people's activity by the person, and each
    manager's view takes the groups of their scope (a 销售主管: their region and its people; the 总经理: all
    of them). The queries cover only the union of the managers' scopes. Days are local in `tz`."""
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    y_start, y_end = ind.local_midnight(yesterday, tz), ind.local_midnight(today, tz)
    if live:  # 日报 今天: the period is today until now
        yesterday, y_start, y_end = today, ind.local_midnight(today, tz), now

    # What the queries must cover: every region (and person) if one manager sees the whole company.
    scoped = [(m, Scope.of(m).regions()) for m in managers]
    if any(regions is None for _, regions in scoped):
        regions: ind.Regions = None
        user_where: ColumnElement[bool] = true()
    else:
        regions = tuple(sorted({r for _, rs in scoped for r in rs or ()}))
        user_where = or_(*(Scope.of(m).users() for m in managers))

    # 1. The people (Scope.users(), in SQL).
    users = session.execute(
        select(User.userid, User.name, User.role, User.region).where(user_where).order_by(User.userid)
    ).all()
    names = {u.userid: u.name for u in users}
    userids = None if regions is None else tuple(u.userid for u in users)

    # 2. The period's visits per person, and each person's last visit before the period's end (a supervisor
    # reads gaps, not just names) — one query.
    visits: dict[str, int] = {}
    last_visit: dict[str, date] = {}
    for userid, in_period, last_at in session.execute(
        select(
            Visit.userid,
            func.count(case((Visit.visited_at >= y_start, Visit.id))),
            func.max(Visit.visited_at),
        )
        .where(Visit.visited_at < y_end, _owner_in(Visit.userid, userids))
        .group_by(Visit.userid)
    ).all():
        if in_period:
            visits[userid] = int(in_period)
        last_visit[userid] = last_at.astimezone(tz).date()

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
            or_(
                Quote.status == QuoteStatus.PENDING,
                and_(Quote.status.in_((QuoteStatus.APPROVED, QuoteStatus.REJECTED)), decided_y),
            ),
        )
        .group_by(Customer.region, Quote.status)
    ).all()

    # 6. Overdue follow-ups: open reminders past due, per owner.
    overdue = session.execute(
        select(Reminder.owner_userid, func.count(Reminder.id))
        .where(
            Reminder.status == ReminderStatus.OPEN,
            Reminder.due_at < now,
            _owner_in(Reminder.owner_userid, userids),
        )
        .group_by(Reminder.owner_userid)
    ).all()

    # 7. Collections: the 6-month trend, month to date and the same days of last month, in one query.
    this_start, last_start, last_end = ind.same_period_last_month(now, tz)
    months = [ind.add_months(today, -k) for k in range(TREND_MONTHS - 1, -1, -1)]
    bounds = [ind.local_midnight(m, tz) for m in months] + [now]
    sums = [
        func.coalesce(
            func.sum(case((and_(Payment.received_at >= lo, Payment.received_at < hi), Payment.amount))), 0
        )
        for lo, hi in zip(bounds, bounds[1:], strict=False)
    ]
    sums.append(
        func.coalesce(
            func.sum(
                case(
                    (and_(Payment.received_at >= last_start, Payment.received_at < last_end), Payment.amount)
                )
            ),
            0,
        )
    )
    collections = {
        region: [as_decimal(v) for v in values]
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

    # 8b. This month's signing targets (reps and regions): 完成率 beside the time elapsed.
    month = month_key(today)
    month_targets = {
        (level, key): as_decimal(value)
        for level, key, value in session.execute(
            select(Target.level, Target.key, Target.value).where(
                Target.month == month,
                Target.metric == Metric.SIGNED.value,
                Target.level.in_(("rep", "region")),
            )
        ).all()
    }

    # 11–14. The indicators' parts.
    conversion = ind.conversion_cycle_parts(session, regions=regions, now=now)
    reminders_timely = ind.reminder_timeliness(session, userids=userids, now=now)
    steps_timely = ind.step_timeliness(session, regions=regions, config=config, now=now, tz=tz)
    growth = ind.sales_growth_parts(session, regions=regions, config=config, now=now, tz=tz)
    # Leads and the pool (services/lead_digest.py): five grouped queries.
    leads = lead_digest.gather(session, regions=regions, start=y_start, end=y_end, now=now)

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
            now=now.astimezone(tz),
            live=live,
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
                by_stage[stage] = (count + int(n), total + as_decimal(amount))
                view.new_opportunities += int(new_n)
                view.new_opportunity_amount += as_decimal(new_amount)
        view.funnel = [StageRow(s, *by_stage.get(s, (0, Decimal(0)))) for s in config.stages]

        moved: dict[str, int] = {}
        for region, stage, n in moves:
            if ind.covers(mine, region):
                moved[stage] = moved.get(stage, 0) + int(n)
        view.stage_moves = sorted(moved.items(), key=lambda m: order.get(m[0], 99))

        for region, status, n, oldest in quotes:
            if not ind.covers(mine, region):
                continue
            if status == QuoteStatus.PENDING:
                view.quotes_pending += int(n)
                if view.oldest_pending_since is None or oldest < view.oldest_pending_since:
                    view.oldest_pending_since = oldest
            elif status == QuoteStatus.APPROVED:
                view.quotes_approved += int(n)
            elif status == QuoteStatus.REJECTED:
                view.quotes_rejected += int(n)

        view.overdue = sorted(
            ((names.get(u, u), int(n)) for u, n in overdue if members is None or u in members),
            key=lambda x: (-x[1], x[0]),
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
                by_signer[signer] = by_signer.get(signer, Decimal(0)) + as_decimal(amount)
        best = sorted(by_signer.items(), key=lambda x: (-x[1], x[0]))[:TOP_REPS]
        view.top_reps = [(names.get(u, u), amount) for u, amount in best]
        view.targets = target_lines(
            manager, users, members, by_signer, month_targets, elapsed_share(now, month)
        )

        segments: dict[str | None, int] = {}
        complete = total_customers = 0
        for (region, segment), (n, done) in counts.items():
            if ind.covers(mine, region):
                segments[segment] = segments.get(segment, 0) + n
                total_customers, complete = total_customers + n, complete + done
        view.segments = {name: segments.get(name, 0) for name in SEGMENT_NAMES}
        view.segments["潜在"] = segments.get(None, 0)

        newly = [row for row in dormant if ind.covers(mine, row.region)]
        view.new_dormant = [
            r.name for r in sorted(newly, key=lambda r: (_desc(r.segment_since), r.id))[:MAX_NAMED]
        ]
        view.new_dormant_count = sum(int(total) for total in {r.region: r.total for r in newly}.values())

        view.indicators = [
            ind.conversion_cycle_from(*ind.add_pairs(ind.in_regions(conversion, mine))),
            ind.completeness_from(total_customers, complete),
            ind.on_time_rate_from(
                *ind.add_pairs(
                    [
                        *(v for u, v in reminders_timely.items() if members is None or u in members),
                        *ind.in_regions(steps_timely, mine),
                    ]
                )
            ),
            ind.sales_growth_from(*ind.add_pairs(ind.in_regions(growth, mine))),
        ]
        view.quiet = quiet_reps(
            [(r.userid, r.name, r.visits) for r in view.visits],
            last_visit,
            period_end=yesterday,
            config=config,
        )
        if mine is None:  # the whole company: the regions side by side
            view.regions = region_rows(
                config=config,
                users=users,
                visits=visits,
                funnel=funnel,
                quotes=quotes,
                signed=signed,
                collections=collections,
                counts=counts,
                conversion=conversion,
                reminders_timely=reminders_timely,
                steps_timely=steps_timely,
                growth=growth,
            )
        view.leads = lead_digest.for_scope(leads, mine)
        views[manager.userid] = view
    for userid, owed in receivables.build_for(
        session, managers=managers, config=config, now=now, tz=tz
    ).items():
        views[userid].receivables = owed
    return views


def _owner_in(
    column: ColumnElement[str] | InstrumentedAttribute[str], userids: tuple[str, ...] | None
) -> ColumnElement[bool]:
    return true() if userids is None else column.in_(userids)


def _desc(day: date) -> int:
    """Sort key: the later day first."""
    return -day.toordinal()


def digest_replies(
    session: Session,
    *,
    manager: User,
    config: BusinessConfig,
    now: datetime,
    tz: ZoneInfo,
    live: bool = False,
) -> list[Markdown | Image]:
    """One manager's digest as replies (the 日报 command; the job builds everyone's at once)."""
    return view_replies(build_digest(session, manager=manager, config=config, now=now, tz=tz, live=live))


def view_replies(view: DigestView) -> list[Markdown | Image]:
    """The digest as replies: markdown parts then the chart."""
    from cards.digest_chart import (
        render_chart,  # matplotlib: loaded when a digest is drawn, not with the routes
    )

    replies: list[Markdown | Image] = [Markdown(part) for part in render_markdown(view)]
    replies.append(Image(render_chart(view), filename=f"digest-{view.today.isoformat()}.png"))
    return replies
