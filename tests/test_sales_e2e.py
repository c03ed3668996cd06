"""Issue 3 "Done when", tried as a new user would, through encrypted callbacks."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from models import Customer, Opportunity, PhotoStatus, Quote, Reminder, Visit, VisitPhoto
from tests.harness import Bot


def counts(bot: Bot) -> tuple[int, ...]:
    with bot.session() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Customer, Visit, Opportunity, Quote, Reminder)
        )


def test_done_when(mbot: Bot) -> None:
    bot = mbot
    # a customer created with all fields in one message
    bot.send_text(
        "rep_e1", "新客户 华东精密 行业=机械 联系人=王经理 电话=13812345678 地址=上海嘉定 用电负荷等级=一级"
    )
    assert "已创建客户「华东精密」" in bot.last_text("rep_e1")
    # a missing field asked for
    bot.send_text("rep_e1", "新客户 苏州精工 联系人=李工")
    assert "请发送「电话」" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "0512-66668888")
    assert "已创建客户「苏州精工」" in bot.last_text("rep_e1")

    # a visit logged after sending a location and a photo, the photo fetched
    bot.send_location("rep_e1", 31.3740, 121.2650, "嘉定工业区")
    bot.wecom.add_media("PHOTO-1", b"\xff\xd8photo", "image/jpeg")
    bot.send_image("rep_e1", "PHOTO-1")
    bot.clock.advance(minutes=5)
    bot.send_text("rep_e1", "拜访 华东精密 看了新产线，客户要方案")
    card = bot.cards("rep_e1")[-1]
    shown = {h["keyname"]: h["value"] for h in card["horizontal_content_list"]}
    assert shown == {"客户": "华东精密", "位置": "嘉定工业区", "照片": "1张"}
    assert bot.wecom.calls_to("media/get")
    with bot.session() as s:
        photo = s.scalars(select(VisitPhoto)).one()
        assert photo.status == PhotoStatus.SAVED and Path(photo.path).read_bytes() == b"\xff\xd8photo"

    # 客户 shows the visit to its owner and the region's supervisor; another region's rep: not found
    for userid in ("rep_e1", "sup_east"):
        bot.send_text(userid, "客户 华东精密")
        assert "看了新产线" in bot.last_text(userid)
    bot.send_text("rep_s1", "客户 华东精密")
    assert bot.last_text("rep_s1").startswith("没有找到客户「华东精密」")

    # an opportunity moved 线索分配 → 初步接洽 → 方案制定
    bot.send_text("rep_e1", "商机 华东精密 二期产线 30万")
    bot.send_text("rep_e1", "推进 二期产线")
    assert "线索分配 → 初步接洽" in bot.last_text("rep_e1")
    bot.send_text("rep_e1", "推进 二期产线")
    assert "初步接洽 → 方案制定" in bot.last_text("rep_e1")
    # … and refused 方案制定 on a customer with no visit
    bot.send_text("rep_e1", "商机 苏州精工 改造项目")
    bot.send_text("rep_e1", "推进 改造项目")
    bot.send_text("rep_e1", "推进 改造项目")
    assert "需要至少一次拜访记录" in bot.last_text("rep_e1")
    with bot.session() as s:
        assert {o.name: o.stage for o in s.scalars(select(Opportunity))} == {
            "二期产线": "方案制定",
            "改造项目": "初步接洽",
        }

    # malformed 拜访, 商机, 报价, 跟进, 推进 each answered with the usage, nothing changed
    before = counts(bot)
    for text in (
        "拜访",
        "拜访 华东精密",
        "商机",
        "商机 华东精密",
        "报价",
        "报价 二期产线 很多",
        "跟进",
        "推进",
    ):
        bot.send_text("rep_e1", text)
        reply = bot.last_text("rep_e1")
        assert "例" in reply, (text, reply)
    assert counts(bot) == before
