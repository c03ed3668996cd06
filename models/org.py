"""People: the org chart imported from CSV/XLSX."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, StrEnumType


class Role(StrEnum):
    REP = "rep"
    SUPERVISOR = "supervisor"
    TECH_LEAD = "tech_lead"
    FINANCE = "finance"
    DIRECTOR = "director"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.REP: "销售",
    Role.SUPERVISOR: "销售主管",
    Role.TECH_LEAD: "技术负责人",
    Role.FINANCE: "财务经理",
    Role.DIRECTOR: "总经理",
    Role.ADMIN: "管理员",
}


def role_labels(roles: Iterable[str]) -> str:
    """Labels joined with 、 in the enum's order (销售 first, 管理员 last); services.roles re-exports it."""
    wanted = {str(r) for r in roles}
    return "、".join(label for role, label in ROLE_LABELS.items() if role.value in wanted)


def norm_userid(userid: str) -> str:
    """WeCom user ids are case-insensitive (its API lower-cases them)."""
    return userid.strip().lower()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), unique=True, comment="normalised (lower-case) userid")
    display_userid: Mapped[str] = mapped_column(String(64), comment="userid as written in the org chart")
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    region: Mapped[str | None] = mapped_column(String(64), index=True)
    manager_userid: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
