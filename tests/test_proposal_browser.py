"""The proposal card in the simulator, in a real browser (Playwright + Debian's Chromium): a visit said as a
sentence becomes a card offering its follow-up, 确认 records both; a mistyped command's card: 取消 greys it,
确认 runs it, 修改 asks for the change and proposes again. Screenshot of the first card to
tests/artifacts/sim-proposal.png (docs/sim-proposal.png is a copy). Run alone: pytest -q -m browser this file.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_demo_browser import ARGS, ARTIFACTS, CHROMIUM, _as, _send, demo_server, sync_playwright

pytestmark = pytest.mark.browser
__all__ = ["demo_server"]


def test_proposal_cards_in_the_simulator(demo_server: tuple[str, dict[str, Any]]) -> None:
    from playwright.sync_api import expect

    base, seeded = demo_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    short = seeded["demo_customer"][:4]
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.goto(f"{base}/sim")
        _as(page, seeded["demo_rep"])

        def open_card() -> Any:
            card = page.locator(
                "#messages .card:not(.done)", has=page.locator("button", has_text="确认")
            ).last
            expect(card).to_be_visible()
            return card

        # A visit said as a sentence, with a time in it: the card offers the follow-up too.
        _send(page, f"刚从{short}回来，王经理说下周三要看样品")
        card = open_card()
        expect(card).to_contain_text("记录拜访")
        expect(card).to_contain_text(seeded["demo_customer"])
        expect(card).to_contain_text("同时设跟进")
        expect(card.locator("button", has_text="只记拜访")).to_be_visible()
        card.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "sim-proposal.png"))
        task = card.get_attribute("data-task-id")
        card.locator("button", has_text="确认").first.click()
        expect(page.locator(f'#messages .card.done[data-task-id="{task}"]')).to_contain_text(
            "已确认", timeout=10_000
        )
        expect(page.locator("#messages .msg.bot").last).to_contain_text("已设置跟进", timeout=10_000)

        # 取消: the card greys, nothing recorded.
        _send(page, f"拜放 {short} 聊了交期")
        card = open_card()
        expect(card).to_contain_text("拜访")  # "是要记录一次拜访吗" (rules) or the visit itself (engine)
        task = card.get_attribute("data-task-id")
        card.locator("button", has_text="取消").click()
        expect(page.locator(f'#messages .card.done[data-task-id="{task}"]')).to_contain_text(
            "已取消", timeout=10_000
        )

        # 确认: the visit is recorded (its own card follows).
        _send(page, f"拜放 {short} 陆经理关心交期，下周送样")
        card = open_card()
        task = card.get_attribute("data-task-id")
        card.locator("button", has_text="确认").click()
        expect(page.locator(f'#messages .card.done[data-task-id="{task}"]')).to_contain_text(
            "已确认", timeout=10_000
        )
        expect(page.locator("#messages .card", has_text="拜访已记录").last).to_be_visible(timeout=10_000)

        # 修改: asks for the change; the new card waits for 确认.
        _send(page, f"拜放 {short} 谈了二期方案")
        card = open_card()
        card.locator("button", has_text="修改").click()
        expect(page.locator("#messages .msg.bot").last).to_contain_text("修改后的内容", timeout=10_000)
        _send(page, f"{short} 谈了二期方案，下周三要看样品")
        card = open_card()
        expect(card).to_contain_text("下周三要看样品")
        card.locator("button", has_text="取消").click()
        browser.close()
