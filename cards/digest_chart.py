"""The digest's one chart (pure: a `DigestView` in, PNG bytes out): the funnel (horizontal bars) and the 6-month
collections trend.

matplotlib with the Agg backend (no display) and a CJK font so that Chinese labels render instead of
empty boxes: the Noto Sans CJK SC bundled with the `mplfonts` package, else a system Noto CJK font
(Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import io
import threading
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from cards.digest_markdown import as_of  # noqa: E402

if TYPE_CHECKING:
    from services.digest_view import DigestView

SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)

_lock = threading.Lock()  # matplotlib's font cache is not thread-safe


def _bundled_font() -> Path | None:
    try:
        import mplfonts
    except ImportError:
        return None
    root = Path(mplfonts.__file__).parent
    for candidate in sorted(root.rglob("NotoSansCJKsc-Regular.*")):
        if candidate.suffix.lower() in (".otf", ".ttf", ".ttc"):
            return candidate
    return None


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, Path]:
    """(family name, file) of the CJK font, registered with matplotlib. RuntimeError when none is installed."""
    candidates = [p for p in [_bundled_font(), *map(Path, SYSTEM_FONTS)] if p is not None and p.is_file()]
    if not candidates:
        raise RuntimeError("no CJK font found: pip install mplfonts, or apt-get install fonts-noto-cjk")
    path = candidates[0]
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    return family, path


def render_chart(view: DigestView) -> bytes:
    """The funnel (count per stage, amount as label) and the collections trend, side by side."""
    family, _ = cjk_font()
    with _lock, matplotlib.rc_context({"font.family": [family], "axes.unicode_minus": False}):
        regions = view.regions
        fig = Figure(figsize=(15 if regions else 10, 4.2), dpi=100)
        axes = fig.subplots(
            1, 3 if regions else 2, gridspec_kw={"width_ratios": [1.1, 1, 1.1] if regions else [1.1, 1]}
        )
        funnel_ax, trend_ax = axes[0], axes[1]

        stages = [row.stage for row in view.funnel]
        counts = [row.count for row in view.funnel]
        positions = list(range(len(stages)))[::-1]  # first stage on top
        funnel_ax.barh(positions, counts, color="#3b7dd8")
        funnel_ax.set_yticks(positions, labels=stages)
        for y, row in zip(positions, view.funnel, strict=True):
            funnel_ax.text(row.count, y, f" {row.count}个 {_wan(row.amount)}", va="center", fontsize=9)
        funnel_ax.set_xlim(0, max([*counts, 1]) * 1.6)
        funnel_ax.set_title(f"销售漏斗（{view.scope_label}）", y=1.0, pad=6)
        funnel_ax.set_xlabel("商机数")
        funnel_ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))

        months = [f"{m[5:]}月" for m, _ in view.collections_trend]
        amounts = [float(a) / 10000 for _, a in view.collections_trend]
        trend_ax.plot(months, amounts, marker="o", color="#e07b39")
        for i, value in enumerate(amounts):
            trend_ax.annotate(
                f"{value:.1f}", (i, value), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8
            )
        trend_ax.set_title(f"近6个月回款（万元，本月{as_of(view.today)}）", y=1.0, pad=6)
        trend_ax.set_ylim(bottom=0, top=max([*amounts, 1.0]) * 1.25)
        trend_ax.grid(axis="y", alpha=0.3)
        trend_ax.yaxis.set_major_locator(MaxNLocator(nbins=6))

        if regions:
            _regions(axes[2], view)
        fig.suptitle(f"销售日报 {view.yesterday:%Y-%m-%d}{'（今日实时）' if view.live else ''}")
        # Speed (profiled; ~21 charts per morning): titles at a fixed height (y=… turns off the per-draw search
        # for overlapping tick labels), at most ~6 ticks per axis (each tick is a text to lay out and draw),
        # fixed margins, not tight_layout (which lays every text out an extra time: ~40% of the render);
        # the left margin follows the longest stage name (configurable) so that no label is clipped.
        longest = max((len(stage) for stage in stages), default=4)
        left = min(0.03 + 0.0135 * longest, 0.3) * (10 / 15 if regions else 1)
        fig.subplots_adjust(left=left, right=0.975, top=0.83, bottom=0.14, wspace=0.2 if regions else 0.16)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _regions(ax: Any, view: DigestView) -> None:
    """The regions side by side: this month's signed and collected amounts (万元), grouped bars."""
    names = [row.region for row in view.regions]
    signed = [float(row.signed) / 10000 for row in view.regions]
    collected = [float(row.collected) / 10000 for row in view.regions]
    xs = list(range(len(names)))
    width = 0.38
    ax.bar([x - width / 2 for x in xs], signed, width, label="签约", color="#3b7dd8")
    ax.bar([x + width / 2 for x in xs], collected, width, label="回款", color="#e07b39")
    for x, (a, b) in enumerate(zip(signed, collected, strict=True)):
        ax.annotate(
            f"{a:.1f}", (x - width / 2, a), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8
        )
        ax.annotate(
            f"{b:.1f}", (x + width / 2, b), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8
        )
    ax.set_xticks(xs, labels=names)
    ax.set_ylim(bottom=0, top=max([*signed, *collected, 1.0]) * 1.25)
    ax.set_title(f"区域对比：本月签约/回款（万元，{as_of(view.today)}）", y=1.0, pad=6)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6))


def chart_labels(view: DigestView) -> str:
    """Every Chinese text the chart draws (for the font coverage test)."""
    parts = [row.stage for row in view.funnel] + [row.region for row in view.regions]
    parts += [
        f"销售漏斗（{view.scope_label}）",
        "商机数",
        f"近6个月回款（万元，本月{as_of(view.today)}）",
        "销售日报",
        "个",
        "万",
        "元",
        "月",
    ]
    parts += [f"区域对比：本月签约/回款（万元，{as_of(view.today)}）", "签约", "回款", "今日实时"]
    return "".join(parts)


def _wan(amount: Decimal) -> str:
    if abs(amount) >= 10000:
        return f"{float(amount) / 10000:.1f}万"
    return f"{float(amount):.0f}元"
