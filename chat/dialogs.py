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

    def set(
        self, *, userid: str, state: str, data: dict[str, Any], now: datetime, ttl_minutes: int = 30
    ) -> None: ...

    def clear(self, *, userid: str) -> None: ...


class SqlDialogStore:
    """`known`: rows already loaded in this session (None: the user has no dialog), so a worker that read
    a batch's senders with their dialogs in one query does not read each again."""

    def __init__(self, session: Session, *, known: dict[str, Dialog | None] | None = None) -> None:
        self.session = session
        self.known = dict(known or {})

    def _row(self, userid: str) -> Dialog | None:
        if userid in self.known:
            return self.known[userid]
        row = self.session.scalar(select(Dialog).where(Dialog.userid == userid))
        self.known[userid] = row
        return row

    def get(self, *, userid: str, now: datetime) -> DialogState | None:
        row = self._row(userid)
        if row is None or row.expires_at <= now:
            return None
        return DialogState(row.state, dict(row.data or {}))

    def set(
        self, *, userid: str, state: str, data: dict[str, Any], now: datetime, ttl_minutes: int = 30
    ) -> None:
        row = self._row(userid)
        expires = now + timedelta(minutes=ttl_minutes)
        if row is None:
            row = Dialog(userid=userid, state=state, data=dict(data), expires_at=expires)
            self.session.add(row)
            self.known[userid] = row
        else:
            row.state, row.data, row.expires_at = state, dict(data), expires
        self.session.flush()

    def clear(self, *, userid: str) -> None:
        self.session.execute(delete(Dialog).where(Dialog.userid == userid))
        self.known[userid] = None


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

    def set(
        self, *, userid: str, state: str, data: dict[str, Any], now: datetime, ttl_minutes: int = 30
    ) -> None:
        with self._lock:
            self._rows[userid] = (DialogState(state, dict(data)), now + timedelta(minutes=ttl_minutes))

    def clear(self, *, userid: str) -> None:
        with self._lock:
            self._rows.pop(userid, None)
