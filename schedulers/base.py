"""What every job shares: the environment it runs in and the once-per-occurrence claim."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from models import JobOccurrence
from models.db import insert_for

if TYPE_CHECKING:
    from chat.settings import Settings
    from services.config import BusinessConfig


class JobEnv(Protocol):
    settings: Settings
    config: BusinessConfig
    session_factory: sessionmaker[Session]
    deliverer: Any


JobFn = Callable[[JobEnv, datetime], str]


def claim_occurrence(session: Session, *, job: str, occurrence: str, now: datetime) -> bool:
    """Mark one scheduled occurrence done; True only for the caller whose insert made the mark.

    The unique (job, occurrence) row is what makes "once per day" hold across reruns and replicas.
    """
    insert = insert_for(session)
    inserted = session.execute(
        insert(JobOccurrence)
        .values(job=job, occurrence=occurrence, created_at=now)
        .on_conflict_do_nothing(index_elements=["job", "occurrence"])
        .returning(JobOccurrence.id)
    ).scalar()
    return inserted is not None  # rowcount is -1 on PostgreSQL for ON CONFLICT DO NOTHING
