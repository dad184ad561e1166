"""The canonical workgroup and member model, shared by the YAML side and the live side.

Both sources are reduced to the same canonical form before anything is compared, so a
freshly applied workgroup never shows a spurious change:
  - fields use the API's own names, exactly as the vendored spec spells them;
  - a value that is None or "" is "not set" and is dropped;
  - booleans are real booleans (the API sometimes reads them back as "true"/"False"/"");
  - Type is one of the spec's enum values (reads may say "ivr", "RoundRobin", "ring", ...);
  - a field that points at another workgroup holds that workgroup's *address* on the YAML
    side and in the state; it is turned into a WorkgroupId only when a request is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from telegent_iac import spec
from telegent_iac.errors import Finding, Position


@dataclass(frozen=True)
class Member:
    """One workgroup activity (a ring target, or one IVR digit)."""

    key: str  # stable identity inside its workgroup; survives reordering
    fields: Mapping[str, Any]  # canonical; ReferenceWorkgroupId holds an address
    position: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Workgroup:
    address: str
    fields: Mapping[str, Any]  # canonical; workgroup and schedule references hold addresses
    members: tuple[Member, ...] = ()
    prevent_destroy: bool = False
    allow_replace: bool = False
    position: Position | None = field(default=None, compare=False)
    # routing lint rules accepted for this workgroup (`lint_ignore:`); never sent to the API
    lint_ignore: frozenset[str] = field(default=frozenset(), compare=False)
    # where some fields' values were written, for routing lint messages
    field_positions: Mapping[str, Position] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return str(self.fields["Name"])

    @property
    def type(self) -> str:
        return str(self.fields["Type"])

    def references(self) -> set[str]:
        """Addresses of the workgroups this one (or one of its members) points at."""
        return set(references(self.fields, (m.fields for m in self.members)))


@dataclass(frozen=True)
class Schedule:
    """A schedule (`schedules:`): opening hours per weekday, field names as the create
    endpoint spells them. A day with no start and end time is closed."""

    address: str
    fields: Mapping[str, Any]  # canonical: unset and "" days dropped alike
    position: Position | None = field(default=None, compare=False)
    field_positions: Mapping[str, Position] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return str(self.fields["Name"])


@dataclass(frozen=True)
class RoutingTest:
    """One `routing_tests:` case: a call and what must happen to it (see docs/routing.md)."""

    name: str
    number: str
    at: datetime  # aware
    digits: str = ""
    workgroup: str | None = None  # the address the call must reach
    rings: tuple[str, ...] | None = None  # who must ring (users, phone numbers), any order
    nobody: bool = False  # nobody must ring
    position: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ImportEntry:
    """`import:` in the YAML: adopt a live workgroup under an address through the plan."""

    address: str
    workgroup_id: str
    position: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class MovedEntry:
    """`moved:` in the YAML: an address renamed, carried over in the state."""

    old: str
    new: str
    position: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Desired:
    """What the YAML files say the account should have."""

    workgroups: Mapping[str, Workgroup]
    imports: tuple[ImportEntry, ...] = ()
    moved: tuple[MovedEntry, ...] = ()
    input_hash: str = ""  # sha256 over the input files' bytes and the interpolated values
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    routing_tests: tuple[RoutingTest, ...] = ()
    # routing lint findings of severity "warning": printed, never blocking
    warnings: tuple[Finding, ...] = ()

    def __iter__(self) -> Iterator[Workgroup]:
        return iter(self.workgroups.values())


@dataclass(frozen=True)
class LiveSummary:
    """One entry of the account's summary list (GET /account/workgroups)."""

    workgroup_id: str
    name: str
    type: str | None  # canonical; None when the read spelling is ambiguous ("ring")
    active: bool | None = None
    # Canonical fields the entry said beyond the four above (a list may carry whole records);
    # a field the entry did not carry is unknown, not unset: see `Said`.
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False)
    said: frozenset[str] = field(default=frozenset(), compare=False)


# --- unknown is not empty --------------------------------------------------------------------
#
# A read says three things about a field: a value, "not set" (null or ""), or nothing at all
# (the key is absent). Canonical fields keep only values, so what a read did *not* say is
# carried next to them. A live workgroup detail (api.decode.decode_workgroup) is a dict of
# canonical fields plus:
#   ACTIVITIES  the members the response listed; the key is absent when it listed none at all
#               (then the members are unknown, never "none");
#   UNSAID      the spec fields the response did not carry: unknown, never "unset".
# A spec field neither in the dict nor in UNSAID was said to be unset.

ACTIVITIES = "Activities"
UNSAID = "Unsaid"


def members_known(detail: Mapping[str, Any]) -> bool:
    """Whether a live detail listed the workgroup's members (an empty list is known: none)."""
    return ACTIVITIES in detail


def unsaid_fields(detail: Mapping[str, Any]) -> frozenset[str]:
    """The spec fields a live detail did not carry: their live values are unknown."""
    return frozenset(detail.get(UNSAID, ()))


# --- canonical form -----------------------------------------------------------------------

_TYPE_SPELLINGS = {
    "ivr": "IVR",
    "simultaneous": "simultaneous",
    "simultaneousring": "simultaneous",
    "simring": "simultaneous",
    "roundrobin": "round-robin",
}
RING_TYPES = frozenset({"simultaneous", "round-robin"})


def canonical_type(value: Any) -> str | None:
    """Map a Type as read back to the spec's enum; None for an ambiguous "ring"."""
    if value is None:
        return None
    return _type_spelling(str(value))


@lru_cache(maxsize=256)  # a handful of spellings, read for every workgroup on both sides
def _type_spelling(text: str) -> str | None:
    return _TYPE_SPELLINGS.get("".join(ch for ch in text.lower() if ch.isalnum()))


def type_matches(declared: str, live: str | None) -> bool:
    """Whether a live Type (canonical, maybe None for "ring") can be the declared one."""
    if live is None:
        return declared in RING_TYPES
    return declared == live


def canonical_bool(value: Any) -> bool | None:
    """Booleans arrive as true, "true", "True", "1", "" or null; "" and null mean not set."""
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"", "null", "none"}:
        return None
    if text in {"true", "1", "yes", "on"}:
        return True
    if text in {"false", "0", "no", "off"}:
        return False
    return None


def _converter(name: str, schema: Mapping[str, Any]) -> Callable[[Any], Any]:
    """How one field's non-null value is made canonical (decided once per field, not per value)."""
    kind = schema.get("type")
    if name == "Type" and "enum" in schema:
        enum = schema["enum"]

        def convert_type(value: Any) -> Any:
            mapped = canonical_type(value)
            return mapped if mapped in enum else value

        return convert_type
    if kind == "boolean":
        return canonical_bool
    if kind == "integer":
        return _canonical_int
    if kind == "string":
        return _canonical_text
    return _same


def _canonical_int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _canonical_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if text != "" else None


def _same(value: Any) -> Any:
    return value


# Per schema (the spec's cached field tables): lower-case name -> (name, converter). Kept with
# the schema itself so an id reused by another object can never match.
_FIELD_TABLES: dict[int, tuple[Mapping[str, Any], dict[str, tuple[str, Callable[[Any], Any]]]]] = {}


def _field_table(schema: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, Callable[[Any], Any]]]:
    cached = _FIELD_TABLES.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    table = {name.lower(): (name, _converter(name, schema[name])) for name in schema}
    _FIELD_TABLES[id(schema)] = (schema, table)
    return table


def canonical_fields(raw: Mapping[str, Any], schema: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Keep the fields `schema` knows (matched case-insensitively), canonical, unset ones dropped."""
    table = _field_table(schema)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        known = table.get(str(key).lower())
        if known is None or value is None:
            continue
        name, convert = known
        canon = convert(value)
        if canon is not None:
            out[name] = canon
    return dict(sorted(out.items()))


def canonical_workgroup(raw: Mapping[str, Any]) -> dict[str, Any]:
    return canonical_fields(raw, spec.workgroup_fields())


def canonical_member(raw: Mapping[str, Any]) -> dict[str, Any]:
    return canonical_fields(raw, spec.member_fields())


def canonical_schedule(raw: Mapping[str, Any]) -> dict[str, Any]:
    return canonical_fields(raw, spec.schedule_fields())


def said_fields(raw: Mapping[str, Any], schema: Mapping[str, Any]) -> frozenset[str]:
    """The names of `schema`'s fields that `raw` carries (any value, null and "" included)."""
    table = _field_table(schema)  # lower-cased name -> (name, converter), as canonical_fields matches names
    return frozenset(table[low][0] for low in {str(k).lower() for k in raw} if low in table)


# --- references between workgroups ---------------------------------------------------------

# Each pair is (type field, id field): the id field names a workgroup when the type says so.
ROUTING_REF_FIELDS = (("OffHoursType", "OffHoursId"), ("OnHoursType", "OnHoursId"))


def workgroup_refs(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, value) of each field of a workgroup that holds a workgroup reference."""
    refs = []
    for type_field, id_field in ROUTING_REF_FIELDS:
        if str(fields.get(type_field, "")).lower() == "workgroup" and fields.get(id_field):
            refs.append((id_field, str(fields[id_field])))
    return refs


def references(fields: Mapping[str, Any], members: Iterable[Mapping[str, Any]]) -> list[str]:
    """What a workgroup with these fields and members points at, in order, each once: the
    edges of the reference graph (config cycles, apply order)."""
    targets = [target for _, target in workgroup_refs(fields)]
    for member in members:
        targets.extend(target for _, target in member_refs(member))
    return list(dict.fromkeys(targets))


def member_refs(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    if str(fields.get("Type", "")).lower() == "workgroup" and fields.get("ReferenceWorkgroupId"):
        return [("ReferenceWorkgroupId", str(fields["ReferenceWorkgroupId"]))]
    return []


def member_key(fields: Mapping[str, Any], explicit: str | None = None) -> str:
    """A member's identity: an explicit `key`, else what it rings (user, workgroup or phone)."""
    if explicit:
        return str(explicit)
    for prefix, name in (
        ("workgroup", "ReferenceWorkgroupId"),
        ("user", "ReferenceUserId"),
        ("phone", "PhoneNumber"),
    ):
        if fields.get(name):
            return f"{prefix}:{fields[name]}"
    if "DigitOrder" in fields:
        return f"digit:{fields['DigitOrder']}"
    return "member"
