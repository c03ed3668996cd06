"""inbound: partial index (userid, id) over received rows, for the per-user-order claim

Revision ID: 0002_h17_inbound_user
Revises: 0002_h13b_proposals
Create Date: 2026-12-01 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_h17_inbound_user"
down_revision: str | None = "0002_h13b_proposals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # bot/inbox.py: "no earlier received message of this user" is one probe of this index per candidate.
    op.create_index(
        "ix_inbound_received_user",
        "inbound_events",
        ["userid", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'received'"),
        sqlite_where=sa.text("status = 'received'"),
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_received_user", table_name="inbound_events")
