"""`POST /api/leads`: a web form's leads, authenticated per source, rate-limited, validated, idempotent.

    POST /api/leads
    Authorization: Bearer <the source's token>          (SALESBOT_LEAD_TOKENS = {"官网": "<token>"})
    {"client_key": "form-20261201-0042", "company": "宁波华东精密", "contact": "王总",
     "phone": "13812345678", "note": "想要报价", "address": "...", "industry": "...", "region": "浙江宁波"}

Answers (JSON, Chinese `message` for the form's user):
  201 {"status": "created", "id": 12}       a new lead, assigned; its card goes out with the commit
  200 {"status": "created", "id": 12}       the same client_key again: the first answer, nothing new
  200 {"status": "exists", "message": ...}  already followed (says nothing about who)
  401 bad or missing token · 422 invalid input · 429 over `leads.api_per_minute` for the source
The token selects the source; a body cannot choose another one. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from bot.kv import KVUnavailable
from chat.errors import DomainError
from chat.outbox import enqueue
from models import Lead
from services import leads as lead_service
from services.leadpool_cards import lead_card_for

log = logging.getLogger("salesbot.leads_api")
router = APIRouter()

MAX_BODY = 16 * 1024
_FIELDS = ("company", "contact", "phone", "note", "address", "industry", "region")


def _source_for(token: str, tokens: dict[str, str]) -> str | None:
    found = None
    for source, expected in tokens.items():
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            found = source
    return found


def _answer(code: int, **body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=code)


@router.post("/api/leads")
async def post_lead(request: Request) -> JSONResponse:
    state = request.app.state.salesbot
    tokens: dict[str, str] = state.settings.salesbot_lead_tokens
    if not tokens:
        return _answer(404, status="error", message="未开放")
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    source = _source_for(token, tokens) if token else None
    if source is None:
        return _answer(401, status="error", message="令牌无效")
    now = state.clock()
    try:
        count = state.kv.incr(f"leads-api:{source}:{int(now.timestamp()) // 60}", 120)
    except KVUnavailable:
        count = 0  # the shared counter is down: accept rather than lose leads
    if count > state.config.leads.api_per_minute:
        return _answer(429, status="error", message="提交太频繁，请稍后再试")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _answer(413, status="error", message="内容太长")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return _answer(422, status="error", message="请求体不是 JSON")
    if not isinstance(body, dict) or any(
        k in body and not isinstance(body[k], str | None) for k in (*_FIELDS, "client_key")
    ):
        return _answer(422, status="error", message="字段格式不对：都应是文字")
    client_key = str(body.get("client_key") or request.headers.get("idempotency-key") or "").strip()
    if not client_key or len(client_key) > 128:
        return _answer(422, status="error", message="缺少 client_key（每次提交一个唯一编号，重试时不变）")
    data = lead_service.LeadInput(
        company=body.get("company") or "",
        contact=body.get("contact"),
        phone=body.get("phone"),
        source=source,
        note=body.get("note"),
        address=body.get("address"),
        industry=body.get("industry"),
        region_hint=body.get("region"),
    )
    # Database work off the event loop.
    return await run_in_threadpool(_create, state, data=data, source=source, client_key=client_key, now=now)


def _existing(state: Any, *, source: str, client_key: str) -> JSONResponse | None:
    with state.session_factory() as session:
        lead_id = session.scalar(select(Lead.id).where(Lead.source == source, Lead.client_key == client_key))
    return _answer(200, status="created", id=lead_id) if lead_id is not None else None


def _create(
    state: Any, *, data: lead_service.LeadInput, source: str, client_key: str, now: Any
) -> JSONResponse:
    replay = _existing(state, source=source, client_key=client_key)
    if replay is not None:
        return replay
    try:
        with state.session_factory() as session, session.begin():
            created = lead_service.create_lead(
                session,
                config=state.config,
                data=data,
                actor=f"api:{source}"[:64],
                user=None,
                now=now,
                client_key=client_key,
            )
            lead = created.lead
            if lead.assignee_userid:
                card = lead_card_for(session, lead=lead, now=now)
                enqueue(
                    session,
                    reply=card,
                    recipient=lead.assignee_userid,
                    dedup_key=f"lead-card:{lead.id}:{lead.assign_count}",
                    now=now,
                )
            lead_id = lead.id
    except lead_service.DuplicateLead:
        return _answer(200, status="exists", message=lead_service.FOLLOWED)
    except DomainError as exc:
        return _answer(422, status="error", message=exc.message.split("\n")[0])
    except IntegrityError:  # the same client_key raced in from a retry: the first one won
        replay = _existing(state, source=source, client_key=client_key)
        if replay is not None:
            return replay
        raise
    state.worker.notify()
    log.info("lead %s from api source accepted", lead_id)
    return _answer(201, status="created", id=lead_id)
