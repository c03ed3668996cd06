"""Status columns: the same plain strings in the database, enum members in the code, and no schema drift."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from models import Base, Reminder, ReminderStatus

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_the_migrated_schema_is_what_the_models_declare(db: tuple[str, Engine]) -> None:
    """Typing a status column as its enum changes no column: the migrations still describe the models."""
    _, engine = db
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []


def test_a_status_is_stored_as_its_plain_string_and_read_back_as_the_member(db: tuple[str, Engine]) -> None:
    _, engine = db
    with Session(engine) as s, s.begin():
        s.add(Reminder(owner_userid="rep_a", title="回访", due_at=NOW, created_at=NOW))
    with Session(engine) as s:
        assert s.scalar(text("SELECT status FROM reminders")) == "open"  # the default, as stored before
        reminder = s.scalars(select(Reminder)).one()
        assert type(reminder.status) is ReminderStatus and reminder.status is ReminderStatus.OPEN
        # Rows written as plain strings (raw SQL, an older release) read back as members too.
        s.execute(text("UPDATE reminders SET status = 'done'"))
        assert s.scalar(select(Reminder.status)) is ReminderStatus.DONE


def test_a_misspelt_status_in_a_query_fails_instead_of_matching_nothing(db: tuple[str, Engine]) -> None:
    _, engine = db
    with Session(engine) as s, pytest.raises(StatementError, match="'opne' is not a valid ReminderStatus"):
        s.scalars(select(Reminder).where(Reminder.status == "opne")).all()
