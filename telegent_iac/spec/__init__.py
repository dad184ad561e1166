"""The vendored Telegent OpenAPI file and everything derived from it.

Config validation, the sandbox's request validation and the editor JSON Schema all come
from `telegent-openapi.yaml`; nothing else in the package spells out an API field list.
"""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from typing import Any

import yaml

SPEC_FILE = "telegent-openapi.yaml"

# Paths of the operations telegent-iac uses, named once here.
TOKENS = "/v1.0/oauth2/tokens"
WORKGROUPS = "/v1.0/workgroups"
ACCOUNT_WORKGROUPS = "/v1.0/account/workgroups"
WORKGROUP_UPDATE = "/v1.0/workgroups/update"
WORKGROUP_DELETE = "/v1.0/workgroups/delete"
ACTIVITY = "/v1.0/workgroups/activity"
ACTIVITY_UPDATE = "/v1.0/workgroups/activity/update"
ACTIVITY_DELETE = "/v1.0/workgroups/activity/delete"
SCHEDULES = "/v1.0/schedules"
ACCOUNT_SCHEDULES = "/v1.0/account/schedules"


@cache
def load_spec() -> dict[str, Any]:
    """The parsed OpenAPI document (cached; callers must not mutate it)."""
    text = resources.files(__package__).joinpath(SPEC_FILE).read_text(encoding="utf-8")
    # Read at every start: libyaml's loader takes ~3 ms where the pure-Python one takes ~27.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: dict[str, Any] = yaml.load(text, Loader=loader)
    return spec


def operations() -> list[tuple[str, str]]:
    """Every (METHOD, path) the spec declares, methods upper-case."""
    ops: list[tuple[str, str]] = []
    for path, item in load_spec()["paths"].items():
        for method in item:
            if method in {"get", "post", "put", "patch", "delete"}:
                ops.append((method.upper(), path))
    return ops


def operation(method: str, path: str) -> dict[str, Any] | None:
    """The spec's operation object (shared: do not mutate)."""
    item = load_spec()["paths"].get(path)
    if item is None:
        return None
    op: dict[str, Any] | None = item.get(method.lower())
    return op


@cache
def request_schema(method: str, path: str) -> dict[str, Any] | None:
    """JSON Schema of the request body, with unknown fields refused; None if no body.

    Cached and shared (it is read on hot paths): callers must not mutate it."""
    op = operation(method.upper(), path)
    if op is None or "requestBody" not in op:
        return None
    schema = copy.deepcopy(op["requestBody"]["content"]["application/json"]["schema"])
    schema.setdefault("additionalProperties", False)
    stripped: dict[str, Any] = _strip_openapi_only(schema)
    return stripped


@cache
def workgroup_fields() -> dict[str, dict[str, Any]]:
    """Field name -> JSON Schema of every field the create endpoint accepts."""
    schema = request_schema("POST", WORKGROUPS)
    assert schema is not None
    props: dict[str, dict[str, Any]] = schema["properties"]
    return props


@cache
def workgroup_required() -> list[str]:
    schema = request_schema("POST", WORKGROUPS)
    assert schema is not None
    return list(schema.get("required", []))


@cache
def workgroup_updatable() -> frozenset[str]:
    """Fields /workgroups/update accepts (the ID itself excluded)."""
    schema = request_schema("POST", WORKGROUP_UPDATE)
    assert schema is not None
    return frozenset(schema["properties"]) - {"WorkgroupId"}


@cache
def member_fields() -> dict[str, dict[str, Any]]:
    """Fields of an activity create, without the parent WorkgroupId (implied by nesting)."""
    schema = request_schema("POST", ACTIVITY)
    assert schema is not None
    return {k: v for k, v in schema["properties"].items() if k != "WorkgroupId"}


@cache
def member_required() -> list[str]:
    schema = request_schema("POST", ACTIVITY)
    assert schema is not None
    return [f for f in schema.get("required", []) if f != "WorkgroupId"]


@cache
def schedule_fields() -> dict[str, dict[str, Any]]:
    """Fields of a schedule create, without AccountId (the client adds it from the settings)."""
    schema = request_schema("POST", SCHEDULES)
    assert schema is not None
    return {k: v for k, v in schema["properties"].items() if k != "AccountId"}


@cache
def schedule_required() -> list[str]:
    schema = request_schema("POST", SCHEDULES)
    assert schema is not None
    return list(schema.get("required", []))


def _strip_openapi_only(schema: Any) -> Any:
    """Drop OpenAPI-only keywords (example, nullable) so the result is plain JSON Schema."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key in {"example", "examples", "nullable", "xml", "externalDocs"}:
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = {name: _strip_openapi_only(sub) for name, sub in value.items()}
            else:
                out[key] = _strip_openapi_only(value)
        return out
    if isinstance(schema, list):
        return [_strip_openapi_only(v) for v in schema]
    return schema
