"""The managers' morning digest (product.md "Scheduled work").

`build_digest` gathers everything with aggregate queries — GROUP BY over the whole scope, never a query per
rep or per customer (about 15 queries per digest, tested) — into a `DigestView`; `render_markdown` turns it
into WeCom markdown parts of at most 2048 UTF-8 bytes each, split between sections.

Scope: a 销售主管 sees the users of their region (services/scope.visible_userids) and the customers of
their region (services/scope.customer_filter); the 总经理 (and 管理员) everything. Activity of people
(visits, reminders, top reps) is scoped by user; records about customers (opportunities, quotes,
contracts, payments, segments) by the customer's region.

"Yesterday" is the calendar day before `now` in config.digest.timezone (Asia/Shanghai).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot.outbox import MAX_CONTENT_BYTES, split_content
from models import Contract, Customer, Opportunity, Payment, Quote, Reminder, Role, StageMove, User, Visit
from services import indicators as ind
from services.config import SEGMENT_NAMES, BusinessConfig

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
    tz = config.digest.tz
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    y_start, y_end = ind.local_midnight(yesterday, tz), ind.local_midnight(today, tz)

    # 1. The people in scope (same rule as services/scope.visible_userids, in SQL).
    users = session.execute(
        select(User.userid, User.name, User.role).where(ind.user_clause(manager)).order_by(User.userid)
    ).all()
    names = {u.userid: u.name for u in users}
    scope = ind.scope_for(manager, [u.userid for u in users])
    reps = [u for u in users if u.role == Role.REP.value]
    view = DigestView(
        manager_userid=manager.userid,
        manager_name=manager.name,
        scope_label=scope.label,
        today=today,
        yesterday=yesterday,
        now=now,
    )

    # 2. Yesterday's visits per rep.
    per_rep = dict(
        session.execute(
            select(Visit.userid, func.count(Visit.id))
            .where(Visit.visited_at >= y_start, Visit.visited_at < y_end, scope.owner_clause(Visit.userid))
            .group_by(Visit.userid)
        ).all()
    )
    view.visits = sorted(
        (RepVisits(r.userid, r.name, int(per_rep.get(r.userid, 0))) for r in reps),
        key=lambda r: (-r.visits, r.userid),
    )

    # 3. Opportunities by stage: the funnel (open ones) and those created yesterday.
    created_y = and_(Opportunity.created_at >= y_start, Opportunity.created_at < y_end)
    rows = session.execute(
        select(
            Opportunity.stage,
            func.count(Opportunity.id),
            func.coalesce(func.sum(Opportunity.amount), 0),
            func.count(case((created_y, Opportunity.id))),
            func.coalesce(func.sum(case((created_y, Opportunity.amount))), 0),
        )
        .where(scope.of_customer(Opportunity.customer_id))
        .group_by(Opportunity.stage)
    ).all()
    by_stage = {stage: (int(n), _dec(amount)) for stage, n, amount, _, _ in rows}
    view.funnel = [StageRow(s, *by_stage.get(s, (0, Decimal(0)))) for s in config.stages]
    view.new_opportunities = sum(int(r[3]) for r in rows)
    view.new_opportunity_amount = sum((_dec(r[4]) for r in rows), Decimal(0))

    # 4. Stage moves yesterday.
    view.stage_moves = [
        (stage, int(n))
        for stage, n in session.execute(
            select(StageMove.to_stage, func.count(StageMove.id))
            .join(Opportunity, Opportunity.id == StageMove.opportunity_id)
            .where(scope.of_customer(Opportunity.customer_id), StageMove.moved_at >= y_start, StageMove.moved_at < y_end)
            .group_by(StageMove.to_stage)
        ).all()
    ]
    order = {s: i for i, s in enumerate([*config.stages, config.lost_stage])}
    view.stage_moves.sort(key=lambda m: order.get(m[0], 99))

    # 5. Quotes: pending now (oldest wait), approved / rejected yesterday.
    decided_y = and_(Quote.decided_at >= y_start, Quote.decided_at < y_end)
    for status, n, oldest in session.execute(
        select(Quote.status, func.count(Quote.id), func.min(Quote.created_at))
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .where(scope.of_customer(Opportunity.customer_id), or_(Quote.status == "pending", and_(Quote.status.in_(("approved", "rejected")), decided_y)))
        .group_by(Quote.status)
    ).all():
        if status == "pending":
            view.quotes_pending, view.oldest_pending_since = int(n), oldest
        elif status == "approved":
            view.quotes_approved = int(n)
        elif status == "rejected":
            view.quotes_rejected = int(n)

    # 6. Overdue follow-ups: open reminders past due, per owner.
    overdue = session.execute(
        select(Reminder.owner_userid, func.count(Reminder.id))
        .where(Reminder.status == "open", Reminder.due_at < now, scope.owner_clause(Reminder.owner_userid))
        .group_by(Reminder.owner_userid)
    ).all()
    view.overdue = sorted(((names.get(u, u), int(n)) for u, n in overdue), key=lambda x: (-x[1], x[0]))

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
    values = session.execute(
        select(*sums)
        .where(scope.of_customer(Payment.customer_id), Payment.received_at >= bounds[0], Payment.received_at < now)
    ).one()
    view.collections_trend = [(f"{m:%Y-%m}", _dec(v)) for m, v in zip(months, values[:-1], strict=True)]
    view.collections_mtd = _dec(values[-2])
    view.collections_last_month_same = _dec(values[-1])

    # 8. Top reps by signed contract amount this month.
    total = func.sum(Contract.amount)
    view.top_reps = [
        (names.get(u, u), _dec(amount))
        for u, amount in session.execute(
            select(Contract.signed_by, total)
            .where(scope.of_customer(Contract.customer_id), Contract.signed_at >= this_start, Contract.signed_at <= now)
            .group_by(Contract.signed_by)
            .order_by(total.desc(), Contract.signed_by)
            .limit(TOP_REPS)
        ).all()
    ]

    # 9. Segment counts; 10. customers newly dormant (since yesterday's or today's run).
    counts = dict(
        session.execute(
            select(Customer.segment, func.count(Customer.id)).where(scope.customers).group_by(Customer.segment)
        ).all()
    )
    view.segments = {name: int(counts.get(name, 0)) for name in SEGMENT_NAMES}
    view.segments["潜在"] = int(counts.get(None, 0))
    dormant_new = and_(scope.customers, Customer.segment == "休眠", Customer.segment_since >= yesterday)
    dormant_rows = session.execute(
        select(Customer.name, func.count().over())
        .where(dormant_new)
        .order_by(Customer.segment_since.desc(), Customer.id)
        .limit(MAX_NAMED)
    ).all()
    view.new_dormant = [r[0] for r in dormant_rows]
    view.new_dormant_count = int(dormant_rows[0][1]) if dormant_rows else 0

    # 11–15. The four indicators.
    view.indicators = ind.all_indicators(session, scope=scope, config=config, now=now)
    return view


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
    out = [f"## 销售日报 · {v.scope_label}\n<font color=\"comment\">{v.yesterday:%m月%d日}（昨日）数据，{v.manager_name} 收</font>"]

    total_visits = sum(r.visits for r in v.visits)
    lines = [f"**昨日拜访** 共 {total_visits} 次"]
    visited = [f"{r.name} {r.visits}次" for r in v.visits if r.visits]
    if visited:
        lines.append("> " + "、".join(visited))
    missing = v.reps_without_visits
    if missing:
        lines.append(f"> 无拜访：<font color=\"warning\">{'、'.join(missing)}</font>")
    if not v.visits:
        lines.append("> 范围内暂无销售")
    out.append("\n".join(lines))

    lines = [f"**商机** 昨日新增 {v.new_opportunities} 个（{ind.wan(v.new_opportunity_amount)}）"]
    if v.stage_moves:
        lines.append("> 阶段推进：" + "、".join(f"{stage} {n}" for stage, n in v.stage_moves))
    else:
        lines.append("> 昨日无阶段推进")
    out.append("\n".join(lines))

    lines = ["**销售漏斗**（进行中）"]
    lines += [f"> {row.stage}：{row.count} 个 · {ind.wan(row.amount)}" for row in v.funnel]
    out.append("\n".join(lines))

    wait = v.oldest_wait_hours
    oldest = f"，最久已等 {_hours(wait)}" if wait is not None else ""
    out.append(
        f"**报价审批** 待审 {v.quotes_pending} 个{oldest}\n> 昨日通过 {v.quotes_approved} 个，驳回 {v.quotes_rejected} 个"
    )

    overdue_total = sum(n for _, n in v.overdue)
    lines = [f"**逾期跟进** {overdue_total} 项"]
    if v.overdue:
        lines.append("> " + "、".join(f"{name} {n}" for name, n in v.overdue[:MAX_NAMED]))
    out.append("\n".join(lines))

    lines = [
        f"**回款** 本月累计 {ind.wan(v.collections_mtd)}，上月同期 {ind.wan(v.collections_last_month_same)}"
        f"{_change(v.collections_mtd, v.collections_last_month_same)}"
    ]
    lines.append("> 近6个月：" + "、".join(f"{m[5:]}月 {ind.wan(a)}" for m, a in v.collections_trend))
    out.append("\n".join(lines))

    lines = ["**本月签约 Top5**"]
    if v.top_reps:
        lines += [f"> {i}. {name} {ind.wan(amount)}" for i, (name, amount) in enumerate(v.top_reps, 1)]
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
        lines.append(f"> 新增休眠：<font color=\"warning\">{'、'.join(v.new_dormant)}</font>{more}（已给负责人建唤醒任务）")
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
