"""the push ledger (daily budget per person) and reminder/visit fields for issue 14

Revision ID: 0003_h14_pushes
Revises: 0002_h17_inbound_user
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0003_h14_pushes"
down_revision: str | None = "0002_h17_inbound_user"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=512), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False, comment="the recipient's local (Asia/Shanghai) day"),
        sa.Column(
            "slot",
            sa.Integer(),
            nullable=True,
            comment="1..budget when this row's message used the day's budget",
        ),
        sa.Column(
            "kind",
            sa.String(length=32),
            nullable=False,
            comment="approval|reminder|escalation|progress|digest|todo|notice",
        ),
        sa.Column(
            "priority",
            sa.Integer(),
            nullable=False,
            comment="1 approval waiting > 2 overdue follow-up > 3 progress news",
        ),
        sa.Column("status", sa.String(length=16), nullable=False, comment="sent|folded|held|released"),
        sa.Column(
            "line", sa.Text(), nullable=False, comment="the event in one line, for folded messages and 待办"
        ),
        sa.Column(
            "payload",
            sa.JSON(),
            nullable=False,
            comment="{'rows': [[kind, payload], ...]} of the event's own message",
        ),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("released_at", models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pushes")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_pushes_dedup_key")),
        sa.UniqueConstraint("recipient", "day", "slot", name=op.f("uq_pushes_recipient_day_slot")),
    )
    with op.batch_alter_table("pushes", schema=None) as batch_op:
        batch_op.create_index("ix_pushes_recipient_status", ["recipient", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pushes", schema=None) as batch_op:
        batch_op.drop_index("ix_pushes_recipient_status")
    op.drop_table("pushes")
