"""A store's named lock (`Store.locked`): what guards work outside the store's own
transactions, such as a token's refresh, across every thread and process using the
store (on PostgreSQL an advisory lock every replica sees; on SQLite a file lock beside
the store)."""

from __future__ import annotations

import threading

import pytest

from openmodels.errors import StoreError
from storage import open_store
from storage.store import store_at
from tests.builders import waits_for_lock

NAME = "token refresh /T2"


def test_a_held_lock_keeps_another_holder_waiting_until_it_is_let_go(tmp_store):
    # Another Store object for the same location: its own connection or file handle,
    # as another process has.
    other = store_at(tmp_store.location)
    happened: list[str] = []

    def second() -> None:
        with other.locked(NAME):
            happened.append("second holds it")

    with tmp_store.locked(NAME):
        waiting = threading.Thread(target=second)
        waiting.start()
        assert waits_for_lock(tmp_store)
        happened.append("first lets go")
    waiting.join(timeout=30)

    assert happened == ["first lets go", "second holds it"]


def test_a_block_that_fails_lets_the_lock_go(tmp_store):
    with pytest.raises(RuntimeError), tmp_store.locked(NAME):
        raise RuntimeError("the refresh failed")

    with store_at(tmp_store.location).locked(NAME):  # taken at once, not waited for
        pass


def test_on_postgresql_other_names_are_not_held_up(postgresql_store):
    # Two workspaces' refreshes run side by side on PostgreSQL.
    with postgresql_store.locked(NAME), store_at(postgresql_store.location).locked("other"):
        assert not waits_for_lock(postgresql_store, within=0)


def test_the_read_only_sample_takes_no_lock(tmp_path):
    from openmodels.locate import sample_store_path

    sample = open_store(sample_store_path(), sample=True)

    with pytest.raises(StoreError, match="read-only"), sample.locked(NAME):
        pass
