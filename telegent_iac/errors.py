"""Errors as values with a place, and the one exception base the CLI catches.

Every user mistake is a Problem with a Position, reported all at once. Every failure that
ends a run is a TelegentError: it carries its exit code and its problems, and the CLI maps it
to one clear message (never a traceback). The stages raise subclasses named for what failed.
"""

from __future__ import annotations

from dataclasses import dataclass

# Exit codes: pipelines read these, not the prose (docs/gitops.md).
EXIT_OK = 0
EXIT_ERROR = 1  # usage errors too: click's own 2 would read as "changes present"
EXIT_CHANGES = 2  # plan --detailed-exitcode only
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, order=True)
class Position:
    """A place in an input file; line and column are 1-based."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


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


class TelegentError(Exception):
    """A failure that ends the run: one message, its problems, and the process's exit code."""

    exit_code = EXIT_ERROR
    # The message quotes someone else's words (a server's): shown on one line, escaped.
    quotes_untrusted_text = False

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def headline(self) -> str:
        """The "Error: ..." line's text."""
        return str(self)


class UserError(TelegentError):
    """A mistake of the user's (bad input, stale plan, lock held...): no traceback, exit 1."""
