"""Addresses: what one may look like, and generating readable, unique ones (export)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

ADDRESS_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # = config.schema.ADDRESS_PATTERN
MAX_ADDRESS = 63
# Commands name a schedule `schedule.ADDRESS` (state commands, import, --target): workgroup
# addresses have no dot.
SCHEDULE = "schedule."


def is_address(text: str) -> bool:
    return bool(ADDRESS_RE.match(text))


def slugify(name: str, fallback: str = "workgroup") -> str:
    """A readable address from a workgroup Name: "Main Menu (EU)" -> "main-menu-eu"."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_]+", "-", ascii_text.lower()).strip("-_")
    slug = re.sub(r"-{2,}", "-", slug)[:MAX_ADDRESS].rstrip("-_")
    return slug or fallback


def unique_address(base: str, taken: Iterable[str]) -> str:
    """`base`, or `base-2`, `base-3`, ... (shortened to stay a valid address) not in `taken`."""
    used = set(taken)
    if base not in used:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: MAX_ADDRESS - len(suffix)].rstrip("-_") + suffix
        if candidate not in used:
            return candidate
        n += 1
