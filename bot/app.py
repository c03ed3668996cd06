"""`create_app(settings)`: the FastAPI app with everything it needs built once and passed in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.crypto import CallbackCrypto
from bot.dispatcher import Dispatcher
from bot.kv import KV, make_kv
from bot.outbox import Deliverer
from bot.photos import PhotoFetcher, media_fetcher
from bot.webhook import WebhookSender
from bot.wecom import WeComClient
from bot.worker import Worker
from chat.settings import Settings
from models.db import make_engine, make_session_factory, upgrade_schema
from services.config import BusinessConfig
from services.config_load import load_config

log = logging.getLogger("salesbot.app")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppState:
    settings: Settings
    config: BusinessConfig
    engine: Engine
    session_factory: sessionmaker[Session]
    kv: KV
    wecom: WeComClient
    crypto: CallbackCrypto
    dispatcher: Dispatcher
    deliverer: Deliverer
    worker: Worker
    photos: PhotoFetcher
    clock: Callable[[], datetime]
    acceptor: Any = None
    scheduler: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


def build_state(
    settings: Settings,
    *,
    config: BusinessConfig | None = None,
    clock: Callable[[], datetime] = utc_now,
    engine: Engine | None = None,
    wecom_transport: httpx.BaseTransport | None = None,
    kv: KV | None = None,
    migrate: bool = True,
) -> AppState:
    settings.require_wecom_secrets()
    from handlers import build_routes

    config = config or load_config(settings.salesbot_config)
    engine = engine or make_engine(settings.database_url)
    if migrate:
        upgrade_schema(engine)
    session_factory = make_session_factory(engine)
    kv = kv or make_kv(settings.redis_url)
    wecom = WeComClient(settings, kv, transport=wecom_transport)
    deliverer = Deliverer(
        session_factory=session_factory,
        client=wecom,
        max_attempts=settings.outbox_max_attempts,
        per_member_per_minute=settings.outbox_per_member_per_minute,
        webhook=WebhookSender(secret=settings.salesbot_webhook_secret),
    )
    wake: list[Callable[[], None]] = []

    def wake_all_inbound() -> None:
        for notify in wake_inbound:
            notify()

    def wake_all() -> None:
        for notify in wake:
            notify()

    photo_fetcher = PhotoFetcher(
        session_factory=session_factory,
        fetch_media=media_fetcher(wecom),
        media_dir=settings.salesbot_media_dir,
        clock=clock,
        on_committed=wake_all,
    )
    services: dict[str, Any] = {
        "wecom": wecom,
        "session_factory": session_factory,
        "kv": kv,
        "photos": photo_fetcher,
    }
    if settings.salesbot_llm_base_url and settings.salesbot_llm_model:
        # Imported only when configured: the engine's dictionaries (pypinyin) would otherwise slow every start-up.
        from services.understanding import ModelClient

        model = ModelClient.from_settings(settings)
        if model is not None:  # asked before each message's transaction, only when the rules cannot decide
            services["understand_model"] = model
    wake_inbound: list[Callable[[], None]] = []
    dispatcher = Dispatcher(
        session_factory=session_factory,
        settings=settings,
        config=config,
        routes=build_routes(),
        clock=clock,
        services=services,
        on_committed=wake_all,
        on_accepted=wake_all_inbound,
    )
    worker = Worker(dispatcher=dispatcher, deliverer=deliverer, clock=clock)
    wake.append(worker.notify)
    wake_inbound.append(worker.notify_inbound)
    crypto = CallbackCrypto(
        token=settings.wecom_token,
        aes_key=settings.wecom_aes_key,
        corp_id=settings.wecom_corp_id,
        window_s=settings.callback_timestamp_window,
    )
    from bot.accept import BatcherPerLoop

    acceptor = BatcherPerLoop(dispatcher)
    worker.busy = lambda: acceptor.inflight > 0
    return AppState(
        acceptor=acceptor,
        settings=settings,
        config=config,
        engine=engine,
        session_factory=session_factory,
        kv=kv,
        wecom=wecom,
        crypto=crypto,
        dispatcher=dispatcher,
        deliverer=deliverer,
        worker=worker,
        photos=photo_fetcher,
        clock=clock,
    )


def create_app(
    settings: Settings,
    *,
    state: AppState | None = None,
    run_worker: bool = True,
    run_scheduler: bool = False,
    fast_accept: bool = False,
    **state_kwargs: Any,
) -> FastAPI:
    """Fails closed: without token, AES key or corp id this raises `MissingSecrets` naming what is missing.

    `fast_accept`: on PostgreSQL, write accepted callbacks on an async connection (for `serve`).
    """
    state = state or build_state(settings, **state_kwargs)
    state.acceptor.pg_fast_path = fast_accept

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_worker:
            state.worker.start()
            state.photos.start()
        if run_scheduler:
            from schedulers import start_scheduler

            state.scheduler = start_scheduler(state)
        try:
            yield
        finally:
            if state.scheduler is not None:
                state.scheduler.shutdown(wait=False)
            state.worker.stop()
            state.photos.stop()

    app = FastAPI(title="SalesBot", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.salesbot = state

    from bot.callback import router as callback_router

    app.include_router(callback_router)
    from bot.leads_api import router as leads_router

    app.include_router(leads_router)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        status: dict[str, str] = {}
        try:
            with state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            status["database"] = "ok"
        except Exception:
            status["database"] = "down"
        if settings.redis_url:
            try:
                status["redis"] = "ok" if state.kv.ping() else "down"
            except Exception:
                status["redis"] = "down"
        else:
            status["redis"] = "not configured"
        # Redis down degrades (in-process fallbacks take over) but does not make the replica unhealthy.
        overall = "ok" if status["database"] == "ok" and status["redis"] != "down" else "degraded"
        return JSONResponse(
            {"status": overall, **status}, status_code=200 if status["database"] == "ok" else 503
        )

    return app
