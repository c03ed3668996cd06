"""Dialog state for multi-step conversations: expiring rows, so a dialog survives a restart.

Two implementations of one interface (database and in-process) are held to one contract test.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import Dialog


@dataclass(frozen=True)
class DialogState:
    state: str
    data: dict[str, Any] = field(default_factory=dict)


class DialogStore(Protocol):
    def get(self, *, userid: str, now: datetime) -> DialogState | None: ...

    def set(self, *, userid: str, state: str, data: dict[str, Any], now: datetime, ttl_minutes: int = 30) -> None: ...

    def clear(self, *, userid: str) -> None: ...


class SqlDialogStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, *, userid: str, now: datetime) -> DialogState | None:
        row = self.session.scalar(select(Dialog).where(Dialog.userid == userid))
        if row is None or row.expires_at <= now:
            return None
        return DialogState(row.state, dict(row.data or {}))

    def set(self, *, userid: str, state: str, data: dict[str, Any], now: datetime, ttl_minutes: int = 30) -> None:
        row = self.session.scalar(select(Dialog).where(Dialog.userid == userid))
        expires = now + timedelta(minutes=ttl_minutes)
        if row is None:
            self.session.add(Dialog(userid=userid, state=state, data=dict(data), expires_at=expires))
        else:
            row.state, row.data, row.expires_at = state, dict(data), expires
        self.session.flush()

    def clear(self, *, userid: str) -> None:
        self.session.execute(delete(Dialog).where(Dialog.userid == userid))


class MemoryDialogStore:
    def __init__(self) -> None:
        self._rows: dict[str, tuple[DialogState, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, *, userid: str, now: datetime) -> DialogState | None:
        with self._lock:
            found = self._rows.get(userid)
        if found is None or found[1] <= now:
            return None
        return found[0]

    def set(self, *, userid: str, state: str, data: dict[str, Any], now: datetime, ttl_minutes: int = 30) -> None:
        with self._lock:
            self._rows[userid] = (DialogState(state, dict(data)), now + timedelta(minutes=ttl_minutes))

    def clear(self, *, userid: str) -> None:
        with self._lock:
            self._rows.pop(userid, None)
