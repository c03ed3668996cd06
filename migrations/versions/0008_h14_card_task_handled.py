"""card_tasks.handled_at: a one-shot card's first tap (已协助 on an escalation), so a second tap changes nothing

Revision ID: 0008_h14_card_task_handled
Revises: 0007_h19_collections
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0008_h14_card_task_handled"
down_revision: str | None = "0007_h19_collections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("card_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "handled_at",
                models.base.UTCDateTime(),
                nullable=True,
                comment="a one-shot card's first tap (已协助); null while open",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("card_tasks", schema=None) as batch_op:
        batch_op.drop_column("handled_at")
