"""The digest as WeCom markdown (services/digest.py builds the view): parts of at most 2048 bytes, split
between sections. Informs and encourages: counts per person without colour, the regions side by side for the
whole company, exceptions worth acting on, and 截至 on every month-to-date figure."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from chat.outbox import MAX_CONTENT_BYTES, split_content
from services import indicators as ind
from services import lead_digest
from services.digest_regions import as_of, quiet_text
from services.escape import markdown as md

if TYPE_CHECKING:
    from services.digest import DigestView

MAX_NAMED = 10


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
                f"签约 {ind.wan(row.signed)} · 回款 {ind.wan(row.collected)}"
            )
            lines.append("> 　" + " · ".join(f"{item.name[:6]} {item.text}" for item in row.indicators))
        out.append("\n".join(lines))
        notes = _worth_acting_on(v)
        if notes:
            out.append("\n".join(["**值得关注**", *(f"> {note}" for note in notes)]))

    # An opportunity without an amount adds nothing: "（0元）" would read as a worthless one.
    added = f"（{ind.wan(v.new_opportunity_amount)}）" if v.new_opportunity_amount else ""
    if v.new_opportunities and not v.new_opportunity_amount:
        added = "（未填金额）"
    lines = [f"**商机** {day}新增 {v.new_opportunities} 个{added}"]
    if v.stage_moves:
        lines.append("> 阶段推进：" + "、".join(f"{md(stage)} {n}" for stage, n in v.stage_moves))
    else:
        lines.append(f"> {day}无阶段推进")
    out.append("\n".join(lines))

    lines = ["**销售漏斗**（进行中）"]
    lines += [f"> {md(row.stage)}：{row.count} 个 · {ind.wan(row.amount)}" for row in v.funnel]
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
        f"**回款** {mtd} 本月累计 {ind.wan(v.collections_mtd)}，上月同期 {ind.wan(v.collections_last_month_same)}"
        f"{_change(v.collections_mtd, v.collections_last_month_same)}"
    ]
    lines.append("> 近6个月：" + "、".join(f"{m[5:]}月 {ind.wan(a)}" for m, a in v.collections_trend))
    out.append("\n".join(lines))

    if v.receivables is not None and not v.receivables.empty:
        from services.receivables import section  # the receivables section (docs/finance.md)

        out.append(section(v.receivables, today=v.today))

    lines = [f"**本月签约 Top5**（{mtd}）"]
    if v.top_reps:
        lines += [f"> {i}. {md(name)} {ind.wan(amount)}" for i, (name, amount) in enumerate(v.top_reps, 1)]
    else:
        lines.append("> 本月暂无签约")
    out.append("\n".join(lines))

    if v.targets:
        out.append("\n".join([f"**本月签约目标**（{mtd}）", *(f"> {line}" for line in v.targets)]))

    leads = lead_digest.section(v.leads, day_word=v.day_word)
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
