"""Settings of one sandbox server, and the fixed demo credentials."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Literal

DEMO_ACCOUNT_KEY = "DID-sandbox-demo"
DEMO_ACCOUNT_SECRET = "sandbox-demo-secret"

Envelope = Literal["bare", "wrapped"]
ListKey = Literal["Workgroups", "Results"]
IdPrefix = Literal["WID-", "WG-"]

Detail = Literal["full", "no-activities", "example"]
ListFields = Literal["summary", "full"]
AccountIdEcho = Literal["echo", "omit"]

ENVELOPES: tuple[str, ...] = ("bare", "wrapped")
LIST_KEYS: tuple[str, ...] = ("Workgroups", "Results")
ID_PREFIXES: tuple[str, ...] = ("WID-", "WG-")
# Readings of what the docs leave open (docs/sandbox.md, "Dialects", gives the passages).
DETAILS: tuple[str, ...] = ("full", "no-activities", "example")
LIST_FIELDS: tuple[str, ...] = ("summary", "full")
WRONG_SCOPE_STATUSES: tuple[int, ...] = (401, 403)
ACCOUNT_ID_ECHOES: tuple[str, ...] = ("echo", "omit")
# The fields of the documented detail example (GET /v1.0/workgroups?WorkgroupId=).
EXAMPLE_DETAIL_FIELDS = ("WorkgroupId", "Name", "Type", "AccountId", "Active", "ScheduleId")


@dataclass(frozen=True)
class SandboxOptions:
    """Everything a sandbox run can be told. Defaults follow the vendored spec's examples."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 = an ephemeral port chosen by the OS
    db: str = ":memory:"  # a SQLite file path, or ":memory:" for a throwaway run
    token_ttl: float = 300.0  # seconds a token stays valid
    rate_limit: int = 50  # requests per rolling window per account, tokens included; 0 = off
    rate_window: float = 60.0  # seconds of that window (Telegent documents none; 60 as the docs' "a minute")
    latency_ms: int = 0  # added to every API request
    latency_jitter_ms: int = 0  # plus a uniform random 0..jitter
    error_rate: float = 0.0  # probability of a 500/503/504 with no side effect
    drop_creates: tuple[int, ...] = ()  # 1-based ordinals of creates answered by a closed socket
    drop_activity_creates: tuple[int, ...] = ()  # the same for activity (member) creates
    envelope: Envelope = "bare"
    list_key: ListKey = "Workgroups"
    id_prefix: IdPrefix = "WID-"
    read_quirks: bool = False
    detail: Detail = "full"  # what GET /workgroups?WorkgroupId= carries
    list_fields: ListFields = "summary"  # what each entry of the account list carries
    wrong_scope_status: int = 401  # the answer to a token scoped to another endpoint
    account_id: AccountIdEcho = "echo"  # whether workgroup responses carry AccountId
    seed: int | None = None  # seeds the fault/latency random generator
    accounts: tuple[tuple[str, str], ...] = ()  # extra (AccountKey, AccountSecret) pairs
    log_bodies: bool = False  # request log keeps request bodies (secrets redacted)

    def __post_init__(self) -> None:
        check_loopback(self.host)
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0..65535, not {self.port}")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        if self.rate_limit < 0:
            raise ValueError("rate_limit must be 0 (off) or positive")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be positive")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latency_ms and latency_jitter_ms must not be negative")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if any(n < 1 for n in self.drop_creates) or any(n < 1 for n in self.drop_activity_creates):
            raise ValueError("drop_creates ordinals are 1-based")
        if self.detail not in DETAILS:
            raise ValueError(f"detail must be one of {list(DETAILS)}")
        if self.list_fields not in LIST_FIELDS:
            raise ValueError(f"list_fields must be one of {list(LIST_FIELDS)}")
        if self.wrong_scope_status not in WRONG_SCOPE_STATUSES:
            raise ValueError(f"wrong_scope_status must be one of {list(WRONG_SCOPE_STATUSES)}")
        if self.account_id not in ACCOUNT_ID_ECHOES:
            raise ValueError(f"account_id must be one of {list(ACCOUNT_ID_ECHOES)}")
        if self.envelope not in ENVELOPES:
            raise ValueError(f"envelope must be one of {list(ENVELOPES)}")
        if self.list_key not in LIST_KEYS:
            raise ValueError(f"list_key must be one of {list(LIST_KEYS)}")
        if self.id_prefix not in ID_PREFIXES:
            raise ValueError(f"id_prefix must be one of {list(ID_PREFIXES)}")
        for pair in self.accounts:
            if len(pair) != 2 or not pair[0] or not pair[1]:
                raise ValueError("accounts must be (AccountKey, AccountSecret) pairs, both non-empty")

    def dialect(self) -> dict[str, Any]:
        """The reading of the docs this server follows, one entry per open question."""
        return {
            "envelope": self.envelope, "list_key": self.list_key, "id_prefix": self.id_prefix,
            "read_quirks": self.read_quirks, "detail": self.detail, "list_fields": self.list_fields,
            "wrong_scope_status": self.wrong_scope_status, "account_id": self.account_id,
        }

    def credentials(self) -> dict[str, str]:
        """AccountKey -> AccountSecret for every account the server knows."""
        creds = {DEMO_ACCOUNT_KEY: DEMO_ACCOUNT_SECRET}
        creds.update(dict(self.accounts))
        return creds


def check_loopback(host: str) -> None:
    """Refuse anything but a loopback address: the sandbox has no real security."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"host {host!r} is not an IP address; use 127.0.0.1 or ::1") from None
    if not address.is_loopback:
        raise ValueError(
            f"host {host} is not a loopback address; the sandbox only serves on loopback "
            "(127.0.0.1 or ::1) because it has no real authentication"
        )
