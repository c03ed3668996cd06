"""The collections ladder in the simulator: the demo rep's one list after `collections` runs today, the due-day
card its 查看待办 hands over, that card's 已回款 button, and the supervisor's digest with the receivables section (screenshots for docs/finance.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest  # noqa: E402  (after the module-level skip of test_demo_browser)

from tests.test_demo_browser import ARGS, ARTIFACTS, CHROMIUM, _as, demo_server, sync_playwright  # noqa: F401

pytestmark = pytest.mark.browser


def test_due_day_card_and_receivables_digest(demo_server: tuple[str, dict[str, Any]]) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, seeded = demo_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.goto(f"{base}/sim")

        _as(page, seeded["demo_rep"])
        page.select_option("#job", "collections")
        page.fill("#job-at", f"{today.isoformat()}T09:05")
        page.click("#run-job")
        expect(page.locator("#job-result")).to_contain_text("collections", timeout=120_000)
        # The run's notices for her came as one list; its 查看待办 hands over each due-day card.
        batch = page.locator("#messages .card", has_text="回款跟进").last
        expect(batch).to_be_visible(timeout=10_000)
        batch.locator("button", has_text="查看待办").click()
        card = (
            page.locator("#messages .card:not(.done)", has_text="回款今日到期")
            .filter(has_text=today.isoformat())
            .last
        )
        expect(card).to_be_visible(timeout=10_000)
        expect(card.locator("button", has_text="已回款")).to_be_visible()
        expect(card.locator("button", has_text="客户承诺日期")).to_be_visible()
        expect(card.locator("button", has_text="需要开票")).to_be_visible()
        card.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "sim-collections-card.png"))
        task_id = card.get_attribute("data-task-id")
        card.locator("button", has_text="已回款").click()
        done = page.locator(f'#messages .card.done[data-task-id="{task_id}"]')
        expect(done).to_be_visible(timeout=10_000)
        expect(done).to_contain_text("已回款 ¥")

        _as(page, seeded["demo_supervisor"])
        page.select_option("#job", "digest")
        page.fill("#job-at", f"{(today + timedelta(days=1)).isoformat()}T08:45")
        page.click("#run-job")
        expect(page.locator("#job-result")).to_contain_text("digest", timeout=120_000)
        section = page.locator("#messages .bubble.md", has_text="应收回款").last
        expect(section).to_be_visible(timeout=10_000)
        expect(section).to_contain_text("逾期最大的几笔")
        section.evaluate("el => el.scrollIntoView({block: 'center'})")
        page.screenshot(path=str(ARTIFACTS / "sim-receivables.png"))
        browser.close()
