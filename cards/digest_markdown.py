"""The managers' digest as WeCom markdown (pure: a `DigestView` in, markdown parts out; services/digest.py
gathers the view): parts of at most 2048 bytes, split between sections. Informs and encourages: counts per
person without colour, the regions side by side for the whole company, exceptions worth acting on, and 截至 on
every month-to-date figure. The leads and receivables sections are here too, and the amounts as managers read
them (`wan`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from statistics import median
from typing import TYPE_CHECKING

from chat.outbox import MAX_CONTENT_BYTES, split_content
from services.escape import markdown as md

if TYPE_CHECKING:
    from services.digest_view import DigestView
    from services.lead_digest import LeadLines
    from services.receivables import ReceivablesView

OVERDUE_BUCKETS = (
    "0–30天",
    "31–60天",
    "61–90天",
    "90天以上",
)  # the overdue ages (services/receivables.bucket_of)
MAX_NAMED = 10


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
    """Informs and encourages: counts per person without colour, the regions side by side for the whole company,
    exceptions worth acting on; month-to-date figures say up to which day (截至 12月3日)."""
    day = v.day_word
    when = f"{v.yesterday:%m月%d日}（{day}{'，截至 ' + v.now.strftime('%H:%M') if v.live and v.now else ''}）"
    out = [
        f'## 销售日报 · {md(v.scope_label)}\n<font color="comment">{when}数据，{md(v.manager_name)} 收</font>'
    ]
    mtd = as_of(v.today)

    total_visits = sum(r.visits for r in v.visits)
    lines = [f"**{day}拜访** 共 {total_visits} 次"]
    visited = [f"{md(r.name)} {r.visits}次" for r in v.visits if r.visits]
    if visited:
        lines.append("> " + "、".join(visited))
    if v.quiet and not v.regions:  # a supervisor's team: who had none, and since when (neutral, no colour)
        lines.append(f"> {day}未记录拜访：" + quiet_text(v.quiet, limit=MAX_NAMED, escape=md))
    elif v.quiet:
        lines.append(f"> {day}有拜访的销售 {len(v.visits) - len(v.quiet)}/{len(v.visits)} 人")
    if not v.visits:
        lines.append("> 范围内暂无销售")
    out.append("\n".join(lines))

    if v.regions:
        lines = [f"**区域对比**（拜访、商机为{day}，签约、回款{mtd}）"]
        for row in v.regions:
            lines.append(
                f"> {md(row.region)}：拜访 {row.visits} · 新商机 {row.new_opportunities} · 报价 {row.quotes} · "
                f"签约 {wan(row.signed)} · 回款 {wan(row.collected)}"
            )
            lines.append("> 　" + " · ".join(f"{item.name[:6]} {item.text}" for item in row.indicators))
        out.append("\n".join(lines))
        notes = _worth_acting_on(v)
        if notes:
            out.append("\n".join(["**值得关注**", *(f"> {note}" for note in notes)]))

    # An opportunity without an amount adds nothing: "（0元）" would read as a worthless one.
    added = f"（{wan(v.new_opportunity_amount)}）" if v.new_opportunity_amount else ""
    if v.new_opportunities and not v.new_opportunity_amount:
        added = "（未填金额）"
    lines = [f"**商机** {day}新增 {v.new_opportunities} 个{added}"]
    if v.stage_moves:
        lines.append("> 阶段推进：" + "、".join(f"{md(stage)} {n}" for stage, n in v.stage_moves))
    else:
        lines.append(f"> {day}无阶段推进")
    out.append("\n".join(lines))

    lines = ["**销售漏斗**（进行中）"]
    lines += [f"> {md(row.stage)}：{row.count} 个 · {wan(row.amount)}" for row in v.funnel]
    out.append("\n".join(lines))

    wait = v.oldest_wait_hours
    oldest = f"，最久已等 {_hours(wait)}" if wait is not None else ""
    out.append(
        f"**报价审批** 待审 {v.quotes_pending} 个{oldest}\n> {day}通过 {v.quotes_approved} 个，驳回 {v.quotes_rejected} 个"
    )

    overdue_total = sum(n for _, n in v.overdue)
    lines = [f"**待跟进** {overdue_total} 项已过提醒时间"]
    if v.overdue and not v.regions:
        lines.append("> " + "、".join(f"{md(name)} {n}" for name, n in v.overdue[:MAX_NAMED]))
    out.append("\n".join(lines))

    lines = [
        f"**回款** {mtd} 本月累计 {wan(v.collections_mtd)}，上月同期 {wan(v.collections_last_month_same)}"
        f"{_change(v.collections_mtd, v.collections_last_month_same)}"
    ]
    lines.append("> 近6个月：" + "、".join(f"{m[5:]}月 {wan(a)}" for m, a in v.collections_trend))
    out.append("\n".join(lines))

    if v.receivables is not None and not v.receivables.empty:
        out.append(receivables_section(v.receivables, today=v.today))  # docs/finance.md

    lines = [f"**本月签约 Top5**（{mtd}）"]
    if v.top_reps:
        lines += [f"> {i}. {md(name)} {wan(amount)}" for i, (name, amount) in enumerate(v.top_reps, 1)]
    else:
        lines.append("> 本月暂无签约")
    out.append("\n".join(lines))

    if v.targets:
        out.append("\n".join([f"**本月签约目标**（{mtd}）", *(f"> {line}" for line in v.targets)]))

    leads = leads_section(v.leads, day_word=v.day_word)
    if leads is not None:
        out.append(leads)

    seg = v.segments
    lines = [
        "**客户分层** "
        + "、".join(f"{name}{seg.get(name, 0)}" for name in ("明星", "成长", "稳定", "休眠"))
        + f"、潜在{seg.get('潜在', 0)}"
    ]
    if v.new_dormant:
        more = f" 等{v.new_dormant_count}个" if v.new_dormant_count > len(v.new_dormant) else ""
        lines.append(f"> 新增休眠：{'、'.join(md(n) for n in v.new_dormant)}{more}（已给负责人建唤醒任务）")
    out.append("\n".join(lines))

    lines = [f"**管理指标**（{mtd}）"]
    for item in v.indicators:
        mark = "" if item.ok is None else ("（达标）" if item.ok else f"（目标 {item.target}）")
        detail = f' <font color="comment">{item.detail}</font>' if item.detail else ""
        lines.append(f"> {item.name}：{item.text}{mark}{detail}")
    out.append("\n".join(lines))
    return out


def _worth_acting_on(v: DigestView) -> list[str]:
    """For the whole company: what a director may want to act on (never a list of names)."""
    notes: list[str] = []
    wait = v.oldest_wait_hours
    if wait is not None and wait >= 24:
        notes.append(f"报价审批最久已等 {_hours(wait)}（共 {v.quotes_pending} 个待审）")
    for row in v.regions:
        below = [item.name for item in row.indicators if item.ok is False]
        if below:
            notes.append(f"{md(row.region)}：{'、'.join(below)}低于目标")
    if v.new_dormant_count:
        notes.append(f"新增休眠客户 {v.new_dormant_count} 个，已给负责人建唤醒任务")
    return notes


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _hours(hours: float) -> str:
    return waited_text(hours)


def waited_text(hours: float) -> str:
    """How long a quote has waited, in whole hours or days counted down (3.6 days is 已等3天), so the digest's
    最久已等 and each quote's 已等 in a list say the same (handlers/answer_views.py uses this too)."""
    whole = max(0, int(hours))
    if whole < 1:
        return "不到1小时"
    if whole < 48:
        return f"{whole}小时"
    return f"{whole // 24}天"


def _change(now_amount: Decimal, before: Decimal) -> str:
    if not before:
        return ""
    pct = float((now_amount - before) / before)
    return f"（{pct:+.0%}）"


def leads_section(lines: LeadLines, *, day_word: str = "昨日") -> str | None:
    """The leads section (services/lead_digest.py gathers it) (None when there is nothing to say)."""
    if lines.empty:
        return None
    total = sum(lines.new_by_source.values())
    sources = "、".join(f"{md(s)} {n}" for s, n in lines.new_by_source.items())
    out = [f"**线索** {day_word}新增 {total} 条" + (f"（{sources}）" if sources else "")]
    out.append(f"> {day_word}接单 {lines.accepted}，无效 {lines.invalid}；超时未接单 {lines.overdue}")
    if lines.first_contact_hours:
        hours = median(lines.first_contact_hours)
        shown = f"{hours / 24:.1f}天" if hours >= 48 else f"{hours:.0f}小时"
        out.append(f"> 首次联系用时（中位数，近30天 {len(lines.first_contact_hours)} 条）：{shown}")
    if lines.pool:
        parts = [
            f"{md(region)} 回收{s.released}/领取{s.claimed}/延期{s.extended}"
            for region, s in lines.pool.items()
        ]
        out.append("> 公海本周：" + "；".join(parts))
    return "\n".join(out)


def receivables_section(view: ReceivablesView, *, today: date) -> str:
    """The receivables section (应收, docs/finance.md; services/receivables.py gathers it); customer and owner names are escaped for markdown."""
    lines = [f"**应收回款** 本月到期待收 {wan(view.due_this_month)}（{view.due_this_month_count} 笔）"]
    rate = f"，完成 {float(view.collected_month / view.planned_month):.0%}" if view.planned_month else ""
    lines.append(
        f"> 本月计划 {wan(view.planned_month)}，已收 {wan(view.collected_month)}{rate}（截至 {today:%m月%d日}）"
    )
    if view.overdue_total:
        parts = [
            f"{name} {wan(amount)}"
            for name, amount, n in zip(OVERDUE_BUCKETS, view.overdue, view.overdue_count, strict=True)
            if n
        ]
        lines.append(f"> 逾期 {wan(view.overdue_total)}：" + "、".join(parts))
        lines.append("> 逾期最大的几笔：")
        lines += [
            f"> {i}. {md(item.customer, 20)} 合同#{item.contract_id} {item.label} {wan(item.remaining)}，逾期{item.days}天，负责人 {md(item.owner, 12)}"
            for i, item in enumerate(view.largest, 1)
        ]
    else:
        lines.append("> 没有逾期的回款")
    return "\n".join(lines)


def as_of(day: date) -> str:
    """`截至 12月3日` (no leading zeros, the way it is said)."""
    return f"截至 {day.month}月{day.day}日"


def quiet_text(quiet: list[tuple[str, int | None]], *, limit: int, escape: object) -> str:
    """`李娜（上次拜访在 3 个工作日前）、赵强（还没有拜访记录）` — neutral words, no colour."""
    md: Callable[[str], str] = escape  # type: ignore[assignment]
    shown = [
        f"{md(name)}（{f'上次拜访在 {days} 个工作日前' if days is not None else '还没有拜访记录'}）"
        for name, days in quiet[:limit]
    ]
    more = f" 等{len(quiet)}人" if len(quiet) > limit else ""
    return "、".join(shown) + more


def wan(amount: Decimal) -> str:
    """¥ amounts the way managers read them: 12.5万 above ten thousand, else whole yuan."""
    if abs(amount) >= 10000:
        return f"{amount / 10000:.1f}万".replace(".0万", "万")
    return f"{amount:.0f}元"
