"""visit photos are downloaded after the visit's transaction: attempts and the next attempt's time

Revision ID: 0002_h15_photo_retries
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0002_h15_photo_retries"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit_photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", models.base.UTCDateTime(), nullable=True))
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=16),
            comment="pending|saved|failed",
            existing_nullable=False,
        )
        batch_op.create_index("ix_visit_photos_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("visit_photos", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_photos_due")
        batch_op.alter_column(
            "status", existing_type=sa.String(length=16), comment="saved|failed", existing_nullable=False
        )
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
