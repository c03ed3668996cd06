"""WeComClient against the in-process FakeWeCom (reliability.md §1.2, §1.7, scenarios C5, C17-C24)."""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bot.kv import KV, FallbackKV, MemoryKV, RedisKV
from bot.wecom import WeComClient, WeComError, classify
from demo.fake_wecom import FakeWeCom
from tests.fixtures_wecom import FakeClock, client_for, clock_of

CARD = {
    "card_type": "button_interaction",
    "main_title": {"title": "报价审批"},
    "task_id": "quote-42-step-1",
    "button_list": [
        {"text": "同意", "style": 1, "key": "approve"},
        {"text": "拒绝", "style": 2, "key": "reject"},
    ],
}


def text(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


def card(task_id: str = "quote-42-step-1") -> dict[str, Any]:
    return {"msgtype": "template_card", "template_card": {**CARD, "task_id": task_id}}


def prime(client: WeComClient, fake: FakeWeCom) -> None:
    """Fetch a token, then let the 10 s gettoken budget pass."""
    client.access_token()
    clock_of(fake).advance(11)


# --- basics ---------------------------------------------------------------------------------------


def test_send_text_adds_agentid_touser_and_duplicate_check(
    wecom_client: WeComClient, fake_wecom: FakeWeCom
) -> None:
    result = wecom_client.send("ZhangSan", text("你好"))
    assert result["errcode"] == 0
    (call,) = fake_wecom.calls_to("message/send")
    assert call.json["agentid"] == fake_wecom.agent_id
    assert call.json["touser"] == "ZhangSan"
    assert call.json["enable_duplicate_check"] == 1
    assert call.json["duplicate_check_interval"] == 14400
    assert "access_token" not in call.params
    assert [m["text"]["content"] for m in fake_wecom.messages_for("zhangsan")] == ["你好"]


def test_markdown_gets_duplicate_check_and_cards_do_not(
    wecom_client: WeComClient, fake_wecom: FakeWeCom
) -> None:
    wecom_client.send("u1", {"msgtype": "markdown", "markdown": {"content": "**hi**"}})
    wecom_client.send("u1", card())
    markdown_call, card_call = fake_wecom.calls_to("message/send")
    assert markdown_call.json["enable_duplicate_check"] == 1
    assert "enable_duplicate_check" not in card_call.json


def test_send_rejects_malformed_msg(wecom_client: WeComClient) -> None:
    with pytest.raises(ValueError):
        wecom_client.send("u1", {"msgtype": "text"})


def test_token_is_cached_and_shared_by_key_without_secret(fake_wecom: FakeWeCom) -> None:
    kv = MemoryKV(clock=clock_of(fake_wecom))
    first, second = client_for(fake_wecom, kv), client_for(fake_wecom, kv)
    first.send("u1", text("a"))
    second.send("u1", text("b"))
    first.send("u1", text("c"))
    assert len(fake_wecom.calls_to("gettoken")) == 1
    assert fake_wecom.corp_id in first.token_key and str(fake_wecom.agent_id) in first.token_key
    assert fake_wecom.secret not in first.token_key
    assert fake_wecom.calls_to("gettoken")[0].params == {"corpid": fake_wecom.corp_id}


def test_token_refreshed_when_less_than_300s_remain(wecom_client: WeComClient, fake_wecom: FakeWeCom) -> None:
    clock = clock_of(fake_wecom)
    wecom_client.send("u1", text("a"))
    clock.advance(7200 - 301)
    wecom_client.send("u1", text("b"))
    assert len(fake_wecom.calls_to("gettoken")) == 1
    clock.advance(2)
    wecom_client.send("u1", text("c"))
    assert len(fake_wecom.calls_to("gettoken")) == 2


def test_timeouts_come_from_settings(fake_wecom: FakeWeCom) -> None:
    client = client_for(fake_wecom, wecom_connect_timeout=1.5, wecom_read_timeout=4.0)
    timeout = client._http.timeout
    assert (timeout.connect, timeout.read) == (1.5, 4.0)


def test_wrong_secret_is_kind_token_without_retry(fake_wecom: FakeWeCom) -> None:
    client = client_for(fake_wecom, wecom_secret="wrong-secret")
    with pytest.raises(WeComError) as raised:
        client.send("u1", text("hello"))
    assert (raised.value.errcode, raised.value.kind) == (40001, "token")
    assert len(fake_wecom.calls_to("gettoken")) == 1
    assert fake_wecom.calls_to("message/send") == []


# --- C18-C20: token errors, refresh, concurrency -------------------------------------------------------


@pytest.mark.parametrize("how", ["injected", "revoked"])
def test_c18_42001_once_refreshes_once_and_delivers_once(
    wecom_client: WeComClient, fake_wecom: FakeWeCom, how: str
) -> None:
    prime(wecom_client, fake_wecom)
    if how == "injected":
        fake_wecom.fail_next(42001, path="message/send")
    else:
        fake_wecom.expire_token(errcode=42001)
    result = wecom_client.send("lisi", text("报价已批准"))
    assert result["errcode"] == 0
    assert len(fake_wecom.calls_to("gettoken")) == 2  # the prime + exactly one refresh
    assert len(fake_wecom.calls_to("message/send")) == 2  # the failed call + exactly one retry
    assert len(fake_wecom.messages_for("lisi")) == 1


def test_c18_second_refresh_within_10s_is_refused(wecom_client: WeComClient, fake_wecom: FakeWeCom) -> None:
    wecom_client.access_token()  # gettoken #1; the budget is now spent for 10 s
    fake_wecom.expire_token()
    with pytest.raises(WeComError) as raised:
        wecom_client.send("u1", text("x"))
    assert (raised.value.errcode, raised.value.kind) == (42001, "token")
    assert len(fake_wecom.calls_to("gettoken")) == 1


def test_c19_40014_forever_is_bounded(wecom_client: WeComClient, fake_wecom: FakeWeCom) -> None:
    clock = clock_of(fake_wecom)
    prime(wecom_client, fake_wecom)
    fake_wecom.fail_always(40014, path="message/send")
    for i in range(40):
        sends_before = len(fake_wecom.calls_to("message/send"))
        tokens_before = len(fake_wecom.calls_to("gettoken"))
        with pytest.raises(WeComError) as raised:
            wecom_client.send("u1", text(f"m{i}"))
        # 40014 from the API, or 42001 once the failed token is gone and no refresh is allowed yet
        assert raised.value.kind == "token" and raised.value.errcode in (40014, 42001)
        assert len(fake_wecom.calls_to("message/send")) - sends_before <= 2  # one call + at most one retry
        assert len(fake_wecom.calls_to("gettoken")) - tokens_before <= 1  # at most one refresh
        clock.advance(0.5)
    stamps = [call.at for call in fake_wecom.calls_to("gettoken")]
    assert all(later - earlier >= 10 for earlier, later in zip(stamps, stamps[1:], strict=False))
    assert len(stamps) <= 1 + 3  # the prime + one per 10 s over 20 s
    assert fake_wecom.messages_for("u1") == []


def test_c19_token_errors_on_every_api_do_not_recurse(fake_wecom: FakeWeCom) -> None:
    client = client_for(fake_wecom)
    prime(client, fake_wecom)
    fake_wecom.fail_always(42001)  # every API except gettoken
    for call in (
        lambda: client.send("u1", text("x")),
        lambda: client.get_media("m1"),
        lambda: client.upload_media(b"0123456789", "a.png"),
        lambda: client.update_template_card(["u1"], "rc", CARD),
    ):
        with pytest.raises(WeComError) as raised:
            call()
        assert raised.value.kind == "token"
    assert len(fake_wecom.calls) <= 2 + 4 * 3  # prime + per call: one call, one refresh, one retry


def _shared_kv(kind: str, clock: FakeClock) -> Iterator[KV]:
    if kind == "memory":
        yield MemoryKV(clock=clock)
        return
    url = os.environ.get("TEST_REDIS_URL")
    prefix = f"test:{uuid.uuid4().hex}:"
    if url:
        kv = RedisKV.from_url(url, prefix=prefix)
    elif importlib.util.find_spec("lupa") is not None:
        import fakeredis

        kv = RedisKV(fakeredis.FakeRedis(), prefix=prefix)
    else:
        pytest.skip("fakeredis needs lupa for Lua scripts; set TEST_REDIS_URL")
    yield kv
    keys = list(kv._client.scan_iter(match=prefix + "*"))
    if keys:
        kv._client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def replicas(request: pytest.FixtureRequest) -> Iterator[tuple[FakeWeCom, KV, list[WeComClient]]]:
    """A FakeWeCom and three clients (replicas) sharing one KV (Redis when TEST_REDIS_URL is set)."""
    fake = FakeWeCom(corp_id=f"wwtest{uuid.uuid4().hex[:12]}", clock=FakeClock(), per_member_per_minute=None)
    for kv in _shared_kv(request.param, clock_of(fake)):
        clients = [client_for(fake, kv) for _ in range(3)]
        yield fake, kv, clients
        for client in clients:
            client.close()


def test_c20_concurrent_sends_at_token_expiry_fetch_once(
    replicas: tuple[FakeWeCom, KV, list[WeComClient]],
) -> None:
    fake, _kv, clients = replicas
    clock = clock_of(fake)
    old_token, _ = fake.issue_token()
    fake.expire_token(old_token)  # WeCom rejects it (42001) ...
    assert clients[0].cache_token(old_token, clock() + 100)  # ... and our cache says < 300 s remain
    barrier = threading.Barrier(20)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        client = clients[n % 3]
        barrier.wait()
        for i in range(3):
            try:
                result = client.send(f"user{n}", text(f"reminder {n}-{i}"))
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                with lock:
                    errors.append(exc)
            else:
                with lock:
                    results.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 60 and all(r["errcode"] == 0 for r in results)
    assert len(fake.calls_to("gettoken")) == 1
    assert sum(len(fake.messages_for(f"user{n}")) for n in range(20)) == 60
    newest = fake.issued_tokens[-1]
    assert all(client.access_token() == newest for client in clients)


def test_c20_older_token_never_overwrites_newer(replicas: tuple[FakeWeCom, KV, list[WeComClient]]) -> None:
    fake, _kv, (first, second, _third) = replicas
    now = clock_of(fake)()
    older, _ = fake.issue_token()
    newer, _ = fake.issue_token()
    assert second.cache_token(newer, now + 7200)  # replica 2's refresh lands first
    assert not first.cache_token(older, now + 7100)  # replica 1's slower, older result is dropped
    assert first.access_token() == newer
    assert first.cache_token(newer, now + 7300)  # a later expiry does replace it


def test_token_error_does_not_invalidate_a_newer_token(fake_wecom: FakeWeCom) -> None:
    """Replica A fails with token T1 after replica B already cached T2: A must not delete T2."""
    clock = clock_of(fake_wecom)
    kv = MemoryKV(clock=clock)
    client = client_for(fake_wecom, kv)
    t1 = client.access_token()
    t2, _ = fake_wecom.issue_token()
    fake_wecom.expire_token(t1)
    original = client._token
    calls = {"n": 0}

    def token_then_swap(reject: str | None, cause: int) -> str:
        calls["n"] += 1
        if calls["n"] == 1:  # hand out T1, then let "replica B" cache T2 before A's call fails
            token = original(reject, cause)
            client.cache_token(t2, clock() + 7200 + 60)
            return token
        return original(reject, cause)

    client._token = token_then_swap  # type: ignore[method-assign]
    assert client.send("u1", text("x"))["errcode"] == 0
    assert len(fake_wecom.calls_to("gettoken")) == 1  # T2 was reused, not refetched
    assert client.access_token() == t2


def test_c7_redis_down_token_cache_falls_back_to_memory(fake_wecom: FakeWeCom) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = clock_of(fake_wecom)
    kv = FallbackKV(RedisKV.from_url(f"redis://127.0.0.1:{port}/0"), MemoryKV(clock=clock), clock=clock)
    client = client_for(fake_wecom, kv)
    for i in range(3):
        assert client.send("u1", text(f"m{i}"))["errcode"] == 0
    assert len(fake_wecom.calls_to("gettoken")) == 1
    assert kv.ping() is False


# --- C21-C23: errcode classification ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errcode", "kind"),
    [
        (-1, "retry"),
        (45009, "rate"),
        (45033, "rate"),
        (40001, "token"),
        (40014, "token"),
        (42001, "token"),
        (81013, "permanent"),
        (40003, "permanent"),
        (60020, "permanent"),
        (60140, "permanent"),
        (42014, "permanent"),
        (12345, "permanent"),
    ],
)
def test_classify(errcode: int, kind: str) -> None:
    assert classify(errcode) == kind


@pytest.mark.parametrize("errcode", [45009, 45033])
def test_c22_rate_limit_is_kind_rate_without_retry(
    wecom_client: WeComClient, fake_wecom: FakeWeCom, errcode: int
) -> None:
    fake_wecom.fail_next(errcode, path="message/send")
    with pytest.raises(WeComError) as raised:
        wecom_client.send("u1", text("x"))
    assert (raised.value.errcode, raised.value.kind) == (errcode, "rate")
    assert len(fake_wecom.calls_to("message/send")) == 1


@pytest.mark.parametrize("errcode", [81013, 40003, 60020])
def test_c23_permanent_errors_are_not_retried(
    wecom_client: WeComClient, fake_wecom: FakeWeCom, errcode: int
) -> None:
    fake_wecom.fail_next(errcode, path="message/send")
    with pytest.raises(WeComError) as raised:
        wecom_client.send("u1", text("x"))
    assert (raised.value.errcode, raised.value.kind) == (errcode, "permanent")
    assert len(fake_wecom.calls_to("message/send")) == 1


def test_c23_all_recipients_invalid_from_the_fake_directory(fake_wecom: FakeWeCom) -> None:
    fake_wecom.users = {"zhangsan"}
    client = client_for(fake_wecom)
    with pytest.raises(WeComError) as raised:
        client.send("nobody", text("x"))
    assert (raised.value.errcode, raised.value.kind) == (81013, "permanent")
    assert client.send("ZhangSan|nobody", text("y"))["invaliduser"] == "nobody"


def test_system_busy_and_5xx_are_kind_retry(wecom_client: WeComClient, fake_wecom: FakeWeCom) -> None:
    fake_wecom.fail_next(-1, path="message/send")
    with pytest.raises(WeComError) as busy:
        wecom_client.send("u1", text("x"))
    assert (busy.value.errcode, busy.value.kind) == (-1, "retry")
    fake_wecom.fail_next(-1, path="message/send", status=503)
    with pytest.raises(WeComError) as unavailable:
        wecom_client.send("u1", text("x"))
    assert (unavailable.value.kind, unavailable.value.http_status) == ("retry", 503)
    assert len(fake_wecom.calls_to("message/send")) == 2


def _transport_with(fake: FakeWeCom, path: str, respond: Callable[[httpx.Request], httpx.Response]) -> Any:
    inner = fake.transport()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(path):
            fake.calls.append(fake.calls[0].__class__(path.strip("/"), {}, None, request.method))
            return respond(request)
        return inner.handle_request(request)

    return httpx.MockTransport(handler)


def _client_on(fake: FakeWeCom, transport: Any, **settings: Any) -> WeComClient:
    from tests.fixtures_wecom import wecom_settings_for

    clock = clock_of(fake)
    return WeComClient(
        wecom_settings_for(fake, **settings), MemoryKV(clock=clock), transport=transport, clock=clock
    )


def test_network_error_and_bad_json_are_kind_retry(fake_wecom: FakeWeCom) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = _client_on(fake_wecom, _transport_with(fake_wecom, "/message/send", refuse))
    with pytest.raises(WeComError) as raised:
        client.send("u1", text("x"))
    assert (raised.value.errcode, raised.value.kind) == (-1, "retry")
    assert raised.value.__cause__ is None and raised.value.__suppress_context__

    garbage = _client_on(
        fake_wecom,
        _transport_with(
            fake_wecom, "/message/send", lambda r: httpx.Response(200, content=b"<html>gateway</html>")
        ),
    )
    with pytest.raises(WeComError) as bad:
        garbage.send("u1", text("x"))
    assert bad.value.kind == "retry"


# --- C5: timeouts --------------------------------------------------------------------------------------


def test_c5_hung_api_fails_at_the_read_timeout(fake_wecom: FakeWeCom) -> None:
    client = client_for(fake_wecom, wecom_read_timeout=0.2)
    client.access_token()
    fake_wecom.hang(30, path="message/send")
    started = time.monotonic()
    with pytest.raises(WeComError) as raised:
        client.send("u1", text("x"))
    elapsed = time.monotonic() - started
    assert (raised.value.errcode, raised.value.kind) == (-1, "retry")
    assert "timeout" in str(raised.value)
    assert 0.15 <= elapsed < 2.0
    assert fake_wecom.messages_for("u1") == []


def test_c5_hung_gettoken_fails_at_the_read_timeout(fake_wecom: FakeWeCom) -> None:
    client = client_for(fake_wecom, wecom_read_timeout=0.2)
    fake_wecom.hang(30, path="gettoken")
    started = time.monotonic()
    with pytest.raises(WeComError) as raised:
        client.send("u1", text("x"))
    assert raised.value.kind == "retry"
    assert time.monotonic() - started < 2.0


# --- C17: nothing secret in logs or exceptions -------------------------------------------------------------


def test_c17_logs_and_errors_hold_no_token_secret_or_content(
    fake_wecom: FakeWeCom, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = clock_of(fake_wecom)
    body = "机密报价 ¥98765 给 王五"
    errors: list[WeComError] = []

    def attempt(call: Callable[[], object]) -> None:
        try:
            call()
        except WeComError as exc:
            errors.append(exc)

    client = client_for(fake_wecom)
    attempt(lambda: client.send("wangwu", text(body)))  # success
    clock.advance(11)
    fake_wecom.fail_next(42001, path="message/send")
    attempt(lambda: client.send("wangwu", text(body + " 2")))  # refresh + retry
    fake_wecom.fail_next(40003, path="message/send")
    attempt(lambda: client.send("wangwu", text(body + " 3")))  # permanent
    fake_wecom.fail_always(40014, path="message/send")
    attempt(lambda: client.send("wangwu", text(body + " 4")))  # token error after the retry
    fake_wecom.clear_failures()
    attempt(lambda: client.get_media("no-such-media"))
    fake_wecom.hang(30, path="message/send")
    attempt(lambda: client_for(fake_wecom, client._kv, wecom_read_timeout=0.1).send("wangwu", text(body)))
    fake_wecom.clear_failures()
    attempt(lambda: client_for(fake_wecom, wecom_secret="wrong-secret-value-123").send("wangwu", text(body)))

    def echo_secrets(request: httpx.Request) -> httpx.Response:  # an errmsg that quotes the URL back
        return httpx.Response(200, json={"errcode": 40014, "errmsg": f"invalid token, url: {request.url}"})

    attempt(
        lambda: _client_on(fake_wecom, _transport_with(fake_wecom, "/message/send", echo_secrets)).send(
            "wangwu", text(body)
        )
    )

    assert len(errors) >= 6
    haystack = "\n".join(
        [caplog.text]
        + [record.getMessage() for record in caplog.records]
        + [f"{exc!s} {exc!r} {exc.args!r}" for exc in errors]
    )
    assert "/cgi-bin/message/send" in caplog.text  # the client does log its calls
    for token in fake_wecom.issued_tokens:
        assert token not in haystack
    for secret in (fake_wecom.secret, "wrong-secret-value-123"):
        assert secret not in haystack
    assert "机密报价" not in haystack and "98765" not in haystack


# --- media -------------------------------------------------------------------------------------------------


def test_upload_media_then_send_image(wecom_client: WeComClient, fake_wecom: FakeWeCom) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"\r\n--tail"
    media_id = wecom_client.upload_media(png, "chart.png")
    assert fake_wecom.media(media_id) == png
    (upload,) = fake_wecom.calls_to("media/upload")
    assert upload.params == {"type": "image"}
    wecom_client.send("u1", {"msgtype": "image", "image": {"media_id": media_id}})
    (message,) = fake_wecom.messages_for("u1")
    assert message["image"]["media_id"] == media_id and message["data"] == png


def test_get_media_returns_bytes_and_content_type(wecom_client: WeComClient, fake_wecom: FakeWeCom) -> None:
    fake_wecom.add_media("m-1", b"{not json, just bytes", "image/jpeg")
    data, content_type = wecom_client.get_media("m-1")
    assert (data, content_type) == (b"{not json, just bytes", "image/jpeg")


def test_get_media_detects_text_plain_json_error(wecom_client: WeComClient) -> None:
    with pytest.raises(WeComError) as raised:
        wecom_client.get_media("missing")
    assert (raised.value.errcode, raised.value.kind) == (40007, "permanent")


def test_get_media_detects_application_json_error(fake_wecom: FakeWeCom) -> None:
    client = _client_on(
        fake_wecom,
        _transport_with(
            fake_wecom,
            "/media/get",
            lambda r: httpx.Response(200, json={"errcode": 45033, "errmsg": "api concurrent out of limit"}),
        ),
    )
    with pytest.raises(WeComError) as raised:
        client.get_media("m-1")
    assert (raised.value.errcode, raised.value.kind) == (45033, "rate")


def test_get_media_refreshes_token_once(wecom_client: WeComClient, fake_wecom: FakeWeCom) -> None:
    fake_wecom.add_media("m-2", b"\xff\xd8\xff jpeg", "image/jpeg")
    prime(wecom_client, fake_wecom)
    fake_wecom.fail_next(42001, path="media/get")
    assert wecom_client.get_media("m-2")[0] == b"\xff\xd8\xff jpeg"
    assert len(fake_wecom.calls_to("media/get")) == 2


# --- cards ----------------------------------------------------------------------------------------------


def test_update_template_card_codes_are_single_use(wecom_client: WeComClient, fake_wecom: FakeWeCom) -> None:
    sent = wecom_client.send("approver", card("quote-7"))
    code = sent["response_code"]
    done = {**CARD, "task_id": "quote-7", "replace_text": "已同意"}
    wecom_client.update_template_card(["approver"], code, done)
    (message,) = fake_wecom.messages_for("approver")
    assert message["updated"] is True and message["template_card"]["replace_text"] == "已同意"
    with pytest.raises(WeComError) as reused:
        wecom_client.update_template_card(["approver"], code, done)
    assert (reused.value.errcode, reused.value.kind) == (60140, "permanent")
    click_code = fake_wecom.new_click_code("approver", "quote-7")
    wecom_client.update_template_card(["approver"], click_code, {**done, "replace_text": "已撤回"})
    assert fake_wecom.messages_for("approver")[0]["template_card"]["replace_text"] == "已撤回"
    with pytest.raises(WeComError) as unknown:
        wecom_client.update_template_card(["approver"], "made-up-code", done)
    assert unknown.value.errcode == 60140


def test_c24_card_resend_with_same_task_id_counts_as_delivered(
    wecom_client: WeComClient, fake_wecom: FakeWeCom
) -> None:
    first = wecom_client.send("approver", card("quote-9"))
    again = wecom_client.send("approver", card("quote-9"))
    assert first["errcode"] == 0 and "response_code" in first
    assert again == {"errcode": 0, "errmsg": "ok", "duplicate": True}
    assert len(fake_wecom.messages_for("approver")) == 1


def test_42014_on_a_non_card_is_not_swallowed(wecom_client: WeComClient, fake_wecom: FakeWeCom) -> None:
    fake_wecom.fail_next(42014, path="message/send")
    with pytest.raises(WeComError) as raised:
        wecom_client.send("u1", text("x"))
    assert raised.value.errcode == 42014


def test_c24_text_resend_is_suppressed_by_the_duplicate_check(
    wecom_client: WeComClient, fake_wecom: FakeWeCom
) -> None:
    wecom_client.send("u1", text("今日提醒 #outbox-17"))
    wecom_client.send("u1", text("今日提醒 #outbox-17"))
    assert len(fake_wecom.messages_for("u1")) == 1
    assert len(fake_wecom.suppressed_duplicates) == 1
