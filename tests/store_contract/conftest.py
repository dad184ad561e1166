"""Store fixtures: every contract test runs against the file store and, when
TELEGENT_TEST_PG_DSN is set (`eval "$(bash .ci/postgres.sh)"`), against PostgreSQL
(tests/support/stores.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from telegent_iac.state import FileStateStore, PostgresStateStore, StateStore
from tests.support.stores import StoreFactory, needs_pg, pg_location


@pytest.fixture(params=["file", pytest.param("postgres", marks=[pytest.mark.postgres, needs_pg])])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def location(kind: str, tmp_path: Path) -> str:
    """Where this test's state lives: a file in tmp_path, or a fresh PostgreSQL workspace."""
    if kind == "file":
        return str(tmp_path / "state" / "telegent.state.json")
    return pg_location(f"test-{uuid.uuid4().hex}")


@pytest.fixture
def make_store(location: str) -> Iterator[StoreFactory]:
    """`make_store()` -> a new store instance on this test's state (as a separate run would)."""
    from telegent_iac.state import open_store

    made: list[StateStore] = []

    def make() -> StateStore:
        store = open_store(location)
        made.append(store)
        return store

    yield make
    for store in made:
        if isinstance(store, PostgresStateStore | FileStateStore):
            store.close()
