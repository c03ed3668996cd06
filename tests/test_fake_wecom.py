"""The FakeWeCom stand-in itself: raw HTTP against its MockTransport and its ASGI app."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from demo.fake_wecom import FakeWeCom
from tests.fixtures_wecom import FakeClock, clock_of


@pytest.fixture
def fake() -> FakeWeCom:
    return FakeWeCom(clock=FakeClock())


@pytest.fixture
def http(fake: FakeWeCom) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake.transport(), base_url="http://wecom.fake.invalid/cgi-bin/") as client:
        yield client


def token(http: httpx.Client, fake: FakeWeCom) -> str:
    data = http.get("gettoken", params={"corpid": fake.corp_id, "corpsecret": fake.secret}).json()
    assert data["errcode"] == 0
    return str(data["access_token"])


def send(http: httpx.Client, access_token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("message/send", params={"access_token": access_token}, json=body)
    return dict(response.json())


def text_body(fake: FakeWeCom, touser: str, content: str, **extra: Any) -> dict[str, Any]:
    return {
        "touser": touser,
        "msgtype": "text",
        "agentid": fake.agent_id,
        "text": {"content": content},
        **extra,
    }


def card_body(fake: FakeWeCom, touser: str, task_id: str, agent_id: int | None = None) -> dict[str, Any]:
    return {
        "touser": touser,
        "msgtype": "template_card",
        "agentid": agent_id if agent_id is not None else fake.agent_id,
        "template_card": {
            "card_type": "button_interaction",
            "main_title": {"title": "审批"},
            "task_id": task_id,
            "button_list": [{"text": "同意", "key": "approve"}],
        },
    }


# --- gettoken and tokens ---------------------------------------------------------------------------------


def test_gettoken_checks_corpid_and_secret(http: httpx.Client, fake: FakeWeCom) -> None:
    def errcode(params: dict[str, str]) -> int:
        return int(http.get("gettoken", params=params).json()["errcode"])

    assert errcode({"corpid": fake.corp_id, "corpsecret": "wrong"}) == 40001
    assert errcode({"corpid": "wrong", "corpsecret": fake.secret}) == 40013
    assert errcode({"corpid": fake.corp_id}) == 41004
    data = http.get("gettoken", params={"corpid": fake.corp_id, "corpsecret": fake.secret}).json()
    assert data["expires_in"] == 7200 and data["access_token"] in fake.issued_tokens
    assert fake.gettoken(fake.corp_id, "nope")["errcode"] == 40001  # the same check, callable directly
    assert all("corpsecret" not in call.params for call in fake.calls_to("gettoken"))


def test_tokens_expire_by_clock_and_by_revocation(http: httpx.Client, fake: FakeWeCom) -> None:
    fake.expires_in = 100
    first = token(http, fake)
    second = token(http, fake)
    assert first != second  # every gettoken issues a new token; older ones stay valid until expiry
    assert send(http, first, text_body(fake, "u1", "a"))["errcode"] == 0
    fake.expire_token(first)
    assert send(http, first, text_body(fake, "u1", "b"))["errcode"] == 42001
    fake.expire_token(second, errcode=40014)
    assert send(http, second, text_body(fake, "u1", "c"))["errcode"] == 40014
    third = token(http, fake)
    clock_of(fake).advance(100)
    assert send(http, third, text_body(fake, "u1", "d"))["errcode"] == 42001
    assert send(http, "made-up", text_body(fake, "u1", "e"))["errcode"] == 40014
    assert http.post("message/send", json=text_body(fake, "u1", "f")).json()["errcode"] == 41001
    assert [m["text"]["content"] for m in fake.messages_for("u1")] == ["a"]


def test_calls_are_recorded_without_token(http: httpx.Client, fake: FakeWeCom) -> None:
    access_token = token(http, fake)
    send(http, access_token, text_body(fake, "u1", "hi"))
    (call,) = fake.calls_to("/cgi-bin/message/send")
    assert call.method == "POST" and call.params == {} and call.json["text"] == {"content": "hi"}
    assert call.at == clock_of(fake)()
    assert [c.path for c in fake.calls] == ["gettoken", "message/send"]


# --- failure injection -----------------------------------------------------------------------------------


def test_fail_next_counts_and_paths(http: httpx.Client, fake: FakeWeCom) -> None:
    access_token = token(http, fake)
    fake.fail_next(-1, times=2)  # any API except gettoken
    assert send(http, access_token, text_body(fake, "u1", "1"))["errcode"] == -1
    assert token(http, fake)  # gettoken is not hit by a path-less failure
    assert send(http, access_token, text_body(fake, "u1", "2"))["errcode"] == -1
    assert send(http, access_token, text_body(fake, "u1", "3"))["errcode"] == 0
    fake.fail_next(45009, path="media/get")
    assert send(http, access_token, text_body(fake, "u1", "4"))["errcode"] == 0
    assert (
        http.get("media/get", params={"access_token": access_token, "media_id": "x"}).json()["errcode"]
        == 45009
    )
    fake.fail_next(40001, path="gettoken")
    assert (
        http.get("gettoken", params={"corpid": fake.corp_id, "corpsecret": fake.secret}).json()["errcode"]
        == 40001
    )
    fake.fail_next(-1, status=503)
    response = http.post(
        "message/send", params={"access_token": access_token}, json=text_body(fake, "u1", "5")
    )
    assert response.status_code == 503


def test_fail_always_until_cleared(http: httpx.Client, fake: FakeWeCom) -> None:
    access_token = token(http, fake)
    fake.fail_always(81013, path="message/send")
    for i in range(3):
        assert send(http, access_token, text_body(fake, "u1", str(i)))["errcode"] == 81013
    fake.clear_failures()
    assert send(http, access_token, text_body(fake, "u1", "ok"))["errcode"] == 0


def test_hang_sleeps_and_emulates_the_read_timeout(fake: FakeWeCom) -> None:
    fake.hang(0.05, path="gettoken")
    with httpx.Client(transport=fake.transport(), base_url="http://x/cgi-bin/", timeout=1.0) as client:
        assert (
            client.get("gettoken", params={"corpid": fake.corp_id, "corpsecret": fake.secret}).status_code
            == 200
        )
    fake.hang(5)
    with (
        httpx.Client(transport=fake.transport(), base_url="http://x/cgi-bin/", timeout=0.1) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("gettoken", params={"corpid": fake.corp_id, "corpsecret": fake.secret})
    fake.hang(0)
    fake.clear_failures()
    assert fake.hang_for("gettoken") == 0


# --- messages ---------------------------------------------------------------------------------------------


def test_inbox_per_user_case_insensitive_and_copies(http: httpx.Client, fake: FakeWeCom) -> None:
    access_token = token(http, fake)
    result = send(http, access_token, text_body(fake, "ZhangSan|lisi", "群发"))
    assert result["errcode"] == 0 and result["msgid"]
    assert len(fake.messages_for("zhangsan")) == 1 and len(fake.messages_for("LiSi")) == 1
    fake.messages_for("zhangsan")[0]["text"]["content"] = "tampered"
    assert fake.messages_for("zhangsan")[0]["text"]["content"] == "群发"


def test_duplicate_check_suppresses_identical_requests(http: httpx.Client, fake: FakeWeCom) -> None:
    access_token = token(http, fake)
    body = text_body(fake, "u1", "same", enable_duplicate_check=1, duplicate_check_interval=600)
    assert send(http, access_token, body)["errcode"] == 0
    assert send(http, access_token, body)["errcode"] == 0
    assert len(fake.messages_for("u1")) == 1
    clock_of(fake).advance(601)
    send(http, access_token, body)
    send(http, access_token, text_body(fake, "u1", "same"))  # no duplicate check requested
    assert len(fake.messages_for("u1")) == 3


def test_per_member_limit_drops_silently(http: httpx.Client, fake: FakeWeCom) -> None:
    access_token = token(http, fake)
    for i in range(31):
        assert send(http, access_token, text_body(fake, "u1", f"m{i}"))["errcode"] == 0
    assert len(fake.messages_for("u1")) == 30 and len(fake.dropped) == 1
    clock_of(fake).advance(60)
    send(http, access_token, text_body(fake, "u1", "later"))
    assert len(fake.messages_for("u1")) == 31


def test_unknown_users_and_bad_bodies(http: httpx.Client, fake: FakeWeCom) -> None:
    fake.users = {"u1"}
    access_token = token(http, fake)
    assert send(http, access_token, text_body(fake, "ghost", "x"))["errcode"] == 81013
    assert send(http, access_token, text_body(fake, "u1|ghost", "x"))["invaliduser"] == "ghost"
    assert send(http, access_token, text_body(fake, "", "x"))["errcode"] == 82001
    assert send(http, access_token, text_body(fake, "u1", ""))["errcode"] == 44004
    assert (
        send(http, access_token, {"touser": "u1", "msgtype": "text", "agentid": fake.agent_id})["errcode"]
        == 40008
    )
    assert http.get("no/such/api", params={"access_token": access_token}).status_code == 404


# --- cards ------------------------------------------------------------------------------------------------


def test_cards_response_codes_and_duplicate_task_ids(http: httpx.Client, fake: FakeWeCom) -> None:
    access_token = token(http, fake)
    first = send(http, access_token, card_body(fake, "a|b", "task-1"))
    second = send(http, access_token, card_body(fake, "a", "task-2"))
    assert first["response_code"] != second["response_code"]
    assert send(http, access_token, card_body(fake, "a", "task-1"))["errcode"] == 42014
    assert send(http, access_token, card_body(fake, "a", "bad task id!"))["errcode"] == 42014
    fake.add_app(1000003, "other-secret")
    other = http.get("gettoken", params={"corpid": fake.corp_id, "corpsecret": "other-secret"}).json()
    assert send(http, other["access_token"], card_body(fake, "a", "task-1", agent_id=1000003))["errcode"] == 0
    assert send(http, other["access_token"], card_body(fake, "a", "task-9"))["errcode"] == 301002


def test_update_template_card_single_use_and_in_place(http: httpx.Client, fake: FakeWeCom) -> None:
    access_token = token(http, fake)
    code = send(http, access_token, card_body(fake, "a|b", "task-1"))["response_code"]

    def update(response_code: str, **body: Any) -> dict[str, Any]:
        payload = {"agentid": fake.agent_id, "response_code": response_code, **body}
        return dict(
            http.post(
                "message/update_template_card", params={"access_token": access_token}, json=payload
            ).json()
        )

    new_card = {"card_type": "button_interaction", "task_id": "task-1", "replace_text": "已处理"}
    assert update(code, userids=["A"], template_card=new_card)["errcode"] == 0
    assert fake.messages_for("a")[0]["template_card"]["replace_text"] == "已处理"
    assert fake.messages_for("a")[0]["updated"] is True
    assert fake.messages_for("b")[0]["updated"] is False
    assert update(code, userids=["a"], template_card=new_card)["errcode"] == 60140  # used
    assert update("unknown", userids=["a"], template_card=new_card)["errcode"] == 60140
    click = fake.new_click_code("b", "task-1")
    assert update(click, button={"replace_name": "已同意"})["errcode"] == 0  # defaults to the clicker
    assert fake.messages_for("b")[0]["button_replace_name"] == "已同意"
    everyone = fake.new_click_code("a", "task-1")
    assert update(everyone, atall=1, template_card={**new_card, "replace_text": "已关闭"})["errcode"] == 0
    assert {fake.messages_for(u)[0]["template_card"]["replace_text"] for u in ("a", "b")} == {"已关闭"}
    expired = fake.new_click_code("a", "task-1")
    clock_of(fake).advance(72 * 3600)
    fresh_token = token(http, fake)
    response = http.post(
        "message/update_template_card",
        params={"access_token": fresh_token},
        json={"agentid": fake.agent_id, "response_code": expired, "template_card": new_card},
    )
    assert response.json()["errcode"] == 60140


# --- media ----------------------------------------------------------------------------------------------


def test_media_upload_get_and_json_error(http: httpx.Client, fake: FakeWeCom) -> None:
    access_token = token(http, fake)
    data = bytes(range(256)) * 4
    uploaded = http.post(
        "media/upload",
        params={"access_token": access_token, "type": "image"},
        files={"media": ("a.png", data, "image/png")},
    ).json()
    assert uploaded["errcode"] == 0 and uploaded["type"] == "image"
    got = http.get("media/get", params={"access_token": access_token, "media_id": uploaded["media_id"]})
    assert got.content == data and got.headers["content-type"] == "image/png"
    fake.add_media("registered", b"GIF89a....", "image/gif")
    got = http.get("media/get", params={"access_token": access_token, "media_id": "registered"})
    assert got.content == b"GIF89a...." and "attachment" in got.headers["content-disposition"]
    missing = http.get("media/get", params={"access_token": access_token, "media_id": "nope"})
    assert missing.headers["content-type"].startswith("text/plain")
    assert missing.json() == {"errcode": 40007, "errmsg": "invalid media_id"}
    no_part = http.post(
        "media/upload",
        params={"access_token": access_token, "type": "image"},
        files={"other": ("a.png", data, "image/png")},
    )
    assert no_part.json()["errcode"] == 41005
    bad_type = http.post(
        "media/upload",
        params={"access_token": access_token, "type": "exe"},
        files={"media": ("a.png", data, "image/png")},
    )
    assert bad_type.json()["errcode"] == 40005


def test_image_message_carries_uploaded_bytes(http: httpx.Client, fake: FakeWeCom) -> None:
    access_token = token(http, fake)
    media_id = http.post(
        "media/upload",
        params={"access_token": access_token, "type": "image"},
        files={"media": ("c.png", b"PNGDATA-123", "image/png")},
    ).json()["media_id"]
    send(
        http,
        access_token,
        {"touser": "u1", "msgtype": "image", "agentid": fake.agent_id, "image": {"media_id": media_id}},
    )
    (message,) = fake.messages_for("u1")
    assert message["image"]["media_id"] == media_id and message["data"] == b"PNGDATA-123"


# --- concurrency and the ASGI app ------------------------------------------------------------------------


def test_thread_safe_under_concurrent_sends(fake: FakeWeCom) -> None:
    fake.per_member_per_minute = None
    with httpx.Client(transport=fake.transport(), base_url="http://x/cgi-bin/") as client:
        access_token = token(client, fake)

        def worker(n: int) -> None:
            for i in range(25):
                send(client, access_token, text_body(fake, f"u{n % 4}", f"{n}-{i}"))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(fake.calls_to("message/send")) == 200
    assert sum(len(fake.messages_for(f"u{n}")) for n in range(4)) == 200


def test_asgi_app_serves_the_same_api(fake: FakeWeCom) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient

    with TestClient(fake.asgi_app(), base_url="http://testserver") as client:
        data = client.get(
            "/cgi-bin/gettoken", params={"corpid": fake.corp_id, "corpsecret": fake.secret}
        ).json()
        access_token = data["access_token"]
        result = client.post(
            "/cgi-bin/message/send",
            params={"access_token": access_token},
            json=text_body(fake, "u1", "over http"),
        ).json()
        assert result["errcode"] == 0
        media_id = client.post(
            "/cgi-bin/media/upload",
            params={"access_token": access_token, "type": "file"},
            files={"media": ("r.xlsx", b"PK\x03\x04data", "application/octet-stream")},
        ).json()["media_id"]
        got = client.get("/cgi-bin/media/get", params={"access_token": access_token, "media_id": media_id})
        assert got.content == b"PK\x03\x04data"
        assert (
            client.get("/cgi-bin/media/get", params={"access_token": access_token}).json()["errcode"] == 40007
        )
    assert fake.messages_for("u1")[0]["text"]["content"] == "over http"
    assert [c.path for c in fake.calls] == [
        "gettoken",
        "message/send",
        "media/upload",
        "media/get",
        "media/get",
    ]
