"""The PostgreSQL store keeps a header row and a row per workgroup: a write touches only the
rows that changed, and a state in the earlier one-document layout is moved into rows."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from telegent_iac.state import PostgresStateStore, State, StateError
from telegent_iac.state.records import FORMAT_VERSION, WorkgroupState
from tests.support.stores import PG_DSN, needs_pg

pytestmark = [pytest.mark.postgres, needs_pg]


def store() -> PostgresStateStore:
    return PostgresStateStore(PG_DSN, f"rows-{uuid.uuid4().hex}")


def query(s: PostgresStateStore, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(s.dsn, autocommit=True) as conn:
        return list(conn.execute(sql, args).fetchall())


def versions(s: PostgresStateStore) -> dict[str, str]:
    """address -> xmin: the transaction that last wrote the row."""
    rows = query(s, "SELECT address, xmin::text FROM telegent_state_workgroup WHERE workspace = %s", s.workspace)
    return {a: x for a, x in rows}


def test_a_write_touches_only_the_rows_that_changed() -> None:
    s = store()
    state = State.new()
    state.workgroups = {f"wg-{i}": WorkgroupState(id=f"WID-{i}", fields={"Name": f"N{i}"}) for i in range(50)}
    s.write(state)
    before = versions(s)
    assert len(before) == 50
    state.workgroups["wg-7"].id = "WID-7b"
    state.workgroups["wg-new"] = WorkgroupState(fields={"Name": "new"})
    del state.workgroups["wg-9"]
    s.write(state, changed={"wg-7", "wg-new", "wg-9"})
    after = versions(s)
    assert set(after) == set(before) - {"wg-9"} | {"wg-new"}
    assert {a for a in after if after[a] != before.get(a)} == {"wg-7", "wg-new"}
    # Without a hint every row is compared, and still only a differing one is written.
    state.workgroups["wg-3"].fields["Name"] = "renamed"
    s.write(state)
    again = versions(s)
    assert {a for a in again if again[a] != after[a]} == {"wg-3"}
    fresh = PostgresStateStore(PG_DSN, s.workspace).read()
    assert fresh is not None and fresh.to_dict() == state.to_dict()
    header = query(s, "SELECT serial, layout FROM telegent_state WHERE workspace = %s", s.workspace)
    assert header == [(3, "rows")]


def test_a_one_document_state_is_moved_into_rows_on_first_open() -> None:
    from psycopg.types.json import Jsonb

    s = store()
    s.read()  # creates the tables
    legacy = State.new()
    legacy.serial = 12
    legacy.workgroups = {"a": WorkgroupState(id="1", fields={"Name": "A"}), "b": WorkgroupState(id="2")}
    query(s, "INSERT INTO telegent_state (workspace, lineage, serial, format_version, body)"
          " VALUES (%s, %s, %s, %s, %s) RETURNING workspace",
          s.workspace, legacy.lineage, 12, FORMAT_VERSION, Jsonb(legacy.to_dict()))
    got = PostgresStateStore(PG_DSN, s.workspace).read()
    assert got is not None and got.to_dict() == legacy.to_dict()
    header = query(s, "SELECT serial, lineage, layout, body FROM telegent_state WHERE workspace = %s", s.workspace)
    assert header[0][:3] == (12, legacy.lineage, "rows")
    # An earlier telegent-iac reads only the body: it is told to upgrade, never shown an empty state.
    with pytest.raises(StateError, match="newer than this telegent-iac understands"):
        State.from_dict(header[0][3])
    assert set(versions(s)) == {"a", "b"}
    writer = PostgresStateStore(PG_DSN, s.workspace)
    state = writer.read()
    assert state is not None
    state.workgroups["a"].id = "1b"
    writer.write(state, changed={"a"})
    assert writer.backups()[0][0] == 12  # the backup is the whole state as it was
    backup = query(s, "SELECT body FROM telegent_state_backup WHERE workspace = %s", s.workspace)[0][0]
    assert State.from_dict(backup).to_dict() == legacy.to_dict()
