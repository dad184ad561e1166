"""File-store specifics: exact on-disk format, corrupt files, stale locks and their races."""

from __future__ import annotations

import json
import logging
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from telegent_iac.state import FileStateStore, LockError, State, StateError, open_store
from telegent_iac.state.records import WorkgroupState
from telegent_iac.state.store import LockInfo
from tests.support.stores import dead_pid, sample_state, write_lock


def test_file_is_sorted_indented_json_with_trailing_newline(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    state = sample_state()
    state.workgroups["caf\u00e9"] = WorkgroupState(id="7", fields={"Name": 'Quote " and \\ and \u00e9', "Tags": []})
    store.write(state)
    expected = json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"
    assert store.path.read_text() == expected
    # The per-workgroup cache must notice every change, including 1 -> True (equal in Python).
    state.workgroups["main-menu"].fields["RingTimeout"] = 1
    store.write(state)
    state.workgroups["main-menu"].fields["RingTimeout"] = True
    state.workgroups["main-menu"].members.clear()
    del state.workgroups["sales"]
    store.write(state)
    assert store.path.read_text() == json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"
    state.workgroups.clear()
    store.write(state)
    assert store.path.read_text() == json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    state = sample_state()
    for _ in range(3):
        store.write(state)
    with store.lock("apply"):
        pass
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["s.json", "s.json.lock.guard"]  # no backup: there was no state before


def test_corrupt_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"format_version": 1, "lineage": "x", ')
    store = FileStateStore(path)
    with pytest.raises(StateError, match=r"s\.json: the state file is not valid JSON \(line 1"):
        store.read()
    with pytest.raises(StateError, match="not valid JSON"):
        FileStateStore(path).write(State.new())
    assert path.read_text() == '{"format_version": 1, "lineage": "x", '
    path.write_bytes(b"{\x80 garbage")
    with pytest.raises(StateError, match="not UTF-8"):
        FileStateStore(path).read()
    path.write_text("[]")
    with pytest.raises(StateError, match="not a telegent-iac state"):
        FileStateStore(path).read()


def test_a_file_replaced_underneath_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = FileStateStore(path)
    state = sample_state()
    store.write(state)
    path.unlink()
    with pytest.raises(StateError, match="removed"):
        store.write(state)


def test_stale_lock_on_this_host_is_taken_over(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = FileStateStore(tmp_path / "s.json")
    write_lock(store, dead_pid())
    with caplog.at_level(logging.WARNING), store.lock("apply", timeout=0) as info:
        assert json.loads(store.lock_path.read_text())["id"] == info.id
    assert "removing stale lock" in caplog.text and "old-lock" in caplog.text
    assert not store.lock_path.exists()


def test_lock_from_another_host_is_never_stale(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    write_lock(store, dead_pid(), host="some-other-runner")
    with pytest.raises(LockError, match="some-other-runner") as exc_info, store.lock("apply", timeout=0.2):
        pass
    assert "force-unlock old-lock" in str(exc_info.value)
    assert store.lock_path.exists()


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    with store.lock("apply") as info:
        store.force_unlock(info.id)
        write_lock(store, 1, lock_id="someone-else")  # pid 1 is alive
    assert json.loads(store.lock_path.read_text())["id"] == "someone-else"


def _try_stale_takeover(path: str, barrier: Any, decided: Any, results: Any) -> None:
    store = FileStateStore(Path(path))
    barrier.wait()
    try:
        with store.lock("apply", timeout=0) as info:
            results.put(("held", info.id))
            decided.wait(timeout=120)  # hold until every other contender has decided
    except LockError as exc:
        holder = exc.holder
        results.put(("refused", holder.id if isinstance(holder, LockInfo) else ""))
        decided.wait(timeout=120)


@pytest.mark.parametrize("attempt", range(3))
def test_two_processes_seeing_one_stale_lock_never_both_take_it(tmp_path: Path, attempt: int) -> None:
    store = FileStateStore(tmp_path / "s.json")
    write_lock(store, dead_pid())
    ctx = multiprocessing.get_context("fork")
    barrier, decided = ctx.Barrier(4), ctx.Barrier(4)
    results: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_try_stale_takeover, args=(str(store.path), barrier, decided, results))
             for _ in range(4)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(120)
    held = [lock_id for what, lock_id in outcomes if what == "held"]
    assert len(held) == 1, outcomes
    assert all(lock_id == held[0] for what, lock_id in outcomes if what == "refused"), outcomes


def test_open_store_chooses_by_location(tmp_path: Path) -> None:
    from telegent_iac.state import PostgresStateStore, split_workspace

    assert isinstance(open_store(str(tmp_path / "x.json")), FileStateStore)
    pg = open_store("postgresql://u:pw@db.example:5432/tf?sslmode=require&workspace=staging")
    assert isinstance(pg, PostgresStateStore)
    assert pg.workspace == "staging"
    assert pg.dsn == "postgresql://u:pw@db.example:5432/tf?sslmode=require"
    assert "pw" not in pg.description and "***" in pg.description
    assert split_workspace("postgres://h/db") == ("postgres://h/db", "default")
    with pytest.raises(StateError, match="workspace"):
        open_store("postgresql://h/db?workspace=")


def test_a_write_is_durable_file_fsync_then_rename_then_directory_fsync(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash at any moment leaves the old or the new state: the new bytes are on disk
    before the rename makes them the state, and the rename is on disk before write returns."""
    import os

    store = FileStateStore(tmp_path / "s.json")
    store.write(sample_state())  # a state to replace, so a backup is made too
    calls: list[tuple[str, Path | None]] = []
    opened: dict[int, Path] = {}
    real_open, real_fsync, real_replace, real_rename = os.open, os.fsync, os.replace, os.rename

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        opened[fd] = Path(path)
        return fd

    def fsync(fd: int) -> None:
        calls.append(("fsync", opened.get(fd)))
        real_fsync(fd)

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        calls.append((f"rename to {Path(dst).name}", Path(src)))
        real_replace(src, dst, *args, **kwargs)

    def rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        calls.append((f"rename to {Path(dst).name}", Path(src)))
        real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)
    state = store.read()
    state.serial  # noqa: B018 - read, as a run does before writing
    store.write(state)

    renames = [i for i, (what, _) in enumerate(calls) if what == f"rename to {store.path.name}"]
    assert len(renames) == 1, calls
    rename_at, temp = renames[0], calls[renames[0]][1]
    assert temp is not None and temp != store.path
    assert ("fsync", temp) in calls[:rename_at], f"the new state was not fsynced before the rename: {calls}"
    assert ("fsync", tmp_path) in calls[rename_at + 1:], f"the directory was not fsynced after the rename: {calls}"
    assert json.loads(store.path.read_text())["serial"] == state.serial


def test_a_version_1_state_is_read_and_written_back_as_the_current_version(tmp_path: Path) -> None:
    """Version 1 states stay readable; the next write marks the file with the current version,
    so a release that knows only version 1 refuses it instead of dropping schedules or a journal."""
    from telegent_iac.state.records import FORMAT_VERSION

    path = tmp_path / "telegent.state.json"
    old = {"format_version": 1, "lineage": "l-1", "serial": 3,
           "workgroups": {"sales": {"id": "WID-1", "fields": {"Name": "Sales", "Type": "simultaneous"}}}}
    path.write_text(json.dumps(old))
    store = FileStateStore(path)
    state = store.read()
    assert state is not None and state.workgroups["sales"].id == "WID-1"
    state.serial += 1
    with store.lock("test"):
        store.write(state)
    store.close()
    written = json.loads(path.read_text())
    assert FORMAT_VERSION == 2
    assert written["format_version"] == FORMAT_VERSION
    assert written["workgroups"]["sales"]["id"] == "WID-1"


def test_a_journal_record_is_fsynced_before_the_write_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Later writes of a run append a record to the journal: it is on disk when write returns."""
    import os

    store = FileStateStore(tmp_path / "s.json")
    state = sample_state()
    store.write(state)  # a run's first write replaces the state file
    opened: dict[int, Path] = {}
    synced: list[Path | None] = []
    real_open, real_fsync = os.open, os.fsync

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        opened[fd] = Path(path)
        return fd

    def fsync(fd: int) -> None:
        synced.append(opened.get(fd))
        real_fsync(fd)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "fsync", fsync)
    address = next(iter(state.workgroups))
    state.workgroups[address].fields["AnnouncementText"] = "changed"
    store.write(state, changed={address})
    assert store.journal_path.exists() and store.journal_path.stat().st_size > 0, "the write was not journaled"
    assert store.journal_path in synced, f"the journal record was not fsynced: {synced}"
