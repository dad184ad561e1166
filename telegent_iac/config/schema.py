"""The JSON Schema of a config file, derived from the vendored spec plus our own keys.

One builder serves two uses: `json_schema()` is what editors get (it also accepts a
`${env.X}` / `${var.X}` reference wherever a value is constrained, since the editor sees the
file before interpolation), and `validators()` compiles the same schema, without those
alternatives, to check values after interpolation.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telegent_iac import spec
from telegent_iac.routing.lints import IGNORABLE

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"

ADDRESS_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
E164_PATTERN = r"^\+[1-9]\d{1,14}$"
INTERPOLATED_PATTERN = r"\$\{(env|var)\.[A-Za-z_][A-Za-z0-9_]*\}"

# Our rules on top of the spec. The spec types these as plain strings; the API notes and the
# field descriptions say they are E.164 numbers.
PHONE_FIELDS = frozenset({"TelegentPhone", "TollFreeNumber", "PhoneNumber"})

OWN_WORKGROUP_KEYS: dict[str, dict[str, Any]] = {
    "prevent_destroy": {
        "type": "boolean",
        "description": "Never delete this workgroup, even when its entry is removed (kept in the state).",
    },
    "allow_replace": {
        "type": "boolean",
        "description": "Allow a change the update endpoint cannot make to delete and re-create this workgroup.",
    },
    "lint_ignore": {
        "type": "array",
        "items": {"enum": list(IGNORABLE)},
        "description": "Routing lint rules accepted for this workgroup (docs/routing.md); not sent to the API.",
    },
}
DIGITS_PATTERN = r"^[0-9*#]*$"
MEMBER_KEY = {
    "type": ["string", "integer"],
    "minLength": 1,
    "description": "Explicit member identity; needed when two members would otherwise look the same.",
}

# What a failed pattern means, in words, for messages.
PATTERN_WORDS = {
    ADDRESS_PATTERN: "an address: lower-case letters, digits, '-' and '_', starting with a letter or digit, "
    "at most 63 characters",
    E164_PATTERN: "an E.164 phone number such as \"+14155550100\"",
    DIGITS_PATTERN: "the keys pressed: digits 0-9, * and #",
}


def _field_schema(name: str, schema: dict[str, Any], editor: bool) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    if name in PHONE_FIELDS:
        out["pattern"] = E164_PATTERN
    elif out.get("type") == "string" and "enum" not in out and "format" not in out:
        # YAML reads CallOrder: 1 as a number; we take it as the string "1".
        out["type"] = ["string", "integer"]
    if editor and (out.get("type") != ["string", "integer"]):
        return {"anyOf": [out, {"$ref": "#/$defs/interpolated"}], "description": out.get("description", name)}
    return out


def build_schema(editor: bool = True) -> dict[str, Any]:
    """The whole config schema; `editor` adds the interpolation alternatives."""
    wg_props = {name: _field_schema(name, sub, editor) for name, sub in spec.workgroup_fields().items()}
    member_props = {name: _field_schema(name, sub, editor) for name, sub in spec.member_fields().items()}
    member_props["key"] = dict(MEMBER_KEY)
    wg_props["members"] = {
        "type": "array",
        "items": {"$ref": "#/$defs/member"},
        "description": "Workgroup activities: ring targets, or one per IVR digit.",
    }
    wg_props.update(copy.deepcopy(OWN_WORKGROUP_KEYS))
    wg_props["ScheduleId"] = dict(wg_props["ScheduleId"], description=(
        "The address of a schedule under schedules:, or the ID of a schedule made outside telegent-iac."
    ))
    schedule_props = {name: _field_schema(name, sub, editor) for name, sub in spec.schedule_fields().items()}
    address = {"type": "string", "pattern": ADDRESS_PATTERN}
    defs: dict[str, Any] = {
        "address": address,
        "workgroup": {
            "type": "object",
            "description": "A workgroup; field names are the API's own, as the vendored spec spells them.",
            "required": spec.workgroup_required(),
            "properties": wg_props,
            "additionalProperties": False,
        },
        "member": {
            "type": "object",
            "required": spec.member_required(),
            "properties": member_props,
            "additionalProperties": False,
        },
        "schedule": {
            "type": "object",
            "description": "A schedule; field names are the create endpoint's own. A day without times is closed.",
            "required": spec.schedule_required(),
            "properties": schedule_props,
            "additionalProperties": False,
        },
        "routing_test": {
            "type": "object",
            "description": "A call and what must happen to it (docs/routing.md).",
            "required": ["call", "expect"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "call": {
                    "type": "object",
                    "required": ["number", "at"],
                    "properties": {
                        "number": {"type": "string", "pattern": E164_PATTERN, "description": "The number dialled."},
                        "at": {"type": "string", "minLength": 1,
                               "description": "The moment, ISO 8601 (2026-03-02T09:30), with an offset or time_zone."},
                        "time_zone": {"type": "string", "minLength": 1,
                                      "description": "IANA zone of `at` when it has no offset."},
                        "digits": {"type": ["string", "integer"], "pattern": DIGITS_PATTERN,
                                   "description": "Keys pressed at IVR menus, in order."},
                    },
                    "additionalProperties": False,
                },
                "expect": {
                    "type": "object",
                    "properties": {
                        "workgroup": {"$ref": "#/$defs/address"},
                        "rings": {"type": "array", "items": {"type": "string", "minLength": 1},
                                  "description": "Users (ReferenceUserId) and phone numbers that ring, any order."},
                        "nobody": {"type": "boolean", "description": "true: the call rings nobody."},
                    },
                    "additionalProperties": False,
                },
            },
            "additionalProperties": False,
        },
        "import": {
            "type": "object",
            "required": ["address", "id"],
            "properties": {
                "address": {"$ref": "#/$defs/address"},
                "id": {"type": "string", "minLength": 1, "description": "The live WorkgroupId to adopt."},
            },
            "additionalProperties": False,
        },
        "moved": {
            "type": "object",
            "required": ["from", "to"],
            "properties": {"from": {"$ref": "#/$defs/address"}, "to": {"$ref": "#/$defs/address"}},
            "additionalProperties": False,
        },
    }
    if editor:
        defs["interpolated"] = {
            "type": "string",
            "pattern": INTERPOLATED_PATTERN,
            "description": "A value taken from the environment (${env.NAME}) or a --var-file (${var.NAME}).",
        }
    return {
        "$schema": SCHEMA_DRAFT,
        "title": "telegent-iac configuration",
        "description": "Telegent call-routing workgroups as code. See docs/config.md.",
        "type": "object",
        "required": ["workgroups"],
        "properties": {
            "workgroups": {
                "type": "object",
                "description": "Workgroups keyed by address (a stable name that state and references use).",
                "propertyNames": {"$ref": "#/$defs/address"},
                "additionalProperties": {"$ref": "#/$defs/workgroup"},
            },
            "schedules": {
                "type": "object",
                "description": "Schedules keyed by address; a workgroup's ScheduleId names one.",
                "propertyNames": {"$ref": "#/$defs/address"},
                "additionalProperties": {"$ref": "#/$defs/schedule"},
            },
            "routing_tests": {
                "type": "array",
                "items": {"$ref": "#/$defs/routing_test"},
                "description": "Calls and what must happen to them; run with `telegent-iac test`.",
            },
            "import": {
                "type": "array",
                "items": {"$ref": "#/$defs/import"},
                "description": "Adopt live workgroups under an address through the plan.",
            },
            "moved": {
                "type": "array",
                "items": {"$ref": "#/$defs/moved"},
                "description": "Address renames, carried over in the state.",
            },
        },
        "patternProperties": {"^x-": {"description": "Ignored: a place for YAML anchors to reuse."}},
        "additionalProperties": False,
        "$defs": defs,
    }


@cache
def json_schema() -> dict[str, Any]:
    """The editor schema (draft 2020-12). Cached: copy it before changing it."""
    return build_schema(editor=True)


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and not re.search(r"\s", value)


@cache
def format_checker() -> FormatChecker:
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("uri")(_is_uri)
    return checker


Check = Callable[[Any], bool]

_SIMPLE_TYPES: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: type(value) is int,  # a float like 1.0 goes the slow way
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
}
_FAST_KEYWORDS = {
    "type", "enum", "pattern", "format", "required", "properties", "patternProperties",
    "additionalProperties", "items", "$ref", "minLength", "description", "$defs", "$schema", "title",
}


def compile_fast_check(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Check:
    """A plain-Python predicate that is True only where `schema` certainly accepts the value.

    jsonschema's generic evaluation costs ~50 us a workgroup; this subset compiler (built from
    the same schema, so there is still one source) lets the valid majority skip it. Anything
    it is unsure of returns False, and jsonschema then decides and words the problems.
    """
    if not set(schema) <= _FAST_KEYWORDS:
        return lambda value: False
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return compile_fast_check(defs[name], defs)
    checks: list[Check] = []
    kinds = schema.get("type")
    if kinds is not None:
        wanted = [_SIMPLE_TYPES.get(kind) for kind in (kinds if isinstance(kinds, list) else [kinds])]
        if None in wanted:
            return lambda value: False
        type_checks = [check for check in wanted if check is not None]
        checks.append(type_checks[0] if len(type_checks) == 1 else _any_of(type_checks))
    if "enum" in schema:
        options = list(schema["enum"])
        checks.append(lambda value: isinstance(value, str) and value in options)
    if "pattern" in schema:
        regexp = re.compile(schema["pattern"])
        checks.append(lambda value: not isinstance(value, str) or regexp.search(value) is not None)
    if "minLength" in schema:
        least = schema["minLength"]
        checks.append(lambda value: not isinstance(value, str) or len(value) >= least)
    if schema.get("format") == "uri":
        checks.append(_is_uri)
    elif "format" in schema:
        return lambda value: False
    if "items" in schema:
        item_check = compile_fast_check(schema["items"], defs)

        def check_items(value: Any) -> bool:
            if isinstance(value, list):
                for item in value:
                    if not item_check(item):
                        return False
            return True

        checks.append(check_items)
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        props = {name: compile_fast_check(sub, defs) for name, sub in schema.get("properties", {}).items()}
        patterns = [(re.compile(pattern), compile_fast_check(sub, defs))
                    for pattern, sub in schema.get("patternProperties", {}).items()]
        required = list(schema.get("required", []))
        closed = schema.get("additionalProperties", True) is False
        if schema.get("additionalProperties", True) not in (True, False):
            return lambda value: False

        def check_object(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for name in required:
                if name not in value:
                    return False
            for name, item in value.items():
                check = props.get(name)
                known = check is not None
                if check is not None and not check(item):
                    return False
                for regexp, matched in patterns:  # a key may also match a pattern: both apply
                    if not isinstance(name, str):
                        return False
                    if regexp.search(name) is not None:
                        known = True
                        if not matched(item):
                            return False
                if closed and not known:
                    return False
            return True

        checks.append(check_object)
    if len(checks) == 1:
        return checks[0]

    def check_all(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 (a plain loop: no generator made per value checked)
            if not check(value):
                return False
        return True

    return check_all


def _any_of(checks: list[Check]) -> Check:
    def check_any(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 (a plain loop: no generator made per value checked)
            if check(value):
                return True
        return False

    return check_any


class SchemaCheck:
    """One schema's check: the compiled fast path, and jsonschema (imported and built on first
    need) for a value the fast path is unsure of; jsonschema then decides and words the problems."""

    def __init__(self, schema: dict[str, Any], defs: Mapping[str, Any], formats: bool = False) -> None:
        self.schema = schema
        self.fast = compile_fast_check(schema, defs)
        self._formats = formats
        self._full: Draft202012Validator | None = None

    def _jsonschema(self) -> Draft202012Validator:
        if self._full is None:
            from jsonschema import Draft202012Validator

            self._full = Draft202012Validator(self.schema, format_checker=format_checker() if self._formats else None)
        return self._full

    def is_valid(self, value: Any) -> bool:
        return self.fast(value) or self._jsonschema().is_valid(value)

    def iter_errors(self, value: Any) -> Iterator[Any]:
        return iter(()) if self.fast(value) else self._jsonschema().iter_errors(value)


class Validators:
    """Compiled once: the document's top level, one workgroup, one import or moved entry."""

    def __init__(self) -> None:
        full = build_schema(editor=False)
        defs = full["$defs"]
        top = copy.deepcopy(full)
        top["properties"]["workgroups"] = {"type": "object"}  # entries are checked one by one
        top["properties"]["import"] = {"type": "array"}
        top["properties"]["schedules"] = {"type": "object"}
        top["properties"]["routing_tests"] = {"type": "array"}
        top["properties"]["moved"] = {"type": "array"}
        self.top = SchemaCheck(top, defs, formats=True)
        self.address = SchemaCheck({"$defs": defs, **defs["address"]}, defs)
        self.workgroup = SchemaCheck({"$defs": defs, **defs["workgroup"]}, defs, formats=True)
        self.imports = SchemaCheck({"$defs": defs, **defs["import"]}, defs)
        self.moved = SchemaCheck({"$defs": defs, **defs["moved"]}, defs)
        self.schedule = SchemaCheck({"$defs": defs, **defs["schedule"]}, defs)
        self.routing_test = SchemaCheck({"$defs": defs, **defs["routing_test"]}, defs)
        self.schedule_props: dict[str, Any] = defs["schedule"]["properties"]
        self.workgroup_props: dict[str, Any] = defs["workgroup"]["properties"]
        self.member_props: dict[str, Any] = defs["member"]["properties"]


@cache
def validators() -> Validators:
    return Validators()
