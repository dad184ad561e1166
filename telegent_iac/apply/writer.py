"""Recording an apply's outcomes in the state: serialised, group-committed writes, and the
index that catches a server answering two creates with one ID."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from telegent_iac.state.records import State
from telegent_iac.state.store import StateStore

T = TypeVar("T")


class StepFailed(Exception):
    pass


class RecordFailed(StepFailed):
    """The call succeeded; writing its outcome to the state did not (disk full, ...).

    Reported as such, never as a failed call: the workgroup exists, and the message says how
    the next run (or an import) picks it up."""


class StateWriter:
    """Serialises state mutations and writes; concurrent callers share one write (group
    commit), and none returns before its own mutation is durable.

    A commit names the one address its mutation touches (None: it may touch any), and the
    write tells the store which addresses changed, so the file store re-encodes only those:
    a full re-encode per write made an apply of 10,000 creates quadratic (issue 6)."""

    def __init__(self, store: StateStore, state: State) -> None:
        self.store, self.state = store, state
        self._mutate = threading.Lock()
        self._write = threading.Lock()
        self._generation = 0
        self._written = 0
        self._dirty: set[str] | None = None  # None: the next write is a full one

    def commit(self, mutate: Callable[[State], T], address: str | None = None) -> T:
        with self._mutate:
            result = mutate(self.state)
            self._generation += 1
            mine = self._generation
            if address is None:
                self._dirty = None
            elif self._dirty is not None:
                self._dirty.add(address)
        with self._write:
            if self._written >= mine:
                return result
            with self._mutate:
                dirty, self._dirty = self._dirty, set()
                try:
                    self.store.write(self.state, changed=dirty)
                except BaseException:
                    self._dirty = None
                    raise
                self._written = self._generation
        return result


_Holder = tuple[str, str | None]  # (address, member key or None for the workgroup itself)


def _holds(state: State, holder: _Holder, ident: str) -> bool:
    ws = state.workgroups.get(holder[0])
    if ws is None:
        return False
    if holder[1] is None:
        return ws.id == ident
    member = ws.members.get(holder[1])
    return member is not None and member.id == ident


def _describe(holder: _Holder) -> str:
    return holder[0] if holder[1] is None else f"{holder[0]} member {holder[1]}"


class IdOwners:
    """Which address holds each workgroup ID and each member ID, so that a server answering
    two creates with the same ID is caught without scanning the whole state per create. Built
    from the state on first use, then kept up to date by the creates and imports recorded;
    an entry is trusted only if the state still holds that ID there."""

    def __init__(self) -> None:
        self._owners: dict[tuple[bool, str], _Holder] | None = None

    def _index(self, state: State) -> dict[tuple[bool, str], _Holder]:
        if self._owners is None:
            self._owners = {}
            for address, ws in state.workgroups.items():
                if ws.id:
                    self._owners[(False, ws.id)] = (address, None)
                for key, member in ws.members.items():
                    if member.id:
                        self._owners[(True, member.id)] = (address, key)
        return self._owners

    def note(self, state: State, ident: str, holder: _Holder) -> None:
        """`holder` has `ident` (an import: the planner checked it)."""
        self._index(state)[(holder[1] is not None, ident)] = holder

    def claim(self, state: State, ident: str, holder: _Holder) -> None:
        """Record that `holder` now has `ident` from a create, or StepFailed naming both addresses."""
        owners = self._index(state)
        slot = (holder[1] is not None, ident)
        other = owners.get(slot)
        if other is not None and other != holder and _holds(state, other, ident):
            what = "member" if holder[1] is not None else "workgroup"
            raise StepFailed(
                f"the server answered the create of {_describe(holder)} with {what} ID {ident}, which the "
                f"state already records at {_describe(other)}; refusing to record one ID at two addresses. "
                f"The pending create of {_describe(holder)} stays in the state for the next run to resolve; "
                f"check the account (a server that repeats IDs is broken)"
            )
        owners[slot] = holder


def reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
