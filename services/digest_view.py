"""The managers' digest as data: what `services/digest.build_digests` gathers for one manager and the cards render
(cards/digest_markdown.py, cards/digest_chart.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from services import indicators as ind
from services import lead_digest, receivables
from services.digest_regions import RegionRow


@dataclass
class RepVisits:
    userid: str
    name: str
    visits: int


@dataclass
class StageRow:
    stage: str
    count: int
    amount: Decimal


@dataclass
class DigestView:
    manager_userid: str
    manager_name: str
    scope_label: str
    today: date
    yesterday: date
    visits: list[RepVisits] = field(default_factory=list)  # every rep in scope, most visits first
    new_opportunities: int = 0
    new_opportunity_amount: Decimal = Decimal(0)
    stage_moves: list[tuple[str, int]] = field(default_factory=list)  # (to_stage, count) yesterday
    funnel: list[StageRow] = field(default_factory=list)  # config.stages, open opportunities now
    quotes_pending: int = 0
    oldest_pending_since: datetime | None = None
    quotes_approved: int = 0
    quotes_rejected: int = 0
    overdue: list[tuple[str, int]] = field(default_factory=list)  # (rep name, open reminders past due)
    collections_mtd: Decimal = Decimal(0)
    collections_last_month_same: Decimal = Decimal(0)
    collections_trend: list[tuple[str, Decimal]] = field(
        default_factory=list
    )  # (YYYY-MM, amount), oldest first
    top_reps: list[tuple[str, Decimal]] = field(default_factory=list)
    segments: dict[str, int] = field(default_factory=dict)  # segment (or 潜在) -> count
    new_dormant: list[str] = field(default_factory=list)
    new_dormant_count: int = 0
    indicators: list[ind.Indicator] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # 完成率 lines (cards/targets.digest_target_lines)
    leads: lead_digest.LeadLines = field(default_factory=lead_digest.LeadLines)
    receivables: receivables.ReceivablesView | None = None
    now: datetime | None = None  # local: in the configured zone (Settings.salesbot_timezone)
    live: bool = False  # 日报 今天: today so far instead of yesterday
    regions: list[RegionRow] = field(default_factory=list)  # the whole company's view: regions side by side
    quiet: list[tuple[str, int | None]] = field(
        default_factory=list
    )  # no visit: (name, working days since last)

    @property
    def day_word(self) -> str:
        return "今日" if self.live else "昨日"

    @property
    def reps_without_visits(self) -> list[str]:
        return [r.name for r in self.visits if r.visits == 0]

    @property
    def oldest_wait_hours(self) -> float | None:
        if self.oldest_pending_since is None or self.now is None:
            return None
        return (self.now - self.oldest_pending_since).total_seconds() / 3600
