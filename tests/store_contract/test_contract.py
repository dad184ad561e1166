"""The StateStore contract, run against both stores (file always; PostgreSQL when configured)."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from telegent_iac.state import FileStateStore, LockError, PostgresStateStore, State, StateError
from telegent_iac.state.records import FORMAT_VERSION, AccountBinding
from tests.support.stores import StoreFactory, pg_location, sample_state, worker


def test_read_write_round_trip(make_store: StoreFactory) -> None:
    store = make_store()
    assert store.read() is None
    state = sample_state()
    store.write(state)
    assert state.serial == 1
    again = make_store().read()
    assert again is not None
    assert again.to_dict() == state.to_dict()
    assert again.workgroups["sales"].pending_create is not None  # pending creates survive
    assert again.pending() == [("sales", None)]


def test_the_account_binding_is_kept(make_store: StoreFactory) -> None:
    """Both stores carry the account a state belongs to, through every kind of write."""
    store = make_store()
    state = sample_state()
    state.account = AccountBinding("https://api.example.test", "ab" * 32, "AID-1")
    store.write(state)
    state.workgroups["main-menu"].fields["RingTimeout"] = 45
    store.write(state, changed=["main-menu"])  # the incremental write keeps the header too
    again = make_store().read()
    assert again is not None and again.account == state.account
    again.account = None  # a state that records none (an older one) reads back as none
    store2 = make_store()
    store2.read()
    store2.write(again)
    last = make_store().read()
    assert last is not None and last.account is None


def test_serial_increments_strictly(make_store: StoreFactory) -> None:
    store = make_store()
    store.read()
    state = sample_state()
    serials = []
    for i in range(5):
        state.workgroups["main-menu"].fields["RingTimeout"] = 30 + i
        store.write(state)
        serials.append(state.serial)
    assert serials == [1, 2, 3, 4, 5]
    stored = make_store().read()
    assert stored is not None and stored.serial == 5
    assert stored.workgroups["main-menu"].fields["RingTimeout"] == 34


def test_compare_and_set_detects_a_concurrent_writer(make_store: StoreFactory) -> None:
    make_store().write(sample_state())
    a, b = make_store(), make_store()
    state_a, state_b = a.read(), b.read()
    assert state_a is not None and state_b is not None
    state_a.workgroups["main-menu"].fields["Name"] = "From A"
    a.write(state_a)
    state_b.workgroups["main-menu"].fields["Name"] = "From B"
    with pytest.raises(StateError, match="changed underneath"):
        b.write(state_b)
    stored = make_store().read()
    assert stored is not None
    assert stored.workgroups["main-menu"].fields["Name"] == "From A"
    assert stored.serial == 2


def test_write_without_read_must_come_from_the_stored_state(make_store: StoreFactory) -> None:
    make_store().write(sample_state())
    with pytest.raises(StateError, match="changed underneath"):
        make_store().write(State.new())  # another lineage, never read from this store


def test_backup_is_the_state_before_the_first_write(make_store: StoreFactory) -> None:
    first = sample_state()
    make_store().write(first)  # serial 1
    store = make_store()
    state = store.read()
    assert state is not None
    for name in ("two", "three"):
        state.workgroups["main-menu"].fields["Name"] = name
        store.write(state)
    assert state.serial == 3
    if isinstance(store, FileStateStore):
        backup = json.loads(store.backup_path.read_text())
        assert backup["serial"] == 1
        assert backup["workgroups"]["main-menu"]["fields"]["Name"] == "Main menu"
    else:
        assert isinstance(store, PostgresStateStore)
        assert [serial for serial, _ in store.backups()] == [1]


def test_lock_timeout_names_the_holder(make_store: StoreFactory) -> None:
    a, b = make_store(), make_store()
    with a.lock("apply") as info:
        started = time.monotonic()
        with pytest.raises(LockError) as exc_info, b.lock("plan", timeout=0.3):
            pass
        assert time.monotonic() - started >= 0.3
        message = str(exc_info.value)
        assert info.id in message and "'apply'" in message and f"pid {os.getpid()}" in message
        assert f"force-unlock {info.id}" in message
        assert exc_info.value.holder == info
    with b.lock("plan") as second:  # released on exit
        assert second.id != info.id


def test_lock_waits_for_the_holder(make_store: StoreFactory) -> None:
    a, b = make_store(), make_store()
    held = a.lock("apply")
    held.__enter__()
    released = threading.Event()

    def release() -> None:
        held.__exit__(None, None, None)
        released.set()

    timer = threading.Timer(0.4, release)
    timer.start()
    with b.lock("apply", timeout=120):
        assert released.is_set()  # it waited for the holder rather than taking the lock
    timer.join()


def test_lock_is_freed_when_the_holder_is_killed(make_store: StoreFactory) -> None:
    proc = worker("hold", _location(make_store))
    assert proc.stdout is not None
    lock_id = proc.stdout.readline().strip()
    assert lock_id
    with pytest.raises(LockError, match=lock_id), make_store().lock("plan", timeout=0):
        pass
    proc.kill()
    proc.wait()
    # File: the dead pid on this host makes the lock stale. PostgreSQL: the session ended.
    with make_store().lock("apply", timeout=120) as info:
        assert info.id != lock_id


def test_force_unlock(make_store: StoreFactory) -> None:
    proc = worker("hold", _location(make_store))
    assert proc.stdout is not None
    try:
        lock_id = proc.stdout.readline().strip()
        store = make_store()
        with pytest.raises(LockError, match="does not match"):
            store.force_unlock("not-the-id")
        store.force_unlock(lock_id)
        with store.lock("apply", timeout=0):
            pass
    finally:
        proc.kill()
        proc.wait()
    with pytest.raises(LockError, match="not locked"):
        make_store().force_unlock(lock_id)


def test_audit_append_drops_secrets(make_store: StoreFactory) -> None:
    store = make_store()
    store.append_audit(
        {
            "at": "2026-01-01T00:00:00Z",
            "address": "sales",
            "endpoint": "POST /workgroups",
            "fields": {"Name": "Sales", "AccountSecret": "canary-secret"},
            "token": "canary-token",
            "headers": {"Authorization": "Bearer canary-token"},
            "status": 201,
        }
    )
    store.append_audit({"address": "support", "status": 500})
    if isinstance(store, FileStateStore):
        text = store.audit_path.read_text()
        records = [json.loads(line) for line in text.splitlines()]
    else:
        assert isinstance(store, PostgresStateStore)
        text = json.dumps(store.audit_records())
        records = store.audit_records()
    assert "canary" not in text
    assert [r["address"] for r in records] == ["sales", "support"]
    assert records[0]["fields"] == {"Name": "Sales"}
    assert records[0]["headers"] == {}


def test_newer_format_is_refused_and_left_untouched(make_store: StoreFactory) -> None:
    store = make_store()
    store.write(sample_state())
    newer = dict(sample_state().to_dict(), format_version=FORMAT_VERSION + 1, serial=7)
    if isinstance(store, FileStateStore):
        store.path.write_text(json.dumps(newer))
        before = store.path.read_bytes()
    else:
        assert isinstance(store, PostgresStateStore)
        _pg_overwrite(store, newer)
    for fresh in (make_store(), store):
        with pytest.raises(StateError, match="newer"):
            fresh.read()
        with pytest.raises(StateError, match="newer|changed underneath"):
            fresh.write(sample_state())
    if isinstance(store, FileStateStore):
        assert store.path.read_bytes() == before


def _pg_overwrite(store: PostgresStateStore, body: dict[str, object]) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(store.dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE telegent_state SET format_version = %s, serial = %s, body = %s WHERE workspace = %s",
            (body["format_version"], body["serial"], Jsonb(body), store.workspace),
        )


def _location(make_store: StoreFactory) -> str:
    store = make_store()
    if isinstance(store, FileStateStore):
        return str(store.path)
    assert isinstance(store, PostgresStateStore)
    return pg_location(store.workspace)
