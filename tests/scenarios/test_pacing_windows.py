"""Pacing survives a server that counts the same average rate in a shorter window."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from telegent_sandbox import SandboxServer
from tests.conftest import SandboxFactory
from tests.support.core_helpers import env_for, live_names, run


def write_config(path: Path, n: int) -> None:
    lines = ["workgroups:"]
    for i in range(n):
        lines += [f"  wg-{i:02d}:", f"    Name: Team {i:02d}", "    Type: IVR"]
    path.write_text("\n".join(lines) + "\n")


def statuses(server: SandboxServer) -> Counter[int | None]:
    return Counter(r["status"] for r in server.control.requests())


def test_apply_of_30_at_120_a_minute_gets_no_429_from_a_20_per_10_s_server(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory(rate_limit=20, rate_window=10.0)
    config = tmp_path / "workgroups.yaml"
    write_config(config, 30)
    env = env_for(server, rate_limit=120)
    result = run(["apply", str(config), "--state", str(tmp_path / "state.json"), "--auto-approve",
                  "--parallelism", "8"], env)
    assert result.exit_code == 0, result.output
    seen = statuses(server)
    assert seen[429] == 0, seen
    assert seen[200] >= 32  # a token or more, the list, 30 creates
    assert live_names(server, env) == [f"Team {i:02d}" for i in range(30)]
