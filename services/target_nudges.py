"""Nudges about targets, each sent once: a rep passing 50% and 100% of a monthly target, and — in the month's
last seven days — one note to a supervisor naming the reps whose progress is behind the month's elapsed time.

Each nudge is claimed by inserting a `target_nudges` row (unique per person, month, metric and kind) in the
same transaction as its message, so a rerun, a retry or a second replica never sends it twice. The texts
are encouraging and neutral: no ranking, no warning colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards.targets import fmt, rate_text
from models import Role, Target, TargetNudge, User
from models.db import insert_for
from models.targets import METRIC_LABELS, Level, Metric
from services.config import BusinessConfig
from services.target_months import (
    SHANGHAI,
    add_months,
    elapsed_share,
    month_first,
    month_key,
    working_days_left,
)
from services.targets import progress

LAST_WEEK_DAYS = 7


@dataclass(frozen=True)
class Nudge:
    to: str
    kind: str  # passed50 | passed100 | behind
    metric: str  # a Metric value, or "all"
    month: str
    text: str
    line: str = ""  # the nudge in a few words, for a folded message or 待办

    @property
    def key(self) -> str:
        """The natural dedup key of its message."""
        return f"target:{self.kind}:{self.metric}:{self.to}:{self.month}"


def _claim(session: Session, *, userid: str, month: str, metric: str, kind: str, now: datetime) -> bool:
    row = session.execute(
        insert_for(session)(TargetNudge)
        .values(userid=userid, month=month, metric=metric, kind=kind, sent_at=now)
        .on_conflict_do_nothing(index_elements=["userid", "month", "metric", "kind"])
        .returning(TargetNudge.id)
    ).scalar()
    return row is not None


def in_last_week(now: datetime, month: str) -> bool:
    last_day = add_months(month_first(month), 1) - timedelta(days=1)
    return (last_day - now.astimezone(SHANGHAI).date()).days < LAST_WEEK_DAYS


def due_nudges(session: Session, *, config: BusinessConfig, now: datetime) -> list[Nudge]:
    """Claim and return every nudge due at `now`. Never commits."""
    month = month_key(now.astimezone(SHANGHAI).date())
    out: list[Nudge] = []
    days_left = working_days_left(now, month, config=config)
    rep_targets = session.execute(
        select(Target.key, Target.metric)
        .join(User, User.userid == Target.key)
        .where(Target.level == Level.REP, Target.month == month, User.active, User.role == Role.REP)
        .order_by(Target.key, Target.metric)
    ).all()
    behind: dict[str, list[tuple[str, Metric, float]]] = {}
    elapsed = elapsed_share(now, month)
    for userid, metric_value in rep_targets:
        metric = Metric(metric_value)
        p = progress(
            session, level=Level.REP, key=userid, months=[month], now=now, config=config, metrics=[metric]
        )[0]
        rate = p.rate or 0.0
        label, target = METRIC_LABELS[metric], p.target or Decimal(0)
        figures = f"{fmt(metric, p.done)} / {fmt(metric, target)}（{rate_text(p.rate)}）"
        if rate >= 1.0:
            first = _claim(
                session, userid=userid, month=month, metric=metric.value, kind="passed100", now=now
            )
            _claim(session, userid=userid, month=month, metric=metric.value, kind="passed50", now=now)
            if first:
                out.append(
                    Nudge(
                        userid,
                        "passed100",
                        metric.value,
                        month,
                        f"恭喜！本月{label}目标已达成：{figures}。",
                        f"本月{label}目标已达成（{rate_text(p.rate)}）",
                    )
                )
        elif rate >= 0.5 and _claim(
            session, userid=userid, month=month, metric=metric.value, kind="passed50", now=now
        ):
            rest = f"还剩 {days_left} 个工作日，" if days_left else ""
            out.append(
                Nudge(
                    userid,
                    "passed50",
                    metric.value,
                    month,
                    f"本月{label}目标已完成过半：{figures}。{rest}继续加油！",
                    f"本月{label}目标已过半（{rate_text(p.rate)}）",
                )
            )
        if rate < elapsed and in_last_week(now, month):
            behind.setdefault(userid, []).append((label, metric, rate))
    if behind:
        out += _supervisor_notes(
            session, behind=behind, month=month, elapsed=elapsed, days_left=days_left, now=now
        )
    return out


def _supervisor_notes(
    session: Session,
    *,
    behind: dict[str, list[tuple[str, Metric, float]]],
    month: str,
    elapsed: float,
    days_left: int,
    now: datetime,
) -> list[Nudge]:
    reps = {u.userid: u for u in session.scalars(select(User).where(User.userid.in_(list(behind))))}
    by_region: dict[str, list[str]] = {}
    for userid, items in sorted(behind.items(), key=lambda kv: reps[kv[0]].name):
        parts = "、".join(f"{label} {rate * 100:.0f}%" for label, _, rate in items)
        by_region.setdefault(reps[userid].region or "", []).append(f"{reps[userid].name}（{parts}）")
    out: list[Nudge] = []
    supervisors = session.scalars(
        select(User).where(User.role == Role.SUPERVISOR, User.active, User.region.in_(list(by_region)))
    )
    for sup in supervisors:
        if not _claim(session, userid=sup.userid, month=month, metric="all", kind="behind", now=now):
            continue
        names = "；".join(by_region[sup.region or ""])
        out.append(
            Nudge(
                sup.userid,
                "behind",
                "all",
                month,
                f"本月时间已过 {elapsed * 100:.0f}%，还剩 {days_left} 个工作日。这几位同事的进度还可以一起看看"
                f"商机、帮一把：{names}。发「团队目标」看全部。",
                "月末目标进度：有同事可以帮一把，发「团队目标」查看",
            )
        )
    return out
