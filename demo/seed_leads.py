"""The demo company's leads and pool (called at the end of demo/seed.py's `seed_demo`).

Leads come in through `services.leads.create_lead` (so the rules assign them) from the last two weeks'
trade show and web form: some accepted (with their customer and opportunity), some marked invalid, and two
waiting on the demo rep — whose lead card is enqueued, like the seeded approval cards. Each region's pool
holds a few customers released by their old owners; two of the demo rep's customers are days away from the
pool, so the countdown card is enqueued for them too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.outbox import enqueue
from models import Customer, User
from services import leads, pool
from services.config import BusinessConfig
from services.leadpool_cards import at_risk, countdown_card_for, lead_card_for
from services.leadpool_config import LeadRule
from services.parsing import SHANGHAI, normalize_name

LEAD_COMPANIES = (
    ("宁波海天精工", "王总", "展会", "要一台五轴加工中心的报价"),
    ("苏州汇川传动", "李经理", "展会", "关注节能改造"),
    ("杭州中控自动化", "陈工", "官网", "询问 KX-350 交期"),
    ("无锡先导装备", "赵总", "展会", "下月来厂参观"),
    ("常州星宇车灯", "周经理", "转介绍", "老客户介绍，二期产线"),
    ("合肥江淮重工", "孙工", "官网", "要技术方案"),
    ("广州白云电器", "黄总", "展会", "想要报价"),
    ("深圳大族激光", "吴经理", "官网", "样机试用"),
    ("北京京城机电", "郑工", "电话", "设备更新"),
)


@dataclass
class LeadSummary:
    leads: int = 0
    pool: int = 0
    countdown: int = 0


def seed_leads(
    session: Session, *, config: BusinessConfig, now: datetime, rng: random.Random, demo_rep: User
) -> LeadSummary:
    out = LeadSummary()
    # An industry rule, as a company would configure it: the demo rep takes 机械 leads of their region first.
    rule = LeadRule(region=demo_rep.region or "华东", industry="机械", reps=[demo_rep.userid])
    ruled = config.model_copy(update={"leads": config.leads.model_copy(update={"rules": [rule]})})
    for i, (company, contact, source, note) in enumerate(LEAD_COMPANIES):
        when = now - timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 6))
        phone = f"139{rng.randint(10_000_000, 99_999_999)}"
        mine = i < 2  # waiting on the demo rep (by the rule above): their lead card is in the chat
        data = leads.LeadInput(
            company=company,
            contact=contact,
            phone=phone,
            source=source,
            note=note,
            industry="机械" if mine else None,
        )
        try:
            created = leads.create_lead(
                session,
                config=ruled if mine else config,
                data=data,
                actor="import",
                user=None,
                now=now - timedelta(hours=1) if mine else when,
            )
        except leads.DuplicateLead:
            continue
        lead = created.lead
        out.leads += 1
        if mine:
            enqueue(
                session,
                reply=lead_card_for(session, lead=lead, now=now),
                recipient=demo_rep.userid,
                dedup_key=f"lead-card:{lead.id}:{lead.assign_count}",
                now=now,
            )
        elif created.assignee is not None and i % 3 == 0:
            leads.mark_invalid(
                session, lead=lead, user=created.assignee, reason="空号", now=when + timedelta(hours=3)
            )
        elif created.assignee is not None:
            leads.accept(
                session, config=config, lead=lead, user=created.assignee, now=when + timedelta(hours=2)
            )

    # Each region's pool: a few customers without a pending quote, released by their old owners.
    everyone = list(session.scalars(select(Customer).order_by(Customer.id)))
    blocked = pool.blocked_ids(session, [c.id for c in everyone])
    candidates = [
        c for c in everyone if c.owner_userid != demo_rep.userid and c.id not in blocked and c.region
    ]
    by_region: dict[str, list[Customer]] = {}
    for c in candidates:
        by_region.setdefault(c.region or "", []).append(c)
    for customers in by_region.values():
        for c in rng.sample(customers, k=min(4, len(customers))):
            pool.release(
                session,
                customer=c,
                actor="pool",
                reason=f"{config.pool.followup_days(c.segment)}天无跟进",
                now=now - timedelta(days=rng.randint(1, 20)),
            )
            out.pool += 1

    # Two of the demo rep's customers are two days from the pool: the countdown card.
    for name in ("东海精密机械", "瑞安液压设备"):
        since = now - timedelta(days=(config.pool.followup_days(None) or 30) - 2)
        session.add(
            Customer(
                name=name,
                name_norm=normalize_name(name),
                industry="机械",
                region=demo_rep.region,
                contact="钱经理",
                phone=f"137{rng.randint(10_000_000, 99_999_999)}",
                custom={},
                owner_userid=demo_rep.userid,
                owner_since=since,
                created_at=since,
                updated_at=since,
            )
        )
    session.flush()
    dues = pool.countdown(
        pool.scan(session, config=config, now=now, owner=demo_rep.userid), config=config, now=now
    )
    going = dues.get(demo_rep.userid, [])
    if going:
        card = countdown_card_for(
            session, owner=demo_rep, items=at_risk(going, now=now, config=config), now=now
        )
        day = now.astimezone(SHANGHAI).date().isoformat()
        enqueue(
            session,
            reply=card,
            recipient=demo_rep.userid,
            dedup_key=f"pool-countdown:{demo_rep.userid}:{day}",
            now=now,
        )
        out.countdown = len(going)
    return out
