"""The digest chart: a PNG whose Chinese labels render with a CJK font (no empty boxes)."""

from __future__ import annotations

import warnings
from datetime import date
from decimal import Decimal

from fontTools.ttLib import TTCollection, TTFont

from cards.digest_chart import chart_labels, cjk_font, render_chart
from services.digest_view import DigestView, StageRow


def sample_view() -> DigestView:
    view = DigestView("sup_east", "陈主管", "华东", date(2026, 11, 28), date(2026, 11, 27))
    view.funnel = [
        StageRow(s, i, Decimal(i * 50000))
        for i, s in enumerate(["线索分配", "初步接洽", "方案制定", "报价审批", "合同签署", "实施交付"])
    ]
    view.collections_trend = [(f"2026-{m:02d}", Decimal(m * 10000)) for m in range(6, 12)]
    return view


def _cmap(path: str) -> set[int]:
    font = TTCollection(path).fonts[0] if path.lower().endswith(".ttc") else TTFont(path)
    return set(font.getBestCmap())


def test_the_chosen_font_has_every_chinese_label_glyph() -> None:
    family, path = cjk_font()
    assert "CJK" in family
    missing = {ch for ch in chart_labels(sample_view()) if ord(ch) not in _cmap(str(path))}
    assert not missing


def test_rendering_draws_a_png_without_missing_glyphs() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_chart(sample_view())
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert not [w for w in caught if "missing" in str(w.message).lower()], [str(w.message) for w in caught]


def test_an_empty_digest_still_renders() -> None:
    view = DigestView("boss", "王总", "全公司", date(2026, 11, 28), date(2026, 11, 27))
    assert render_chart(view)[:4] == b"\x89PNG"
