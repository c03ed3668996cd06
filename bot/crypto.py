"""The callback crypto, hardened around wechatpy.

wechatpy decrypts (AES-256-CBC, receiveid check); around it we add what it lacks (wecom-protocol.md §6):
a DOCTYPE/ENTITY refusal before any parse, a constant-time signature compare, a timestamp window, a bounded
msg_len/padding check, and one exception type (`CallbackRejected`) carrying the HTTP status to answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
import time
from typing import Any

import xmltodict
from wechatpy.exceptions import WeChatException
from wechatpy.work.crypto import PrpCrypto

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.DOTALL)


class CallbackRejected(Exception):
    """A callback we refuse; `status` is what WeCom (or an attacker) gets back. Never a 5xx."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    parts = sorted([token, timestamp, nonce, encrypted])
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()


def parse_xml(raw: bytes | str, *, decrypted: bool = False) -> dict[str, Any]:
    """Parse untrusted XML: refuse any DTD or entity declaration, then parse with entities disabled.

    `decrypted`: the inner XML, whose CDATA sections hold what the user typed. A message that merely
    *mentions* `<!DOCTYPE` is text, not markup (issue 16 #13), so only the markup outside CDATA is checked;
    a real declaration in the prolog is still refused, and entities stay disabled in the parser.
    """
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if _DTD.search(_CDATA.sub(b"", data) if decrypted else data):
        raise CallbackRejected(400, "dtd refused")
    try:
        parsed = xmltodict.parse(data, disable_entities=True)
    except Exception as exc:  # expat errors, ValueError for entities, anything malformed
        raise CallbackRejected(400, "malformed xml") from exc
    root = parsed.get("xml") if isinstance(parsed, dict) else None
    if not isinstance(root, dict):
        raise CallbackRejected(400, "no xml root")
    return root


class CallbackCrypto:
    def __init__(self, *, token: str, aes_key: str, corp_id: str, window_s: int = 300) -> None:
        if not (token and aes_key and corp_id):
            raise ValueError("token, aes key and corp id are required")
        self.token = token
        self.corp_id = corp_id
        self.window_s = window_s
        try:
            self.key = base64.b64decode(aes_key + "=")
        except binascii.Error as exc:
            raise ValueError("EncodingAESKey is not valid base64") from exc
        if len(self.key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")

    def check(
        self, *, msg_signature: str, timestamp: str, nonce: str, encrypted: str, now: float | None = None
    ) -> None:
        if not (msg_signature and timestamp and nonce and encrypted):
            raise CallbackRejected(403, "missing signature parameters")
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), msg_signature.lower().encode()):
            raise CallbackRejected(403, "bad signature")
        try:
            sent = int(timestamp)
        except ValueError as exc:
            raise CallbackRejected(403, "bad timestamp") from exc
        current = time.time() if now is None else now
        if abs(current - sent) > self.window_s:
            raise CallbackRejected(403, "timestamp outside window")

    def decrypt(self, encrypted: str) -> str:
        """Decrypt (wechatpy) after validating what wechatpy trusts blindly: length, padding, msg_len."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CallbackRejected(400, "bad base64") from exc
        if not raw or len(raw) % 32:
            raise CallbackRejected(400, "bad ciphertext length")
        try:
            plain = PrpCrypto(self.key).decrypt(encrypted, self.corp_id)
        except WeChatException as exc:  # InvalidCorpIdException and friends
            raise CallbackRejected(403, "wrong receiveid") from exc
        except (struct.error, UnicodeDecodeError, ValueError, IndexError, TypeError) as exc:
            raise CallbackRejected(400, "undecryptable") from exc
        return plain if isinstance(plain, str) else plain.decode("utf-8")

    def verify_url(
        self, *, msg_signature: str, timestamp: str, nonce: str, echostr: str, now: float | None = None
    ) -> str:
        self.check(msg_signature=msg_signature, timestamp=timestamp, nonce=nonce, encrypted=echostr, now=now)
        return self.decrypt(echostr)

    def encrypt_reply(
        self, plaintext_xml: str, *, nonce: str | None = None, timestamp: str | None = None
    ) -> str:
        """A passive encrypted reply (wecom-protocol.md §1.6); also used by tests and the demo to build callbacks."""
        nonce = nonce or secrets.token_hex(8)
        timestamp = timestamp or str(int(time.time()))
        encrypted = PrpCrypto(self.key).encrypt(plaintext_xml, self.corp_id)
        encrypted = encrypted if isinstance(encrypted, str) else encrypted.decode()
        sig = signature(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{sig}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )

    def encrypt(self, plaintext: str) -> str:
        encrypted = PrpCrypto(self.key).encrypt(plaintext, self.corp_id)
        return encrypted if isinstance(encrypted, str) else encrypted.decode()
