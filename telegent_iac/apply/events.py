"""What an apply reports as it goes (progress lines, the `apply --json` stream) and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class EventKind(StrEnum):
    START = "start"
    DONE = "done"
    ERROR = "error"
    SKIPPED = "skipped"
    NOTE = "note"


class Tally(StrEnum):
    """Which count of the result a completed step adds to (an update and its member changes
    count as one changed workgroup)."""

    ADDED = "added"
    CHANGED = "changed"
    DESTROYED = "destroyed"
    IMPORTED = "imported"


@dataclass(frozen=True)
class Event:
    """Progress of an apply, for the text progress lines and the `apply --json` stream."""

    kind: EventKind
    step: str  # e.g. "create", "update", "member create"
    address: str
    member: str | None = None
    resource_id: str | None = None
    message: str = ""
    seconds: float = 0.0
    completed: int = 0
    total: int = 0


@dataclass
class ApplyResult:
    added: int = 0
    changed: int = 0
    destroyed: int = 0
    imported: int = 0
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    unrecorded: int = 0  # calls that succeeded but whose outcome could not be written to the state

    @property
    def ok(self) -> bool:
        return not self.errors and not self.interrupted


