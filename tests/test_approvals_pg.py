"""[PG] Concurrent taps on two replicas: exactly one transition per step (reliability.md E34)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from chat.replies import Card, UpdateCard
from models import ApprovalStep, AuditEntry, Quote, QuoteStatus, StepStatus, User
from models.db import make_session_factory
from services import approval_decisions, approval_request
from services.config import BusinessConfig
from tests.approvals_factory import make_opportunity
from tests.harness import seed_org

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
CFG = BusinessConfig()


def _setup(engine: Engine) -> tuple[Any, int, str]:
    factory = make_session_factory(engine)
    with factory() as s, s.begin():
        seed_org(s)
        s.flush()
        opp = make_opportunity(s)
        rep = s.scalar(select(User).where(User.userid == "rep_e1"))
        result = approval_request.request_quote(
            s, config=CFG, requester=rep, opportunity=opp, amount=Decimal(80000), note=None, now=NOW
        )
        quote_id = result.quote.id
        task_id = s.scalar(
            select(ApprovalStep.task_id).where(ApprovalStep.quote_id == quote_id, ApprovalStep.seq == 1)
        )
    return factory, quote_id, str(task_id)  # random, not q{quote}s1 (issue 16 #12)


def _race(factory: Any, actions: list[Any]) -> list[list[Any]]:
    barrier = threading.Barrier(len(actions))
    results: list[list[Any]] = [[] for _ in actions]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            with factory() as s, s.begin():
                actor = s.scalar(select(User).where(User.userid == "sup_east"))
                barrier.wait()
                results[i] = actions[i](s, actor)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


def test_concurrent_double_tap_one_transition(pg_db: tuple[str, Engine]) -> None:
    factory, quote_id, task = _setup(pg_db[1])

    def tap(code: str) -> Any:
        return lambda s, actor: approval_decisions.approve(
            s, config=CFG, actor=actor, task_id=task, response_code=code, now=NOW
        )

    results = _race(factory, [tap("c1"), tap("c2")])
    with factory() as s:
        steps = s.scalars(
            select(ApprovalStep).where(ApprovalStep.quote_id == quote_id).order_by(ApprovalStep.seq)
        ).all()
        assert [st.status for st in steps] == ["approved", "pending", "waiting"]
        ok = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "approve", AuditEntry.outcome == "ok")
        ).all()
        assert len(ok) == 1
    winners = [r for r in results if any(isinstance(x, Card) and x.to == "tech" for x in r)]
    assert len(winners) == 1  # one next card (the requester hears at the end, not per step)
    losers = [r for r in results if r not in winners]
    assert isinstance(losers[0][0], UpdateCard) and losers[0][0].card["replace_text"] in ("已同意", "已处理")
    codes = [x.response_code for r in results for x in r if isinstance(x, UpdateCard)]
    assert sorted(codes) == ["c1", "c2"]  # each click's own code, once


def test_concurrent_approve_and_reject(pg_db: tuple[str, Engine]) -> None:
    factory, quote_id, task = _setup(pg_db[1])
    data = approval_decisions.RejectData(task_id=task, response_code="c2")
    results = _race(
        factory,
        [
            lambda s, actor: approval_decisions.approve(
                s, config=CFG, actor=actor, task_id=task, response_code="c1", now=NOW
            ),
            lambda s, actor: approval_decisions.finish_reject(
                s, config=CFG, actor=actor, data=data, reason="太贵", now=NOW
            ),
        ],
    )
    with factory() as s:
        step = s.scalar(select(ApprovalStep).where(ApprovalStep.quote_id == quote_id, ApprovalStep.seq == 1))
        quote = s.get(Quote, quote_id)
        assert step.status in ("approved", "rejected")
        assert (quote.status == QuoteStatus.REJECTED) == (step.status == StepStatus.REJECTED)
    assert all(results)
