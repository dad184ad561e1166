"""The file store's journal: hinted writes append one record; readers replay it; the state
file is rewritten (byte-for-byte the full encoding) when the journal is folded in."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from telegent_iac.state import file as file_store
from telegent_iac.state.file import FileStateStore
from telegent_iac.state.records import PendingCreate, State, StateError, WorkgroupState


def exact(state: State) -> str:
    return json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"


def seeded(path: Path, n: int = 20) -> tuple[FileStateStore, State]:
    store = FileStateStore(path)
    state = State.new()
    state.workgroups = {f"wg-{i}": WorkgroupState(id=f"WID-{i}", fields={"Name": f"N{i}"}) for i in range(n)}
    store.write(state)  # a run's first write rewrites the state file
    return store, state


def replayed(path: Path) -> State:
    state = FileStateStore(path).read()
    assert state is not None
    return state


def test_hinted_writes_append_to_the_journal_and_readers_replay_it(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store, state = seeded(path)
    at_rest = path.read_bytes()
    state.workgroups["wg-3"].pending_create = PendingCreate("N3", "IVR", "t", {"Name": "N3"})
    state.workgroups["wg-new"] = WorkgroupState(fields={"Name": "new"})
    del state.workgroups["wg-7"]
    store.write(state, changed={"wg-3", "wg-new", "wg-7"})
    state.workgroups["wg-3"].pending_create = None
    state.workgroups["wg-3"].id = "WID-3b"
    store.write(state, changed={"wg-3"})
    assert path.read_bytes() == at_rest  # O(change): the state file was not rewritten
    records = [json.loads(line) for line in store.journal_path.read_text().splitlines()]
    assert [r["serial"] for r in records] == [2, 3]
    assert records[0]["workgroups"]["wg-7"] is None
    assert replayed(path).to_dict() == state.to_dict()
    store.flush()
    assert path.read_text() == exact(state)  # byte-for-byte the sorted, indented JSON
    assert store.journal_path.read_bytes() == b""
    assert replayed(path).serial == 3


def test_the_hint_is_trusted_so_unnamed_changes_wait_for_a_full_write(tmp_path: Path) -> None:
    """An address left out of `changed` is not recorded (which is why the apply's StateWriter
    makes its first write and any untargeted one full)."""
    path = tmp_path / "s.json"
    store = FileStateStore(path)
    state = State.new()
    state.workgroups = {"a": WorkgroupState(id="1"), "b": WorkgroupState(id="2")}
    store.write(state)
    state.workgroups["a"].id = "1b"
    state.workgroups["b"].id = "2b"
    store.write(state, changed={"b"})
    seen = replayed(path).workgroups
    assert (seen["a"].id, seen["b"].id) == ("1", "2b")
    store.flush()
    written = json.loads(path.read_text())["workgroups"]
    assert (written["a"]["id"], written["b"]["id"]) == ("1", "2b")
    store.write(state)
    assert path.read_text() == exact(state)


def test_a_torn_last_record_is_ignored_and_cut_off_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store, state = seeded(path)
    state.workgroups["wg-1"].id = "WID-1b"
    store.write(state, changed={"wg-1"})
    good = replayed(path).to_dict()
    with open(store.journal_path, "ab") as f:
        f.write(b'{"lineage": "' + state.lineage.encode() + b'", "serial": 3, "workgro')  # killed mid-write
    assert replayed(path).to_dict() == good
    # The run after the killed one appends after the last whole record, not after the tear.
    successor = FileStateStore(path)
    again = successor.read()
    assert again is not None
    successor.write(again)  # its first write folds the journal in and rewrites the state
    again.workgroups["wg-2"].id = "WID-2b"
    successor.write(again, changed={"wg-2"})
    lines = successor.journal_path.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["serial"] == again.serial
    assert replayed(path).to_dict() == again.to_dict()


def test_a_crash_between_rewriting_the_state_and_emptying_the_journal_replays_nothing_twice(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.json"
    store, state = seeded(path)
    for i in range(3):
        state.workgroups[f"wg-{i}"].id = f"WID-{i}x"
        store.write(state, changed={f"wg-{i}"})
    journal = store.journal_path.read_bytes()
    store.flush()
    store.journal_path.write_bytes(journal)  # as if killed before the journal was emptied
    assert replayed(path).to_dict() == state.to_dict()
    # ...and a record past the file still applies after them.
    state.workgroups["wg-5"].id = "WID-5x"
    record = {"lineage": state.lineage, "serial": state.serial + 1,
              "workgroups": {"wg-5": state.workgroups["wg-5"].to_dict()}}
    with open(store.journal_path, "a") as f:
        f.write(json.dumps(record) + "\n")
    state.serial += 1
    assert replayed(path).to_dict() == state.to_dict()


def test_a_journal_that_does_not_continue_the_state_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store, state = seeded(path)
    older = path.read_bytes()  # e.g. a copy from version control
    state.workgroups["wg-1"].id = "WID-1b"
    store.write(state, changed={"wg-1"})
    state.workgroups["wg-2"].id = "WID-2b"
    store.write(state, changed={"wg-2"})
    journal = store.journal_path.read_bytes()
    store.flush()
    store.write(state)
    store.journal_path.write_bytes(journal.splitlines(keepends=True)[1])  # serial 3 only
    path.write_bytes(older)  # serial 1: record 2 is missing
    with pytest.raises(StateError, match=r"journal does not continue the state file"):
        FileStateStore(path).read()


def test_a_corrupt_record_followed_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store, state = seeded(path)
    for i in range(2):
        state.workgroups[f"wg-{i}"].id = f"WID-{i}x"
        store.write(state, changed={f"wg-{i}"})
    lines = store.journal_path.read_bytes().splitlines(keepends=True)
    store.journal_path.write_bytes(b"{not json}\n" + lines[1])
    with pytest.raises(StateError, match=r"record 1 of the state journal is corrupt"):
        FileStateStore(path).read()


def test_the_journal_is_folded_in_once_it_outgrows_the_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_store, "JOURNAL_COMPACT_BYTES", 0)  # bound: the state file's size
    path = tmp_path / "s.json"
    store, state = seeded(path, n=5)
    for round_ in range(40):
        address = f"wg-{round_ % 5}"
        state.workgroups[address].fields["AnnouncementText"] = "x" * 50 + str(round_)
        store.write(state, changed={address})
        assert store.journal_path.stat().st_size <= path.stat().st_size + 400
    assert replayed(path).to_dict() == state.to_dict()
    store.flush()
    assert path.read_text() == exact(state)


def test_the_lock_folds_the_journal_in_when_the_run_ends_even_by_interrupt(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store, state = seeded(path)
    with pytest.raises(KeyboardInterrupt), store.lock("apply"):
        state.workgroups["wg-4"].id = "WID-4b"
        store.write(state, changed={"wg-4"})
        raise KeyboardInterrupt
    assert path.read_text() == exact(state)
    assert store.journal_path.read_bytes() == b""
    assert not store.lock_path.exists()


def test_a_plan_never_rewrites_what_a_killed_run_left(tmp_path: Path) -> None:
    """Reading (plan, state show) replays the journal but leaves both files as they are; the
    next run's first write folds it in, and its backup is the state as it was, journal included."""
    path = tmp_path / "s.json"
    store, state = seeded(path)
    state.workgroups["wg-4"].id = "WID-4b"
    store.write(state, changed={"wg-4"})  # then killed: no flush
    before = (path.read_bytes(), store.journal_path.read_bytes())
    reader = FileStateStore(path)
    with reader.lock("plan"):
        assert reader.read() is not None
    assert (path.read_bytes(), store.journal_path.read_bytes()) == before
    successor = FileStateStore(path)
    again = successor.read()
    assert again is not None and again.workgroups["wg-4"].id == "WID-4b"
    again.workgroups["wg-5"].id = "WID-5b"
    successor.write(again)
    backup = State.from_dict(json.loads(successor.backup_path.read_text()))
    assert backup.workgroups["wg-4"].id == "WID-4b" and backup.workgroups["wg-5"].id == "WID-5"
    assert os.path.getsize(successor.journal_path) == 0
