"""The callback edge with WeCom's official vectors and every refusal of reliability.md §2 A/B."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot.crypto import CallbackCrypto, CallbackRejected, parse_xml, signature
from models import InboundEvent, OutboxMessage
from tests.harness import AES_KEY, CORP_ID, TOKEN, Bot, FrozenClock, make_bot

VECTOR_A = {
    "corp": "wx5823bf96d3bd56c7",
    "token": "QDG6eK",
    "aes": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "query": "msg_signature=477715d11cdb4164915debcba66cb864d751f3e6&timestamp=1409659813&nonce=1372623149",
    "ts": 1409659813,
    "body": (
        "<xml>\n<ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo"
        "+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL"
        "42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4z"
        "G4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27B"
        "o6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt>"
        "\n<AgentID><![CDATA[218]]></AgentID>\n</xml>"
    ),
}

VECTOR_B = {
    "corp": "ww1436e0e65a779aee",
    "token": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
    "aes": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
    "verify": {
        "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
        "timestamp": "1476416373",
        "nonce": "47744683",
        "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
    },
    "echo_plain": "1288432023552776189",
    "post_query": "msg_signature=0c3914025cb4b4d68103f6bfc8db550f79dcf48e&timestamp=1476422779&nonce=1597212914",
    "post_ts": 1476422779,
    "body": (
        "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA[Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bq"
        "Lc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1p"
        "SDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQ"
        "HE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+]]>"
        "</Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
    ),
}

VECTOR_C = {
    "corp": "wx49f0ab532d5d035a",
    "token": "123456",
    "aes": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
    "verify": {
        "msg_signature": "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
        "timestamp": "1411443780",
        "nonce": "437374425",
        "echostr": "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==",
    },
    "echo_plain": "5927782489442352469",
    "encrypt": (
        "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZs"
        "ryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2K"
        "Od0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvW"
        "TT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
    ),
    "decrypt_query": {
        "msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
        "timestamp": "1411525903",
        "nonce": "461056294",
    },
}


def _vector_bot(db, corp: str, token: str, aes: str, agent: int, ts: int) -> Bot:
    url, engine = db
    clock = FrozenClock(datetime.fromtimestamp(ts, UTC))
    return make_bot(
        url,
        engine,
        clock=clock,
        wecom_corp_id=corp,
        wecom_token=token,
        wecom_aes_key=aes,
        wecom_agent_id=agent,
    )


def _count(bot: Bot, model) -> int:
    with bot.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_vector_a_post_is_accepted_and_the_unknown_sender_is_answered_politely(db):
    bot = _vector_bot(db, VECTOR_A["corp"], VECTOR_A["token"], VECTOR_A["aes"], 218, VECTOR_A["ts"])
    response = bot.client.post(f"/wecom/callback?{VECTOR_A['query']}", content=VECTOR_A["body"].encode())
    assert response.status_code == 200 and response.content == b""
    assert _count(bot, InboundEvent) == 1
    assert "不在销售助手的人员名单" in bot.last_text("mycreate")


def test_vector_b_get_verification_echoes_the_exact_plaintext(db):
    bot = _vector_bot(db, VECTOR_B["corp"], VECTOR_B["token"], VECTOR_B["aes"], 1000002, 1476416373)
    started = time.perf_counter()
    response = bot.client.get("/wecom/callback?" + urlencode(VECTOR_B["verify"]))
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 200
    assert response.content == VECTOR_B["echo_plain"].encode()  # no quotes, BOM or newline


def test_vector_b_post_decrypts_a_plaintext_without_cdata(db):
    bot = _vector_bot(db, VECTOR_B["corp"], VECTOR_B["token"], VECTOR_B["aes"], 1000002, VECTOR_B["post_ts"])
    response = bot.client.post(f"/wecom/callback?{VECTOR_B['post_query']}", content=VECTOR_B["body"].encode())
    assert response.status_code == 200
    with bot.session() as s:
        event = s.scalars(select(InboundEvent)).one()
    assert event.userid == "chenjiashun" and event.kind == "text"


def test_vector_c_get_and_decrypt(db):
    bot = _vector_bot(db, VECTOR_C["corp"], VECTOR_C["token"], VECTOR_C["aes"], 1, 1411443780)
    response = bot.client.get("/wecom/callback?" + urlencode(VECTOR_C["verify"]))
    assert response.content == VECTOR_C["echo_plain"].encode()
    crypto = CallbackCrypto(token=VECTOR_C["token"], aes_key=VECTOR_C["aes"], corp_id=VECTOR_C["corp"])
    q = VECTOR_C["decrypt_query"]
    crypto.check(
        msg_signature=q["msg_signature"],
        timestamp=q["timestamp"],
        nonce=q["nonce"],
        encrypted=VECTOR_C["encrypt"],
        now=1411525903,
    )
    inner = parse_xml(crypto.decrypt(VECTOR_C["encrypt"]))
    assert inner["FromUserName"] == "messense" and inner["Content"] == "test"


def test_vector_c_deterministic_encryption_matches_wechatpy_reference(monkeypatch):
    import wechatpy.crypto.base as base

    monkeypatch.setattr(base, "random_string", lambda *_a, **_k: "1234567890123456")
    crypto = CallbackCrypto(token=VECTOR_C["token"], aes_key=VECTOR_C["aes"], corp_id=VECTOR_C["corp"])
    reply = (
        "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
        "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n"
        "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>"
    )
    out = parse_xml(crypto.encrypt_reply(reply, nonce="461056294", timestamp="1411525903"))
    assert out["MsgSignature"] == "407518b7649e86ef23978113f92d27afa9296533"
    assert out["Encrypt"].startswith("9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk")


def test_a8_bad_signature_on_get_is_403_and_echoes_nothing(db):
    bot = _vector_bot(db, VECTOR_B["corp"], VECTOR_B["token"], VECTOR_B["aes"], 1000002, 1476416373)
    params = dict(VECTOR_B["verify"], msg_signature="0" * 40)
    response = bot.client.get("/wecom/callback?" + urlencode(params))
    assert response.status_code == 403
    assert VECTOR_B["echo_plain"] not in response.text


def test_a1_same_message_four_times_gives_one_answer(bot):
    xml = bot.text_xml("rep_e1", "帮助", msg_id=987654321)
    for _ in range(4):
        started = time.perf_counter()
        response = bot.post_plain(xml)
        assert response.status_code == 200 and response.content == b""
        assert time.perf_counter() - started < 1.0
    assert len(bot.texts("rep_e1")) == 1
    assert _count(bot, InboundEvent) == 1


def test_a3_two_card_events_in_the_same_second_are_both_processed(bot):
    bot.tap("rep_e1", "task-one", "v1:nothing")
    bot.tap("rep_e1", "task-two", "v1:nothing")
    assert _count(bot, InboundEvent) == 2


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(
            lambda q: {
                **q,
                "msg_signature": q["msg_signature"][:-1] + ("0" if q["msg_signature"][-1] != "0" else "1"),
            },
            id="one-char",
        ),
        pytest.param(lambda q: {k: v for k, v in q.items() if k != "msg_signature"}, id="missing"),
        pytest.param(lambda q: {**q, "nonce": q["nonce"] + "x"}, id="nonce-changed"),
    ],
)
def test_b9_bad_signature_is_refused_and_nothing_is_stored(bot, mutate):
    encrypted = bot.crypto.encrypt(bot.text_xml("rep_e1", "帮助"))
    ts = str(int(bot.clock().timestamp()))
    query = {"msg_signature": signature(TOKEN, ts, "n1", encrypted), "timestamp": ts, "nonce": "n1"}
    body = f"<xml><ToUserName>{CORP_ID}</ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    response = bot.client.post("/wecom/callback?" + urlencode(mutate(query)), content=body)
    assert response.status_code == 403
    assert _count(bot, InboundEvent) == 0 and _count(bot, OutboxMessage) == 0


def test_b9_signature_compare_is_constant_time(monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    crypto = CallbackCrypto(token=TOKEN, aes_key=AES_KEY, corp_id=CORP_ID)
    with pytest.raises(CallbackRejected):
        crypto.check(msg_signature="0" * 40, timestamp=str(int(time.time())), nonce="n", encrypted="abc")
    assert calls


@pytest.mark.parametrize("offset", [-3600, -301, 301, 3600])
def test_b10_timestamp_outside_the_window_is_refused(bot, offset):
    response = bot.post_plain(bot.text_xml("rep_e1", "帮助"), timestamp=int(bot.clock().timestamp()) + offset)
    assert response.status_code == 403
    assert _count(bot, InboundEvent) == 0


def test_b10_replay_inside_the_window_is_deduplicated(bot):
    xml = bot.text_xml("rep_e1", "帮助")
    encrypted = bot.crypto.encrypt(xml)
    ts = str(int(bot.clock().timestamp()))
    query = urlencode({"msg_signature": signature(TOKEN, ts, "n", encrypted), "timestamp": ts, "nonce": "n"})
    body = f"<xml><ToUserName>{CORP_ID}</ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    assert bot.client.post(f"/wecom/callback?{query}", content=body).status_code == 200
    bot.clock.advance(seconds=120)
    assert bot.client.post(f"/wecom/callback?{query}", content=body).status_code == 200
    assert len(bot.texts("rep_e1")) == 1


def test_b11_wrong_corp_id_inside_or_wrong_agent_is_refused(bot):
    wrong_corp = bot.crypto.encrypt  # receiveid is our corp, but ToUserName inside names another
    assert wrong_corp
    response = bot.post_plain(bot.text_xml("rep_e1", "帮助", corp="wwsomebodyelse"))
    assert response.status_code == 403
    response = bot.post_plain(bot.text_xml("rep_e1", "帮助", agent=42))
    assert response.status_code == 403
    other = CallbackCrypto(token=TOKEN, aes_key=AES_KEY, corp_id="wwanothercorp")
    encrypted = other.encrypt(bot.text_xml("rep_e1", "帮助"))
    ts = str(int(bot.clock().timestamp()))
    query = urlencode({"msg_signature": signature(TOKEN, ts, "n", encrypted), "timestamp": ts, "nonce": "n"})
    response = bot.client.post(
        f"/wecom/callback?{query}", content=f"<xml><Encrypt>{encrypted}</Encrypt></xml>"
    )
    assert response.status_code == 403
    assert _count(bot, InboundEvent) == 0 and _count(bot, OutboxMessage) == 0


def test_b12_doctype_and_external_entity_are_refused_before_signature_work(bot):
    body = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<xml><Encrypt>&xxe;</Encrypt></xml>"
    )
    response = bot.client.post("/wecom/callback?msg_signature=x&timestamp=1&nonce=1", content=body)
    assert response.status_code == 400
    assert "root:" not in response.text
    assert _count(bot, InboundEvent) == 0


def test_b13_billion_laughs_is_refused_quickly(bot):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{"&lol" + (str(i - 1) if i > 1 else "") + ";" * 1}'
        + ("&lol" + (str(i - 1) if i > 1 else "") + ";") * 9
        + '">'
        for i in range(1, 10)
    )
    body = f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><xml><Encrypt>&lol9;</Encrypt></xml>'
    started = time.perf_counter()
    response = bot.client.post("/wecom/callback?msg_signature=x&timestamp=1&nonce=1", content=body)
    assert response.status_code == 400
    assert time.perf_counter() - started < 0.1 + 0.4  # generous for a shared CI machine


def test_b13_entities_inside_the_decrypted_xml_are_refused_too(bot):
    inner = '<!DOCTYPE x [<!ENTITY a "b">]>' + bot.text_xml("rep_e1", "帮助")
    response = bot.post_plain(inner)
    assert response.status_code == 400
    assert _count(bot, InboundEvent) == 0


def test_b14_ten_megabytes_with_content_length_is_413_before_reading(bot):
    response = bot.client.post(
        "/wecom/callback?msg_signature=x&timestamp=1&nonce=1", content=b"x" * (10 * 1024 * 1024)
    )
    assert response.status_code == 413


def test_b14_chunked_body_without_length_is_cut_at_the_limit(bot):
    sent = []

    def chunks():
        for _ in range(40):  # 40 × 64 KiB = 2.5 MiB, no Content-Length
            sent.append(1)
            yield b"y" * 65536

    response = bot.client.post("/wecom/callback?msg_signature=x&timestamp=1&nonce=1", content=chunks())
    assert response.status_code == 413
    assert _count(bot, InboundEvent) == 0


@pytest.mark.parametrize(
    "body",
    [
        "<xml><ToUserName>x</ToUserName>",  # malformed
        "<xml><ToUserName>x</ToUserName></xml>",  # no Encrypt
        "not xml at all",
        "",
    ],
)
def test_b15_malformed_outer_xml_is_400(bot, body):
    response = bot.client.post("/wecom/callback?msg_signature=x&timestamp=1&nonce=1", content=body)
    assert response.status_code == 400
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "encrypted", ["!!!notbase64!!!", "YWJj", "A" * 44, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="]
)
def test_b15_bad_base64_padding_or_truncated_ciphertext_is_4xx_after_a_valid_signature(bot, encrypted):
    ts = str(int(bot.clock().timestamp()))
    query = urlencode({"msg_signature": signature(TOKEN, ts, "n", encrypted), "timestamp": ts, "nonce": "n"})
    response = bot.client.post(
        f"/wecom/callback?{query}", content=f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    assert 400 <= response.status_code < 500
    assert _count(bot, InboundEvent) == 0


def test_b15_truncated_real_ciphertext_is_refused(bot):
    encrypted = bot.crypto.encrypt(bot.text_xml("rep_e1", "帮助"))
    import base64

    raw = base64.b64decode(encrypted)
    for cut in (raw[:32], raw[:-32], raw[:-1]):
        chopped = base64.b64encode(cut).decode()
        ts = str(int(bot.clock().timestamp()))
        query = urlencode(
            {"msg_signature": signature(TOKEN, ts, "n", chopped), "timestamp": ts, "nonce": "n"}
        )
        response = bot.client.post(
            f"/wecom/callback?{query}", content=f"<xml><Encrypt>{chopped}</Encrypt></xml>"
        )
        assert 400 <= response.status_code < 500
    assert _count(bot, InboundEvent) == 0


@pytest.mark.parametrize("missing", ["wecom_token", "wecom_aes_key", "wecom_corp_id"])
def test_b16_missing_secrets_refuse_to_start(db, missing):
    from chat.settings import MissingSecrets

    url, engine = db
    with pytest.raises(MissingSecrets) as info:
        make_bot(url, engine, **{missing: ""})
    assert missing.upper() in str(info.value)


def test_unknown_sender_gets_a_polite_answer_and_no_effect(bot):
    bot.send_text("stranger", "帮助")
    assert "联系管理员" in bot.last_text("stranger")


def test_healthz_reports_database(bot):
    response = bot.client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["redis"] == "not configured"


def test_blank_values_copied_from_env_example_mean_unset(monkeypatch):
    from chat.settings import Settings

    for name in ("WECOM_AGENT_ID", "SALESBOT_CONFIG", "REDIS_URL", "DATABASE_URL"):
        monkeypatch.setenv(name, "")
    settings = Settings(_env_file=None)
    assert settings.wecom_agent_id == 0 and settings.salesbot_config is None and settings.redis_url is None
    assert settings.database_url.startswith("sqlite")


def test_cli_refuses_bad_env_and_bad_config_with_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [线索分配, 初步接洽]\ngates:\n  报价审批: [visit]\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setenv("WECOM_CORP_ID", CORP_ID)
    monkeypatch.setenv("WECOM_TOKEN", TOKEN)
    monkeypatch.setenv("WECOM_AES_KEY", AES_KEY)
    monkeypatch.setenv("SALESBOT_CONFIG", str(bad))
    assert main(["jobs", "run", "reminders", "--now", "2026-11-28T10:00"]) == 2
    err = capsys.readouterr().err
    assert "配置文件有误" in err and "bad.yaml:3" in err and "Traceback" not in err

    monkeypatch.setenv("WECOM_AGENT_ID", "abc")
    with pytest.raises(SystemExit) as info:
        main(["jobs", "run", "reminders"])
    assert "WECOM_AGENT_ID" in str(info.value.code)
