"""The state: what telegent-iac manages, and the stores that keep it (file, PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from telegent_iac.state.records import FORMAT_VERSION, State, StateError
from telegent_iac.state.store import LockError, LockInfo, StateStore

if TYPE_CHECKING:
    from telegent_iac.state.file import FileStateStore
    from telegent_iac.state.postgres import PostgresStateStore

DEFAULT_STATE_PATH = "state/telegent.state.json"

__all__ = [
    "DEFAULT_STATE_PATH",
    "FORMAT_VERSION",
    "FileStateStore",
    "LockError",
    "LockInfo",
    "PostgresStateStore",
    "State",
    "StateError",
    "StateStore",
    "open_store",
    "split_workspace",
]


def __getattr__(name: str) -> Any:
    # The stores load on first use: the CLI's --version and --help only need the names above.
    if name == "FileStateStore":
        from telegent_iac.state.file import FileStateStore

        return FileStateStore
    if name == "PostgresStateStore":
        from telegent_iac.state.postgres import PostgresStateStore

        return PostgresStateStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def split_workspace(url: str) -> tuple[str, str]:
    """(DSN without `workspace=`, workspace) of a postgresql:// URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    workspace = "default"
    kept: list[tuple[str, str]] = []
    for key, value in query:
        if key == "workspace":
            workspace = value
        else:
            kept.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(kept))), workspace


def open_store(location: str) -> StateStore:
    """The store for `--state`: a postgresql:// (or postgres://) URL, else a file path."""
    if location.startswith(("postgresql://", "postgres://")):
        dsn, workspace = split_workspace(location)
        if not workspace:
            raise StateError("the workspace= parameter of a postgresql:// state must not be empty")
        from telegent_iac.state.postgres import PostgresStateStore

        return PostgresStateStore(dsn, workspace)
    from telegent_iac.state.file import FileStateStore

    return FileStateStore(Path(location))
