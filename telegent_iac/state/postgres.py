"""The state in PostgreSQL, shared by many pipelines on many runners (issue 8).

Tables (created on first use when missing; one row set per *workspace*, so one database can
hold the states of several environments):
  telegent_state         the header: workspace PK, lineage, serial, format_version, layout,
                         body jsonb, updated_at
  telegent_state_workgroup  one row per workgroup: workspace, address, body jsonb (the
                         workgroup's record as in the state file)
  telegent_state_backup  the state as it was before each store instance's first write (the
                         `.backup` of the file store); the newest BACKUPS_KEPT per workspace
  telegent_lock_info     who holds the run lock (for the "locked by" message and force-unlock)
  telegent_audit         the audit log, one jsonb record per mutating call

A write touches only the workgroup rows that changed and bumps the header's serial, in one
transaction whose UPDATE of the header is the compare-and-set: O(change) WAL per call. A state
kept in the earlier layout (`layout = 'document'`: the whole state in the header's body) is
moved into rows the first time it is opened, keeping its lineage and serial.

The run lock is a session-level advisory lock held on a dedicated connection for the whole
run: PostgreSQL releases it when that connection ends, so a killed job never leaves it stuck.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import random
import re
import threading
import time
from collections.abc import Collection, Iterator
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from telegent_iac.state.audit import scrub
from telegent_iac.state.file import compact_json
from telegent_iac.state.records import FORMAT_VERSION, AccountBinding, ScheduleState, State, StateError, WorkgroupState
from telegent_iac.state.store import LockError, LockInfo

log = logging.getLogger(__name__)

BACKUPS_KEPT = 10
LOCK_CHECK_INTERVAL = 0.5  # seconds between checks that the lock's session is still alive

_SCHEMA = """
CREATE TABLE IF NOT EXISTS telegent_state (
    workspace text PRIMARY KEY,
    lineage text NOT NULL,
    serial bigint NOT NULL,
    format_version integer NOT NULL,
    body jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE telegent_state ADD COLUMN IF NOT EXISTS layout text NOT NULL DEFAULT 'document';
CREATE TABLE IF NOT EXISTS telegent_state_workgroup (
    workspace text NOT NULL,
    address text NOT NULL,
    body jsonb NOT NULL,
    PRIMARY KEY (workspace, address)
);
CREATE TABLE IF NOT EXISTS telegent_state_backup (
    id bigserial PRIMARY KEY,
    workspace text NOT NULL,
    lineage text NOT NULL,
    serial bigint NOT NULL,
    format_version integer NOT NULL,
    body jsonb NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS telegent_state_backup_workspace ON telegent_state_backup (workspace, id);
CREATE TABLE IF NOT EXISTS telegent_lock_info (
    workspace text PRIMARY KEY,
    lock_id text NOT NULL,
    pid integer NOT NULL,
    host text NOT NULL,
    holder_user text NOT NULL,
    operation text NOT NULL,
    created text NOT NULL,
    backend_pid integer NOT NULL
);
CREATE TABLE IF NOT EXISTS telegent_audit (
    id bigserial PRIMARY KEY,
    workspace text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    record jsonb NOT NULL
);
"""
_TABLES = (
    "telegent_state", "telegent_state_workgroup", "telegent_state_backup", "telegent_lock_info", "telegent_audit"
)
ROWS = "rows"
# The header's body in the rows layout. Earlier telegent-iac versions read only the body:
# this makes them refuse the state ("newer format, upgrade") instead of seeing it empty.
_ROWS_BODY = {"format_version": FORMAT_VERSION + 1, "layout": ROWS}


def _header_body(state: State) -> dict[str, Any]:
    """The header's body in the rows layout: the guard above, the state's account and its
    schedules (a handful: they need no rows of their own)."""
    body = dict(_ROWS_BODY)
    if state.account is not None:
        body["account"] = state.account.to_dict()
    if state.schedules:
        body["schedules"] = {a: s.to_dict() for a, s in sorted(state.schedules.items())}
    return body
# Serialises concurrent first-time schema creation (CREATE TABLE IF NOT EXISTS is not safe
# against itself running at the same moment in two sessions).
_SCHEMA_LOCK_KEY = 0x7E1E6E47_00000001


def _psycopg() -> ModuleType:
    try:
        import psycopg
    except ImportError as exc:  # the file store must keep working without the driver
        raise StateError(
            "a postgresql:// state needs the psycopg 3 driver: pip install 'telegent-iac[postgres]'"
        ) from exc
    return psycopg


def lock_key(workspace: str) -> int:
    """The advisory lock key of a workspace: a signed 64-bit hash, stable across versions."""
    digest = hashlib.sha256(f"telegent-iac:{workspace}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for messages."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        if parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            user = parts.username or ""
            parts = parts._replace(netloc=f"{user}:***@{host}")
        return urlunsplit(parts)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", dsn)


class PostgresStateStore:
    """A StateStore in PostgreSQL: a header row and a row per workgroup per workspace,
    written by compare-and-set on the header."""

    def __init__(self, dsn: str, workspace: str = "default") -> None:
        if not workspace:
            raise StateError("the PostgreSQL workspace name must not be empty")
        self.dsn = dsn
        self.workspace = workspace
        self.description = f"{redact_dsn(dsn)} (workspace {workspace})"
        self._conn: Any = None
        self._observed = False
        self._expected: tuple[str, int] | None = None
        self._backed_up = False
        # address -> compact JSON of its row as stored: a write sends only rows that differ.
        self._rows: dict[str, str] = {}
        self._mutex = threading.Lock()
        self._lost: str | None = None

    # -- connections -----------------------------------------------------------------------

    def _connect(self, purpose: str) -> Any:
        psycopg = _psycopg()
        try:
            conn = psycopg.connect(self.dsn, autocommit=True, application_name=f"telegent-iac {purpose}")
        except psycopg.Error as exc:
            raise StateError(f"cannot connect to {self.description}: {exc}") from exc
        return conn

    def _db(self) -> Any:
        if self._conn is None or self._conn.closed:
            conn = self._connect("state")
            _ensure_schema(conn)
            self._conn = conn
        return self._conn

    def flush(self) -> None:
        """Every write is already in its at-rest form."""

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        psycopg = _psycopg()
        try:
            yield
        except psycopg.Error as exc:
            raise StateError(f"{self.description}: {doing} failed: {exc}") from exc

    # -- reading ---------------------------------------------------------------------------

    def _load(self) -> State | None:
        with self._errors("reading the state"):
            conn = self._db()
            for _ in range(2):
                with conn.transaction():  # the header and its rows from one snapshot
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    row = conn.execute(
                        "SELECT lineage, serial, format_version, layout, body FROM telegent_state"
                        " WHERE workspace = %s",
                        (self.workspace,),
                    ).fetchone()
                    if row is None:
                        self._rows = {}
                        return None
                    lineage, serial, version, layout, body = row
                    if version > FORMAT_VERSION:
                        # Same message as State.from_dict gives, even if the body says otherwise.
                        State.from_dict(dict(body, format_version=version), source=self.description)
                    rows = conn.execute(
                        "SELECT address, body FROM telegent_state_workgroup WHERE workspace = %s", (self.workspace,)
                    ).fetchall()
                if layout == ROWS:
                    break
                self._migrate(conn, lineage, serial)
            else:
                raise StateError(f"{self.description}: the state could not be moved into rows; try again")
        try:
            workgroups = {str(a): WorkgroupState.from_dict(w) for a, w in rows}
            account = AccountBinding.from_dict(body["account"]) if body.get("account") is not None else None
            schedules = {str(a): ScheduleState.from_dict(s) for a, s in body.get("schedules", {}).items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateError(f"{self.description}: malformed state ({exc})") from exc
        self._rows = {a: compact_json(ws.to_dict()) for a, ws in workgroups.items()}
        # The header's columns are what the compare-and-set checks, so they are authoritative.
        return State(lineage=lineage, serial=serial, workgroups=workgroups, account=account, schedules=schedules)

    def _migrate(self, conn: Any, lineage: str, serial: int) -> None:
        """Move a state kept whole in the header's body into rows (same lineage and serial)."""
        from psycopg.types.json import Jsonb

        with conn.transaction():
            row = conn.execute(
                "SELECT body, layout FROM telegent_state WHERE workspace = %s AND lineage = %s AND serial = %s"
                " FOR UPDATE",
                (self.workspace, lineage, serial),
            ).fetchone()
            if row is None or row[1] == ROWS:
                return  # another run moved (or wrote) it meanwhile; the read that follows sees it
            state = State.from_dict(row[0], source=self.description)
            conn.execute("DELETE FROM telegent_state_workgroup WHERE workspace = %s", (self.workspace,))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO telegent_state_workgroup (workspace, address, body) VALUES (%s, %s, %s)",
                    [(self.workspace, a, Jsonb(ws.to_dict())) for a, ws in state.workgroups.items()],
                )
            conn.execute(
                "UPDATE telegent_state SET layout = %s, body = %s WHERE workspace = %s",
                (ROWS, Jsonb(_header_body(state)), self.workspace),
            )
        log.info("moved the state of %s into one row per workgroup", self.description)

    def read(self) -> State | None:
        with self._mutex:
            state = self._load()
            self._observed = True
            self._expected = None if state is None else (state.lineage, state.serial)
            return state

    # -- writing ---------------------------------------------------------------------------

    def write(self, state: State, changed: Collection[str] | None = None) -> None:
        psycopg = _psycopg()
        from psycopg.types.json import Jsonb

        with self._mutex:
            if not self._observed:
                stored = self._load()
                self._observed = True
                self._expected = None if stored is None else (stored.lineage, stored.serial)
                if stored is not None and (stored.lineage, stored.serial) != (state.lineage, state.serial):
                    raise StateError(
                        f"{self.description}: state changed underneath: it holds lineage {stored.lineage} "
                        f"serial {stored.serial}, but the state being written came from lineage "
                        f"{state.lineage} serial {state.serial}; read it again"
                    )
            expected = self._expected
            new_serial = max(expected[1] if expected else 0, state.serial) + 1
            # Only rows that differ from what is stored are sent (all of them are compared when
            # no hint is given, e.g. a run's first write).
            candidates = state.workgroups.keys() | self._rows.keys() if changed is None else set(changed)
            upserts: dict[str, str] = {}
            deletes: list[str] = []
            for address in sorted(candidates):
                ws = state.workgroups.get(address)
                if ws is None:
                    if address in self._rows:
                        deletes.append(address)
                    continue
                text = compact_json(ws.to_dict())
                if self._rows.get(address) != text:
                    upserts[address] = text
            conn = self._db()
            try:
                with conn.transaction():
                    if expected is None:
                        cur = conn.execute(
                            "INSERT INTO telegent_state (workspace, lineage, serial, format_version, layout, body)"
                            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (workspace) DO NOTHING",
                            (self.workspace, state.lineage, new_serial, FORMAT_VERSION, ROWS,
                             Jsonb(_header_body(state))),
                        )
                    else:
                        if not self._backed_up:
                            self._backup(conn, expected)
                        cur = conn.execute(
                            "UPDATE telegent_state SET lineage = %s, serial = %s, format_version = %s, body = %s,"
                            " updated_at = now() WHERE workspace = %s AND lineage = %s AND serial = %s",
                            (state.lineage, new_serial, FORMAT_VERSION, Jsonb(_header_body(state)),
                             self.workspace, expected[0], expected[1]),
                        )
                    if cur.rowcount != 1:
                        raise StateError(self._changed_message(conn, expected))  # rolls back
                    if deletes:
                        conn.execute(
                            "DELETE FROM telegent_state_workgroup WHERE workspace = %s AND address = ANY(%s)",
                            (self.workspace, deletes),
                        )
                    if upserts:
                        with conn.cursor() as c:
                            c.executemany(
                                "INSERT INTO telegent_state_workgroup (workspace, address, body)"
                                " VALUES (%s, %s, %s::jsonb) ON CONFLICT (workspace, address)"
                                " DO UPDATE SET body = EXCLUDED.body",
                                [(self.workspace, a, text) for a, text in upserts.items()],
                            )
            except psycopg.Error as exc:
                raise StateError(f"{self.description}: writing the state failed: {exc}") from exc
            for address in deletes:
                self._rows.pop(address, None)
            self._rows.update(upserts)
            self._backed_up = True
            self._expected = (state.lineage, new_serial)
            state.serial = new_serial

    def _backup(self, conn: Any, expected: tuple[str, int]) -> None:
        # In the same transaction as the update: if the compare-and-set fails, so does this.
        # The whole state as one document, as the file store's backup is.
        conn.execute(
            "INSERT INTO telegent_state_backup (workspace, lineage, serial, format_version, body)"
            " SELECT h.workspace, h.lineage, h.serial, h.format_version,"
            " jsonb_build_object('format_version', h.format_version, 'lineage', h.lineage, 'serial', h.serial,"
            " 'workgroups', COALESCE((SELECT jsonb_object_agg(w.address, w.body) FROM telegent_state_workgroup w"
            " WHERE w.workspace = h.workspace), '{}'::jsonb))"
            " || CASE WHEN h.body ? 'account' THEN jsonb_build_object('account', h.body->'account')"
            " ELSE '{}'::jsonb END"
            " || CASE WHEN h.body ? 'schedules' THEN jsonb_build_object('schedules', h.body->'schedules')"
            " ELSE '{}'::jsonb END"
            " FROM telegent_state h WHERE h.workspace = %s AND h.lineage = %s AND h.serial = %s",
            (self.workspace, expected[0], expected[1]),
        )
        conn.execute(
            "DELETE FROM telegent_state_backup WHERE workspace = %s AND id NOT IN"
            " (SELECT id FROM telegent_state_backup WHERE workspace = %s ORDER BY id DESC LIMIT %s)",
            (self.workspace, self.workspace, BACKUPS_KEPT),
        )

    def _changed_message(self, conn: Any, expected: tuple[str, int] | None) -> str:
        row = conn.execute(
            "SELECT lineage, serial FROM telegent_state WHERE workspace = %s", (self.workspace,)
        ).fetchone()
        what = "no state" if expected is None else f"lineage {expected[0]} serial {expected[1]}"
        now = "no state" if row is None else f"lineage {row[0]} serial {row[1]}"
        return (
            f"{self.description}: state changed underneath: this run expected {what} but the "
            f"database now holds {now} (another run wrote it; was the lock bypassed?); nothing was written"
        )

    def backups(self) -> list[tuple[int, str]]:
        """(serial, saved_at) of the kept backups, newest first (for `docs` and tests)."""
        with self._errors("listing backups"):
            rows = (
                self._db()
                .execute(
                    "SELECT serial, saved_at::text FROM telegent_state_backup WHERE workspace = %s ORDER BY id DESC",
                    (self.workspace,),
                )
                .fetchall()
            )
        return [(int(r[0]), str(r[1])) for r in rows]

    # -- locking ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        conn = self._connect("lock")
        try:
            info = self._acquire(conn, operation, timeout)
        except BaseException:
            conn.close()
            raise
        self._lost = None
        stop = threading.Event()
        watch = threading.Thread(target=self._watch, args=(conn, stop), name="lock-watch", daemon=True)
        watch.start()
        try:
            yield info
        finally:
            stop.set()
            watch.join()
            self._release(conn, info)

    def _watch(self, conn: Any, stop: threading.Event) -> None:
        """Ask the lock's session every LOCK_CHECK_INTERVAL whether it is still there. The
        advisory lock lives exactly as long as that session: if it was ended (force-unlock,
        pg_terminate_backend, a server restart, a dropped connection), the lock is gone and
        the run must start nothing new (see lock_lost)."""
        psycopg = _psycopg()
        while not stop.wait(LOCK_CHECK_INTERVAL):
            try:
                conn.execute("SELECT 1")
            except psycopg.Error as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                self._lost = f"the database session holding the lock on {self.description} ended ({reason})"
                return

    def lock_lost(self) -> str | None:
        """Why the lock this store holds is no longer held (None while it is, or when none is held)."""
        return self._lost

    def _acquire(self, conn: Any, operation: str, timeout: float) -> LockInfo:
        key = lock_key(self.workspace)
        deadline = time.monotonic() + max(timeout, 0.0)
        delay = 0.02
        with self._errors("taking the lock"):
            _ensure_schema(conn)
            while True:
                if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    holder, backend = self._holder(conn)
                    raise LockError(self._locked_message(holder, backend, timeout), holder)
                time.sleep(min(delay * (0.5 + random.random()), remaining))
                delay = min(delay * 2, 1.0)
            # Boot and pid namespace prove a file lock's holder dead; an advisory lock needs no
            # proof (it ends with its session), so they are neither kept nor reported here.
            info = dataclasses.replace(LockInfo.for_this_process(operation), boot_id="", pid_ns="")
            # The row of a holder that was killed is simply overwritten: the advisory lock, not
            # the row, is the truth; the row only names the holder.
            conn.execute(
                "INSERT INTO telegent_lock_info"
                " (workspace, lock_id, pid, host, holder_user, operation, created, backend_pid)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, pg_backend_pid())"
                " ON CONFLICT (workspace) DO UPDATE SET lock_id = EXCLUDED.lock_id, pid = EXCLUDED.pid,"
                " host = EXCLUDED.host, holder_user = EXCLUDED.holder_user,"
                " operation = EXCLUDED.operation, created = EXCLUDED.created,"
                " backend_pid = EXCLUDED.backend_pid",
                (self.workspace, info.id, info.pid, info.host, info.user, info.operation, info.created),
            )
        return info

    def _release(self, conn: Any, info: LockInfo) -> None:
        psycopg = _psycopg()
        try:
            conn.execute(
                "DELETE FROM telegent_lock_info WHERE workspace = %s AND lock_id = %s", (self.workspace, info.id)
            )
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(self.workspace),))
        except psycopg.Error as exc:
            # The session is gone (force-unlocked, server restart): the lock went with it.
            if self._lost is None:  # else the run has reported it already
                log.warning("lock on %s ended before the run did: %s", self.description, exc)
        finally:
            conn.close()

    def _holder(self, conn: Any) -> tuple[LockInfo | None, int | None]:
        """(recorded holder, backend pid actually holding the advisory lock)."""
        key = lock_key(self.workspace)
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
            " AND classid::bigint = %s AND objid::bigint = %s",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
        ).fetchone()
        backend = None if row is None else int(row[0])
        info_row = conn.execute(
            "SELECT lock_id, pid, host, holder_user, operation, created, backend_pid"
            " FROM telegent_lock_info WHERE workspace = %s",
            (self.workspace,),
        ).fetchone()
        if info_row is None or backend is None or int(info_row[6]) != backend:
            return None, backend  # the row is a dead holder's, or not written yet
        return (
            LockInfo(
                id=info_row[0],
                pid=int(info_row[1]),
                host=info_row[2],
                user=info_row[3],
                operation=info_row[4],
                created=info_row[5],
            ),
            backend,
        )

    def _locked_message(self, holder: LockInfo | None, backend: int | None, timeout: float) -> str:
        waited = f" (waited {timeout:g}s)" if timeout > 0 else ""
        if holder is None:
            who = f"PostgreSQL backend pid {backend}" if backend is not None else "another session"
            return f"state {self.description} is locked by {who}{waited}; its details are not recorded yet"
        return (
            f"state {self.description} is {holder.describe()}{waited}. The lock ends with that run's "
            f"database session; to end that session now: telegent-iac force-unlock {holder.id}"
        )

    def force_unlock(self, lock_id: str) -> None:
        """End the holding session (pg_terminate_backend) if `lock_id` names the current lock.

        An advisory lock cannot be released from another session; it ends with its session.
        Terminating that session is the one way to break it. The run that held it carries on
        without the lock, but its next state write fails the compare-and-set if anyone else
        has written meanwhile, so nothing is overwritten silently.
        """
        conn = self._connect("force-unlock")
        try:
            with self._errors("force-unlock"):
                _ensure_schema(conn)
                holder, backend = self._holder(conn)
                if backend is None:
                    raise LockError(f"state {self.description} is not locked")
                if holder is None or holder.id != lock_id:
                    current = holder.describe() if holder else f"held by PostgreSQL backend pid {backend}"
                    raise LockError(
                        f"lock ID {lock_id} does not match the lock on {self.description}: it is {current}",
                        holder,
                    )
                try:
                    ended = conn.execute("SELECT pg_terminate_backend(%s)", (backend,)).fetchone()[0]
                except _psycopg().errors.InsufficientPrivilege as exc:
                    raise LockError(
                        f"cannot end the session holding the lock on {self.description}: {exc}. Ask a "
                        f"database administrator to run: SELECT pg_terminate_backend({backend})",
                        holder,
                    ) from exc
                if not ended:
                    raise LockError(f"the session holding the lock on {self.description} could not be ended")
                conn.execute(
                    "DELETE FROM telegent_lock_info WHERE workspace = %s AND lock_id = %s", (self.workspace, lock_id)
                )
                # Wait briefly until the server has really released it, so a run started right
                # after force-unlock does not find it still held.
                key = lock_key(self.workspace)
                for _ in range(100):
                    if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
                        break
                    time.sleep(0.05)
        finally:
            conn.close()
        log.warning("force-unlocked %s: ended the session of %s", self.description, holder.describe())

    # -- audit -----------------------------------------------------------------------------

    def append_audit(self, record: dict[str, Any]) -> None:
        from psycopg.types.json import Jsonb

        with self._mutex, self._errors("appending to the audit log"):
            self._db().execute(
                "INSERT INTO telegent_audit (workspace, record) VALUES (%s, %s)",
                (self.workspace, Jsonb(scrub(record))),
            )

    def audit_records(self) -> list[dict[str, Any]]:
        """The workspace's audit log, oldest first."""
        with self._mutex, self._errors("reading the audit log"):
            rows = (
                self._db()
                .execute("SELECT record FROM telegent_audit WHERE workspace = %s ORDER BY id", (self.workspace,))
                .fetchall()
            )
        return [dict(r[0]) for r in rows]


def _ensure_schema(conn: Any) -> None:
    """Create the tables when missing; a role without CREATE works once they exist."""
    present = conn.execute(
        "SELECT count(*) FROM unnest(%s::text[]) AS t(name) WHERE to_regclass(name) IS NOT NULL",
        (list(_TABLES),),
    ).fetchone()[0]
    if present == len(_TABLES):
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
        conn.execute(_SCHEMA)
