"""Honest failure messages: a call that succeeded but whose state write failed (disk full) is
reported as exactly that, with the ID and the way back, never as a failed call."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Collection
from pathlib import Path

import pytest

from telegent_iac.ops import run as workflow
from telegent_iac.state import FileStateStore, State
from telegent_sandbox import SandboxServer
from tests.support.cli import cli_env, console, live_names, run
from tests.support.trials import stored_state


class DiskFull(FileStateStore):
    """A real file store whose writes fail with ENOSPC from the moment `full(state)` is true:
    the pending intent before the call is written normally, recording the new ID is not."""

    def __init__(self, path: Path, full: Callable[[State], bool]) -> None:
        super().__init__(path)
        self.full = full

    def write(self, state: State, changed: Collection[str] | None = None) -> None:
        if self.full(state):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super().write(state, changed)


def workgroup_recorded(state: State) -> bool:
    ws = state.workgroups.get("sales")
    return ws is not None and ws.id is not None


def member_recorded(state: State) -> bool:
    ws = state.workgroups.get("sales")
    member = ws.members.get("alice") if ws is not None else None
    return member is not None and member.id is not None


CONFIG = """\
workgroups:
  sales:
    Name: Sales
    Type: simultaneous
    members:
      - Type: User
        PhoneNumber: "+14155550123"
        key: alice
"""


@pytest.mark.parametrize("what", ["workgroup", "member"])
def test_create_that_succeeded_but_could_not_be_recorded_says_so(
    tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    (tmp_path / "wg.yaml").write_text(CONFIG)
    state_file = tmp_path / "state" / "s.json"
    store = DiskFull(state_file, workgroup_recorded if what == "workgroup" else member_recorded)
    monkeypatch.setattr(workflow, "store_for", lambda settings: store)
    env = cli_env(sandbox)
    result = run(env, "apply", "--auto-approve", "--state", state_file, tmp_path / "wg.yaml")
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert "create FAILED" not in err and "create failed" not in err, err
    assert "No space left on device" in err
    assert "Traceback" not in err
    assert "1 call(s) that succeeded could not be recorded in the state" in err
    assert "Completed calls are recorded" not in err
    live = live_names(sandbox)
    assert live == ["Sales"]
    state = stored_state(state_file)
    if what == "workgroup":
        workgroup_id = next(iter(_ids(sandbox)))
        assert f"the create succeeded: workgroup {workgroup_id} exists in the account" in err, err
        assert f"telegent-iac import sales {workgroup_id}" in err
        assert "sales: state write FAILED" in err
        assert state.workgroups["sales"].pending_create is not None  # what lets the next run adopt it
    else:
        assert "the create succeeded: member alice exists in workgroup" in err, err
        assert "sales member alice: state write FAILED" in err
        assert state.workgroups["sales"].members["alice"].pending_create is not None
    # The disk has room again: the next run adopts what was made, creates nothing twice.
    monkeypatch.setattr(workflow, "store_for", lambda settings: FileStateStore(state_file))
    again = run(env, "apply", "--auto-approve", "--state", state_file, tmp_path / "wg.yaml")
    assert again.exit_code == 0, again.output
    assert live_names(sandbox) == ["Sales"]
    final = stored_state(state_file)
    assert not final.pending() and final.workgroups["sales"].members["alice"].id


def _ids(server: SandboxServer) -> list[str]:
    with console(server) as client:
        return [s.workgroup_id for s in client.list_workgroups()]


@pytest.mark.parametrize("what", ["update", "delete"])
def test_update_or_delete_that_succeeded_but_could_not_be_recorded_says_so(
    tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    config = tmp_path / "wg.yaml"
    config.write_text(CONFIG)
    state_file = tmp_path / "state" / "s.json"
    env = cli_env(sandbox)
    assert run(env, "apply", "--auto-approve", "--state", state_file, config).exit_code == 0
    if what == "update":
        config.write_text(CONFIG.replace("Type: simultaneous", "Type: simultaneous\n    RecordCalls: true"))

        def full(state: State) -> bool:
            ws = state.workgroups.get("sales")
            return ws is not None and ws.fields.get("RecordCalls") is True
    else:
        config.write_text("workgroups: {}\n")

        def full(state: State) -> bool:
            return "sales" not in state.workgroups

    monkeypatch.setattr(workflow, "store_for", lambda settings: DiskFull(state_file, full))
    result = run(env, "apply", "--auto-approve", "--allow-delete", "--state", state_file, config)
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert f"{what} FAILED" not in err and "state write FAILED" in err, err
    assert f"the {what} of workgroup" in err and "succeeded, but writing it to the state failed" in err, err
    monkeypatch.setattr(workflow, "store_for", lambda settings: FileStateStore(state_file))
    again = run(env, "apply", "--auto-approve", "--allow-delete", "--state", state_file, config)
    assert again.exit_code == 0, again.output
    assert live_names(sandbox) == ([] if what == "delete" else ["Sales"])


class AuditDiskFull(FileStateStore):
    def append_audit(self, record: dict[str, object]) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_failed_audit_append_never_loses_the_returned_id(
    tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "wg.yaml"
    config.write_text(CONFIG)
    state_file = tmp_path / "state" / "s.json"
    monkeypatch.setattr(workflow, "store_for", lambda settings: AuditDiskFull(state_file))
    result = run(cli_env(sandbox), "apply", "--auto-approve", "--state", state_file, config)
    assert result.exit_code == 1, result.output
    assert "sales: the audit log could not be written (No space left on device)" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    state = stored_state(state_file)
    assert not state.pending() and state.workgroups["sales"].id in _ids(sandbox)
