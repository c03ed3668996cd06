"""`salesbot demo`: the stand-in WeCom API as the demo uses it, the seeded company, and the /sim API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.wecom import WeComClient
from demo.fake_wecom import FakeWeCom
from demo.seed import seed_demo
from models import (
    ApprovalStep,
    CardTask,
    Contract,
    Customer,
    Opportunity,
    Payment,
    Quote,
    Reminder,
    ReminderStatus,
    StepStatus,
    User,
    Visit,
)
from models.db import make_session_factory
from services.config import BusinessConfig
from tests.harness import Bot

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Friday


# --- the stand-in WeCom API ---------------------------------------------------------------------------------


def _client(fake: FakeWeCom, settings: Any) -> WeComClient:
    from bot.kv import MemoryKV

    return WeComClient(settings, MemoryKV(), transport=fake.transport())


@pytest.fixture
def demo_api(tmp_path: Path) -> tuple[FakeWeCom, WeComClient]:
    from demo.simulator import DEMO_AGENT_ID, DEMO_CORP_ID, DEMO_SECRET, demo_settings

    fake = FakeWeCom(
        corp_id=DEMO_CORP_ID, agent_id=DEMO_AGENT_ID, secret=DEMO_SECRET, per_member_per_minute=None
    )
    return fake, _client(fake, demo_settings(tmp_path))


def _card(task_id: str) -> dict[str, Any]:
    return {
        "card_type": "button_interaction",
        "main_title": {"title": "报价审批"},
        "task_id": task_id,
        "button_list": [{"text": "同意", "style": 1, "key": "v1:quote.approve:1"}],
    }


def test_sent_messages_land_in_the_recipients_inbox(demo_api: tuple[FakeWeCom, WeComClient]) -> None:
    fake, client = demo_api
    client.send("rep_e01", {"msgtype": "text", "text": {"content": "你好"}})
    client.send("Rep_E01|sup_east", {"msgtype": "markdown", "markdown": {"content": "**日报**"}})
    client.send("sup_east", {"msgtype": "template_card", "template_card": _card("q1s1")})

    rep = fake.messages_for("rep_e01")
    assert [m["msgtype"] for m in rep] == ["text", "markdown"]
    assert rep[0]["text"]["content"] == "你好"
    sup = fake.messages_for("SUP_EAST")
    assert [m["msgtype"] for m in sup] == ["markdown", "template_card"]
    assert sup[1]["task_id"] == "q1s1"


def test_card_update_replaces_the_card_in_place_and_codes_are_single_use(
    demo_api: tuple[FakeWeCom, WeComClient],
) -> None:
    from bot.wecom import WeComError

    fake, client = demo_api
    client.send("sup_east", {"msgtype": "template_card", "template_card": _card("q7s1")})
    code = fake.new_click_code("sup_east", "q7s1")
    grey = dict(_card("q7s1"), replace_text="已同意")
    client.update_template_card(["sup_east"], code, grey)

    inbox = fake.messages_for("sup_east")
    assert len(inbox) == 1  # updated in place, not appended
    assert inbox[0]["updated"] is True
    assert inbox[0]["template_card"]["replace_text"] == "已同意"

    with pytest.raises(WeComError) as err:
        client.update_template_card(["sup_east"], code, grey)
    assert err.value.errcode == 60140


def test_uploaded_media_can_be_served_back(demo_api: tuple[FakeWeCom, WeComClient]) -> None:
    fake, client = demo_api
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    media_id = client.upload_media(png, "chart.png")
    client.send("wang_zong", {"msgtype": "image", "image": {"media_id": media_id}})
    assert fake.media(media_id) == png
    assert fake.messages_for("wang_zong")[0]["image"]["media_id"] == media_id


# --- the seeded company ----------------------------------------------------------------------------------------


def _seed(engine: Engine) -> Any:
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        summary = seed_demo(session, config=BusinessConfig(), now=NOW, seed=7)
    return factory, summary


def _fingerprint(factory: Any) -> tuple[Any, ...]:
    with factory() as s:
        return (
            s.execute(select(User.userid, User.name, User.role, User.region).order_by(User.userid)).all(),
            s.execute(
                select(Customer.name, Customer.owner_userid, Customer.segment).order_by(Customer.id)
            ).all(),
            s.execute(
                select(Opportunity.name, Opportunity.stage, Opportunity.amount).order_by(Opportunity.id)
            ).all(),
            s.execute(select(Quote.amount, Quote.status).order_by(Quote.id)).all(),
            s.scalar(select(func.count()).select_from(Visit)),
            s.scalar(select(func.sum(Payment.amount))),
        )


def test_seed_is_deterministic_and_complete(db: tuple[str, Engine], tmp_path: Path) -> None:
    from models.db import make_engine, upgrade_schema

    _, engine = db
    factory, summary = _seed(engine)
    other_engine = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    upgrade_schema(other_engine)
    other_factory, other = _seed(other_engine)
    assert _fingerprint(factory) == _fingerprint(other_factory)
    assert summary.line() == other.line()
    other_engine.dispose()

    config = BusinessConfig()
    with factory() as s:
        roles = dict(s.execute(select(User.role, func.count()).group_by(User.role)).all())
        assert 30 <= roles["rep"] <= 40
        assert roles["supervisor"] == 3 and roles["director"] == 1
        assert roles["tech_lead"] == 1 and roles["finance"] == 1 and roles["admin"] == 1
        assert set(s.scalars(select(User.region).where(User.role == "supervisor"))) == {
            "华东",
            "华南",
            "华北",
        }
        assert s.scalar(select(func.count()).select_from(Customer)) >= 140
        stages = set(s.scalars(select(Opportunity.stage)))
        assert set(config.stages) | {config.lost_stage} <= stages
        oldest = s.scalar(select(func.min(Visit.visited_at)))
        assert (NOW - oldest).days >= 150  # six months of visits
        assert s.scalar(select(func.count()).select_from(Contract)) > 0
        assert s.scalar(select(func.count()).select_from(Payment)) > 0
        assert (
            s.scalar(select(func.count()).select_from(Reminder).where(Reminder.status == ReminderStatus.OPEN))
            > 0
        )
        # Every opportunity past 方案制定 has a visit on its customer (the gate holds for seeded data too).
        for opp in s.scalars(select(Opportunity).where(Opportunity.stage.in_(config.stages[2:]))):
            assert s.scalar(
                select(func.count()).select_from(Visit).where(Visit.customer_id == opp.customer_id)
            )
        # Pending approvals: a pending step with a card task for its approver, and the card in the outbox.
        pending = s.scalars(select(ApprovalStep).where(ApprovalStep.status == StepStatus.PENDING)).all()
        assert pending
        for step in pending:
            task = s.get(CardTask, step.task_id)
            assert task is not None and task.recipient == step.approver_userid
        assert any(step.approver_userid == summary.demo_supervisor for step in pending)
        assert summary.demo_rep and summary.demo_customer and summary.demo_opportunity


def test_seed_is_fast(db: tuple[str, Engine]) -> None:
    import time

    _, engine = db
    started = time.monotonic()
    _seed(engine)
    assert time.monotonic() - started < 5


# --- /sim: only in demo mode, and wired to the real edge ----------------------------------------------------------


def test_sim_is_not_mounted_outside_demo_mode(bot: Bot) -> None:
    assert bot.client.get("/sim").status_code == 404
    assert bot.client.get("/sim/api/users").status_code == 404
    assert bot.client.post("/sim/api/send", json={"userid": "rep_e1", "text": "帮助"}).status_code == 404


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    from demo.run import build_demo

    app, state = build_demo(tmp_path / "demo", now=NOW, run_worker=False)
    with TestClient(app) as client:
        yield client, state
    state.engine.dispose()


def test_demo_page_and_assets_are_served(demo: tuple[TestClient, Any]) -> None:
    client, _ = demo
    page = client.get("/sim")
    assert page.status_code == 200 and "sim.js" in page.text
    for asset in ("sim.js", "sim.css"):
        assert client.get(f"/sim/static/{asset}").status_code == 200
    for asset in ("sim.html", "sim.js", "sim.css"):  # no CDN: the page works with no internet
        assert (
            "//cdn" not in client.get(f"/sim/static/{asset}").text
            and "https://" not in client.get(f"/sim/static/{asset}").text
        )
    users = client.get("/sim/api/users").json()["users"]
    assert {"销售", "销售主管", "总经理"} <= {u["role_label"] for u in users}


def test_sending_goes_through_the_real_callback_and_reply_arrives(demo: tuple[TestClient, Any]) -> None:
    from models import InboundEvent

    client, state = demo
    response = client.post("/sim/api/send", json={"userid": "rep_e01", "text": "帮助"})
    assert response.status_code == 200
    messages = response.json()["messages"]
    # The demo rep's chat starts with the seeded lead and countdown cards; then what they typed, then the answer.
    sent = next(i for i, m in enumerate(messages) if m["from"] == "me")
    assert messages[sent] == {**messages[sent], "from": "me", "text": "帮助"}
    assert any(m["from"] == "bot" and m["kind"] in ("text", "markdown") for m in messages[sent + 1 :])
    with state.session_factory() as s:  # the real edge recorded the decrypted callback
        assert (
            s.scalar(select(func.count()).select_from(InboundEvent).where(InboundEvent.userid == "rep_e01"))
            == 1
        )


def test_tapping_the_seeded_approval_card_greys_it(demo: tuple[TestClient, Any]) -> None:
    client, state = demo
    summary = __import__("json").loads(
        (Path(state.settings.salesbot_media_dir).parent / "demo.json").read_text()
    )
    supervisor = summary["demo_supervisor"]
    cards = [
        m
        for m in client.get(f"/sim/api/conversation?userid={supervisor}").json()["messages"]
        if m["kind"] == "template_card"
    ]
    assert cards, "the seeded pending approval card reached the supervisor"
    card = cards[0]
    approve = next(
        b for b in card["card"]["button_list"] if b["text"].startswith("同意")
    )  # 同意 #N on a list
    response = client.post(
        "/sim/api/tap",
        json={"userid": supervisor, "task_id": card["task_id"], "key": approve["key"], "label": "同意"},
    )
    assert response.status_code == 200
    after = next(m for m in response.json()["messages"] if m.get("task_id") == card["task_id"])
    assert after["updated"] and (after["card"].get("replace_text") or after["replace_name"])


def test_jobs_run_as_of_the_chosen_time_and_unknown_jobs_are_explained(demo: tuple[TestClient, Any]) -> None:
    client, _ = demo
    done = client.post("/sim/api/jobs", json={"name": "reminders", "at": "2026-11-27T10:05"}).json()
    assert done["ok"] and "2026-11-27 10:05" in done["summary"]
    unknown = client.post("/sim/api/jobs", json={"name": "nope", "at": ""}).json()
    assert not unknown["ok"] and "还没有实现" in unknown["summary"]


def test_conversation_survives_a_restart(tmp_path: Path) -> None:
    from demo.run import build_demo

    app, state = build_demo(tmp_path / "demo", now=NOW, run_worker=False)
    with TestClient(app) as client:
        client.post("/sim/api/send", json={"userid": "rep_e01", "text": "帮助"})
        before = client.get("/sim/api/conversation?userid=rep_e01").json()["messages"]
    state.engine.dispose()
    app, state = build_demo(tmp_path / "demo", now=NOW, run_worker=False)
    with TestClient(app) as client:
        after = client.get("/sim/api/conversation?userid=rep_e01").json()["messages"]
    state.engine.dispose()
    assert [m["id"] for m in after] == [m["id"] for m in before]


def test_demo_company_has_leads_a_pool_and_the_cards(demo: tuple[TestClient, Any]) -> None:
    from sqlalchemy import func, select

    from models import POOL_OWNER, Customer, Lead

    client, state = demo
    with state.session_factory() as s:
        assert (s.scalar(select(func.count()).select_from(Lead)) or 0) >= 6
        assert {st for (st,) in s.execute(select(Lead.status).distinct())} == {
            "assigned",
            "accepted",
            "invalid",
        }
        pooled = dict(
            s.execute(
                select(Customer.region, func.count())
                .where(Customer.owner_userid == POOL_OWNER)
                .group_by(Customer.region)
            ).all()
        )
        assert set(pooled) == {"华东", "华南", "华北"}
    messages = client.get("/sim/api/conversation", params={"userid": "rep_e01"}).json()["messages"]
    titles = [m["card"]["main_title"]["title"] for m in messages if m.get("kind") == "template_card"]
    assert "新线索" in titles and "客户即将回收到公海" in titles
    # The rep may act on them: 接单 on the lead card makes the customer.
    lead_card = next(
        m["card"]
        for m in messages
        if m.get("kind") == "template_card" and m["card"]["main_title"]["title"] == "新线索"
    )
    key = lead_card["button_list"][0]["key"]
    tapped = client.post(
        "/sim/api/tap", json={"userid": "rep_e01", "task_id": lead_card["task_id"], "key": key}
    )
    assert any("已接单" in (m.get("text") or "") for m in tapped.json()["messages"])
