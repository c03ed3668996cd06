"""The `salesbot` messages an administrator reads are Chinese: jobs run, --now, outbox list/redrive, SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bot.cli import main, parse_now
from models import OutboxMessage, OutboxStatus
from models.db import upgrade_schema
from services.parsing import SHANGHAI


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("SALESBOT_CONFIG", raising=False)
    return url


def test_unknown_job_is_named_in_chinese(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "run", "reminder"]) == 2
    err = capsys.readouterr().err
    assert (
        "没有名为「reminder」的任务" in err
        and "reminders" in err
        and "例：salesbot jobs run reminders" in err
    )


def test_bad_now_is_explained_in_chinese() -> None:
    with pytest.raises(SystemExit) as info:
        parse_now("明天早上", tz=SHANGHAI)
    message = str(info.value.code)
    assert (
        "--now 的时间看不懂：「明天早上」" in message
        and "2026-11-28T08:45" in message
        and "Asia/Shanghai 时间" in message
    )
    assert parse_now("2026-11-28T08:45", tz=SHANGHAI) == datetime(2026, 11, 28, 0, 45, tzinfo=UTC)


def test_outbox_list_and_redrive_in_chinese(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["outbox", "list"]) == 0
    assert capsys.readouterr().out.strip() == "没有发送失败或已放弃的消息。"
    assert main(["outbox", "redrive"]) == 0
    assert "没有可重发的消息" in capsys.readouterr().out

    engine = create_engine(env)
    upgrade_schema(engine)
    at = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    with Session(engine) as s, s.begin():
        s.add(
            OutboxMessage(
                recipient="rep_e1",
                kind="text",
                payload={"text": {"content": "你好"}},
                status=OutboxStatus.DEAD,
                attempts=8,
                last_errcode=40014,
                dedup_key="cli-test-1",
                created_at=at,
                next_attempt_at=at,
            )
        )
    engine.dispose()
    assert main(["outbox", "list"]) == 0
    out = capsys.readouterr().out
    assert "共 1 条消息没有送达" in out and "salesbot outbox redrive" in out
    line = out.splitlines()[1]
    assert line.startswith("#") and "已放弃" in line and "收件人 rep_e1" in line and "错误码 40014" in line
    assert "已尝试 8 次" in line and "2026-11-27 10:00" in line  # Beijing time
    monkeypatch.setenv("SALESBOT_TIMEZONE", "Europe/Berlin")
    assert main(["outbox", "list"]) == 0
    assert "2026-11-27 03:00" in capsys.readouterr().out.splitlines()[1]  # the configured zone's time
    monkeypatch.delenv("SALESBOT_TIMEZONE")
    assert main(["outbox", "redrive"]) == 0
    assert capsys.readouterr().out.strip() == "已重新排队 1 条消息，稍后会自动发送。"


def test_several_workers_on_sqlite_refused_in_chinese(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", "2"]) == 2
    assert "SQLite 模式只能单进程运行" in capsys.readouterr().err
