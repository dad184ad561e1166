"""SQLite persistence of the sandbox accounts' workgroups, activities and schedules.

One connection shared by all request threads and guarded by a lock: SQLite serialises writes
anyway, and a single connection keeps `:memory:` databases shared. Records are stored as JSON
objects of exactly the fields the API accepted; the few columns beside them exist for lookups
and for building the summary list without decoding every record.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workgroups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS workgroups_account ON workgroups (account, seq);
CREATE TABLE IF NOT EXISTS activities (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    workgroup_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activities_workgroup ON activities (workgroup_id, seq);
CREATE TABLE IF NOT EXISTS schedules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS schedules_account ON schedules (account, seq);
"""


class Store:
    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:" and not path.startswith("file::memory:"):
            # WAL + NORMAL: durable across a process crash, without an fsync per create.
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The lock held for the whole read-check-write of one request."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def reset(self) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM activities")
            db.execute("DELETE FROM workgroups")
            db.execute("DELETE FROM schedules")

    # --- workgroups ---
    @staticmethod
    def get_workgroup(db: sqlite3.Connection, account: str, wid: str) -> dict[str, Any] | None:
        row = db.execute(
            "SELECT data, active FROM workgroups WHERE id = ? AND account = ?", (wid, account)
        ).fetchone()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row[0])
        data["Active"] = bool(row[1])
        return data

    @staticmethod
    def workgroup_exists(db: sqlite3.Connection, account: str, wid: str) -> bool:
        row = db.execute(
            "SELECT 1 FROM workgroups WHERE id = ? AND account = ?", (wid, account)
        ).fetchone()
        return row is not None

    @staticmethod
    def put_workgroup(db: sqlite3.Connection, account: str, wid: str, data: dict[str, Any]) -> None:
        """Insert or replace the record (data without Active), keeping its list position."""
        args = (str(data["Name"]), str(data["Type"]), json.dumps(data, separators=(",", ":")))
        cur = db.execute(
            "UPDATE workgroups SET name = ?, type = ?, data = ? WHERE id = ? AND account = ?",
            (*args, wid, account),
        )
        if cur.rowcount == 0:
            db.execute(
                "INSERT INTO workgroups (id, account, name, type, data) VALUES (?, ?, ?, ?, ?)",
                (wid, account, *args),
            )

    @staticmethod
    def delete_workgroup(db: sqlite3.Connection, account: str, wid: str) -> bool:
        cur = db.execute("DELETE FROM workgroups WHERE id = ? AND account = ?", (wid, account))
        if cur.rowcount == 0:
            return False
        db.execute("DELETE FROM activities WHERE workgroup_id = ? AND account = ?", (wid, account))
        return True

    @staticmethod
    def list_workgroups(db: sqlite3.Connection, account: str) -> list[tuple[str, str, str, bool]]:
        """(WorkgroupId, Name, Type, Active) in creation order."""
        rows = db.execute(
            "SELECT id, name, type, active FROM workgroups WHERE account = ? ORDER BY seq", (account,)
        ).fetchall()
        return [(r[0], r[1], r[2], bool(r[3])) for r in rows]

    # --- activities ---
    @staticmethod
    def get_activity(db: sqlite3.Connection, account: str, aid: str) -> dict[str, Any] | None:
        row = db.execute(
            "SELECT data FROM activities WHERE id = ? AND account = ?", (aid, account)
        ).fetchone()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row[0])
        return data

    @staticmethod
    def put_activity(db: sqlite3.Connection, account: str, aid: str, data: dict[str, Any]) -> None:
        args = (str(data["WorkgroupId"]), json.dumps(data, separators=(",", ":")))
        cur = db.execute(
            "UPDATE activities SET workgroup_id = ?, data = ? WHERE id = ? AND account = ?",
            (*args, aid, account),
        )
        if cur.rowcount == 0:
            db.execute(
                "INSERT INTO activities (id, account, workgroup_id, data) VALUES (?, ?, ?, ?)",
                (aid, account, *args),
            )

    @staticmethod
    def delete_activity(db: sqlite3.Connection, account: str, aid: str) -> bool:
        cur = db.execute("DELETE FROM activities WHERE id = ? AND account = ?", (aid, account))
        return cur.rowcount > 0

    @staticmethod
    def activities_of(db: sqlite3.Connection, account: str, wid: str) -> list[dict[str, Any]]:
        rows = db.execute(
            "SELECT data FROM activities WHERE workgroup_id = ? AND account = ? ORDER BY seq",
            (wid, account),
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    # --- schedules ---
    @staticmethod
    def put_schedule(db: sqlite3.Connection, account: str, sid: str, data: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO schedules (id, account, data) VALUES (?, ?, ?)",
            (sid, account, json.dumps(data, separators=(",", ":"))),
        )

    @staticmethod
    def list_schedules(db: sqlite3.Connection, account: str) -> list[dict[str, Any]]:
        rows = db.execute(
            "SELECT data FROM schedules WHERE account = ? ORDER BY seq", (account,)
        ).fetchall()
        return [json.loads(r[0]) for r in rows]
