"""The one Telegent API client (tokens, pacing, retries, tolerant decoding)."""

from typing import TYPE_CHECKING, Any

from telegent_iac.api.failures import ApiError, AuthError, ConfigError, NotFoundError

if TYPE_CHECKING:
    from telegent_iac.api.client import DEFAULT_API_URL, TelegentClient

__all__ = ["DEFAULT_API_URL", "ApiError", "AuthError", "ConfigError", "NotFoundError", "TelegentClient"]


def __getattr__(name: str) -> Any:
    # The client (and httpx under it) loads on first use: an error class alone must not pay for it.
    if name in ("DEFAULT_API_URL", "TelegentClient"):
        from telegent_iac.api import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
