"""The file store's own files (state, backup, lock, lock guard, audit log) are never followed
through a symbolic link, never block on a FIFO, and anything foreign in their place is one
StateError naming it; locks are broken only when their holder is provably dead."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from telegent_iac.state import FileStateStore, LockError, StateError
from telegent_iac.state import file as file_store
from telegent_iac.state.store import boot_id, pid_namespace
from tests.support.bounded import bounded, bounded_raise
from tests.support.stores import dead_pid, sample_state, write_lock

WHICH = ["path", "backup_path", "lock_path", "guard_path", "audit_path", "journal_path"]


def whole_run(store: FileStateStore) -> None:
    """What a run does with its files: lock, read, write twice (backup), audit, unlock."""
    with store.lock("apply", timeout=0.5):
        state = store.read() or sample_state()
        store.write(state)
        store.write(state)
        store.append_audit({"address": "a", "endpoint": "POST /x"})


def make_store(tmp_path: Path) -> FileStateStore:
    store = FileStateStore(tmp_path / "st" / "s.json")
    store.write(sample_state())  # an existing state, so the backup is made on the next run
    return FileStateStore(store.path)


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("dangling", [True, False])
def test_a_symlink_in_place_of_any_own_file_is_refused_and_its_target_untouched(
    tmp_path: Path, which: str, dangling: bool
) -> None:
    store = make_store(tmp_path)
    place: Path = getattr(store, which)
    target = tmp_path / "elsewhere"
    if not dangling:
        target.write_text("precious\n")
    place.unlink(missing_ok=True)
    place.symlink_to(target)
    exc = bounded(lambda: whole_run(store))
    assert isinstance(exc, StateError), exc
    assert str(place) in str(exc) and "symbolic link" in str(exc)
    assert "\n" not in str(exc)
    if dangling:
        assert not target.exists()
    else:
        assert target.read_text() == "precious\n"
    assert place.is_symlink()  # left as found


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_directory_or_fifo_in_place_of_any_own_file_is_one_error(tmp_path: Path, which: str, kind: str) -> None:
    store = make_store(tmp_path)
    place: Path = getattr(store, which)
    place.unlink(missing_ok=True)
    if kind == "directory":
        place.mkdir()
    else:
        os.mkfifo(place)
    exc = bounded(lambda: whole_run(store))
    assert isinstance(exc, StateError), exc
    assert str(place) in str(exc)
    assert ("a directory" if kind == "directory" else "a FIFO") in str(exc)


def test_state_nested_100000_deep_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(StateError, match="nested too deeply"):
        FileStateStore(path).read()
    path.write_text('{"workgroups": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001)
    with pytest.raises(StateError, match="nested too deeply"):
        FileStateStore(path).read()


def test_lock_file_nested_deep_or_with_huge_pid_is_refused_within_the_timeout(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    store.lock_path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(LockError, match="unreadable"):
        bounded_raise(lambda: store.lock("plan", timeout=0.3).__enter__())
    for pid in (10**30, 2**63, -5):
        write_lock(store, pid)  # this host, boot and namespace: only the pid is absurd
        with pytest.raises(LockError) as info:
            bounded_raise(lambda: store.lock("plan", timeout=0.3).__enter__())
        assert "force-unlock old-lock" in str(info.value)


# --- locks that cannot lie -------------------------------------------------------------------------


def test_a_lock_of_a_dead_pid_in_this_boot_and_namespace_is_broken(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    write_lock(store, dead_pid())
    with store.lock("plan", timeout=0) as info:
        assert json.loads(store.lock_path.read_text())["id"] == info.id
        assert info.boot_id and info.pid_ns  # the new record says where its pid belongs


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ({"pid_ns": "4026531999"}, "another pid namespace"),
        ({"boot_id": "00000000-0000-0000-0000-000000000000"}, "before this host last booted"),
        ({"boot_id": "", "pid_ns": ""}, "does not say which boot and pid namespace"),
    ],
    ids=["other-pid-namespace", "other-boot", "old-record"],
)
def test_a_lock_whose_holder_cannot_be_proven_dead_is_never_broken(
    tmp_path: Path, where: dict[str, str], reason: str
) -> None:
    store = FileStateStore(tmp_path / "s.json")
    write_lock(store, dead_pid(), **where)
    before = store.lock_path.read_text()
    with pytest.raises(LockError) as info:
        bounded_raise(lambda: store.lock("plan", timeout=0.3).__enter__())
    message = str(info.value)
    assert reason in message and "telegent-iac force-unlock old-lock" in message
    assert store.lock_path.read_text() == before
    store.force_unlock("old-lock")  # the way out it points at works
    with store.lock("plan"):
        pass


def test_a_zombie_holder_counts_as_dead(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 60
        while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.01)
        store = FileStateStore(tmp_path / "s.json")
        write_lock(store, proc.pid)
        with store.lock("plan", timeout=0):
            pass
    finally:
        proc.wait()


def test_a_live_holder_is_waited_for_then_named(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    write_lock(store, os.getppid(), lock_id="live")
    with pytest.raises(LockError, match="force-unlock live"):
        store.lock("plan", timeout=0.2).__enter__()


def test_a_lock_held_in_another_pid_namespace_is_never_taken_as_stale(tmp_path: Path) -> None:
    """A real holder in its own pid namespace (as in another container on this host): its pid
    is small there and means another process, or none, here."""
    assert shutil.which("unshare"), "this test needs unshare(1)"
    store = FileStateStore(tmp_path / "s.json")
    inner = (
        "import sys\nfrom telegent_iac.state import FileStateStore\n"
        f"with FileStateStore({str(store.path)!r}).lock('apply'):\n"
        "    print('locked', flush=True)\n    sys.stdin.read()\n"
    )
    # pid 1 of the new namespace starts the holder, so the holder's pid is 2 there.
    holder = f"import subprocess, sys\nsys.exit(subprocess.call([sys.executable, '-c', {inner!r}]))\n"
    prefix = ["unshare", "--pid", "--fork", "--mount-proc"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([*prefix, sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked", "the holder never locked"
        record = json.loads(store.lock_path.read_text())
        assert record["pid_ns"] != pid_namespace() and record["boot_id"] == boot_id()
        assert record["pid"] == 2  # usually no such process here: judged by pid alone, it would be "stale"
        with pytest.raises(LockError) as info:
            bounded_raise(lambda: store.lock("plan", timeout=0.3).__enter__())
        assert "another pid namespace" in str(info.value) and "force-unlock" in str(info.value)
        assert store.lock_path.exists()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)
    assert not store.lock_path.exists()  # the holder released it itself


def test_a_force_unlocked_file_lock_is_noticed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_store, "LOCK_CHECK_INTERVAL", 0.0)
    store = FileStateStore(tmp_path / "s.json")
    with store.lock("apply") as info:
        assert store.lock_lost() is None
        FileStateStore(store.path).force_unlock(info.id)
        other = FileStateStore(store.path)
        with other.lock("apply") as taken:
            lost = store.lock_lost()
            assert lost is not None and f"ID {info.id}" in lost and "force-unlocked" in lost
            assert f"lock ID {taken.id}" in lost  # who has it now
        assert store.lock_lost() == lost  # once lost, always lost for this run
    assert store.lock_lost() is None  # no lock held, nothing to lose
