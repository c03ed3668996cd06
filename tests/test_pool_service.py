"""The pool (公海): recycling rules, the countdown, a follow-up resetting the clock, extensions, claiming limits."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from chat.errors import DomainError, NotFound
from models import (
    POOL_OWNER,
    Contract,
    Customer,
    Opportunity,
    Payment,
    Quote,
    QuoteStatus,
    Reminder,
    ReminderStatus,
    User,
    Visit,
)
from services import pool, pool_extension
from services.config import BusinessConfig, default_config
from services.leadpool_config import PoolConfig
from services.scope import can_see_customer
from tests.harness import SHANGHAI, Bot

T0 = datetime(2026, 9, 1, 10, 0, tzinfo=SHANGHAI)  # a Tuesday


def _user(s, userid: str) -> User:
    return s.scalar(select(User).where(User.userid == userid))


def _customer(
    s, name: str, owner: str = "rep_e1", region: str = "华东", segment: str | None = None
) -> Customer:
    c = Customer(
        name=name,
        name_norm=name,
        region=region,
        owner_userid=owner,
        contact="王总",
        phone="13900001111",
        segment=segment,
        custom={},
        owner_since=T0,
        created_at=T0,
        updated_at=T0,
    )
    s.add(c)
    s.flush()
    return c


def _config(**values: object) -> BusinessConfig:
    base = default_config()
    return base.model_copy(update={"pool": PoolConfig(**{**base.pool.model_dump(), **values})})


def _due(s, config: BusinessConfig, customer: Customer, now: datetime) -> datetime | None:
    return next(
        (d.release_at for d in pool.scan(s, config=config, now=now) if d.customer.id == customer.id), None
    )


def test_days_without_followup_per_segment(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        star = _customer(s, "明星甲", segment="明星")
        stable = _customer(s, "稳定乙", segment="稳定")
        prospect = _customer(s, "潜在丙")
        assert _due(s, config, star, T0) == T0 + timedelta(days=30)
        assert _due(s, config, stable, T0) == T0 + timedelta(days=60)
        assert _due(s, config, prospect, T0) == T0 + timedelta(days=30)


def test_followup_resets_the_clock(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        c = _customer(s, "华东精密")
        visit_at = T0 + timedelta(days=20)
        s.add(Visit(customer_id=c.id, userid="rep_e1", summary="回访", visited_at=visit_at))
        assert _due(s, config, c, visit_at) == visit_at + timedelta(days=30)
        done_at = T0 + timedelta(days=40)
        s.add(
            Reminder(
                owner_userid="rep_e1",
                customer_id=c.id,
                title="电话",
                due_at=done_at,
                status=ReminderStatus.DONE,
                completed_at=done_at,
                created_at=T0,
            )
        )
        assert _due(s, config, c, done_at) == done_at + timedelta(days=30)


def test_no_opportunity_rule_when_configured(bot: Bot) -> None:
    config = _config(days_without_followup={"潜在": None}, days_without_opportunity={"潜在": 10})
    with bot.session() as s, s.begin():
        c = _customer(s, "华东精密")
        assert _due(s, config, c, T0) == T0 + timedelta(days=10)
        s.add(
            Opportunity(
                customer_id=c.id,
                name="一期",
                stage="线索分配",
                owner_userid="rep_e1",
                created_at=T0 + timedelta(days=5),
                updated_at=T0,
            )
        )
        assert _due(s, config, c, T0) == T0 + timedelta(days=15)


def test_never_while_quote_pending_or_payment_due(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        quoted, owing, paid = _customer(s, "报价中"), _customer(s, "欠款中"), _customer(s, "已结清")
        opp = Opportunity(
            customer_id=quoted.id,
            name="一期",
            stage="报价审批",
            owner_userid="rep_e1",
            created_at=T0,
            updated_at=T0,
        )
        s.add(opp)
        s.flush()
        s.add(
            Quote(
                opportunity_id=opp.id,
                amount=Decimal(1000),
                requester_userid="rep_e1",
                status=QuoteStatus.PENDING,
                created_at=T0,
            )
        )
        for c in (owing, paid):
            contract = Contract(customer_id=c.id, amount=Decimal(1000), signed_at=T0, signed_by="rep_e1")
            s.add(contract)
            s.flush()
            s.add(
                Payment(
                    contract_id=contract.id,
                    customer_id=c.id,
                    amount=Decimal(400 if c is owing else 1000),
                    received_at=T0,
                    recorded_by="fin",
                )
            )
        s.flush()
        later = T0 + timedelta(days=100)
        released = pool.release_due(s, config=config, now=later)
        assert [d.customer.name for d in released["rep_e1"]] == ["已结清"]
        assert quoted.owner_userid == owing.owner_userid == "rep_e1"


def test_countdown_three_working_days_before(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        c = _customer(s, "华东精密")  # due T0 + 30 days = Thu 2026-10-01 (国庆 not configured here)
        due = T0 + timedelta(days=30)
        assert (
            pool.countdown(
                pool.scan(s, config=config, now=due - timedelta(days=4)),
                config=config,
                now=due - timedelta(days=4),
            )
            == {}
        )
        warned = pool.countdown(
            pool.scan(s, config=config, now=due - timedelta(days=3)),
            config=config,
            now=due - timedelta(days=3),
        )
        assert [d.customer.id for d in warned["rep_e1"]] == [c.id]


def test_release_history_stays_and_scope_moves(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        c = _customer(s, "华东精密")
        s.add(Visit(customer_id=c.id, userid="rep_e1", summary="首访", visited_at=T0))
        s.add(
            Reminder(
                owner_userid="rep_e1",
                customer_id=c.id,
                title="再访",
                due_at=T0 + timedelta(days=90),
                status=ReminderStatus.OPEN,
                created_at=T0,
            )
        )
        s.flush()
        released = pool.release_due(s, config=config, now=T0 + timedelta(days=31))
        assert [d.customer.id for d in released["rep_e1"]] == [c.id]
        assert c.owner_userid == POOL_OWNER and c.pooled_at is not None
        assert not can_see_customer(s, user=_user(s, "rep_e1"), customer_id=c.id)
        assert s.scalar(select(Reminder.status).where(Reminder.customer_id == c.id)) == "cancelled"
        rep2 = _user(s, "rep_e2")
        pool.claim(s, config=config, user=rep2, customer=c, now=T0 + timedelta(days=32))
        assert can_see_customer(s, user=rep2, customer_id=c.id)
        assert s.scalar(select(Visit.summary).where(Visit.customer_id == c.id)) == "首访"


def test_list_pool_own_region_without_contact(bot: Bot) -> None:
    with bot.session() as s, s.begin():
        east = _customer(s, "华东精密", owner=POOL_OWNER)
        _customer(s, "华南电气", owner=POOL_OWNER, region="华南")
        rows, total = pool.list_pool(s, user=_user(s, "rep_e1"))
        assert total == 1 and rows[0].id == east.id
        assert not hasattr(rows[0], "phone") and not hasattr(rows[0], "contact")
        with pytest.raises(NotFound):
            pool.resolve_pool_customer(s, user=_user(s, "rep_e1"), keyword="华南电气")


def test_claim_limits_and_reclaim_block(bot: Bot) -> None:
    config = _config(daily_claims=2, max_holding=3)
    with bot.session() as s, s.begin():
        rep = _user(s, "rep_e1")
        items = [_customer(s, f"公海{i}", owner=POOL_OWNER) for i in range(4)]
        now = T0
        pool.claim(s, config=config, user=rep, customer=items[0], now=now)
        pool.claim(s, config=config, user=rep, customer=items[1], now=now)
        with pytest.raises(DomainError, match="每日上限"):
            pool.claim(s, config=config, user=rep, customer=items[2], now=now)
        tomorrow = now + timedelta(days=1)
        pool.claim(s, config=config, user=rep, customer=items[2], now=tomorrow)
        with pytest.raises(DomainError, match="持有上限"):
            pool.claim(s, config=config, user=rep, customer=items[3], now=tomorrow + timedelta(days=1))
        pool_extension.return_to_pool(s, user=rep, customer=items[0], reason="暂无需求", now=tomorrow)
        with pytest.raises(DomainError, match="7 天内不能再领取"):
            pool.claim(s, config=config, user=rep, customer=items[0], now=tomorrow + timedelta(days=6))
        pool.claim(s, config=config, user=rep, customer=items[0], now=tomorrow + timedelta(days=8))
        assert items[0].owner_userid == "rep_e1"
        with pytest.raises(DomainError, match="只有销售"):
            pool.claim(s, config=config, user=_user(s, "sup_east"), customer=items[3], now=tomorrow)


def test_extension_approval_and_quarter_limit(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        c = _customer(s, "华东精密")
        rep, boss = _user(s, "rep_e1"), _user(s, "sup_east")
        now = T0 + timedelta(days=28)
        ext, approver = pool_extension.request_extension(s, config=config, user=rep, customer=c, now=now)
        assert approver.userid == "sup_east"
        with pytest.raises(DomainError, match="已在等主管审批"):
            pool_extension.request_extension(s, config=config, user=rep, customer=c, now=now)
        with pytest.raises(NotFound):
            pool_extension.decide_extension(
                s, config=config, ext_id=ext.id, approver=_user(s, "sup_south"), approve=True, now=now
            )
        pool_extension.decide_extension(s, config=config, ext_id=ext.id, approver=boss, approve=True, now=now)
        assert _due(s, config, c, now) == T0 + timedelta(days=37)
        assert pool.release_due(s, config=config, now=T0 + timedelta(days=31)) == {}
        second, _ = pool_extension.request_extension(s, config=config, user=rep, customer=c, now=now)
        pool_extension.decide_extension(
            s, config=config, ext_id=second.id, approver=boss, approve=False, now=now
        )
        third, _ = pool_extension.request_extension(s, config=config, user=rep, customer=c, now=now)
        pool_extension.decide_extension(
            s, config=config, ext_id=third.id, approver=boss, approve=True, now=now
        )
        with pytest.raises(DomainError, match="本季度已申请延期 2 次"):
            pool_extension.request_extension(s, config=config, user=rep, customer=c, now=now)
        next_quarter = datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI)
        pool_extension.request_extension(s, config=config, user=rep, customer=c, now=next_quarter)
