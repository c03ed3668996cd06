"""目标, 我的目标, 团队目标: thin wrappers over services/targets.py and the views in cards/targets.py."""

from __future__ import annotations

from sqlalchemy import select

from cards.targets import OpportunityLine, my_targets_text, team_targets_text
from chat.errors import DomainError
from chat.inbound import Inbound
from chat.replies import Reply, Text
from chat.router import Ctx, Router
from handlers.nextsteps import opportunity_next_steps
from models import Customer, Opportunity, Quote, QuoteStatus, User
from models.targets import Level, Metric
from services import escape as esc
from services import roles, target_months
from services import targets as svc
from services.parsing import AmountError, normalize_text, parse_amount, split_args

router = Router("targets")

SETTERS = roles.MANAGERS  # a supervisor within the region's target; the director and admin any
VIEWERS = roles.SALES
USAGE = "用法：目标 销售姓名 月份 指标 目标值\n例：目标 张华 12月 签约 50万（指标：签约、回款、新客户、拜访）"


def _usage(problem: str) -> DomainError:
    return DomainError(f"{problem}\n{USAGE}")


def _as_of(ctx: Ctx) -> str:
    local = ctx.now.astimezone(target_months.SHANGHAI)
    return f"{local.month}月{local.day}日"


@router.command(
    "目标",
    help="目标完成情况",
    example="我的目标",
    roles=VIEWERS,
    aliases=("我的目标", "团队目标", "目标完成"),
)
def targets(msg: Inbound, ctx: Ctx) -> Reply | list[Reply]:
    """One command word in 帮助: 我的目标 / 团队目标 / 目标 alone view, 目标 with four words sets."""
    if ctx.command == "团队目标" or (
        ctx.command == "目标" and not ctx.args and ctx.user.role != roles.Role.REP
    ):
        if ctx.user.role == roles.Role.REP:
            return my_targets_replies(msg, ctx)
        return team_targets(msg, ctx)
    if ctx.command != "目标" or not ctx.args:
        return my_targets_replies(msg, ctx)
    if ctx.user.role not in SETTERS:
        raise DomainError("目标由主管或管理员设置。发「我的目标」看本月完成情况。")
    return set_target(msg, ctx)


def set_target(msg: Inbound, ctx: Ctx) -> Reply:
    words = split_args(ctx.args)
    if len(words) != 4:
        raise _usage("请写全：谁、哪个月、什么指标、多少。")
    who, month_raw, metric_raw, value_raw = words
    month = target_months.parse_month(month_raw, today=ctx.now.astimezone(target_months.SHANGHAI).date())
    metric = target_months.parse_metric(metric_raw)
    try:
        value = (
            parse_amount(value_raw)
            if metric in svc.MONEY_METRICS
            else parse_amount(value_raw.rstrip("个次家"))
        )
    except AmountError as exc:
        raise _usage(exc.message) from None
    name = normalize_text(who)
    if ctx.user.role != roles.Role.SUPERVISOR and name in _regions(ctx):
        row, _ = svc.upsert_target(
            ctx.session,
            level=Level.REGION,
            key=name,
            month=month,
            metric=metric,
            value=value,
            actor=ctx.userid,
            now=ctx.now,
        )
        return Text(
            f"已设 {name} 区域 {month} {svc.METRIC_LABELS[metric]}目标 {svc.fmt(metric, row.value)}。"
        )
    rep = _rep(ctx, name)
    if ctx.user.role == roles.Role.SUPERVISOR:
        row = svc.set_rep_target(
            ctx.session, supervisor=ctx.user, rep=rep, month=month, metric=metric, value=value, now=ctx.now
        )
    else:
        row, _ = svc.upsert_target(
            ctx.session,
            level=Level.REP,
            key=rep.userid,
            month=month,
            metric=metric,
            value=value,
            actor=ctx.userid,
            now=ctx.now,
        )
    return Text(f"已设 {rep.name} {month} {svc.METRIC_LABELS[metric]}目标 {svc.fmt(metric, row.value)}。")


def _regions(ctx: Ctx) -> set[str]:
    return {r for r in ctx.session.scalars(select(User.region).where(User.active).distinct()) if r}


def _rep(ctx: Ctx, name: str) -> User:
    stmt = select(User).where(
        User.active, User.role == roles.Role.REP, (User.name == name) | (User.userid == name.lower())
    )
    if ctx.user.role == roles.Role.SUPERVISOR:
        stmt = stmt.where(User.region == ctx.user.region)
    found = list(ctx.session.scalars(stmt))
    if not found:
        scope = f"本区域（{ctx.user.region}）" if ctx.user.role == roles.Role.SUPERVISOR else ""
        raise _usage(f"{scope}没有叫「{name}」的销售。")
    if len(found) > 1:
        raise _usage(f"「{name}」有重名，请写账号：{'、'.join(u.display_userid for u in found)}。")
    return found[0]


def my_targets_replies(msg: Inbound, ctx: Ctx) -> list[Reply]:
    """我的目标: the figures, then 推进 · 评分 for the opportunity most likely to close the gap."""
    if ctx.user.role != roles.Role.REP:
        return [team_targets(msg, ctx)]
    text, opps = _my_targets(ctx)
    if not opps:
        return [text]
    pending = ctx.session.scalar(
        select(Quote.id)
        .where(Quote.opportunity_id == opps[0].id, Quote.status == QuoteStatus.PENDING)
        .limit(1)
    )
    return [text, opportunity_next_steps(opps[0], quote_pending=pending is not None)]


def my_targets(msg: Inbound | None, ctx: Ctx) -> Text:
    return _my_targets(ctx)[0]


def _my_targets(ctx: Ctx) -> tuple[Text, list[Opportunity]]:
    month = target_months.month_key(ctx.now.astimezone(target_months.SHANGHAI).date())
    quarter = target_months.quarter_months(month)
    month_rows = svc.progress(
        ctx.session, level=Level.REP, key=ctx.userid, months=[month], now=ctx.now, config=ctx.config
    )
    quarter_rows = svc.progress(
        ctx.session,
        level=Level.REP,
        key=ctx.userid,
        months=quarter,
        now=ctx.now,
        config=ctx.config,
        metrics=svc.MONEY_METRICS,
    )
    opps = svc.closing_candidates(ctx.session, userids=[ctx.userid], config=ctx.config)
    names = {
        c.id: c.name
        for c in ctx.session.scalars(select(Customer).where(Customer.id.in_([o.customer_id for o in opps])))
    }
    first = target_months.month_first(month)
    return Text(
        my_targets_text(
            month_label=f"{first.month}月",
            as_of=_as_of(ctx),
            month=month_rows,
            quarter_label=f"第{(first.month - 1) // 3 + 1}季度",
            quarter=quarter_rows,
            elapsed=target_months.elapsed_share(ctx.now, month),
            opportunities=[
                OpportunityLine(
                    esc.inline_text(o.name, 20),
                    esc.inline_text(names.get(o.customer_id, ""), 20),
                    o.stage,
                    o.priority,
                    o.amount,
                )
                for o in opps
            ],
        )
    ), opps


def team_targets(msg: Inbound, ctx: Ctx) -> Reply:
    words = split_args(ctx.args) if ctx.command == "团队目标" else []
    metric = target_months.parse_metric(words[0]) if words else Metric.SIGNED
    month = target_months.month_key(ctx.now.astimezone(target_months.SHANGHAI).date())
    rows = svc.team_progress(
        ctx.session, viewer=ctx.user, month=month, now=ctx.now, config=ctx.config, metric=metric
    )
    who = "团队" if ctx.user.role == roles.Role.SUPERVISOR else "各区域"
    title = f"{who} {target_months.month_first(month).month}月{svc.METRIC_LABELS[metric]}目标（截至 {_as_of(ctx)}）"
    rows = [(esc.inline_text(name), p) for name, p in rows]
    return Text(
        team_targets_text(title=title, rows=rows, elapsed=target_months.elapsed_share(ctx.now, month))
    )


def targets_answer(ctx: Ctx) -> Text | None:
    """For 我这个月完成多少 and the like: the target view when the asker has targets this month, else None."""
    month = target_months.month_key(ctx.now.astimezone(target_months.SHANGHAI).date())
    if ctx.user.role == roles.Role.REP:
        has = svc.target_exists(ctx.session, level=Level.REP, key=ctx.userid, month=month)
        return my_targets(None, ctx) if has else None
    return None
