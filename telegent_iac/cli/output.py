"""Where the CLI's words leave the process: human lines (terminal-safe, redacted on their way
out), machine lines (JSON), the error-to-exit-code mapping, colour and logging."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

import click

from telegent_iac.errors import EXIT_INTERRUPTED, TelegentError
from telegent_iac.safety.terminal import escape_text

F = TypeVar("F", bound=Callable[..., Any])


def err(message: str) -> None:
    """A human-facing line on stderr: terminal-safe (redacted on its way out, as all output)."""
    click.echo(escape_text(message), err=True)


def say(message: str, nl: bool = True) -> None:
    """A human-facing line on stdout (machine output, JSON, goes out with click.echo as is)."""
    click.echo(escape_text(message), nl=nl)


def interrupted() -> NoReturn:
    err("\nInterrupted.")
    sys.exit(EXIT_INTERRUPTED)


def handle_errors(fn: F) -> F:
    """User mistakes and API failures become one clear message and exit 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TelegentError as exc:
            for problem in exc.problems:
                err(escape_text(str(problem), keep=""))  # one line each, whatever the file held
            headline = exc.headline()
            err(f"Error: {escape_text(headline, keep='') if exc.quotes_untrusted_text else headline}")
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            # Ctrl-C outside the apply loop (which has its own handler) leaves no call half-done
            # and the lock is released on the way out: exit 130 as documented, not click's
            # "Aborted!" and 1.
            interrupted()

    return wrapper  # type: ignore[return-value]


def configure_logging(verbose: int) -> None:
    """Log lines on stderr, terminal-safe like every human-facing line (server messages reach
    them at -v and -vv). logging loads here, not at start-up: --version and --help skip it."""
    import logging

    class SafeFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return escape_text(super().format(record))

    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


def use_color(no_color: bool) -> bool:
    """--no-color, then NO_COLOR, then FORCE_COLOR, then whether stdout is a terminal. As the
    conventions say, only a non-empty NO_COLOR / FORCE_COLOR counts (`NO_COLOR=` is unset)."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def json_line(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def json_diagnostics(write: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """Machine output (`plan --json`, `apply --json`) ends with a `diagnostic` line when the run
    fails before it has anything else to say (the message still goes to stderr too)."""
    try:
        yield
    except TelegentError as exc:
        problems = [str(p) for p in exc.problems]
        write({"type": "diagnostic", "severity": "error", "message": str(exc), "problems": problems})
        raise
