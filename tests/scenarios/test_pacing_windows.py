"""Pacing survives a server that counts the same average rate in a shorter window."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import cli_env, live_names, run
from tests.support.sandbox_http import SandboxFactory, statuses
from tests.support.trials import write_config


def test_apply_of_30_at_120_a_minute_gets_no_429_from_a_20_per_10_s_server(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory(rate_limit=20, rate_window=10.0)
    config = tmp_path / "workgroups.yaml"
    write_config(config, {f"wg-{i:02d}": f"Team {i:02d}" for i in range(30)}, kind="IVR")
    env = cli_env(server, TELEGENT_RATE_LIMIT="120")
    result = run(env, "apply", str(config), "--state", str(tmp_path / "state.json"), "--auto-approve",
                  "--parallelism", "8")
    assert result.exit_code == 0, result.output
    seen = statuses(server)
    assert seen[429] == 0, seen
    assert seen[200] >= 32  # a token or more, the list, 30 creates
    assert live_names(server) == [f"Team {i:02d}" for i in range(30)]
