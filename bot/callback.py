"""`GET|POST /wecom/callback`: size limit → hardened parse → signature and window → decrypt → ids → dispatch."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from bot.crypto import CallbackRejected, parse_xml
from bot.dispatcher import ServiceUnavailable
from chat.inbound import Inbound, from_dict

if TYPE_CHECKING:
    from bot.app import AppState

log = logging.getLogger("salesbot.callback")

router = APIRouter()


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """Read the body, refusing early on Content-Length and again while streaming (chunked bodies)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge
        except ValueError as exc:
            raise CallbackRejected(400, "bad content-length") from exc
    received = bytearray()
    async for chunk in request.stream():
        received.extend(chunk)
        if len(received) > limit:
            raise BodyTooLarge
    return bytes(received)


def _state(request: Request) -> AppState:
    return request.app.state.salesbot


def _reject(exc: CallbackRejected) -> Response:
    log.info("callback rejected: %s (%s)", exc.status, exc.reason)
    return PlainTextResponse("forbidden" if exc.status == 403 else "bad request", status_code=exc.status)


@router.get("/wecom/callback")
async def verify_url(request: Request) -> Response:
    state = _state(request)
    q = request.query_params
    try:
        plain = state.crypto.verify_url(
            msg_signature=q.get("msg_signature", ""),
            timestamp=q.get("timestamp", ""),
            nonce=q.get("nonce", ""),
            echostr=q.get("echostr", ""),
            now=state.clock().timestamp(),
        )
    except CallbackRejected as exc:
        return _reject(exc)
    return Response(content=plain.encode("utf-8"), media_type="text/plain; charset=utf-8")


def decode_callback(state: AppState, query: dict[str, str], body: bytes) -> Inbound:
    outer = parse_xml(body)
    encrypted = outer.get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise CallbackRejected(400, "no Encrypt")
    state.crypto.check(
        msg_signature=query.get("msg_signature", ""),
        timestamp=query.get("timestamp", ""),
        nonce=query.get("nonce", ""),
        encrypted=encrypted,
        now=state.clock().timestamp(),
    )
    outer_to = outer.get("ToUserName")
    if isinstance(outer_to, str) and outer_to and outer_to != state.settings.wecom_corp_id:
        raise CallbackRejected(403, "wrong ToUserName")
    inner = parse_xml(state.crypto.decrypt(encrypted), decrypted=True)
    msg = from_dict(inner)
    if msg.corp_id != state.settings.wecom_corp_id:
        raise CallbackRejected(403, "wrong corp id")
    agent = state.settings.wecom_agent_id
    if agent and msg.agent_id is not None and msg.agent_id != agent:
        raise CallbackRejected(403, "wrong agent id")
    if not msg.userid:
        raise CallbackRejected(400, "no sender")
    return msg


@router.post("/wecom/callback")
async def receive(request: Request) -> Response:
    state = _state(request)
    try:
        body = await read_limited(request, state.settings.callback_max_body)
        msg = decode_callback(state, dict(request.query_params), body)
    except BodyTooLarge:
        return PlainTextResponse("content too large", status_code=413)
    except CallbackRejected as exc:
        return _reject(exc)
    except Exception:  # anything else about WeCom's input is still the input's fault, never a 500
        log.exception("callback could not be decoded")
        return PlainTextResponse("bad request", status_code=400)
    try:
        await state.acceptor.accept(msg)
    except ServiceUnavailable:
        log.error("database unavailable; answering 503 so that WeCom retries")
        return PlainTextResponse("unavailable", status_code=503)
    return Response(status_code=200, content=b"")
