"""Hostile files at the command line: whatever is put where the tool keeps its files (or given
as a config or var file), `plan` ends within --lock-timeout with one clear line naming the
path and exit 1: never a traceback, never a hang, never a write through a link."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from telegent_iac.state.store import boot_id, pid_namespace
from tests.support.cli import Cli, subprocess_env
from tests.support.trials import write_config

LOCK_TIMEOUT = "2"


def _symlink(target: str) -> Callable[[Path], None]:
    return lambda place: place.symlink_to(target)


def _fifo(place: Path) -> None:
    os.mkfifo(place)


def _directory(place: Path) -> None:
    place.mkdir()


def _lock_record(pid: int) -> Callable[[Path], None]:
    def make(place: Path) -> None:
        place.write_text(json.dumps({
            "id": "planted", "pid": pid, "host": socket.gethostname(), "user": "x", "operation": "apply",
            "created": "2026-01-01T00:00:00Z", "boot_id": boot_id(), "pid_ns": pid_namespace(),
        }))
    return make


def _nested(place: Path) -> None:
    place.write_text("[" * 100_000 + "]" * 100_000)


# (file suffix after the state path, how to plant it, words the error must contain)
CASES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "state-dangling-symlink": ("", _symlink("/nonexistent/state.json"), "symbolic link"),
    "state-symlink-to-file": ("", _symlink("../precious.json"), "symbolic link"),
    "state-directory": ("", _directory, "is a directory"),
    "state-fifo": ("", _fifo, "FIFO"),
    "state-nested-100000": ("", _nested, "nested too deeply"),
    "backup-symlink": (".backup", _symlink("../precious.json"), "symbolic link"),
    "lock-dangling-symlink": (".lock", _symlink("/nonexistent/lock"), "symbolic link"),
    "lock-directory": (".lock", _directory, "is a directory"),
    "lock-fifo": (".lock", _fifo, "FIFO"),
    "lock-huge-pid": (".lock", _lock_record(10**30), "force-unlock planted"),
    "lock-foreign-pid": (".lock", _lock_record(1), "force-unlock planted"),  # pid 1: alive, not ours
    "lock-nested-100000": (".lock", _nested, "unreadable"),
    "guard-fifo": (".lock.guard", _fifo, "FIFO"),
    "guard-directory": (".lock.guard", _directory, "is a directory"),
    "audit-symlink": (".audit.jsonl", _symlink("../precious.json"), "symbolic link"),
    "audit-fifo": (".audit.jsonl", _fifo, "FIFO"),
    "journal-symlink": (".journal", _symlink("../precious.json"), "symbolic link"),
    "journal-fifo": (".journal", _fifo, "FIFO"),
    "journal-directory": (".journal", _directory, "is a directory"),
}


def check_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "Error" in line or "error" in line]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def setup(tmp_path: Path, start_sandbox: Any) -> tuple[Cli, Path]:
    server = start_sandbox()
    write_config(tmp_path / "wg.yaml", {"a": "Hostile A"})
    (tmp_path / "st").mkdir()
    (tmp_path / "precious.json").write_text("precious\n")
    return Cli(subprocess_env(server), tmp_path), tmp_path


# The store-level tests (tests/store_contract/test_own_files.py) cover every file and kind in-process;
# here the fast run takes one of each kind through the real command, the slow run all of them.
FAST = {"state-dangling-symlink", "state-fifo", "lock-directory", "lock-huge-pid", "state-nested-100000",
        "audit-symlink"}


@pytest.mark.parametrize(
    "case", [c if c in FAST else pytest.param(c, marks=pytest.mark.slow) for c in sorted(CASES)]
)
def test_hostile_own_file(setup: tuple[Cli, Path], case: str) -> None:
    cli, root = setup
    suffix, plant, words = CASES[case]
    state = root / "st" / "s.json"
    place = Path(f"{state}{suffix}")
    if suffix in (".backup",):
        state.write_text(json.dumps({"format_version": 1, "lineage": "l", "serial": 1, "workgroups": {}}))
    plant(place)
    result = cli.run("plan", "--lock-timeout", LOCK_TIMEOUT, "--state", str(state), "wg.yaml", timeout=60)
    line = check_one_clear_line(result, words)
    assert str(place) in line or "planted" in line
    assert (root / "precious.json").read_text() == "precious\n"


def test_read_only_state_directory(setup: tuple[Cli, Path]) -> None:
    cli, root = setup
    state_dir = root / "st"
    command = cli.command("plan", "--lock-timeout", LOCK_TIMEOUT, "--state", str(state_dir / "s.json"), "wg.yaml")
    if os.geteuid() != 0:
        state_dir.chmod(0o555)
    else:
        # root writes through permission bits: make it a read-only mount in a private mount namespace.
        assert shutil.which("unshare"), "root needs unshare(1) to make a read-only directory"
        quoted = shlex.quote(str(state_dir))
        command = ["unshare", "-m", "sh", "-c",
                   f"mount --bind {quoted} {quoted} && mount -o remount,bind,ro {quoted} && exec "
                   + " ".join(shlex.quote(c) for c in command)]
    try:
        result = subprocess.run(command, env=cli.env, cwd=root, capture_output=True, text=True, timeout=60,
                                check=False)
    finally:
        state_dir.chmod(0o755)
    check_one_clear_line(result, str(state_dir), "read-only")


@pytest.mark.parametrize("kind", ["fifo", "device", "symlink-loop"])
@pytest.mark.parametrize("role", ["config", pytest.param("var-file", marks=pytest.mark.slow)])
def test_hostile_config_and_var_files(setup: tuple[Cli, Path], kind: str, role: str) -> None:
    cli, root = setup
    hostile = root / "hostile.yaml"
    if kind == "fifo":
        os.mkfifo(hostile)
    elif kind == "symlink-loop":
        hostile.symlink_to(hostile)
    else:
        hostile = Path("/dev/zero")
    args = ["wg.yaml", str(hostile)] if role == "config" else ["--var-file", str(hostile), "wg.yaml"]
    result = cli.run("validate", *args, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    want = {"fifo": "FIFO", "device": "a device", "symlink-loop": "symbolic link loop"}[kind]
    assert f"{hostile}:1:1: cannot read file: it is" in result.stderr and want in result.stderr, result.stderr


@pytest.mark.parametrize("kind", ["fifo", "nested-100000"])
def test_hostile_saved_plan_file(setup: tuple[Cli, Path], kind: str) -> None:
    cli, root = setup
    plan = root / "hostile.plan"
    if kind == "fifo":
        os.mkfifo(plan)
    else:
        _nested(plan)
    result = cli.run("show", str(plan), timeout=60)
    want = "it is a FIFO (named pipe)" if kind == "fifo" else "nested too deeply"
    check_one_clear_line(result, str(plan), "cannot read the saved plan" if kind == "fifo" else "plan file", want)
