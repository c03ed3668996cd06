"""`jobs run pool` (early every morning): release the customers whose time has come (one message per owner),
then the countdown cards — at most one a day per owner — for those going within `warn_working_days`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cards.pool import released_text
from chat.replies import Text
from models import User
from schedulers.base import JobEnv
from schedulers.lead_pushes import push
from services import pool
from services.leadpool_cards import at_risk, countdown_card_for
from services.parsing import SHANGHAI


def tick(env: JobEnv, now: datetime) -> tuple[int, int]:
    """(customers released, countdown cards)."""
    config = env.config
    if not config.pool.enabled:
        return 0, 0
    day = now.astimezone(SHANGHAI).date().isoformat()
    with env.session_factory() as session, session.begin():
        released = pool.release_due(session, config=config, now=now)
        for owner, dues in released.items():
            if owner:
                text = released_text(
                    [d.customer.name for d in dues], block_days=config.pool.reclaim_block_days
                )
                push(
                    session,
                    reply=Text(text),
                    to=owner,
                    key=f"pool-released:{owner}:{day}",
                    line=f"{len(dues)} 个客户已回收到公海",
                    followup=False,
                    now=now,
                    tz=env.settings.tz,
                    config=config,
                )
        warned = pool.countdown(pool.scan(session, config=config, now=now), config=config, now=now)
        users = {
            u.userid: u
            for u in session.scalars(select(User).where(User.userid.in_(list(warned)), User.active.is_(True)))
        }
        cards = 0
        for owner, dues in warned.items():
            user = users.get(owner)
            if user is None:
                continue
            card = countdown_card_for(
                session, owner=user, items=at_risk(dues, now=now, config=config), now=now
            )
            cards += push(
                session,
                reply=card,
                to=owner,
                key=f"pool-countdown:{owner}:{day}",
                line=f"{len(dues)} 个客户即将回收到公海",
                followup=True,
                now=now,
                tz=env.settings.tz,
                config=config,
            )
    return sum(len(d) for d in released.values()), cards


def run(env: JobEnv, now: datetime) -> str:
    released, cards = tick(env, now)
    return f"pool: {released} released, {cards} countdown cards"
