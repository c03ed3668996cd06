"""The free-form corpus (../shared/corpus/free-form.yaml, or $SALESBOT_CORPUS): every message through
understand() as its sender, scored against `expect`; at least 90% must be understood."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.config import default_config
from services.parsing import SHANGHAI
from services.understanding import Intent, understand
from tests.understanding_world import check, seed_world, substitute

CORPUS = Path(
    os.environ.get("SALESBOT_CORPUS", Path(__file__).resolve().parents[2] / "shared/corpus/free-form.yaml")
)
if not CORPUS.exists():
    CORPUS = Path("/work/shared/corpus/free-form.yaml")


def _load() -> dict[str, Any]:
    if not CORPUS.exists():
        pytest.skip(f"corpus not found: {CORPUS}")
    return yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


def test_corpus_is_understood(db: tuple[str, Engine], capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _load()
    config = default_config()
    _, engine = db
    with Session(engine) as session:
        world = seed_world(session, corpus["world"], config=config)
        session.commit()
        results = []
        for item in corpus["messages"]:
            text = substitute(str(item["text"]), world)
            expecting = Intent.REJECT if "驳回" in str(item.get("context", "")) else None
            found = understand(
                session,
                user=world.users[item["who"]],
                text=text,
                now=world.today,
                config=config,
                expecting=expecting,
                tz=SHANGHAI,
            )
            results.append((item, text, found, check(found, item, world, session=session)))
    passed = sum(1 for *_, problems in results if not problems)
    score = passed / len(results)
    with capsys.disabled():
        print(f"\nunderstanding corpus: {passed}/{len(results)} = {score:.0%}")
        for item, text, _found, problems in results:
            if problems:
                print(f"  MISS {item['who']}: {text}\n       {'; '.join(problems)}")
    assert score >= 0.9


def test_no_write_is_understood_as_a_question_and_scope_hides_names(db: tuple[str, Engine]) -> None:
    """A rep asking about another rep's customer gets nothing resolved, by name, contact or pinyin."""
    corpus = _load()
    config = default_config()
    _, engine = db
    with Session(engine) as session:
        world = seed_world(session, corpus["world"], config=config)
        rep = world.users["zhanghua"]
        for text in (
            "粤丰的电话多少",
            "恒通最近谁在跟",
            "客户 hengtong",
            "孙经理电话",
            "客户 扬州恒通物流设备有限公司",
        ):
            found = understand(session, user=rep, text=text, now=world.today, config=config, tz=SHANGHAI)
            assert found.customer_ids == () and found.contact is None, text
        boss = world.users["boss"]
        found = understand(
            session, user=boss, text="孙经理电话多少", now=world.today, config=config, tz=SHANGHAI
        )
        assert found.customer_ids == (world.customers["扬州恒通物流设备有限公司"],)
