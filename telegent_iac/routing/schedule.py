"""Opening hours: the schedule create endpoint's day fields read as times, and whether a
moment falls inside them. See docs/routing.md for where each rule comes from."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from datetime import datetime, time
from functools import cache
from importlib import resources
from typing import Any

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The documented spelling ("8:00 AM"); nothing else is known to be accepted by the API.
TIME_RE = re.compile(r"^(1[0-2]|0?[1-9]):([0-5]\d) ?([AaPp][Mm])$")
TIME_WORDS = 'a time such as "8:00 AM" or "5:30 PM"'


def parse_time(text: str) -> time | None:
    match = TIME_RE.match(text.strip())
    if match is None:
        return None
    hour, minute, half = int(match[1]), int(match[2]), match[3].upper()
    return time(hour % 12 + (12 if half == "PM" else 0), minute)


def day_fields(day: str) -> tuple[str, str]:
    return f"{day}StartTime", f"{day}EndTime"


def opening(fields: Mapping[str, Any], day: str) -> tuple[time, time] | None:
    """(start, end) of one weekday, or None when it is closed (no times, or "")."""
    start_field, end_field = day_fields(day)
    start, end = fields.get(start_field), fields.get(end_field)
    if not start or not end:
        return None
    opens, closes = parse_time(str(start)), parse_time(str(end))
    if opens is None or closes is None:
        return None
    return opens, closes


def is_open(fields: Mapping[str, Any], local: datetime) -> bool:
    """Whether `local` (a wall-clock time in the workgroup's zone) is inside the hours."""
    hours = opening(fields, DAYS[local.weekday()])
    if hours is None:
        return False
    now = local.time().replace(tzinfo=None)
    return hours[0] <= now < hours[1]


# --- time zones from the tzdata package, not the machine ------------------------------------------


@cache
def time_zones() -> frozenset[str]:
    """The IANA zone names of the `tzdata` package: the same on every machine."""
    text = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


@cache
def zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone's rules as the `tzdata` package has them (never the machine's zoneinfo)."""
    if name not in time_zones():
        raise KeyError(name)
    with resources.files("tzdata").joinpath("zoneinfo", *name.split("/")).open("rb") as f:
        return zoneinfo.ZoneInfo.from_file(f, key=name)
