"""The collections ladder: which notices an open instalment is owed today (pure; schedulers/collections.py
claims and sends them). All distances are in working days (Mon–Fri minus `approval.holidays`, plus
`approval.extra_workdays`), and the ladder only acts on working days:

* `remind_before_workdays` (7) working days before the due date, up to the day before → the owner, once per
  due date (and finance, once, when the instalment is not invoiced yet);
* on the due date (or the first working day after it, from which overdue days count) → the owner and finance, the due-day card, once;
* overdue → the owner, once per working day; from `supervisor_after_workdays` (15) → also the supervisor,
  from `director_after_workdays` (30) → also the director, once each per due date;
* a customer's promise date pauses every rung until that day; a settled instalment has no rungs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.config import BusinessConfig
from services.workdays import is_working_day, working_days_between


class Rung(StrEnum):
    BEFORE = "before"
    INVOICE = "invoice"  # finance: due soon and not invoiced
    DUE = "due"
    OVERDUE = "overdue"
    SUPERVISOR = "supervisor"
    DIRECTOR = "director"


def state_of(step: Step) -> str:
    """The instalment's real state for a notice's title and line: 即将到期 before the due date, 今日到期 on it
    (or the first working day after a weekend due date), 逾期N个工作日 after — never 今日到期 for an old one."""
    if step.rung in (Rung.BEFORE, Rung.INVOICE):
        return "即将到期"
    return "今日到期" if step.overdue_days <= 0 else f"逾期{step.overdue_days}个工作日"


@dataclass(frozen=True)
class Step:
    rung: Rung
    occurrence: str  # the natural key of this notice (unique per job run by claim_occurrence)
    overdue_days: int = 0


def steps_for(
    *,
    instalment_id: int,
    due_on: date,
    promised_on: date | None,
    settled: bool,
    needs_invoice: bool,
    today: date,
    config: BusinessConfig,
) -> list[Step]:
    cfg, days = config.collections, config.approval
    if settled or not is_working_day(today, config=days):
        return []
    if promised_on is not None and today < promised_on:
        return []
    base = f"{instalment_id}:{due_on:%Y%m%d}"
    ahead = working_days_between(today, due_on, config=days)
    if ahead > 0:
        if ahead > cfg.remind_before_workdays:
            return []
        out = [Step(Rung.BEFORE, f"before:{base}")]
        if needs_invoice:
            out.append(Step(Rung.INVOICE, f"invoice:{base}"))
        return out
    effective = due_on  # a due date on a weekend or holiday is due on the next working day
    while not is_working_day(effective, config=days):
        effective += timedelta(days=1)
    late = working_days_between(effective, today, config=days)
    out = [Step(Rung.DUE, f"due:{base}", late)]
    if late >= 1:
        out.append(Step(Rung.OVERDUE, f"overdue:{base}:{today:%Y%m%d}", late))
    if late >= cfg.supervisor_after_workdays:
        out.append(Step(Rung.SUPERVISOR, f"supervisor:{base}", late))
    if late >= cfg.director_after_workdays:
        out.append(Step(Rung.DIRECTOR, f"director:{base}", late))
    return out
