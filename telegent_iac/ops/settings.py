"""What a run is told: the settings the CLI (or another front end) builds from its flags and
environment, and the hook through which it provides the built-in sandbox."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_STATE_PATH = "state/sandbox.state.json"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Endpoint:
    """Where a run's client points instead of TELEGENT_API_URL and the account's credentials:
    the built-in sandbox, which the CLI starts (only it imports the emulator)."""

    url: str
    account_key: str
    account_secret: str


# Starts a sandbox whose database is the given file, paced to the given requests a minute;
# yields where it listens.
SandboxHook = Callable[[Path, int], contextlib.AbstractContextManager[Endpoint]]


@dataclass
class Settings:
    config_paths: Sequence[str]
    state_location: str
    env: Mapping[str, str]
    var_files: Sequence[str] = ()
    lock_timeout: float = 0.0
    sandbox: bool = False
    parallelism: int = 4
    progress: Progress = field(default=lambda message: None)
    allow_secret_vars: Sequence[str] = ()  # credential-looking names the user allowed into fields
    start_sandbox: SandboxHook | None = None


