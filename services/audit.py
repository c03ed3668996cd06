"""Audit trail: who changed what, when; denied attempts too."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from models import AuditEntry


def _plain(value: Any) -> Any:
    """JSON-safe, also inside the [old, new] pairs: Decimal → str, datetime → ISO text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def record(
    session: Session,
    *,
    actor: str,
    entity: str,
    entity_id: int | None,
    action: str,
    now: datetime,
    changes: dict[str, Any] | None = None,
    outcome: str = "ok",
    detail: str | None = None,
    task_id: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        action=action,
        outcome=outcome,
        changes={k: _plain(v) for k, v in (changes or {}).items()},
        detail=detail,
        task_id=task_id,
        at=now,
    )
    session.add(entry)
    return entry


def diff(obj: Any, values: dict[str, Any]) -> dict[str, Any]:
    """{field: [old, new]} for the values that differ; apply them to `obj`."""
    changed: dict[str, Any] = {}
    for key, new in values.items():
        old = getattr(obj, key)
        if old != new:
            changed[key] = [_plain(old), _plain(new)]
            setattr(obj, key, new)
    return changed
