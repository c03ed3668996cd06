"""拜访 with location and photos: media kept for 30 minutes, photos fetched after commit, the distance check."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cards.keys import CardKey
from models import CardTask, Customer, PendingMedia, PhotoStatus, Reminder, Visit, VisitPhoto
from services.visits import haversine_m
from tests.harness import Bot

NEW = "新客户 华东精密 行业=机械 联系人=王经理 电话=13812345678 地址=上海嘉定"


def visits(bot: Bot) -> list[Visit]:
    with bot.session() as s:
        found = list(s.scalars(select(Visit).order_by(Visit.id)))
        s.expunge_all()
        return found


def test_visit_with_location_and_photo(mbot: Bot, tmp_path: Path) -> None:
    mbot.send_text("rep_e1", NEW)
    mbot.send_location("rep_e1", 31.3740, 121.2650, "上海市嘉定区叶城路")
    assert "已收到位置" in mbot.last_text("rep_e1")
    mbot.wecom.add_media("MEDIA1", b"\xff\xd8jpegbytes", "image/jpeg")
    mbot.send_image("rep_e1", "MEDIA1")
    assert "已收到照片" in mbot.last_text("rep_e1")
    mbot.clock.advance(minutes=10)
    mbot.send_text("rep_e1", "拜访 华东精密 谈了二期产线，下周送样")
    card = mbot.cards("rep_e1")[-1]
    values = {h["keyname"]: h["value"] for h in card["horizontal_content_list"]}
    assert values == {"客户": "华东精密", "位置": "上海市嘉定区叶城路", "照片": "1张"}
    assert card["sub_title_text"] == "谈了二期产线，下周送样"  # kept as typed
    [v] = visits(mbot)
    assert card["task_id"].startswith(f"visit-{v.id}-")  # random after the id: unguessable
    assert [b["key"] for b in card["button_list"]] == [
        CardKey("visit.followup", a).pack() for a in ("1d", "3d", "1w")
    ]
    assert (v.latitude, v.photo_count, v.location_anomaly) == (31.3740, 1, False)
    with mbot.session() as s:
        photo = s.scalars(select(VisitPhoto)).one()
        assert photo.status == PhotoStatus.SAVED and Path(photo.path).read_bytes() == b"\xff\xd8jpegbytes"
        assert Path(photo.path) == tmp_path / "media" / "2026" / "11" / f"{v.id}-1.jpg"
        task = s.get_one(CardTask, card["task_id"])
        assert (task.kind, task.ref_id, task.recipient) == ("visit", v.id, "rep_e1")
        # the customer had no coordinates: the first located visit sets them
        c = s.scalars(select(Customer)).one()
        assert (c.latitude, c.longitude) == (31.3740, 121.2650)
        assert (
            s.scalar(select(func.count()).select_from(PendingMedia).where(PendingMedia.visit_id.is_(None)))
            == 0
        )
    assert len(mbot.wecom.calls_to("media/get")) == 1


def test_media_older_than_30_minutes_is_not_attached(mbot: Bot) -> None:
    mbot.send_text("rep_e1", NEW)
    mbot.send_location("rep_e1", 31.37, 121.26, "旧位置")
    mbot.clock.advance(minutes=31)
    mbot.send_text("rep_e1", "拜访 华东精密 电话沟通")
    values = {h["keyname"]: h["value"] for h in mbot.cards("rep_e1")[-1]["horizontal_content_list"]}
    assert values["位置"] == "未附位置" and values["照片"] == "无"
    [v] = visits(mbot)
    assert v.latitude is None


def test_location_event_is_silent_and_used(mbot: Bot) -> None:
    mbot.send_text("rep_e1", NEW)
    before = len(mbot.texts("rep_e1"))
    mbot.send_location_event("rep_e1", 31.30, 121.20)
    mbot.clock.advance(seconds=5)
    mbot.send_location_event("rep_e1", 31.31, 121.21)
    assert len(mbot.texts("rep_e1")) == before
    mbot.send_text("rep_e1", "拜访 华东精密 现场查看")
    [v] = visits(mbot)
    assert (v.latitude, v.longitude, v.location_label) == (31.31, 121.21, "自动定位")


def test_photo_download_failure_still_records_visit(mbot: Bot) -> None:
    """The visit is recorded at once with its photo pending; the download after commit fails for good (an
    unknown media id), so the photo is marked failed and the rep is told once."""
    mbot.send_text("rep_e1", NEW)
    mbot.send_image("rep_e1", "GONE")  # the fake WeCom has no such media
    mbot.send_text("rep_e1", "拜访 华东精密 送了样品")
    values = {h["keyname"]: h["value"] for h in mbot.cards("rep_e1")[-1]["horizontal_content_list"]}
    assert values["照片"] == "1张"
    assert "照片未能保存" in mbot.last_text("rep_e1")
    [v] = visits(mbot)
    assert v.photo_count == 1
    with mbot.session() as s:
        photo = s.scalars(select(VisitPhoto)).one()
        assert (
            photo.status == PhotoStatus.FAILED and photo.path is None and photo.error and photo.attempts == 1
        )
    mbot.deliver()
    assert len([t for t in mbot.texts("rep_e1") if "照片未能保存" in t]) == 1


def test_photo_download_is_retried_after_a_timeout(mbot: Bot) -> None:
    """A transient failure (the media API times out) is retried later, not lost; the rep hears nothing."""
    mbot.send_text("rep_e1", NEW)
    mbot.wecom.add_media("SLOW", b"\xff\xd8late", "image/jpeg")
    mbot.send_image("rep_e1", "SLOW")
    mbot.wecom.fail_next(-1, path="media/get")
    mbot.send_text("rep_e1", "拜访 华东精密 送了样品")
    mbot.deliver()
    with mbot.session() as s:
        photo = s.scalars(select(VisitPhoto)).one()
        assert (photo.status, photo.attempts) == ("pending", 1)
    mbot.deliver()  # not due yet: nothing is tried
    assert len(mbot.wecom.calls_to("media/get")) == 1
    mbot.clock.advance(seconds=31)
    mbot.deliver()
    with mbot.session() as s:
        photo = s.scalars(select(VisitPhoto)).one()
        assert photo.status == PhotoStatus.SAVED and Path(photo.path or "").read_bytes() == b"\xff\xd8late"
    assert not [t for t in mbot.texts("rep_e1") if "未能保存" in t]


def _flagged_visit(mbot: Bot) -> dict[str, Any]:
    mbot.send_text("rep_e1", NEW)
    with mbot.session() as s, s.begin():
        c = s.scalars(select(Customer)).one()
        c.latitude, c.longitude = 31.3740, 121.2650
    mbot.send_location("rep_e1", 31.2304, 121.4737, "人民广场")  # ~25 km away
    mbot.send_text("rep_e1", "拜访 华东精密 约在市区见面")
    [v] = visits(mbot)
    assert v.location_anomaly and v.distance_m and v.distance_m > 2000
    return mbot.cards("rep_e1")[-1]


def test_a_flag_is_shown_to_the_rep_too_and_explained_in_one_tap(mbot: Bot) -> None:
    """Issue 14: the rep sees exactly the flag the supervisor sees, explains it in one tap, and the
    supervisor sees the explanation beside the flag."""
    card = _flagged_visit(mbot)
    flag = "距客户约 25 公里"
    assert {"keyname": "提示", "value": flag} in card["horizontal_content_list"]
    assert "异常" not in str(card)
    mbot.send_text("rep_e1", "客户 华东精密")
    rep_view = mbot.last_text("rep_e1")
    mbot.send_text("sup_east", "客户 华东精密")
    assert flag in rep_view and flag in mbot.last_text("sup_east")  # the same words for both
    site = next(b["key"] for b in card["button_list"] if b["text"] == "在客户新厂区")
    mbot.tap("rep_e2", card["task_id"], site)  # not the rep's card: refused, nothing recorded
    assert "不是发给您的" in mbot.last_text("rep_e2") and visits(mbot)[0].flag_note is None
    mbot.tap("rep_e1", card["task_id"], site)
    assert "已记录说明：在客户新厂区" in mbot.last_text("rep_e1")
    mbot.send_text("sup_east", "客户 华东精密")
    assert f"{flag}，说明：在客户新厂区" in mbot.last_text("sup_east")
    other = next(b["key"] for b in card["button_list"] if b["text"] == "其他地点，补充说明")
    mbot.tap("rep_e1", card["task_id"], other)
    mbot.send_text("rep_e1", "客户临时约在市区的咖啡馆")
    mbot.send_text("sup_east", "客户 华东精密")
    assert "说明：其他地点：客户临时约在市区的咖啡馆" in mbot.last_text("sup_east")


def test_the_same_visit_twice_within_ten_minutes_is_asked_about(mbot: Bot) -> None:
    mbot.send_text("rep_e1", NEW)
    mbot.send_text("rep_e1", "拜访 华东精密 谈了新产线的报价")
    mbot.clock.advance(minutes=1)
    mbot.send_text("rep_e1", "拜访 华东精密 谈了新产线的报价")
    question = mbot.cards("rep_e1")[-1]
    assert question["main_title"]["title"] == "刚才已记录过相同的拜访，再记一次？"
    assert [b["text"] for b in question["button_list"]] == ["再记一次"] and len(visits(mbot)) == 1
    mbot.send_text("rep_e1", "拜访 华东精密 另外确认了交期")  # different text: recorded at once
    assert len(visits(mbot)) == 2
    mbot.send_text("rep_e1", "拜访 华东精密 谈了新产线的报价")
    question = mbot.cards("rep_e1")[-1]
    mbot.tap("rep_e1", question["task_id"], question["button_list"][0]["key"])
    assert len(visits(mbot)) == 3
    mbot.clock.advance(minutes=11)
    mbot.send_text("rep_e1", "拜访 华东精密 谈了新产线的报价")  # later than 10 minutes: a new visit
    assert len(visits(mbot)) == 4


def test_nearby_visit_is_not_flagged(mbot: Bot) -> None:
    mbot.send_text("rep_e1", NEW)
    with mbot.session() as s, s.begin():
        c = s.scalars(select(Customer)).one()
        c.latitude, c.longitude = 31.3740, 121.2650
    mbot.send_location("rep_e1", 31.3800, 121.2700, "门口")
    mbot.send_text("rep_e1", "拜访 华东精密 现场")
    [v] = visits(mbot)
    assert not v.location_anomaly and v.distance_m is not None and v.distance_m < 2000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("拜访", "用法：拜访 客户 纪要"),
        ("拜访 华东精密", "请写上拜访纪要"),
        ("拜访 不存在的客户 纪要", "没有找到客户「不存在的客户」"),
    ],
)
def test_bad_visit_input_changes_nothing(mbot: Bot, text: str, expected: str) -> None:
    mbot.send_text("rep_e1", NEW)
    mbot.send_location("rep_e1", 31.37, 121.26, "嘉定")
    mbot.send_text("rep_e1", text)
    assert expected in mbot.last_text("rep_e1")
    assert visits(mbot) == []
    with mbot.session() as s:  # the location is still kept for the next 拜访
        assert (
            s.scalar(select(func.count()).select_from(PendingMedia).where(PendingMedia.visit_id.is_(None)))
            == 1
        )


def test_other_regions_rep_cannot_visit(mbot: Bot) -> None:
    mbot.send_text("rep_e1", NEW)
    mbot.send_text("rep_s1", "拜访 华东精密 路过")
    assert "没有找到客户「华东精密」" in mbot.last_text("rep_s1")
    assert visits(mbot) == []


def test_haversine() -> None:
    assert abs(haversine_m(31.2304, 121.4737, 39.9042, 116.4074) - 1_067_000) < 5_000
    assert haversine_m(31.0, 121.0, 31.0, 121.0) == 0


def test_followup_button_on_the_visit_card(mbot: Bot) -> None:
    mbot.send_text("rep_e1", NEW)
    mbot.send_text("rep_e1", "拜访 华东精密 送样")
    card = mbot.cards("rep_e1")[-1]
    mbot.tap("rep_e1", card["task_id"], card["button_list"][0]["key"])
    with mbot.session() as s:
        reminder = s.scalars(select(Reminder)).one()
        assert reminder.owner_userid == "rep_e1" and reminder.customer_id is not None
    mbot.tap("rep_e2", card["task_id"], card["button_list"][1]["key"])  # not theirs
    with mbot.session() as s:
        assert s.scalar(select(func.count()).select_from(Reminder)) == 1


def test_issue16_case9_a_hanging_media_api_does_not_delay_another_users_help(mbot: Bot) -> None:
    """Issue 16 audit case 9 (and issue 15 item 5): a media API hanging 10 s holds only the photo thread.

    The visit commits with its photo pending; while the download hangs, another rep's 帮助 is accepted,
    handled and delivered at once (before, the download ran inside the visit's transaction on the one worker
    thread, and other users' callbacks waited or got 503)."""
    mbot.send_text("rep_e1", NEW)
    mbot.wecom.add_media("HANG", b"\xff\xd8slow", "image/jpeg")
    mbot.send_image("rep_e1", "HANG")
    mbot.wecom.hang(10, "media/get")
    mbot.state.photos.start()
    try:
        before_visit = time.monotonic()
        mbot.send_text("rep_e1", "拜访 华东精密 送了样品")
        assert time.monotonic() - before_visit < 2.0  # the visit itself does not wait for its photo
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the photo thread has claimed the photo and is in the download
            with mbot.session() as s:
                if s.scalar(select(VisitPhoto.attempts)) == 1:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the photo thread never started the download")
        started = time.monotonic()
        response = mbot.send_text("rep_e2", "帮助")
        mbot.state.deliverer.drain(now=mbot.clock())
        elapsed = time.monotonic() - started
        assert response.status_code == 200
        assert any("常用：" in m["text"]["content"] for m in mbot.wecom.messages_for("rep_e2") if "text" in m)
        assert elapsed < 2.0, f"帮助 took {elapsed:.1f} s while a photo download hung"
        with mbot.session() as s:
            assert (
                s.scalar(select(VisitPhoto.status)) == "pending"
            )  # the download was still hanging meanwhile
        [v] = visits(mbot)
        assert v.photo_count == 1
    finally:
        mbot.wecom.hang(0, "media/get")
        mbot.state.photos.stop(timeout=20)
