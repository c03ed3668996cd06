"""`salesbot demo`: build the bot on a data directory with the stand-in WeCom API and the seeded company,
mount the simulator, and serve it."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bot.app import build_state, create_app
from bot.kv import MemoryKV
from bot.singleton import acquire_sqlite_lock
from demo.fake_wecom import FakeWeCom
from demo.seed import is_seeded, seed_demo
from demo.simulator import (
    DEMO_AGENT_ID,
    DEMO_CORP_ID,
    DEMO_SECRET,
    DEMO_SEED,
    DemoRuntime,
    demo_settings,
    mount_demo,
)

log = logging.getLogger("salesbot.demo")


def build_demo(
    data_dir: Path, *, reset: bool = False, now: datetime | None = None, run_worker: bool = True
) -> tuple[FastAPI, Any]:
    """The demo app on `data_dir` (created, and seeded on first start or with `reset`)."""
    if reset and data_dir.exists():
        for name in ("salesbot.db", "salesbot.db-wal", "salesbot.db-shm", "conversation.json", "demo.json"):
            (data_dir / name).unlink(missing_ok=True)
        shutil.rmtree(data_dir / "wecom-media", ignore_errors=True)
        shutil.rmtree(data_dir / "media", ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(data_dir)
    fake = FakeWeCom(
        corp_id=DEMO_CORP_ID, agent_id=DEMO_AGENT_ID, secret=DEMO_SECRET, per_member_per_minute=None
    )
    runtime = DemoRuntime(fake=fake, data_dir=data_dir)
    runtime.load()
    state = build_state(settings, wecom_transport=fake.transport(), kv=MemoryKV())
    state.extras["fake_wecom"] = fake
    state.extras["demo"] = runtime
    with state.session_factory() as session, session.begin():
        if not is_seeded(session):
            summary = seed_demo(session, config=state.config, now=now or datetime.now(UTC), seed=DEMO_SEED)
            (data_dir / "demo.json").write_text(
                json.dumps(summary.__dict__, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            log.info("seeded the demo company: %s", summary.line())
    state.deliverer.drain(now=state.clock())  # the seeded approval cards reach their approvers
    runtime.save()
    app = create_app(settings, state=state, run_worker=run_worker, run_scheduler=False)
    mount_demo(app, state)
    return app, state


def run_demo(
    *, port: int = 8000, host: str = "127.0.0.1", data_dir: Path = Path("./data/demo"), reset: bool = False
) -> int:
    import uvicorn  # the server, only when the demo is run from the command line

    data_dir = Path(data_dir)
    app, state = build_demo(data_dir, reset=reset)
    if not acquire_sqlite_lock(state.settings.database_url):
        print(f"another salesbot process already uses {data_dir}; stop it or pick another --data-dir.")
        return 2
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    print(
        f"销售助手 SalesBot demo — open http://{shown}:{port}/sim in your browser (data: {data_dir.resolve()})"
    )
    print("Ctrl+C stops it; `salesbot demo --reset` starts again from the seeded company.")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    return 0
