"""One contract for both dialog stores: the database one (survives a restart) and its in-process twin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chat.dialogs import DialogStore, MemoryDialogStore, SqlDialogStore
from models.db import make_session_factory

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture(params=["sql", "memory"])
def store(request: pytest.FixtureRequest, db) -> Iterator[DialogStore]:
    if request.param == "memory":
        yield MemoryDialogStore()
        return
    _, engine = db
    with make_session_factory(engine)() as session, session.begin():
        yield SqlDialogStore(session)


def test_a_dialog_is_kept_until_it_expires(store: DialogStore) -> None:
    store.set(
        userid="rep_e1",
        state="customer.new",
        data={"name": "华东精密", "ask": ["phone"]},
        now=NOW,
        ttl_minutes=30,
    )
    found = store.get(userid="rep_e1", now=NOW + timedelta(minutes=29))
    assert found is not None and found.state == "customer.new" and found.data["name"] == "华东精密"
    assert store.get(userid="rep_e1", now=NOW + timedelta(minutes=30)) is None


def test_setting_again_replaces_and_extends(store: DialogStore) -> None:
    store.set(userid="rep_e1", state="a", data={"n": 1}, now=NOW)
    store.set(userid="rep_e1", state="b", data={"n": 2}, now=NOW + timedelta(minutes=20))
    found = store.get(userid="rep_e1", now=NOW + timedelta(minutes=45))
    assert found is not None and found.state == "b" and found.data == {"n": 2}


def test_clear_and_users_are_separate(store: DialogStore) -> None:
    store.set(userid="rep_e1", state="a", data={}, now=NOW)
    store.set(userid="rep_e2", state="b", data={}, now=NOW)
    store.clear(userid="rep_e1")
    assert store.get(userid="rep_e1", now=NOW) is None
    found = store.get(userid="rep_e2", now=NOW)
    assert found is not None and found.state == "b"


def test_the_database_store_survives_a_restart(db) -> None:
    _, engine = db
    with make_session_factory(engine)() as session, session.begin():
        SqlDialogStore(session).set(userid="rep_e1", state="customer.new", data={"name": "华东精密"}, now=NOW)
    engine.dispose()  # as if the process had restarted
    with make_session_factory(engine)() as session:
        found = SqlDialogStore(session).get(userid="rep_e1", now=NOW + timedelta(minutes=5))
    assert found is not None and found.data == {"name": "华东精密"}
