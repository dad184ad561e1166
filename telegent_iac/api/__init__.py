"""The one Telegent API client (tokens, pacing, retries, tolerant decoding)."""

from telegent_iac.api.client import DEFAULT_API_URL, TelegentClient
from telegent_iac.api.errors import ApiError, AuthError, ConfigError, NotFoundError

__all__ = ["DEFAULT_API_URL", "ApiError", "AuthError", "ConfigError", "NotFoundError", "TelegentClient"]
