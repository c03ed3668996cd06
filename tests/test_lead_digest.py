"""The digest's 线索 and 公海 lines: new leads by source, accepted / invalid / overdue, the median time to first
contact, and this week's pool recycling / claims / extensions per region — each manager their own region."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from cards.digest_markdown import render_markdown
from models import POOL_OWNER, Customer, User
from services import lead_sla, pool, pool_extension
from services import leads as svc
from services.config import default_config
from services.digest import build_digest
from tests.harness import SHANGHAI, Bot

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def _user(s, userid: str) -> User:
    return s.scalar(select(User).where(User.userid == userid))


def _lead(s, company: str, phone: str, source: str, now: datetime) -> svc.Created:
    return svc.create_lead(
        s,
        config=default_config(),
        data=svc.LeadInput(company=company, contact="王总", phone=phone, source=source),
        actor="sup_east",
        user=None,
        now=now,
    )


def test_digest_lead_and_pool_lines(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        a = _lead(s, "宁波甲厂", "13900000001", "展会", MONDAY).lead
        b = _lead(s, "杭州乙厂", "13900000002", "展会", MONDAY).lead
        _lead(s, "上海丙厂", "13900000003", "官网", MONDAY)
        _lead(s, "广州丁厂", "13900000004", "展会", MONDAY)  # 华南
        rep_a = _user(s, a.assignee_userid)
        done = svc.accept(s, config=config, lead=a, user=rep_a, now=MONDAY + timedelta(hours=1))
        svc.on_visit(
            s,
            config=config,
            customer_id=done.customer.id,
            actor=rep_a.userid,
            now=MONDAY + timedelta(hours=5),
        )
        svc.mark_invalid(
            s, lead=b, user=_user(s, b.assignee_userid), reason="空号", now=MONDAY + timedelta(hours=2)
        )
        lead_sla.due_reminders(s, config=config, now=MONDAY + timedelta(hours=6))  # 上海丙厂 is overdue
        c = Customer(
            name="东方机床",
            name_norm="东方机床",
            region="华东",
            owner_userid="rep_e1",
            custom={},
            owner_since=MONDAY - timedelta(days=40),
            created_at=MONDAY - timedelta(days=40),
            updated_at=MONDAY,
        )
        d = Customer(
            name="西湖电气",
            name_norm="西湖电气",
            region="华东",
            owner_userid=POOL_OWNER,
            custom={},
            pooled_at=MONDAY,
            created_at=MONDAY - timedelta(days=40),
            updated_at=MONDAY,
        )
        s.add_all([c, d])
        s.flush()
        pool.release_due(s, config=config, now=MONDAY + timedelta(hours=7))
        pool.claim(s, config=config, user=_user(s, "rep_e2"), customer=d, now=MONDAY + timedelta(hours=7))
        e = Customer(
            name="南湖仪表",
            name_norm="南湖仪表",
            region="华东",
            owner_userid="rep_e1",
            custom={},
            owner_since=MONDAY,
            created_at=MONDAY,
            updated_at=MONDAY,
        )
        s.add(e)
        s.flush()
        ext, boss = pool_extension.request_extension(
            s, config=config, user=_user(s, "rep_e1"), customer=e, now=MONDAY
        )
        pool_extension.decide_extension(
            s, config=config, ext_id=ext.id, approver=boss, approve=True, now=MONDAY + timedelta(hours=7)
        )
    tuesday = MONDAY + timedelta(days=1)
    with bot.session() as s:
        east = build_digest(s, manager=_user(s, "sup_east"), config=config, now=tuesday, tz=SHANGHAI)
        south = build_digest(s, manager=_user(s, "sup_south"), config=config, now=tuesday, tz=SHANGHAI)
    assert east.leads.new_by_source == {"展会": 2, "官网": 1}
    assert (east.leads.accepted, east.leads.invalid, east.leads.overdue) == (1, 1, 1)
    assert east.leads.first_contact_hours == [5.0]
    assert east.leads.pool["华东"] == pool.WeekStats(released=1, claimed=1, extended=1)
    text = "\n".join(render_markdown(east))
    assert "**线索** 昨日新增 3 条（展会 2、官网 1）" in text
    assert "昨日接单 1，无效 1；超时未接单 1" in text
    assert "首次联系用时（中位数，近30天 1 条）：5小时" in text
    assert "华东 回收1/领取1/延期1" in text
    assert south.leads.new_by_source == {"展会": 1} and "华东" not in south.leads.pool
