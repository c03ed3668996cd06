"""Long customer lists page with 更多 the way 待办 does (cards/paging.py): a numbered pick of 客户, 公海, and
the 我的客户 answer — the first page, 更多 for the next, none under the last, never a record out of scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cards.keys import POOL_MORE, CardKey
from models import POOL_OWNER, Customer
from services.parsing.text import normalize_name
from tests.harness import SHANGHAI, Bot
from tests.test_conversation import Said, teach

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI)


def _customers(bot: Bot, names: list[str], *, owner: str = "rep_e1", region: str = "华东") -> list[int]:
    with bot.session() as s, s.begin():
        rows = [
            Customer(
                name=name,
                name_norm=normalize_name(name),
                region=region,
                owner_userid=owner,
                industry="机械",
                custom={},
                pooled_at=T0 if owner == POOL_OWNER else None,
                created_at=T0,
                updated_at=T0,
            )
            for name in names
        ]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def _more(bot: Bot, userid: str) -> dict[str, Any] | None:
    """The 更多 card, when the last thing the bot sent was one."""
    last = bot.messages(userid)[-1]
    card = last.get("template_card") if last.get("msgtype") == "template_card" else None
    if card and [b["text"] for b in card.get("button_list", [])] == ["更多"]:
        return card
    return None


def _tap_more(bot: Bot, userid: str, card: dict[str, Any]) -> str:
    bot.tap(userid, card["task_id"], card["button_list"][0]["key"])
    return bot.last_text(userid)


def test_a_pick_of_25_customers_pages_with_more_and_stays_in_scope(bot: Bot) -> None:
    mine = _customers(bot, [f"恒通机械{i:02d}厂" for i in range(25)])
    _customers(bot, [f"恒通机械{i:02d}分厂" for i in range(3)], owner="rep_e2")  # a colleague's
    _customers(bot, ["恒通机械华南厂"], owner="rep_s1", region="华南")  # another region
    bot.send_text("rep_e1", "客户 恒通机械")
    first = bot.texts("rep_e1")[-1]
    assert first.startswith("找到25个客户，请回复编号选择：")
    assert "1. " in first and "10. " in first and "11. " not in first
    assert "分厂" not in first and "华南" not in first
    more = _more(bot, "rep_e1")
    assert more is not None and more["main_title"]["title"] == "还有15个客户"
    second = _tap_more(bot, "rep_e1", more)
    assert "第2页" in second and "11. " in second and "20. " in second and "21. " not in second
    more = _more(bot, "rep_e1")
    assert more is not None and more["main_title"]["title"] == "还有5个客户"
    third = _tap_more(bot, "rep_e1", more)
    assert "21. " in third and "25. " in third and "分厂" not in third and "华南" not in third
    assert _more(bot, "rep_e1") is None  # the last page has no 更多
    bot.send_text("rep_e1", "15")  # a number from page 2 still picks from the same list
    assert bot.last_text("rep_e1").startswith("【恒通机械14厂】") and f"#{mine[14]}" not in first


def test_more_under_an_older_pick_or_for_another_person_shows_nothing(bot: Bot) -> None:
    _customers(bot, [f"恒通机械{i:02d}厂" for i in range(12)])
    _customers(bot, [f"远大泵业{i:02d}" for i in range(12)])
    bot.send_text("rep_e1", "客户 恒通机械")
    old = _more(bot, "rep_e1")
    assert old is not None
    bot.send_text("rep_e1", "取消")
    bot.send_text("rep_e1", "客户 远大泵业")
    assert "这个列表已失效" in _tap_more(bot, "rep_e1", old)  # the open pick is another one now
    # rep_e2 taps the button of rep_e1's card: rep_e2 has no such pick, and sees none of rep_e1's customers
    reply = _tap_more(bot, "rep_e2", old)
    assert "这个列表已失效" in reply and "恒通" not in reply


def test_a_customer_that_left_the_scope_is_not_shown_on_the_next_page(bot: Bot) -> None:
    ids = _customers(bot, [f"恒通机械{i:02d}厂" for i in range(12)])
    bot.send_text("rep_e1", "客户 恒通机械")
    more = _more(bot, "rep_e1")
    assert more is not None
    with bot.session() as s, s.begin():  # handed to a colleague meanwhile
        row = s.get(Customer, ids[11])
        assert row is not None
        row.owner_userid = "rep_e2"
    page = _tap_more(bot, "rep_e1", more)
    assert "恒通机械10厂" in page and "恒通机械11厂" not in page


def test_pool_pages_with_more_and_keeps_the_keyword(bot: Bot) -> None:
    _customers(bot, [f"机床客户{i:02d}" for i in range(23)], owner=POOL_OWNER)
    _customers(bot, [f"泵阀客户{i:02d}" for i in range(5)], owner=POOL_OWNER)
    _customers(bot, [f"机床华南{i:02d}" for i in range(4)], owner=POOL_OWNER, region="华南")
    bot.send_text("rep_e2", "公海 机床")
    first = bot.texts("rep_e2")[-1]
    assert "共 23 个客户（第1页）" in first and "泵阀" not in first and "华南" not in first
    assert len([line for line in first.splitlines() if line.startswith("#")]) == 10
    more = _more(bot, "rep_e2")
    assert more is not None and more["main_title"]["title"] == "还有13个公海客户"
    second = _tap_more(bot, "rep_e2", more)
    assert "第2页" in second and "泵阀" not in second and "华南" not in second
    more = _more(bot, "rep_e2")
    assert more is not None
    third = _tap_more(bot, "rep_e2", more)
    assert len([line for line in third.splitlines() if line.startswith("#")]) == 3
    assert _more(bot, "rep_e2") is None
    listed = first + second + third
    assert all(f"机床客户{i:02d}" in listed for i in range(23))
    bot.send_text("rep_s1", "公海 机床")  # the other region's rep sees their own pool only
    assert "机床客户" not in bot.last_text("rep_s1") and _more(bot, "rep_s1") is None


def test_a_forged_pool_more_key_is_answered_not_crashed(bot: Bot) -> None:
    _customers(bot, [f"机床客户{i:02d}" for i in range(12)], owner=POOL_OWNER)
    bot.send_text("rep_e2", "公海")
    more = _more(bot, "rep_e2")
    assert more is not None
    before = len(bot.texts("rep_e2"))
    for arg in ("2.gA", "2.ab", "0", "9999"):  # not UTF-8 once unpacked, garbage, out of range
        bot.tap("rep_e2", more["task_id"], CardKey(POOL_MORE, arg).pack())
    answers = bot.texts("rep_e2")[before:]
    assert len(answers) == 4 and all("失效" in a or "没有更多" in a for a in answers), answers


def test_my_customers_answer_pages_with_more(bot: Bot) -> None:
    _customers(bot, [f"客户{i:02d}号" for i in range(14)])
    _customers(bot, ["别人的客户"], owner="rep_e2")
    teach(bot, {"我的客户有哪些": lambda: Said("query.my_customers")})
    bot.send_text("rep_e1", "我的客户有哪些")
    first = bot.texts("rep_e1")[-1]
    assert "共14个" in first and "客户09号" in first and "客户10号" not in first and "别人的" not in first
    more = _more(bot, "rep_e1")
    assert more is not None and more["main_title"]["title"] == "还有4个客户"
    second = _tap_more(bot, "rep_e1", more)
    assert "第2页" in second and "客户10号" in second and "客户13号" in second and "别人的" not in second
    assert _more(bot, "rep_e1") is None
