"""Known secrets, and the one function that replaces them with `(sensitive)`.

The account key and secret, every API token fetched and the value of any environment
variable whose name says it is a credential are registered as they become known. `redact` is
applied where text leaves the process: the CLI's stdout and stderr (every message, plan,
progress line and log record, `-vv` included), the plan file and the audit log. A secret is
also found in the forms the output may have given it: escaped for the terminal, or escaped
inside a JSON string.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from telegent_iac.safety.terminal import escape_text

SENSITIVE = "(sensitive)"
# Shorter values would match ordinary words; no credential is this short.
MIN_LENGTH = 6

_NAME_PARTS = re.compile(r"[^a-z0-9]+")
# Not "pwd" (PWD is the working directory) nor "auth" (SSH_AUTH_SOCK is a socket path).
_SECRET_WORDS = ("secret", "token", "password", "passwd", "passphrase", "key", "credential", "credentials")

_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None


def is_secret_name(name: str) -> bool:
    """Whether a variable's name says it holds a credential: a part of it (split at `_`, `-`,
    `.`) is, or ends in, secret/token/password/key/... (`GITHUB_TOKEN`, `DB_PASSWORD`,
    `apiKey`, `TELEGENT_ACCOUNT_KEY`)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    parts = [p for p in _NAME_PARTS.split(spaced.lower()) if p]
    return any(p.endswith(word) for p in parts for word in _SECRET_WORDS)


def register(value: str | None) -> None:
    """Treat `value` as a secret from now on (ignored when shorter than MIN_LENGTH)."""
    global _pattern
    if not value or len(value) < MIN_LENGTH:
        return
    forms = {value, escape_text(value), escape_text(value, keep=""), json.dumps(value)[1:-1],
             json.dumps(value, ensure_ascii=False)[1:-1]}
    with _lock:
        if forms <= _known:
            return
        _known.update(forms)
        # Longest first, so a secret that contains another is replaced whole.
        _pattern = re.compile("|".join(re.escape(f) for f in sorted(_known, key=len, reverse=True)))


def register_environment(env: Mapping[str, str]) -> None:
    """The values of every variable whose name says it is a credential (from 8 characters:
    a shorter value under such a name is a setting such as `AUTH_MODE=basic`, not a secret)."""
    for name, value in env.items():
        if is_secret_name(name) and (len(value) >= 8 or name.startswith("TELEGENT_ACCOUNT_")):
            register(value)


def contains(text: str) -> bool:
    """Whether `text` holds a known secret."""
    pattern = _pattern
    return pattern is not None and pattern.search(text) is not None


def redact(text: str) -> str:
    pattern = _pattern
    return text if pattern is None else pattern.sub(SENSITIVE, text)


def redact_data(value: Any) -> Any:
    """A copy of JSON-like `value` with every string redacted (keys too)."""
    if _pattern is None:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


def forget_all() -> None:
    """For tests: start again with no known secret."""
    global _pattern
    with _lock:
        _known.clear()
        _pattern = None


class RedactingStream(io.TextIOBase):
    """A text stream that redacts every write before passing it on (the CLI's stdout and
    stderr: every message, plan, progress line and log record goes through one of them)."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self._inner = inner

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._inner.write(redact(text))
        return len(text)

    @property
    def buffer(self) -> _RedactingBinary:
        """Where click writes bytes (shell completion scripts): redacted the same way."""
        return _RedactingBinary(self)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._inner, "errors", None)


class _RedactingBinary(io.RawIOBase):
    def __init__(self, text: RedactingStream) -> None:
        super().__init__()
        self._text = text

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raw = bytes(data)
        self._text.write(raw.decode(self._text.encoding, "replace"))
        return len(raw)

    def flush(self) -> None:
        self._text.flush()


@contextlib.contextmanager
def redacted_output() -> Iterator[None]:
    """sys.stdout and sys.stderr redacted for the duration."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(out), RedactingStream(err)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdout, sys.stderr = out, err
