"""Driving the CLI in-process against a real sandbox over loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from telegent_iac.cli import main
from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxServer

FIXTURES = Path(__file__).parent / "fixtures"


def env_for(server: SandboxServer, *, key: str = DEMO_ACCOUNT_KEY, secret: str = DEMO_ACCOUNT_SECRET,
            rate_limit: int = 0) -> dict[str, str]:
    return {
        "TELEGENT_API_URL": server.url,
        "TELEGENT_ACCOUNT_KEY": key,
        "TELEGENT_ACCOUNT_SECRET": secret,
        "TELEGENT_RATE_LIMIT": str(rate_limit),
        "NO_COLOR": "1",
    }


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def live_names(server: SandboxServer, env: dict[str, str]) -> list[str]:
    from telegent_iac.api.client import TelegentClient

    with TelegentClient.from_env(env) as client:
        return sorted(s.name for s in client.list_workgroups())


def read_state(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data
