"""Quote approval routing: who approves a quote of this amount by this requester, and in which order.

The chain's roles come from the configuration (`approval.chain_for`); each role is given to a person here. A
销售主管 step goes to the requester's manager when that manager is a 销售主管, else to their region's 销售主管;
a chain that would name the requester routes up past them (audited by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.errors import DomainError
from models import Role, User
from services import roles
from services.config import BusinessConfig


def active_user(session: Session, userid: str | None) -> User | None:
    if not userid:
        return None
    return session.scalar(select(User).where(User.userid == userid.lower(), User.active.is_(True)))


def region_supervisor(session: Session, *, region: str | None, exclude: str | None = None) -> User | None:
    if not region:
        return None
    query = select(User).where(User.role == Role.SUPERVISOR, User.region == region, User.active.is_(True))
    if exclude:
        query = query.where(User.userid != exclude)
    return session.scalar(query.order_by(User.id).limit(1))


def supervisor_of(session: Session, *, user: User) -> User | None:
    """The requester's 销售主管: their manager if that manager is a supervisor, else their region's supervisor."""
    manager = active_user(session, user.manager_userid)
    if manager is not None and manager.role == Role.SUPERVISOR and manager.userid != user.userid:
        return manager
    return region_supervisor(session, region=user.region, exclude=user.userid)


@dataclass(frozen=True)
class RoutedStep:
    role: str
    approver: User
    routed_past_requester: bool = False


def route(session: Session, *, config: BusinessConfig, requester: User, amount: Decimal) -> list[RoutedStep]:
    """The approvers, in order, for a quote of `amount` by `requester` (DomainError names a missing role)."""
    steps: list[RoutedStep] = []
    for role in config.approval.chain_for(amount):
        past = False
        approver: User | None
        if role == Role.SUPERVISOR:
            natural = active_user(session, requester.manager_userid)
            if natural is None or natural.role != Role.SUPERVISOR:
                natural = region_supervisor(session, region=requester.region)
            past = natural is not None and natural.userid == requester.userid or requester.role == role
            approver = supervisor_of(session, user=requester)
            if approver is None and past:
                approver = active_user(session, requester.manager_userid)  # route up past the requester
        else:
            candidates = list(
                session.scalars(
                    select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
                )
            )
            past = any(c.userid == requester.userid for c in candidates)
            others = [c for c in candidates if c.userid != requester.userid]
            approver = others[0] if others else None
            if approver is None and past:
                approver = active_user(session, requester.manager_userid)
        if approver is None or approver.userid == requester.userid:
            label = roles.label(role)
            who = "您本人以外的" if past else ""
            raise DomainError(
                f"找不到{who}「{label}」来审批这份报价，没有提交。请联系管理员在组织架构中设置{label}"
                f"{'（或您的上级）' if role == Role.SUPERVISOR else ''}。"
            )
        steps.append(RoutedStep(role=role, approver=approver, routed_past_requester=past))
    return steps


def quote_stage_of(config: BusinessConfig) -> str:
    for stage in config.stages:
        if any(str(getattr(g, "value", g)) == "quote_request" for g in config.gates.get(stage, [])):
            return stage
    return "报价审批"
