"""Delivery milestones (实施交付): `交付 #合同 发货|安装|验收 [日期]`.

A day today or earlier records the milestone as reached, which fixes the due dates of the instalments that
wait on it (services/plans.refresh_due_dates). A later day records it as planned, and the owner gets a
follow-up (an ordinary reminder, source "milestone") on the next morning after the planned day, so a
milestone not reached by then is on their 待办; recording it as reached cancels that follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.errors import DomainError
from models import Contract, Milestone, Reminder, ReminderStatus, User
from services import audit, plans, roles
from services.config import BusinessConfig
from services.parsing import SHANGHAI

KINDS = ("发货", "安装", "验收")


@dataclass
class MilestoneResult:
    milestone: Milestone
    reached: bool
    fixed: list[plans.Instalment] = field(default_factory=list)  # instalments whose due date it fixed
    reminder: Reminder | None = None


def check_may_record(*, user: User, owner: str) -> None:
    if user.role not in roles.MANAGERS and user.userid != owner:
        raise DomainError("交付节点由合同负责人或销售主管登记。")


def record_milestone(
    session: Session,
    *,
    config: BusinessConfig,
    user: User,
    contract: Contract,
    kind: str,
    day: date | None,
    now: datetime,
) -> MilestoneResult:
    if kind not in KINDS:
        raise DomainError(f"交付节点只有：{'、'.join(KINDS)}。")
    owner = plans.owner_of(session, contract=contract)
    check_may_record(user=user, owner=owner)
    today = plans.local_day(now)
    day = day or today
    if day < plans.local_day(contract.signed_at):
        raise DomainError(
            f"{kind}日期 {day:%Y-%m-%d} 早于签约日 {plans.local_day(contract.signed_at):%Y-%m-%d}。"
        )
    milestone = session.scalar(
        select(Milestone).where(Milestone.contract_id == contract.id, Milestone.kind == kind)
    )
    if milestone is None:
        milestone = Milestone(contract_id=contract.id, kind=kind, recorded_by=user.userid, updated_at=now)
        session.add(milestone)
    reached = day <= today
    before = {"planned_on": milestone.planned_on, "reached_on": milestone.reached_on}
    result = MilestoneResult(milestone=milestone, reached=reached)
    old_reminder = session.get(Reminder, milestone.reminder_id) if milestone.reminder_id else None
    if old_reminder is not None and old_reminder.status == ReminderStatus.OPEN:
        old_reminder.status = ReminderStatus.CANCELLED
    milestone.reminder_id = None
    if reached:
        milestone.reached_on = day
    else:
        milestone.planned_on, milestone.reached_on = day, None
        follow_up = datetime.combine(day + timedelta(days=1), config.reminders.default_time, tzinfo=SHANGHAI)
        reminder = Reminder(
            owner_userid=owner,
            customer_id=contract.customer_id,
            opportunity_id=contract.opportunity_id,
            title=f"合同 #{contract.id} 的「{kind}」计划 {day:%m-%d} 完成，完成后发送：交付 #{contract.id} {kind}",
            due_at=follow_up,
            status=ReminderStatus.OPEN,
            source="milestone",
            created_at=now,
        )
        session.add(reminder)
        session.flush()
        milestone.reminder_id = reminder.id
        result.reminder = reminder
    milestone.recorded_by, milestone.updated_at = user.userid, now
    session.flush()
    result.fixed = plans.refresh_due_dates(session, contract=contract)
    audit.record(
        session,
        actor=user.userid,
        entity="milestone",
        entity_id=milestone.id,
        action="reached" if reached else "planned",
        now=now,
        changes={
            k: [
                v.isoformat() if v else None,
                getattr(milestone, k).isoformat() if getattr(milestone, k) else None,
            ]
            for k, v in before.items()
        },
        detail=f"contract {contract.id} {kind}",
    )
    return result
