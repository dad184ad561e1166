"""Errors as values with a place: every user mistake is a Problem, reported all at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: user errors must not load the spec (start-up time)
    from telegent_iac.model import Position


@dataclass(frozen=True, order=True)
class Problem:
    position: Position
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"


ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """A routing lint result: a rule broken at a place, for one workgroup (or schedule)."""

    position: Position
    rule: str
    severity: str  # ERROR | WARNING
    message: str
    address: str = ""  # the workgroup whose `lint_ignore:` can accept it

    def __str__(self) -> str:
        return f"{self.position}: {self.severity} [{self.rule}]: {self.message}"


class UserError(Exception):
    """A mistake of the user's (bad input, stale plan, lock held...): no traceback, exit 1."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []
