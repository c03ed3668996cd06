"""Monthly targets (目标) per rep, per region and for the company, and the nudges already sent about them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Metric(StrEnum):
    SIGNED = "signed"
    COLLECTED = "collected"
    NEW_CUSTOMERS = "new_customers"
    VISITS = "visits"


class Level(StrEnum):
    REP = "rep"
    REGION = "region"
    COMPANY = "company"


METRIC_LABELS: dict[Metric, str] = {
    Metric.SIGNED: "签约",
    Metric.COLLECTED: "回款",
    Metric.NEW_CUSTOMERS: "新客户",
    Metric.VISITS: "拜访",
}
MONEY_METRICS = (Metric.SIGNED, Metric.COLLECTED)


class Target(Base):
    """One figure to reach in one month: `level` rep|region|company, `key` the userid or region ('' for the company)."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("level", "key", "month", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(16), comment="rep|region|company")
    key: Mapped[str] = mapped_column(String(64), comment="userid (rep), region name (region), '' (company)")
    month: Mapped[str] = mapped_column(String(7), comment="YYYY-MM", index=True)
    metric: Mapped[str] = mapped_column(String(16), comment="signed|collected|new_customers|visits")
    value: Mapped[Decimal]
    set_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class TargetNudge(Base):
    """A nudge about a target that has been sent; the unique key makes each one happen once."""

    __tablename__ = "target_nudges"
    __table_args__ = (UniqueConstraint("userid", "month", "metric", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), comment="whom the nudge is about")
    month: Mapped[str] = mapped_column(String(7))
    metric: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), comment="passed50|passed100|behind")
    sent_at: Mapped[datetime]
