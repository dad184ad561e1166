"""Audit records: one JSON object per mutating call, shared by every store.

The apply builds the record (time, address, endpoint, fields sent, status, returned ID,
duration); a store only scrubs and persists it. Scrubbing here is a second line of defence:
the caller must already leave secrets out, but a key that names a credential is dropped
wherever it appears, so a mistake upstream cannot put a secret on disk.
"""

from __future__ import annotations

import json
import re
from typing import Any

from telegent_iac.safety.secrets import redact

# Compared after lower-casing and removing everything but letters and digits, so
# "AccountSecret", "account_secret" and "Account-Secret" are all caught.
_SECRET_KEYS = frozenset(
    {
        "accountsecret",
        "secret",
        "clientsecret",
        "token",
        "accesstoken",
        "refreshtoken",
        "bearertoken",
        "authorization",
        "password",
        "apikey",
    }
)
_NON_ALNUM = re.compile(r"[^a-z0-9]")


def is_secret_key(key: str) -> bool:
    return _NON_ALNUM.sub("", key.lower()) in _SECRET_KEYS


def scrub(value: Any) -> Any:
    """A copy of `value` without any mapping entry whose key names a credential, and with any
    known secret in a string replaced by `(sensitive)`."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if not (isinstance(k, str) and is_secret_key(k))}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return redact(value) if isinstance(value, str) else value  # a known secret, wherever it is


def audit_line(record: dict[str, Any]) -> bytes:
    """The scrubbed record as one compact JSON line (sorted keys, so lines diff and grep well)."""
    try:
        text = json.dumps(scrub(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit record is not JSON-serialisable: {exc}") from exc
    return (text + "\n").encode("utf-8")
