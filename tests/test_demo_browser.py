"""The /sim page in a real browser: `salesbot demo` in a subprocess, driven by Playwright on Debian's Chromium.

Screenshots go to tests/artifacts/ (gitignored). Run alone with: pytest -q -m browser tests/test_demo_browser.py
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover
    sync_playwright = None  # type: ignore[assignment]

if sync_playwright is None or not Path(CHROMIUM).exists():
    pytest.skip("needs the playwright package and /usr/bin/chromium", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    port = _free_port()
    data_dir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "DATABASE_URL", "REDIS_URL"))}
    env["PYTHONPATH"] = str(ROOT)
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("demo did not start:\n" + (tmp_path / "demo.log").read_text())
            time.sleep(0.1)
        yield base, json.loads((data_dir / "demo.json").read_text(encoding="utf-8"))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _send(page: Page, text: str) -> None:
    """Type a message; wait until the bot has answered it (at least one new bot message or card)."""
    before = page.locator("#messages .msg.bot").count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    expect(page.locator("#messages .msg.me .bubble", has_text=text).last).to_be_visible()
    page.wait_for_function(
        "n => document.querySelectorAll('#messages .msg.bot').length > n", arg=before, timeout=10_000
    )


def _as(page: Page, userid: str) -> None:
    page.select_option("#who", userid)
    expect(page.locator("#me")).to_contain_text(userid)


def test_the_demo_in_a_browser(demo_server: tuple[str, dict[str, Any]]) -> None:
    base, seeded = demo_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        page.goto(f"{base}/sim")

        # A rep: help, a visit, a quote request.
        _as(page, seeded["demo_rep"])
        expect(page.locator("#me .role")).to_have_text("销售")
        _send(page, "帮助")
        expect(page.locator("#messages .msg.bot").last).to_contain_text("拜访")
        _send(page, f"拜访 {seeded['demo_customer'][:6]} 谈了需求")
        _send(page, f"报价 {seeded['demo_opportunity']} 80000")
        page.screenshot(path=str(ARTIFACTS / "sim-rep.png"))

        # The supervisor taps 同意 on the seeded pending approval card: it turns grey in place.
        _as(page, seeded["demo_supervisor"])
        open_card = page.locator(
            "#messages .card:not(.done)", has=page.locator("button", has_text="同意")
        ).first
        expect(open_card).to_be_visible()
        task_id = open_card.get_attribute("data-task-id")
        assert task_id
        open_card.locator("button", has_text="同意").click()
        decided = page.locator(f'#messages .card.done[data-task-id="{task_id}"]')
        expect(decided).to_be_visible(timeout=10_000)
        expect(decided.locator("button")).to_be_disabled()
        decided.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "sim-supervisor.png"))

        # The director runs the morning digest as of tomorrow 08:45 and sees the chart image.
        _as(page, "wang_zong")
        tomorrow = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
        page.select_option("#job", "digest")
        page.fill("#job-at", f"{tomorrow.isoformat()}T08:45")
        page.click("#run-job")
        expect(page.locator("#job-result")).to_contain_text("digest", timeout=20_000)
        chart = page.locator("#messages img.chart").last
        expect(chart).to_be_visible(timeout=10_000)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=chart.element_handle(), timeout=10_000
        )
        expect(page.locator("#messages .bubble.md").last).to_be_visible()
        chart.evaluate("img => img.scrollIntoView({block: 'end'})")
        page.screenshot(path=str(ARTIFACTS / "sim-director.png"))
        browser.close()
    shutil.copy(ARTIFACTS / "sim-director.png", ARTIFACTS / "sim-best.png")  # the README image, docs/sim.png
