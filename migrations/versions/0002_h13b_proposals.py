"""proposals: writes understood from free text, waiting for the sender's 确认

Revision ID: 0002_h13b_proposals
Revises: 0002_h15_photo_retries
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0002_h13b_proposals"
down_revision: str | None = "0002_h15_photo_retries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("userid", sa.String(length=64), nullable=False),
        sa.Column("command", sa.String(length=16), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("followup_args", sa.Text(), nullable=True, comment="a 跟进 offered on the same card"),
        sa.Column(
            "view", sa.JSON(), nullable=False, comment="what the card says (cards.proposal.ProposalView)"
        ),
        sa.Column("source_text", sa.Text(), nullable=False, comment="the message as typed"),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="pending|confirmed|cancelled|edited|failed",
        ),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("decided_at", models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index("ix_proposals_user", ["userid", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_proposals_user")
    op.drop_table("proposals")
