"""Screenshots of the seeded demo company's digests (docs/digest-*.png): the director's and a supervisor's,
text and chart. The text is the real WeCom markdown rendered the way WeCom shows it (font colours, quotes,
bold) in Debian's chromium through Playwright; the chart is the PNG the digest sends.

    python bench/digest_screenshots.py [--now 2026-12-03T08:40:00+08:00]
"""

from __future__ import annotations

import argparse
import html
import re
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from cards.digest_chart import render_chart
from cards.digest_markdown import render_markdown
from demo.seed import seed_demo
from models import User
from models.db import make_engine, make_session_factory, upgrade_schema
from services import roles
from services.config import default_config
from services.digest import build_digest

DOCS = Path(__file__).resolve().parent.parent / "docs"
COLOURS = {"comment": "#999999", "info": "#2b8a3e", "warning": "#e8590c"}


def markdown_html(parts: list[str]) -> str:
    """WeCom markdown (the subset the digest uses) as HTML, for a phone-width screenshot."""
    out: list[str] = []
    for part in parts:
        for line in part.split("\n"):
            text = html.escape(line)
            text = re.sub(
                r"&lt;font color=&quot;(\w+)&quot;&gt;(.*?)&lt;/font&gt;",
                lambda m: f'<span style="color:{COLOURS.get(m[1], "#000")}">{m[2]}</span>',
                text,
            )
            text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
            if text.startswith("## "):
                out.append(f"<h3>{text[3:]}</h3>")
            elif text.startswith("&gt; "):
                out.append(f'<div class="q">{text[5:]}</div>')
            elif text:
                out.append(f"<div>{text}</div>")
            else:
                out.append('<div class="gap"></div>')
        out.append("<hr>")
    style = (
        "body{font-family:'Noto Sans CJK SC',sans-serif;width:420px;margin:12px;font-size:14px;line-height:1.5}"
        ".q{border-left:3px solid #ddd;padding-left:8px;color:#333}.gap{height:8px}h3{margin:4px 0}"
        "hr{border:0;border-top:1px dashed #ccc}"
    )
    return (
        f"<html><head><meta charset='utf-8'><style>{style}</style></head><body>{''.join(out)}</body></html>"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--now", default="2026-12-03T08:40:00+08:00")
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now)
    config = default_config()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/demo.db")
        upgrade_schema(engine)
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            seed_demo(session, config=config, now=now)
        from playwright.sync_api import sync_playwright

        with factory() as session, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 450, "height": 800})
            director = session.scalars(select(User).where(User.role == roles.Role.DIRECTOR)).first()
            supervisor = session.scalars(
                select(User).where(User.role == roles.Role.SUPERVISOR).order_by(User.id)
            ).first()
            for label, who in (("director", director), ("supervisor", supervisor)):
                assert who is not None
                view = build_digest(session, manager=who, config=config, now=now)
                parts = render_markdown(view)
                (DOCS / f"digest-{label}-chart.png").write_bytes(render_chart(view))
                page.set_content(markdown_html(parts))
                page.screenshot(path=str(DOCS / f"digest-{label}-text.png"), full_page=True)
                print(label, who.name, "→", f"docs/digest-{label}-text.png", f"docs/digest-{label}-chart.png")
            browser.close()
        engine.dispose()


if __name__ == "__main__":
    main()
