"""The one client for every Telegent call: tokens, pacing, retries and tolerant decoding.

THIS FILE IS AN INTERFACE STUB: the signatures and docstrings are the contract; the bodies
are being written (issue 3, item 4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from telegent_iac.model import LiveSummary

DEFAULT_API_URL = "https://api.telegent.com"


class TelegentClient:
    """Thread-safe: apply calls it from several worker threads at once."""

    def __init__(
        self,
        base_url: str,
        account_key: str,
        account_secret: str,
        *,
        rate_limit: int = 50,  # requests per rolling minute, token requests included; 0 = off
        timeout: float = 30.0,
        max_retries: int = 5,
        account_id: str | None = None,
        on_request: Callable[[str, str, int | None, float], None] | None = None,
    ) -> None:
        raise NotImplementedError

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> TelegentClient:
        """TELEGENT_API_URL, TELEGENT_ACCOUNT_KEY, TELEGENT_ACCOUNT_SECRET, TELEGENT_RATE_LIMIT."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def request_counts(self) -> dict[str, int]:
        """Requests sent so far, by endpoint path (token requests under the token path)."""
        raise NotImplementedError

    # --- workgroups ---
    def list_workgroups(self) -> list[LiveSummary]:
        raise NotImplementedError

    def get_workgroup(self, workgroup_id: str) -> dict[str, Any]:
        """Canonical fields of one workgroup, plus "Activities": a list of dicts each with
        "WorkgroupActivityId" and canonical member fields (empty when the server embeds none)."""
        raise NotImplementedError

    def create_workgroup(self, fields: Mapping[str, Any]) -> str:
        """POST /workgroups with `fields` (IDs already resolved); returns the WorkgroupId.
        Never retried once the request may have reached the server: raises
        ApiError(ambiguous=True) instead."""
        raise NotImplementedError

    def update_workgroup(self, workgroup_id: str, fields: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def delete_workgroup(self, workgroup_id: str) -> None:
        raise NotImplementedError

    # --- members (activities) ---
    def create_activity(self, workgroup_id: str, fields: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def update_activity(self, activity_id: str, fields: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def delete_activity(self, activity_id: str) -> None:
        raise NotImplementedError

    # --- schedules ---
    def create_schedule(self, fields: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def list_schedules(self) -> list[dict[str, Any]]:
        raise NotImplementedError
