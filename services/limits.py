"""Text length limits, read from the model columns, checked before anything is written (issue 16 #10).

On PostgreSQL an over-long value is a DataError that aborts the transaction (the user saw 系统暂时出了点问题,
an import lost its whole batch); SQLite silently stores it. Chat, import and configuration therefore check
the column's own length first and answer in Chinese with the limit.
"""

from __future__ import annotations

from typing import Any

from chat.errors import DomainError

CUSTOM_FIELD_MAX = (
    255  # configured custom fields live in a JSON column; same limit as the longest built-in text
)


def column_limit(column: Any) -> int | None:
    """The declared length of a String column (an InstrumentedAttribute or a Column); None when unbounded."""
    expression = getattr(column, "expression", column)
    return getattr(getattr(expression, "type", None), "length", None)


def too_long(label: str, limit: int, value: str) -> str:
    return f"「{label}」最多 {limit} 个字（收到 {len(value)} 个字），请缩短后重新发送。"


def check_length(value: str, *, column: Any = None, limit: int | None = None, label: str) -> str:
    """`value` unchanged, or DomainError naming the limit."""
    limit = limit if limit is not None else column_limit(column)
    if limit is not None and len(value) > limit:
        raise DomainError(too_long(label, limit, value))
    return value
