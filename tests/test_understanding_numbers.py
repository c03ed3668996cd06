"""Figures questions: a region named in a my-numbers style question gets that region's figures (for the
director and that region's supervisor; another region's supervisor is refused), and my figures are asked
in many words (我的数据, 我的业绩, 我这个月的数字)."""

from __future__ import annotations

from typing import Any

import pytest

from services.understanding import Intent
from tests.harness import Bot
from tests.test_conversation import add_customer
from tests.test_understanding_similar_names import _understand, world  # noqa: F401  (fixture)


@pytest.mark.parametrize(
    "text", ["华东这个月回款多少了", "华东这个月签了多少", "华南本周完成了多少", "华东这个月怎么样"]
)
@pytest.mark.parametrize("who", ["boss", "sup_e"])
def test_a_named_region_in_a_numbers_question_is_that_regions(world: Any, who: str, text: str) -> None:  # noqa: F811
    found = _understand(world, who, text)
    assert found.intent is Intent.QUERY_REGION and found.region == text[:2], (text, found)


@pytest.mark.parametrize(
    "text", ["我的数据", "我的业绩", "我这个月的数字", "我这个月的数据", "本月数据", "我本周的成绩"]
)
def test_my_figures_in_other_words(world: Any, text: str) -> None:  # noqa: F811
    assert _understand(world, "rep_e", text).intent is Intent.QUERY_MY_NUMBERS, text


def test_my_customers_is_still_my_customers(world: Any) -> None:  # noqa: F811
    assert _understand(world, "rep_e", "我的客户有哪些").intent is Intent.QUERY_MY_CUSTOMERS


def test_the_director_gets_the_named_regions_figures_and_a_supervisor_only_their_own(bot: Bot) -> None:
    add_customer(bot, "南京汇丰电气设备有限公司")
    bot.send_text("boss", "华东这个月回款多少了")
    reply = bot.last_text("boss")
    assert "华东" in reply and "全公司" not in reply, reply
    bot.send_text("sup_east", "华东这个月签了多少")
    assert "华东" in bot.last_text("sup_east") and "全公司" not in bot.last_text("sup_east")
    bot.send_text("sup_south", "华东这个月签了多少")
    assert "只有该区域的主管和总经理" in bot.last_text("sup_south")
    bot.send_text("rep_e1", "我的数据")
    assert "没看懂" not in bot.last_text("rep_e1")
