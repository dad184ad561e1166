"""The interface every state store implements (local file, PostgreSQL)."""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from telegent_iac.errors import TelegentError
from telegent_iac.state.records import State, utc_now


def boot_id() -> str:
    """This host's boot ID: pids are only comparable between processes of the same boot."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


def pid_namespace() -> str:
    """The inode of this process's pid namespace: a pid means the same process only inside
    one namespace (another container on the same host has its own pid 1, 2, ...)."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


@dataclass(frozen=True)
class LockInfo:
    id: str  # a nonce; `force-unlock ID` must quote it
    pid: int
    host: str
    user: str
    operation: str  # "plan", "apply", "import", "state rm", ...
    created: str  # UTC ISO-8601
    # Where `pid` means something: empty in a record written before these were kept (or where
    # /proc is missing), and then the holder can never be proven dead.
    boot_id: str = ""
    pid_ns: str = ""

    @classmethod
    def for_this_process(cls, operation: str) -> LockInfo:
        """A fresh lock record naming this process, host and user."""
        return cls(
            id=str(uuid.uuid4()),
            pid=os.getpid(),
            host=socket.gethostname(),
            user=current_user(),
            operation=operation,
            created=utc_now(),
            boot_id=boot_id(),
            pid_ns=pid_namespace(),
        )

    def describe(self) -> str:
        return (
            f"locked by {self.user}@{self.host} (pid {self.pid}) for '{self.operation}' "
            f"since {self.created}, lock ID {self.id}"
        )


class LockError(TelegentError):
    """The lock is held by someone else (after waiting --lock-timeout)."""

    def __init__(self, message: str, holder: LockInfo | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class StateStore(Protocol):
    """Where the state lives. Only a store touches the state's storage.

    Contract:
      - `read()` returns the stored state, or None when there is none yet. A state of a newer
        format version raises StateError and is never rewritten.
      - `write(state)` persists `state` atomically. It is a compare-and-set: the stored serial
        (and lineage) must still be those this store last read or wrote, else StateError.
        On success it sets `state.serial` to the new serial (old + 1). The first write of a
        store instance keeps a backup of the state as it was before (file: `<path>.backup`).
        `changed`, when given, promises that only those addresses changed since this store's
        previous write (an optional hint: a store may re-encode only them, or ignore it).
      - `lock(operation, timeout)` is held for a whole run; it waits up to `timeout` seconds
        and raises LockError naming the holder. A holder that is gone is recognised as stale.
      - `append_audit(record)` appends one JSON-serialisable record to the audit log.
      - `flush()` puts the state in its at-rest form (file: folds the journal into the state
        file); `lock()` does it as the lock is released, however the run ended.
      - `lock_lost()` says why the lock held by `lock()` is no longer held (None while it is):
        an apply checks it before starting each call.
    """

    description: str  # for messages, e.g. the file path

    def read(self) -> State | None: ...

    def write(self, state: State, changed: Collection[str] | None = None) -> None: ...

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[LockInfo]: ...

    def force_unlock(self, lock_id: str) -> None: ...

    def append_audit(self, record: dict[str, Any]) -> None: ...

    def flush(self) -> None: ...

    def lock_lost(self) -> str | None: ...


def read_or_new(store: StateStore) -> State:
    """The stored state, or a new empty one when there is none yet."""
    return store.read() or State.new()
