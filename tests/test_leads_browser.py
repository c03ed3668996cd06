"""The demo rep's lead card and countdown card in the simulator, in a real browser (Debian's Chromium).

The screenshot (tests/artifacts/sim-leads.png) is the one in docs/leads-sim.png. Run alone with:
pytest -q -m browser tests/test_leads_browser.py
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_demo_browser import ARGS, ARTIFACTS, CHROMIUM, _as, demo_server, sync_playwright  # noqa: F401

pytestmark = pytest.mark.browser


def test_lead_and_countdown_cards_in_the_simulator(demo_server: tuple[str, dict[str, Any]]) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, seeded = demo_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.goto(f"{base}/sim")
        _as(page, seeded["demo_rep"])
        lead = page.locator("#messages .card", has_text="新线索").first
        countdown = page.locator("#messages .card", has_text="客户即将回收到公海").first
        expect(lead).to_be_visible()
        expect(countdown).to_be_visible()
        for label in ("接单", "转派", "无效"):
            expect(lead.locator("button", has_text=label)).to_be_enabled()
        for label in ("记一条跟进", "申请延期7天", "放回公海"):
            expect(countdown.locator("button", has_text=label)).to_be_enabled()
        countdown.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "sim-leads.png"))
        # 接单 on the lead card: the card turns grey and the customer is made.
        task_id = lead.get_attribute("data-task-id")
        lead.locator("button", has_text="接单").click()
        expect(page.locator(f'#messages .card.done[data-task-id="{task_id}"]')).to_be_visible(timeout=10_000)
        expect(page.locator("#messages .msg.bot", has_text="已接单").last).to_be_visible()
        expect(
            page.locator("#messages .card", has_text="下一步").last.locator("button", has_text="拜访")
        ).to_be_visible()
        browser.close()
