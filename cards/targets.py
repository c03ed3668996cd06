"""Views of targets and achievement: plain text for 我的目标 / 团队目标 and the digest's lines (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from models.targets import METRIC_LABELS, MONEY_METRICS, Metric


@dataclass(frozen=True)
class Progress:
    metric: Metric
    target: Decimal | None
    done: Decimal
    left_per_workday: Decimal | None  # None when no target, nothing left, or no working day left

    @property
    def rate(self) -> float | None:
        if not self.target:
            return None
        return float(self.done / self.target)


def fmt(metric: Metric, value: Decimal) -> str:
    if metric in MONEY_METRICS:
        if 0 < abs(value) < 10000:  # ¥6,000 left over 20 working days is ¥300 a day, not "约 0"
            return f"¥{value.quantize(Decimal(1), ROUND_HALF_UP):,}"
        wan = (value / 10000).quantize(Decimal("0.1"), ROUND_HALF_UP)
        text = f"{wan:f}".rstrip("0").rstrip(".")
        return "0" if text == "0" else f"{text}万"
    return f"{int(value)}"


def rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


@dataclass(frozen=True)
class OpportunityLine:
    name: str
    customer: str
    stage: str
    priority: str
    amount: Decimal | None


def _line(p: Progress, *, elapsed: float | None) -> str:
    label = METRIC_LABELS[p.metric]
    if p.target is None:
        return f"{label}：未设目标，已完成 {fmt(p.metric, p.done)}"
    text = f"{label}：目标 {fmt(p.metric, p.target)}，完成 {fmt(p.metric, p.done)}（{rate_text(p.rate)}）"
    if elapsed is not None:
        text += f"，时间过去 {elapsed * 100:.0f}%"
    if p.done >= p.target:
        return text + "，已达成"
    if p.left_per_workday is not None:
        text += f"；每个工作日还需约 {fmt(p.metric, p.left_per_workday)}"
    return text


def my_targets_text(
    *,
    month_label: str,
    as_of: str,
    month: list[Progress],
    quarter_label: str,
    quarter: list[Progress],
    elapsed: float,
    opportunities: list[OpportunityLine],
) -> str:
    """At most 8 lines: the month per metric, the quarter's money, and what could close the gap."""
    lines = [f"{month_label}目标（截至 {as_of}）"]
    lines += [_line(p, elapsed=elapsed) for p in month if p.target is not None or p.metric is Metric.SIGNED][
        :3
    ]
    q = [p for p in quarter if p.target is not None]
    if q:
        lines.append(
            f"{quarter_label}："
            + "；".join(
                f"{METRIC_LABELS[p.metric]} {fmt(p.metric, p.done)}/{fmt(p.metric, p.target or Decimal(0))}"
                f"（{rate_text(p.rate)}）"
                for p in q
            )
        )
    if not any(p.target is not None for p in month):
        lines.append("本月还没有设目标，可请主管设置。")
    if opportunities:
        lines.append(
            "可推进："
            + "；".join(
                f"{o.name}（{o.customer}，{o.stage}，{o.priority}"
                + (f"，{fmt(Metric.SIGNED, o.amount)}" if o.amount else "")
                + "）"
                for o in opportunities
            )
        )
    return "\n".join(lines[:8])


def team_targets_text(*, title: str, rows: list[tuple[str, Progress]], elapsed: float) -> str:
    """One line per rep or region, neutral (no colours, no ranking words), alphabetical as given."""
    lines = [f"{title}（时间过去 {elapsed * 100:.0f}%）"]
    if not rows:
        lines.append("还没有可显示的人员或区域。")
    for name, p in rows:
        if p.target is None:
            lines.append(f"{name}：未设目标，完成 {fmt(p.metric, p.done)}")
        else:
            lines.append(
                f"{name}：完成 {fmt(p.metric, p.done)} / {fmt(p.metric, p.target)}（{rate_text(p.rate)}）"
            )
    return "\n".join(lines)


def digest_target_lines(rows: list[tuple[str, Progress]], *, elapsed: float) -> list[str]:
    """The digest's 完成率 lines: `张华 完成 63%，时间过半 52%`, in plain text colour."""
    out: list[str] = []
    for name, p in rows:
        if p.target is None:
            continue
        share = f"时间过半 {elapsed * 100:.0f}%" if elapsed >= 0.5 else f"时间过去 {elapsed * 100:.0f}%"
        out.append(
            f"{name} 完成 {rate_text(p.rate)}（{fmt(p.metric, p.done)}/{fmt(p.metric, p.target)}），{share}"
        )
    return out
