"""The whole plan/apply flow on each store: `--state` (or TELEGENT_STATE) chooses it."""

from __future__ import annotations

import shutil
from pathlib import Path

from telegent_iac.state import open_store
from telegent_sandbox import SandboxServer
from tests.support import FIXTURES
from tests.support.cli import cli_env, live_names, run


def test_apply_then_noop_plan_on_each_store(sandbox: SandboxServer, location: str, tmp_path: Path) -> None:
    config = tmp_path / "workgroups.yaml"
    shutil.copy(FIXTURES / "three.yaml", config)
    env = {**cli_env(sandbox), "TELEGENT_STATE": location}
    first = run(env, "apply", "--auto-approve", str(config))
    assert first.exit_code == 0, first.output
    assert "Apply complete! Resources: 3 added" in first.stdout
    state = open_store(location).read()
    assert state is not None and sorted(state.workgroups) == ["after-hours", "main-menu", "sales"]
    assert all(ws.id for ws in state.workgroups.values()) and not state.pending()
    sandbox.control.clear_requests()
    again = run(env, "plan", "--detailed-exitcode", str(config))
    assert again.exit_code == 0 and again.stdout.strip() == "No changes."
    assert len(sandbox.control.requests()) == 2
    assert live_names(sandbox) == ["After hours", "Main menu", "Sales"]
