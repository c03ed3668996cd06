"""Proposed writes: stored until their sender decides, decided exactly once (a conditional UPDATE).

A proposal holds the command line the bot will run on 确认 (`拜访 #12 纪要…`), so the write goes through the
very handler and services an exact command uses: one set of rules. No WeCom here; never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from models import Proposal, ProposalStatus

# A card left untouched this long is stale: 确认 then says so and writes nothing. A working day: what was said
# this morning can still be confirmed this afternoon; tomorrow the rep says it again (its 明天 was today's).
TTL = timedelta(hours=8)
DECIDED_LABELS: dict[str, str] = {
    ProposalStatus.CONFIRMED: "已确认",
    ProposalStatus.CANCELLED: "已取消",
    ProposalStatus.EDITED: "已修改",
    ProposalStatus.FAILED: "未能保存",
    ProposalStatus.EXPIRED: "已过期",
}


@dataclass(frozen=True)
class Draft:
    command: str
    args: str
    followup_args: str | None = None


def create(
    session: Session, *, userid: str, draft: Draft, view: dict[str, object], source_text: str, now: datetime
) -> Proposal:
    """Store a pending proposal; an older pending one of the same sender for the same command on the same record
    (`拜访 #12 …`, said again) is superseded: it expires now, and its 确认 answers 这张卡片已过期."""
    session.execute(
        update(Proposal)
        .where(
            Proposal.userid == userid,
            Proposal.status == ProposalStatus.PENDING,
            Proposal.command == draft.command,
            Proposal.args.like(f"{_record_of(draft.args)} %") | (Proposal.args == _record_of(draft.args)),
        )
        .values(status=ProposalStatus.EXPIRED, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    proposal = Proposal(
        userid=userid,
        command=draft.command,
        args=draft.args,
        followup_args=draft.followup_args,
        view=dict(view),
        source_text=source_text[:2000],
        status=ProposalStatus.PENDING,
        created_at=now,
        expires_at=now + TTL,
    )
    session.add(proposal)
    session.flush()
    return proposal


def _record_of(args: str) -> str:
    """The record a command line acts on: its first argument (`#12` of `拜访 #12 吴工说…`)."""
    return args.split(" ", 1)[0]


def cancel_open(session: Session, *, userid: str, now: datetime) -> list[Proposal]:
    """Typed 取消: every pending, unexpired proposal of `userid` is cancelled (the same one-way move as a tap on
    取消); returns them, so their cards can be updated."""
    rows = list(
        session.scalars(
            select(Proposal).where(
                Proposal.userid == userid,
                Proposal.status == ProposalStatus.PENDING,
                Proposal.expires_at > now,
            )
        )
    )
    return [
        p
        for p in rows
        if decide(session, proposal=p, userid=userid, status=ProposalStatus.CANCELLED, now=now)
    ]


def load(session: Session, *, proposal_id: int) -> Proposal | None:
    return session.scalar(
        select(Proposal).where(Proposal.id == proposal_id).execution_options(populate_existing=True)
    )


def decide(
    session: Session, *, proposal: Proposal, userid: str, status: ProposalStatus, now: datetime
) -> bool:
    """Move a pending, unexpired proposal of `userid` to `status`; False when someone (a second tap) already
    decided it or it has expired. The caller then shows the recorded outcome and changes nothing."""
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Proposal)
            .where(
                Proposal.id == proposal.id,
                Proposal.userid == userid,
                Proposal.status == ProposalStatus.PENDING,
                Proposal.expires_at > now,
            )
            .values(status=status, decided_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    session.refresh(proposal)
    return result.rowcount == 1


def settle(session: Session, *, proposal: Proposal, status: ProposalStatus) -> None:
    """After a claimed 确认 whose command was refused: record that it did not save (still used up)."""
    proposal.status = status
    session.flush()


def is_expired(proposal: Proposal, *, now: datetime) -> bool:
    """Past its TTL while still pending, or superseded (status `expired`, set by `create`)."""
    return proposal.status == ProposalStatus.EXPIRED or (
        proposal.status == ProposalStatus.PENDING and proposal.expires_at <= now
    )
