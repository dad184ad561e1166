"""Tolerant decoding of Telegent responses (pure functions).

The public docs disagree on response shapes (see reference/telegent-api.md §7), so every
reader here accepts: a `{Successful, Data}` envelope or a bare object; keys in any case
(WorkgroupId / workgroupId / workgroupID); a list under `Workgroups` or `Results` (or as
`Data`, or bare); IDs as opaque strings (no prefix checks); Types and booleans in their read
spellings, mapped through the canonical model.

What a response does not carry is unknown, never empty (see `model.UNSAID`): a detail without
an activity list has unknown members, not none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from telegent_iac import spec
from telegent_iac.api.failures import ApiError
from telegent_iac.model.workgroups import (
    ACTIVITIES,
    UNSAID,
    LiveSummary,
    canonical_bool,
    canonical_member,
    canonical_type,
    canonical_workgroup,
    said_fields,
)

LIST_KEYS = ("Workgroups", "Results", "Schedules", "Items")
ACTIVITY_KEYS = ("Activities", "Members", "WorkgroupActivities")
_MESSAGE_KEYS = ("Message", "Error", "ErrorMessage", "Detail", "Title")


def ci_get(obj: Mapping[str, Any], *names: str) -> Any:
    """The value of the first of `names` present in `obj`, keys compared case-insensitively."""
    lowered = {str(k).lower(): v for k, v in obj.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def ci_has(obj: Mapping[str, Any], name: str) -> bool:
    return any(str(k).lower() == name.lower() for k in obj)


def message_of(obj: Mapping[str, Any]) -> str | None:
    """A human message from an error-ish object: {StatusCode, Message}, {error}, or an
    ASP.NET ProblemDetails {title, errors: {field: [msg]}}."""
    parts: list[str] = []
    for key in _MESSAGE_KEYS:
        value = ci_get(obj, key)
        if isinstance(value, str) and value.strip():
            parts.append(value.strip())
            break
    errors = ci_get(obj, "Errors")
    if isinstance(errors, Mapping):
        for field_name, msgs in errors.items():
            items = msgs if isinstance(msgs, list) else [msgs]
            for msg in items:
                parts.append(f"{field_name}: {msg}" if field_name else str(msg))
    elif isinstance(errors, list):
        parts.extend(str(e) for e in errors if e)
    return "; ".join(parts) if parts else None


def error_message(text: str, status: int | None = None) -> str:
    """The server's message from an error response body (JSON in either error shape, or
    plain text), trimmed; a generic one when the body is empty."""
    stripped = text.strip()
    if stripped:
        try:
            body = json.loads(stripped)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply to be a message
            body = None
        if isinstance(body, Mapping):
            msg = message_of(body)
            data = ci_get(body, "Data")
            if msg is None and isinstance(data, Mapping):
                msg = message_of(data)
            if msg:
                return msg[:500]
        elif isinstance(body, str) and body.strip():
            return body.strip()[:500]
        if body is None:
            return stripped[:500]
    return f"HTTP {status}" if status else "empty response"


def _check_successful(obj: Mapping[str, Any], endpoint: str) -> None:
    if ci_has(obj, "Successful") and canonical_bool(ci_get(obj, "Successful")) is False:
        raise ApiError(message_of(obj) or "the API reported Successful: false", endpoint=endpoint)


def unwrap(body: Any, endpoint: str = "") -> Any:
    """The resource inside a response: `Data` when present (a dict or a list), else the body.
    `Successful: false` at the top or inside Data raises ApiError with the message."""
    if isinstance(body, Mapping):
        _check_successful(body, endpoint)
        data = ci_get(body, "Data")
        if isinstance(data, Mapping):
            _check_successful(data, endpoint)
            return data
        if isinstance(data, list):
            return data
    return body


def items_of(body: Any, endpoint: str = "") -> list[Mapping[str, Any]]:
    """The entries of a list response, in any of its shapes."""
    inner = unwrap(body, endpoint)
    found: Any
    if isinstance(inner, list):
        found = inner
    elif isinstance(inner, Mapping):
        key = next((k for k in LIST_KEYS if ci_has(inner, k)), None)
        if key is not None:
            value = ci_get(inner, key)
            found = [] if value is None else value  # `{"Workgroups": null}`: none
        else:
            lists = [v for v in inner.values() if isinstance(v, list)]
            if len(lists) == 1:
                found = lists[0]
            elif not lists and _says_empty(inner):
                found = []
            else:
                # Guessing "empty" here could make a plan recreate every workgroup.
                found = None
    else:
        found = None
    if found is None:
        raise ApiError("unrecognised list response", endpoint=endpoint)
    if not isinstance(found, list) or not all(isinstance(i, Mapping) for i in found):
        raise ApiError("list response entries are not objects", endpoint=endpoint)
    return found


def _says_empty(obj: Mapping[str, Any]) -> bool:
    """`{"AccountID": ..., "TotalWorkgroups": 0}`: an explicitly empty list."""
    totals = [v for k, v in obj.items() if str(k).lower().startswith("total")]
    return bool(totals) and all(str(v).strip() == "0" for v in totals)


def opaque_id(obj: Mapping[str, Any], *names: str) -> str | None:
    """An ID field as an opaque, non-empty string (never checked for WID-/WG- prefixes)."""
    return _opaque(ci_get(obj, *names))


def _opaque(value: Any) -> str | None:
    if value is None or isinstance(value, bool | Mapping | list):
        return None
    text = str(value).strip()
    return text or None


def decode_summaries(body: Any, endpoint: str = "") -> list[LiveSummary]:
    """GET /account/workgroups -> LiveSummary list (Type "ring" becomes None)."""
    out: list[LiveSummary] = []
    schema = spec.workgroup_fields()
    for item in items_of(body, endpoint):
        # The keys lower-cased once per entry (as ci_get and said_fields read them), not per lookup.
        lowered = {str(k).lower(): v for k, v in item.items()}
        wid = _opaque(_first(lowered, "workgroupid", "id"))
        if wid is None:
            # Skipping it could hide a workgroup from duplicate detection: refuse instead.
            raise ApiError("a listed workgroup has no WorkgroupId", endpoint=endpoint)
        name = lowered.get("name")
        out.append(
            LiveSummary(
                workgroup_id=wid,
                name="" if name is None else str(name),
                type=canonical_type(lowered.get("type")),
                active=canonical_bool(lowered.get("active")),
                fields=canonical_workgroup(item),
                said=said_fields(lowered, schema),
            )
        )
    return out


def _first(lowered: Mapping[str, Any], *names: str) -> Any:
    """ci_get on keys already lower-cased: the value of the first name present."""
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def decode_activity(item: Mapping[str, Any]) -> dict[str, Any]:
    """One activity: canonical member fields, its ID, and "Unsaid" (only when some member
    field is not carried at all: unknown, as for a workgroup)."""
    out = canonical_member(item)
    aid = opaque_id(item, "WorkgroupActivityId", "ActivityId")
    if aid is not None:
        out["WorkgroupActivityId"] = aid
    schema = spec.member_fields()
    unsaid = sorted(set(schema) - said_fields(item, schema))
    if unsaid:
        out[UNSAID] = unsaid
    return out


def decode_workgroup(body: Any, workgroup_id: str = "", endpoint: str = "") -> dict[str, Any]:
    """GET /workgroups?WorkgroupId= -> canonical workgroup fields, plus "Activities" only when
    the response listed them (`null` is an empty list; no key at all is unknown), plus "Unsaid":
    the spec fields the response did not carry."""
    inner = unwrap(body, endpoint)
    if isinstance(inner, Mapping):
        nested = ci_get(inner, "Workgroup")
        if isinstance(nested, Mapping):
            inner = nested
        elif not ci_has(inner, "Name") and any(ci_has(inner, k) for k in LIST_KEYS):
            inner = items_of(inner, endpoint)
    if isinstance(inner, list):
        matches = [i for i in inner if isinstance(i, Mapping) and opaque_id(i, "WorkgroupId") == workgroup_id]
        if len(matches) != 1 and len(inner) == 1 and isinstance(inner[0], Mapping):
            matches = [inner[0]]
        if len(matches) != 1:
            raise ApiError("workgroup details response has no single workgroup", endpoint=endpoint)
        inner = matches[0]
    if not isinstance(inner, Mapping):
        raise ApiError("workgroup details response is not an object", endpoint=endpoint)
    out = canonical_workgroup(inner)
    schema = spec.workgroup_fields()
    out[UNSAID] = sorted(set(schema) - said_fields(inner, schema))
    key = next((k for k in ACTIVITY_KEYS if ci_has(inner, k)), None)
    if key is not None:
        raw_activities = ci_get(inner, key)
        if raw_activities is None:
            out[ACTIVITIES] = []
        elif isinstance(raw_activities, list) and all(isinstance(a, Mapping) for a in raw_activities):
            out[ACTIVITIES] = [decode_activity(a) for a in raw_activities]
        else:
            # Guessing here could make a plan create or delete members on the strength of it.
            raise ApiError("workgroup details carry an activity list that is not a list of objects",
                           endpoint=endpoint)
    return out


def decode_created_id(body: Any, *names: str, endpoint: str = "") -> str:
    """The new ID from a create response. Without one the object may still have been
    created, so the failure is ambiguous."""
    try:
        inner = unwrap(body, endpoint)
    except ApiError as exc:
        # Successful:false on a create: the server says it did not create anything.
        raise ApiError(exc.message, endpoint=endpoint) from None
    if isinstance(inner, Mapping):
        found = opaque_id(inner, *names)
        if found is None:
            for key in ("Workgroup", "WorkgroupActivity", "Activity", "Schedule"):
                nested = ci_get(inner, key)
                if isinstance(nested, Mapping):
                    found = opaque_id(nested, *names)
                    if found:
                        break
        if found is not None:
            return found
    raise ApiError(
        f"create response has no recognisable {names[0]}; the object may exist",
        endpoint=endpoint,
        ambiguous=True,
    )


def decode_token(body: Any, endpoint: str = "") -> tuple[str | None, Any, str | None]:
    """(token, tokenExpiry, error) from a token response, keys matched in any case."""
    inner = body
    if isinstance(body, Mapping):
        data = ci_get(body, "Data")
        if isinstance(data, Mapping) and ci_get(body, "Token") is None:
            inner = data
    if not isinstance(inner, Mapping):
        return None, None, "token response is not an object"
    ok = canonical_bool(ci_get(inner, "Successful"))
    if ok is False or (isinstance(body, Mapping) and canonical_bool(ci_get(body, "Successful")) is False):
        msg = message_of(inner) or (message_of(body) if isinstance(body, Mapping) else None)
        return None, None, msg or "token request was not successful"
    token = ci_get(inner, "Token", "AccessToken", "access_token")
    if not isinstance(token, str) or not token:
        return None, None, "token response has no token"
    return token, ci_get(inner, "TokenExpiry", "Expiry", "ExpiresAt"), None
