"""The targets' calendar and words: a target month typed in chat or a sheet (`parse_month`), a metric's Chinese
names (`parse_metric`), the month keys and quarters, the month's bounds in Asia/Shanghai, how much of it has
passed and the working days left.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from cards.targets import Progress, fmt  # noqa: F401  (fmt is re-exported for handlers)
from chat.errors import DomainError
from models.targets import METRIC_LABELS, MONEY_METRICS, Metric
from services.config import BusinessConfig
from services.parsing import normalize_text
from services.workdays import is_working_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
_METRIC_WORDS: dict[str, Metric] = {
    "签约": Metric.SIGNED,
    "签单": Metric.SIGNED,
    "合同": Metric.SIGNED,
    "销售额": Metric.SIGNED,
    "signed": Metric.SIGNED,
    "回款": Metric.COLLECTED,
    "收款": Metric.COLLECTED,
    "collected": Metric.COLLECTED,
    "新客户": Metric.NEW_CUSTOMERS,
    "新增客户": Metric.NEW_CUSTOMERS,
    "new_customers": Metric.NEW_CUSTOMERS,
    "拜访": Metric.VISITS,
    "拜访量": Metric.VISITS,
    "visits": Metric.VISITS,
}
MAX_TARGET = Decimal("999999999999")
_MONTH_ISO = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_MONTH_ONLY = re.compile(r"^(\d{1,2})\s*月(?:份)?$")


def parse_metric(text: str) -> Metric:
    metric = _METRIC_WORDS.get(normalize_text(text).lower())
    if metric is None:
        raise DomainError(f"看不懂指标「{text}」：可写 签约、回款、新客户 或 拜访。")
    return metric


def parse_month(text: str, *, today: date) -> str:
    """'YYYY-MM' from 2026-12, 2026年12月, 12月 (the nearest such month), 本月, 下月."""
    raw = normalize_text(text).replace(" ", "")
    if raw in ("本月", "这个月", "当月"):
        return month_key(today)
    if raw in ("下月", "下个月"):
        return month_key(add_months(today.replace(day=1), 1))
    if m := _MONTH_ISO.match(raw):
        year, month = int(m[1]), int(m[2])
    elif m := _MONTH_ONLY.match(raw):
        month = int(m[1])
        # The nearest such month: 2月 said in December is next February, 11月 is last month.
        year = min(
            (today.year - 1, today.year, today.year + 1),
            key=lambda y: (abs((y - today.year) * 12 + month - today.month), -y),
        )
    else:
        raise DomainError(f"看不懂月份「{text}」：例如 12月、2026-12、本月、下月。")
    if not 1 <= month <= 12:
        raise DomainError(f"月份不对：{text}（1 到 12 月）。")
    return f"{year:04d}-{month:02d}"


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_first(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_months(key: str) -> list[str]:
    first = month_first(key)
    start = date(first.year, (first.month - 1) // 3 * 3 + 1, 1)
    return [month_key(add_months(start, i)) for i in range(3)]


def check_value(metric: Metric, value: Decimal) -> Decimal:
    if value <= 0 or value > MAX_TARGET:
        raise DomainError("目标必须大于 0。")
    if metric not in MONEY_METRICS and value != value.to_integral_value():
        raise DomainError(f"{METRIC_LABELS[metric]}目标是个数，请写整数。")
    return value.quantize(Decimal("0.01"))


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def month_bounds(key: str) -> tuple[datetime, datetime]:
    first = month_first(key)
    return local_midnight(first), local_midnight(add_months(first, 1))


def elapsed_share(now: datetime, key: str) -> float:
    """How much of the month has passed at `now` (0..1), by calendar time."""
    start, end = month_bounds(key)
    return min(max((now - start) / (end - start), 0.0), 1.0)


def working_days_left(now: datetime, key: str, *, config: BusinessConfig) -> int:
    today = now.astimezone(SHANGHAI).date()
    first = month_first(key)
    last = add_months(first, 1) - timedelta(days=1)
    day, count = max(today, first), 0
    while day <= last:
        count += is_working_day(day, config=config.approval)
        day += timedelta(days=1)
    return count
