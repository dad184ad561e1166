"""Errors raised by the one API client."""

from __future__ import annotations

from telegent_iac.errors import TelegentError


class ApiError(TelegentError):
    """A Telegent call failed.

    `ambiguous` is True when the request may have taken effect although no success was seen
    (the request was sent, then a timeout, a dropped connection or a 5xx). A create that fails
    ambiguously must be resolved against the live account before it is tried again.
    """

    def __init__(self, message: str, *, status: int | None = None, endpoint: str = "",
                 ambiguous: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.endpoint = endpoint
        self.ambiguous = ambiguous

    quotes_untrusted_text = True  # the server's words

    def headline(self) -> str:
        return f"Telegent API: {self}"

    def __str__(self) -> str:
        where = f" ({self.endpoint})" if self.endpoint else ""
        code = f"HTTP {self.status}: " if self.status else ""
        return f"{code}{self.message}{where}"


class NotFoundError(ApiError):
    """404: the ID is not (or no longer) in the account."""


class AuthError(ApiError):
    """Credentials refused (401 on the token endpoint, or 401/403 again after a fresh token)."""


class ConfigError(TelegentError):
    """The client's own settings are wrong (no credentials, plain http to a remote host...)."""
