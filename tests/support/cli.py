"""Driving the real CLI (click's CliRunner) against a real sandbox over loopback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from telegent_iac.api.client import TelegentClient
from telegent_iac.cli import main
from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxServer

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "workgroups.yaml"


def cli_env(server: SandboxServer, key: str = DEMO_ACCOUNT_KEY, secret: str = DEMO_ACCOUNT_SECRET,
            **extra: str) -> dict[str, str]:
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


def live_names(server: SandboxServer, key: str = DEMO_ACCOUNT_KEY, secret: str = DEMO_ACCOUNT_SECRET) -> list[str]:
    with TelegentClient(server.url, key, secret, rate_limit=0) as client:
        return sorted(s.name for s in client.list_workgroups())


def create_direct(server: SandboxServer, fields: dict[str, Any], key: str = DEMO_ACCOUNT_KEY,
                  secret: str = DEMO_ACCOUNT_SECRET) -> str:
    """A workgroup made behind the tool's back (as a person in the web console would)."""
    with TelegentClient(server.url, key, secret, rate_limit=0) as client:
        return client.create_workgroup(fields)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
