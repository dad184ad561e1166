"""Running the real CLI against a real sandbox over loopback, and looking at the account
behind the tool's back.

In-process (click's CliRunner): `run(cli_env(server), "plan", ...)`. As a child process
(`python -m telegent_iac`, what the crash, interrupt and terminal tests need):
`run_cli(subprocess_env(server), cwd, "plan", ...)`, or `Cli` to start one and act while it runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from telegent_iac.api.client import TelegentClient
from telegent_iac.cli import main
from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxServer
from tests.support import EXAMPLE, REPO

# --- in-process ---------------------------------------------------------------------------------


def cli_env(server: SandboxServer, key: str = DEMO_ACCOUNT_KEY, secret: str = DEMO_ACCOUNT_SECRET,
            **extra: str) -> dict[str, str]:
    """The sandbox's URL and credentials, no client-side pacing (the sandboxes here have no
    limit unless a test sets one), no colour; `extra` adds or overrides variables."""
    return {
        "TELEGENT_API_URL": server.url,
        "TELEGENT_ACCOUNT_KEY": key,
        "TELEGENT_ACCOUNT_SECRET": secret,
        "TELEGENT_RATE_LIMIT": "0",
        "NO_COLOR": "1",
        **extra,
    }


def run(env: dict[str, str], *args: str | Path) -> Result:
    """One CLI run; stdout and stderr stay separate (result.stdout / result.stderr)."""
    return CliRunner(env=env).invoke(main, [str(a) for a in args], catch_exceptions=False)


def copy_example(tmp_path: Path, name: str = "workgroups.yaml") -> Path:
    target = tmp_path / name
    shutil.copyfile(EXAMPLE, target)
    return target


def state_path(tmp_path: Path, name: str = "telegent.state.json") -> Path:
    return tmp_path / "state" / name


def state_json(path: Path) -> dict[str, Any]:
    """The state file as JSON, as the last whole write left it."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def plan_out(env: dict[str, str], tmp_path: Path, config: Path, *extra: str) -> Path:
    """`plan --out` into tmp_path/plan.json (the state at `state_path(tmp_path)`); the plan file."""
    out = tmp_path / "plan.json"
    result = run(env, "plan", "--state", state_path(tmp_path), "--out", out, *extra, config)
    assert result.exit_code == 0, result.output
    assert out.is_file()
    return out


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- the account behind the tool's back ---------------------------------------------------------


def console(server: SandboxServer, key: str = DEMO_ACCOUNT_KEY, secret: str = DEMO_ACCOUNT_SECRET) -> TelegentClient:
    """A client outside any run, as a person at the web console (use it in a `with`)."""
    return TelegentClient(server.url, key, secret, rate_limit=0)


def live_names(server: SandboxServer, key: str = DEMO_ACCOUNT_KEY, secret: str = DEMO_ACCOUNT_SECRET) -> list[str]:
    with console(server, key, secret) as client:
        return sorted(s.name for s in client.list_workgroups())


def live_schedules(server: SandboxServer) -> list[dict[str, Any]]:
    with console(server) as client:
        return client.list_schedules()


def create_direct(server: SandboxServer, fields: dict[str, Any], key: str = DEMO_ACCOUNT_KEY,
                  secret: str = DEMO_ACCOUNT_SECRET) -> str:
    """A workgroup made behind the tool's back (as a person in the web console would)."""
    with console(server, key, secret) as client:
        return client.create_workgroup(fields)


# --- child processes ----------------------------------------------------------------------------


def subprocess_env(server: SandboxServer, key: str = DEMO_ACCOUNT_KEY,
                   secret: str = DEMO_ACCOUNT_SECRET) -> dict[str, str]:
    """This process's environment without its TELEGENT_ variables, plus `cli_env`, and this
    checkout first on PYTHONPATH (so the child runs the code under test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGENT_")}
    env.update(cli_env(server, key, secret))
    # Latencies here stay under a second: a short request timeout keeps the wait for an
    # interrupted create that may still be in flight short.
    env["TELEGENT_HTTP_TIMEOUT"] = "4"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def run_cli(env: dict[str, str], cwd: Path, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """`python -m telegent_iac ARGS` in `cwd` with exactly `env`; waits for it to end."""
    return subprocess.run([sys.executable, "-m", "telegent_iac", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


@dataclass
class Cli:
    """`python -m telegent_iac ...` with a fixed environment (usually `subprocess_env`) and cwd."""

    env: dict[str, str]
    cwd: Path

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "telegent_iac", *args]

    def run(self, *args: str, timeout: float = 120.0,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli({**self.env, **(env or {})}, self.cwd, *args, timeout=timeout)

    def start(self, *args: str, log_dir: Path, name: str) -> Proc:
        out, errf = log_dir / f"{name}.out", log_dir / f"{name}.err"
        with out.open("wb") as o, errf.open("wb") as e:
            popen = subprocess.Popen(self.command(*args), env=self.env, cwd=self.cwd, stdout=o, stderr=e)
        return Proc(popen, out, errf)


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def wait_for_stderr(self, text: str, count: int = 1, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stderr().count(text) < count:
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never saw {text!r} x{count} on stderr:\n{self.stderr()}")
            time.sleep(0.01)
