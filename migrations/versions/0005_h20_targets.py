"""targets and target nudges

Revision ID: 0005_h20_targets
Revises: 0004_h14_visit_flag_note
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0005_h20_targets"
down_revision: str | None = "0004_h14_visit_flag_note"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False, comment="rep|region|company"),
        sa.Column(
            "key",
            sa.String(length=64),
            nullable=False,
            comment="userid (rep), region name (region), '' (company)",
        ),
        sa.Column("month", sa.String(length=7), nullable=False, comment="YYYY-MM"),
        sa.Column(
            "metric", sa.String(length=16), nullable=False, comment="signed|collected|new_customers|visits"
        ),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        sa.UniqueConstraint(
            "level", "key", "month", "metric", name=op.f("uq_targets_level_key_month_metric")
        ),
    )
    op.create_index(op.f("ix_targets_month"), "targets", ["month"], unique=False)
    op.create_table(
        "target_nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("userid", sa.String(length=64), nullable=False, comment="whom the nudge is about"),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="passed50|passed100|behind"),
        sa.Column("sent_at", models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_nudges")),
        sa.UniqueConstraint(
            "userid", "month", "metric", "kind", name=op.f("uq_target_nudges_userid_month_metric_kind")
        ),
    )


def downgrade() -> None:
    op.drop_table("target_nudges")
    op.drop_index(op.f("ix_targets_month"), table_name="targets")
    op.drop_table("targets")
