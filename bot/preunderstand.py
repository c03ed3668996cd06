"""The optional model, asked outside the message's transaction.

A message that will reach the understanding step (text, no open dialog, not an exact command) is read first with
the embedded rules in a short read-only session; only when the rules end at UNKNOWN is the model endpoint asked,
with no session and no transaction open (on SQLite a transaction holding the write lock for the model's seconds
would delay every callback's INSERT, i.e. WeCom's ack). The result rides along to the handler
(`services["understood"]`), which uses it for that exact text instead of asking again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chat.dialogs import SqlDialogStore
from chat.handle import normalize_command_text, split_command
from chat.inbound import Inbound
from chat.router import RouteTable
from models import User, norm_userid
from services.config import BusinessConfig

log = logging.getLogger("salesbot.understand")


def understand_early(
    session_factory: sessionmaker[Session],
    msg: Inbound,
    *,
    now: datetime,
    tz: ZoneInfo,
    routes: RouteTable,
    config: BusinessConfig,
    model: Any,
) -> tuple[str, Any] | None:
    """(text, Understanding) for a message bound for the understanding step, else None. Never raises."""
    if msg.kind != "text":
        return None
    try:
        from services.understanding import Intent, understand_rules

        text = normalize_command_text(msg.content)
        with session_factory() as session:
            user = session.scalar(
                select(User).where(User.userid == norm_userid(msg.userid), User.active.is_(True))
            )
            if user is None or SqlDialogStore(session).get(userid=user.userid, now=now) is not None:
                return None
            command, _ = split_command(text, routes.command_words())
            if command in routes.command_words():
                return None
            found, lexicon = understand_rules(session, user=user, text=text, now=now, tz=tz, config=config)
            session.expunge(user)
        if found.intent is not Intent.UNKNOWN:
            return text, found
        return text, model.refine(found, text=text, lexicon=lexicon, user=user, now=now, tz=tz, config=config)
    except Exception:  # the handler then reads the message with the rules alone, as without a model
        log.exception("understanding before the transaction failed")
        return None
