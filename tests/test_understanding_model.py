"""The optional model, against a fake OpenAI-compatible endpoint on 127.0.0.1 (never the network)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from chat.settings import Settings
from services.config import default_config
from services.parsing import SHANGHAI
from services.understanding import Intent, ModelClient, understand, understand_rules
from tests.understanding_company_b import JIUZHOU, LANTIAN, WORLD_B
from tests.understanding_world import seed_world


class FakeModel:
    """Answers every chat completion with `reply` (a dict, or raw text), after `delay` seconds."""

    def __init__(self) -> None:
        self.reply: Any = {"intent": "unknown"}
        self.delay = 0.0
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
                )
                time.sleep(fake.delay)
                content = (
                    fake.reply if isinstance(fake.reply, str) else json.dumps(fake.reply, ensure_ascii=False)
                )
                payload = json.dumps(
                    {"choices": [{"message": {"role": "assistant", "content": content}}]}
                ).encode()
                try:
                    self.send_response(fake.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_model() -> Iterator[FakeModel]:
    fake = FakeModel()
    yield fake
    fake.close()


@pytest.fixture
def company(db: tuple[str, Engine]) -> Iterator[Any]:
    _, engine = db
    with Session(engine) as session:
        world = seed_world(session, WORLD_B, config=default_config())
        session.commit()
        yield session, world


VAGUE = "那个事情帮我弄一下"  # the rules cannot tell what this wants


def _ask(company: Any, model: ModelClient | None, text: str = VAGUE, who: str = "liwei") -> Any:
    session, world = company
    return understand(
        session,
        user=world.users[who],
        text=text,
        now=world.today,
        config=default_config(),
        model=model,
        tz=SHANGHAI,
    )


def test_the_model_is_asked_only_when_the_rules_cannot_decide(company: Any, fake_model: FakeModel) -> None:
    model = ModelClient(base_url=fake_model.url, model="qwen-test", api_key="sk-test", timeout=2)
    found = _ask(company, model, "后天记得去蓝天拿合同")
    assert found.intent is Intent.FOLLOWUP and found.source == "rules"
    assert fake_model.requests == []


def test_the_model_answer_is_validated_and_resolved_in_scope(company: Any, fake_model: FakeModel) -> None:
    session, world = company
    fake_model.reply = {
        "intent": "followup",
        "customer": "九洲光电",
        "contact": "杨总",
        "when": "明天下午3点",
        "amount": "12万",
        "text": "送样品",
        "confidence": 0.95,
    }
    found = _ask(
        company, ModelClient(base_url=fake_model.url, model="qwen-test", api_key="sk-test", timeout=2)
    )
    assert found.intent is Intent.FOLLOWUP and found.source == "model"
    assert found.customer_ids == (world.customers[JIUZHOU],) and found.contact == "杨总"
    assert found.when is not None and (found.when.day, found.when.hour) == (11, 15)
    assert str(found.amount) == "120000.00" and found.text == "送样品"
    assert found.confidence <= 0.8  # a model's reading is never as certain as a rule's

    request = fake_model.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    sent = json.loads(request["body"]["messages"][1]["content"])
    assert sent["message"] == VAGUE
    assert LANTIAN in sent["names"]["customers"]
    # Only what the sender may see: another rep's customer and its contact are never sent.
    everything = json.dumps(request["body"], ensure_ascii=False)
    assert "黔丰" not in everything and "龙主任" not in everything and "渤海" not in everything


def test_a_name_outside_the_scope_from_the_model_is_dropped(company: Any, fake_model: FakeModel) -> None:
    fake_model.reply = {"intent": "query.contact", "customer": "贵阳黔丰食品有限公司", "contact": "龙主任"}
    found = _ask(company, ModelClient(base_url=fake_model.url, model="m", timeout=2))
    assert found.intent is Intent.QUERY_CONTACT
    assert found.customer_ids == () and found.contact is None


@pytest.mark.parametrize(
    "reply",
    [
        "我觉得是拜访",  # not JSON
        {"intent": "delete_everything"},  # not an intent
        {"intent": "unknown"},
        ["followup"],
    ],
)
def test_a_useless_model_answer_leaves_the_rules_answer(
    company: Any, fake_model: FakeModel, reply: Any
) -> None:
    fake_model.reply = reply
    found = _ask(company, ModelClient(base_url=fake_model.url, model="m", timeout=2))
    assert found.intent is Intent.UNKNOWN and found.source == "rules"
    assert len(fake_model.requests) == 1


def test_bad_values_from_the_model_become_empty(company: Any, fake_model: FakeModel) -> None:
    fake_model.reply = {
        "intent": "quote",
        "amount": "-5",
        "when": "2999-01-01T00:00:00",
        "stage": "不存在的阶段",
        "quote_id": "1; drop",
        "person": "不存在",
        "region": "火星",
        "text": "x" * 2000,
    }
    found = _ask(company, ModelClient(base_url=fake_model.url, model="m", timeout=2))
    assert found.intent is Intent.QUOTE
    assert (found.amount, found.when, found.stage, found.quote_id, found.person_userid, found.region) == (
        None,
    ) * 6
    assert len(found.text) <= 500


def test_a_slow_or_failing_model_does_not_hold_the_message(company: Any, fake_model: FakeModel) -> None:
    fake_model.reply = {"intent": "visit", "customer": LANTIAN}
    fake_model.delay = 3.0
    started = time.monotonic()
    found = _ask(company, ModelClient(base_url=fake_model.url, model="m", timeout=0.3))
    assert time.monotonic() - started < 2.0
    assert found.intent is Intent.UNKNOWN and found.source == "rules"
    fake_model.delay, fake_model.status = 0.0, 500
    assert _ask(company, ModelClient(base_url=fake_model.url, model="m", timeout=2)).source == "rules"
    closed = ModelClient(base_url="http://127.0.0.1:9/v1", model="m", timeout=0.5)  # nothing listens there
    assert _ask(company, closed).intent is Intent.UNKNOWN


def test_rules_then_model_outside_the_transaction(company: Any, fake_model: FakeModel) -> None:
    """The split a caller uses to keep the HTTP call out of its transaction: rules in, refine after."""
    session, world = company
    fake_model.reply = {"intent": "visit", "customer": "蓝天"}
    user = world.users["liwei"]
    found, lexicon = understand_rules(
        session, user=user, text=VAGUE, now=world.today, config=default_config(), tz=SHANGHAI
    )
    session.close()
    model = ModelClient(base_url=fake_model.url, model="m", timeout=2)
    refined = model.refine(
        found, text=VAGUE, lexicon=lexicon, user=user, now=world.today, config=default_config(), tz=SHANGHAI
    )
    assert refined.intent is Intent.VISIT and refined.customer_ids == (world.customers[LANTIAN],)


def test_the_model_is_configured_by_environment_or_not_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ModelClient.from_settings(Settings(_env_file=None)) is None  # type: ignore[call-arg]
    monkeypatch.setenv("SALESBOT_LLM_BASE_URL", "http://127.0.0.1:8001/v1/")
    monkeypatch.setenv("SALESBOT_LLM_MODEL", "deepseek-chat")
    monkeypatch.setenv("SALESBOT_LLM_TIMEOUT", "1.5")
    client = ModelClient.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert client == ModelClient(
        base_url="http://127.0.0.1:8001/v1", model="deepseek-chat", api_key=None, timeout=1.5
    )
