"""visits.flag_note: the rep's one-tap explanation of a location flag (issue 14)

Revision ID: 0004_h14_visit_flag_note
Revises: 0003_h14_pushes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_h14_visit_flag_note"
down_revision: str | None = "0003_h14_pushes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "flag_note",
                sa.String(length=255),
                nullable=True,
                comment="the rep's explanation of a location flag",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_column("flag_note")
