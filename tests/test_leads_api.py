"""POST /api/leads: the per-source token, the rate limit, validation, idempotency on the client key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from models import Lead
from tests.harness import Bot, FrozenClock, make_bot, seed_org

TOKEN = "web-form-token-0123456789abcdef"


@pytest.fixture
def api(db: tuple[str, Engine], clock: FrozenClock, tmp_path: Path) -> Iterator[Bot]:
    url, engine = db
    bot = make_bot(
        url, engine, clock=clock, salesbot_lead_tokens={"官网": TOKEN, "展会": "fair-token-abcdefghijkl"}
    )
    with bot.session() as s, s.begin():
        seed_org(s)
    yield bot
    bot.client.close()


def _post(bot: Bot, body: dict[str, Any], token: str | None = TOKEN) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return bot.client.post("/api/leads", json=body, headers=headers)


FORM = {
    "client_key": "form-1",
    "company": "宁波华东精密",
    "contact": "王总",
    "phone": "13812345678",
    "note": "想要报价",
}


def _count(bot: Bot) -> int:
    with bot.session() as s:
        return s.scalar(select(func.count()).select_from(Lead)) or 0


def test_token_selects_the_source_and_bad_tokens_are_refused(api: Bot) -> None:
    assert _post(api, FORM, token=None).status_code == 401
    assert _post(api, FORM, token="wrong").status_code == 401
    assert _count(api) == 0
    response = _post(api, {**FORM, "source": "转介绍"})
    assert response.status_code == 201 and response.json()["status"] == "created"
    with api.session() as s:
        lead = s.get(Lead, response.json()["id"])
        assert lead.source == "官网" and lead.created_by == "api:官网" and lead.region == "华东"
    # The assignee's card goes out.
    cards = api.cards(lead.assignee_userid)
    assert cards and cards[-1]["horizontal_content_list"][0]["value"] == "宁波华东精密"


def test_idempotent_on_the_client_key(api: Bot) -> None:
    first = _post(api, FORM)
    again = _post(api, FORM)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and _count(api) == 1
    # The same key from another source is another request.
    other = api.client.post(
        "/api/leads",
        json={**FORM, "company": "杭州新客户", "phone": "13912345678"},
        headers={"Authorization": "Bearer fair-token-abcdefghijkl"},
    )
    assert other.status_code == 201 and _count(api) == 2


def test_validation(api: Bot) -> None:
    assert _post(api, {**FORM, "client_key": ""}).status_code == 422
    bad_phone = _post(api, {**FORM, "phone": "12345"})
    assert bad_phone.status_code == 422 and "电话" in bad_phone.json()["message"]
    assert _post(api, {**FORM, "company": "x"}).status_code == 422
    assert _post(api, {**FORM, "company": ["list"]}).status_code == 422
    not_json = api.client.post("/api/leads", content=b"{oops", headers={"Authorization": f"Bearer {TOKEN}"})
    assert not_json.status_code == 422
    assert _count(api) == 0


def test_duplicate_answer_says_nothing_about_who(api: Bot) -> None:
    assert _post(api, FORM).status_code == 201
    again = _post(
        api, {**FORM, "client_key": "form-2", "company": "浙江华东精密有限公司", "phone": "13700000000"}
    )
    assert again.status_code == 200 and again.json() == {
        "status": "exists",
        "message": "已有同事在跟进，如需协同请联系主管。",
    }


def test_rate_limit_per_source(api: Bot) -> None:
    limit = api.state.config.leads.api_per_minute
    codes = [
        _post(
            api, {**FORM, "client_key": f"k{i}", "company": f"杭州客户{i:03d}号", "phone": f"139{i:08d}"}
        ).status_code
        for i in range(limit + 2)
    ]
    assert codes[:limit] == [201] * limit and codes[limit:] == [429, 429]
    api.clock.advance(minutes=1)
    assert (
        _post(
            api, {**FORM, "client_key": "later", "company": "杭州后来客户", "phone": "13600000001"}
        ).status_code
        == 201
    )


def test_no_tokens_configured_is_not_found(bot: Bot) -> None:
    assert (
        bot.client.post("/api/leads", json=FORM, headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 404
    )
