"""The emulated Telegent endpoints: routing, auth, validation against the vendored spec, and
the handlers themselves. Transport-free: `SandboxApi.handle_api` takes a parsed request and
the account it was authorised for, and returns a Response.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jsonschema import Draft7Validator

from telegent_iac import spec
from telegent_sandbox.account import Store
from telegent_sandbox.faults import Faults
from telegent_sandbox.http_types import Request, Response, error
from telegent_sandbox.options import EXAMPLE_DETAIL_FIELDS, SandboxOptions
from telegent_sandbox.token_issuer import Tokens, format_expiry

# How reads spell Type when read quirks are on (the docs show these spellings on reads).
_QUIRK_SUMMARY_TYPE = {"simultaneous": "ring", "round-robin": "ring"}
_QUIRK_DETAIL_TYPE = {"IVR": "Ivr", "round-robin": "RoundRobin", "simultaneous": "Simultaneous"}

# Fields that point at another workgroup when their type field says "Workgroup".
_HOURS_REFS = (("OffHoursType", "OffHoursId"), ("OnHoursType", "OnHoursId"))


class ApiFailure(Exception):
    """Raised inside a handler to answer with an error (any transaction is rolled back)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.body)
        self.response = response


def _bad(message: str) -> ApiFailure:
    return ApiFailure(error(400, f"Bad request: {message}"))


def _not_found(what: str) -> ApiFailure:
    return ApiFailure(error(404, f"Not found: {what} does not exist or belongs to a different account."))


@dataclass(frozen=True)
class Call:
    """One authorised API call, handed to an endpoint handler."""

    account: str
    path: str  # the spec's spelling of the path
    query: Mapping[str, str]  # parameter names lower-case (ASP.NET binds them case-insensitively)
    body: Mapping[str, Any]


@dataclass(frozen=True)
class Route:
    path: str  # the spec's spelling
    methods: Mapping[str, Callable[[Call], Response]]


@cache
def _validator(method: str, path: str) -> Draft7Validator | None:
    schema = spec.request_schema(method, path)
    return None if schema is None else Draft7Validator(schema)


def body_problems(method: str, path: str, body: Mapping[str, Any]) -> list[str]:
    """Every problem of a request body against the spec, each naming its field."""
    validator = _validator(method, path)
    if validator is None:
        return [f"unknown field '{name}'" for name in body]
    schema = validator.schema
    properties = schema.get("properties", {})
    problems = [f"unknown field '{name}'" for name in body if name not in properties]
    problems += [f"field '{name}' is required" for name in schema.get("required", []) if name not in body]
    for err in sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path]):
        if err.validator in {"required", "additionalProperties"} or not err.absolute_path:
            continue  # reported above, with the field named
        field = ".".join(str(p) for p in err.absolute_path)
        problems.append(f"field '{field}': {err.message}")
    return problems


class SandboxApi:
    def __init__(self, options: SandboxOptions, store: Store, tokens: Tokens, faults: Faults) -> None:
        self.options = options
        self.store = store
        self.tokens = tokens
        self.faults = faults
        self.credentials = options.credentials()
        handlers: dict[tuple[str, str], Callable[[Call], Response]] = {
            ("POST", spec.TOKENS): self._unreachable,  # answered before auth, see handle_token
            ("POST", spec.WORKGROUPS): self.create_workgroup,
            ("GET", spec.WORKGROUPS): self.get_workgroup,
            ("GET", spec.ACCOUNT_WORKGROUPS): self.list_workgroups,
            ("POST", spec.WORKGROUP_UPDATE): self.update_workgroup,
            ("POST", spec.WORKGROUP_DELETE): self.delete_workgroup,
            ("POST", spec.ACTIVITY): self.create_activity,
            ("POST", spec.ACTIVITY_UPDATE): self.update_activity,
            ("POST", spec.ACTIVITY_DELETE): self.delete_activity,
            ("POST", spec.SCHEDULES): self.create_schedule,
            ("GET", spec.ACCOUNT_SCHEDULES): self.list_schedules,
        }
        routes: dict[str, dict[str, Callable[[Call], Response]]] = {}
        for method, path in spec.operations():
            handler = handlers.get((method, path))
            if handler is None:
                raise RuntimeError(f"the sandbox has no handler for {method} {path} in the spec")
            routes.setdefault(path.lower(), {})[method] = handler
        self.routes = {lower: Route(self._spelling(lower), methods) for lower, methods in routes.items()}

    @staticmethod
    def _spelling(lower: str) -> str:
        return next(p for _, p in spec.operations() if p.lower() == lower)

    # --- the request pipeline after rate limit and faults ---

    def route(self, request: Request) -> tuple[Route, Callable[[Call], Response]] | Response:
        """The route and handler for a request, or a 404/405 response."""
        path = urlsplit(request.target).path
        route = self.routes.get(path.rstrip("/").lower() or "/")
        if route is None:
            return error(404, f"Not found: no API endpoint at {path}.")
        handler = route.methods.get(request.method)
        if handler is None:
            allowed = ", ".join(sorted(route.methods))
            return error(405, f"Method not allowed: {route.path} accepts {allowed}.", Allow=allowed)
        return route, handler

    def handle(self, request: Request) -> Response:
        routed = self.route(request)
        if isinstance(routed, Response):
            return routed
        route, handler = routed
        if route.path == spec.TOKENS:
            return self.handle_token(request)
        check = self.tokens.check(_bearer(request.headers), urlsplit(request.target).path)
        if check.account is None:
            if check.wrong_scope and self.options.wrong_scope_status == 403:
                return error(403, (check.problem or "").replace("Unauthorized", "Forbidden", 1))
            return error(401, check.problem or "Unauthorized.", **{"WWW-Authenticate": "Bearer"})
        try:
            body = _json_body(request.body)
            problems = body_problems(request.method, route.path, body)
            if problems and not (route.path == spec.WORKGROUP_DELETE and _only_workgroup_id(body)):
                raise _bad("; ".join(problems))
            query = {k.lower(): v for k, v in parse_qsl(urlsplit(request.target).query, keep_blank_values=True)}
            return handler(Call(check.account, route.path, query, body))
        except ApiFailure as failure:
            return failure.response

    def handle_token(self, request: Request) -> Response:
        try:
            body = _json_body(request.body)
        except ApiFailure as failure:
            return failure.response
        # ASP.NET model-validation wording, as the knowledge bank quotes it.
        for name in ("AccountKey", "AccountSecret", "ApiEndpoint"):
            if not isinstance(body.get(name), str) or not body[name].strip():
                return error(400, f"The {name} field is required.")
        problems = body_problems("POST", spec.TOKENS, body)
        if problems:
            return error(400, "Bad request: " + "; ".join(problems))
        key, secret = body["AccountKey"], body["AccountSecret"]
        if self.credentials.get(key) != secret:
            return error(401, "Unauthorized: invalid AccountKey or AccountSecret.")
        token, expires_at = self.tokens.issue(key, body["ApiEndpoint"])
        # The token response has its own lower-camelCase shape and is never wrapped.
        return Response(200, {"token": token, "successful": True, "tokenExpiry": format_expiry(expires_at)})

    def rate_key(self, request: Request) -> str:
        """Whose rate limit a request counts against: its account, else the client's IP."""
        path = urlsplit(request.target).path.rstrip("/").lower()
        if path == spec.TOKENS.lower():
            try:
                key = json.loads(request.body).get("AccountKey")
            except (ValueError, AttributeError):
                key = None
            if isinstance(key, str) and key in self.credentials:
                return f"account:{key}"
        else:
            bearer = _bearer(request.headers)
            account = self.tokens.owner(bearer) if bearer else None
            if account is not None:
                return f"account:{account}"
        return f"ip:{request.client}"

    # --- rendering ---

    def ok(self, body: Any) -> Response:
        if self.options.envelope == "wrapped":
            return Response(200, {"Successful": True, "Data": body})
        return Response(200, body)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{uuid.uuid4()}"

    # --- workgroups ---

    def create_workgroup(self, call: Call) -> Response:
        data = {k: v for k, v in call.body.items() if v != ""}  # "" means "not set"
        if "Name" not in data:
            raise _bad("field 'Name' must not be empty")
        wid = self._new_id(self.options.id_prefix)
        record = {"WorkgroupId": wid, **data}
        with self.store.transaction() as db:
            self._check_workgroup_refs(db, call.account, record)
            self.store.put_workgroup(db, call.account, wid, record)
        if self.faults.count_create():
            return Response(200, drop=True)  # committed; the client never hears of it
        return self.ok(self._shown(record))

    def _shown(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A workgroup as responses show it: without AccountId in the `account_id: omit` dialect."""
        if self.options.account_id == "omit":
            return {k: v for k, v in record.items() if k != "AccountId"}
        return dict(record)

    def _read_view(self, record: Mapping[str, Any], activities: list[dict[str, Any]] | None) -> dict[str, Any]:
        """A workgroup as the detail read (or a full list entry) shows it, per the `detail`
        dialect: every field, unset ones as null (an ASP.NET DTO), or only the documented
        example's fields; with `Activities` unless the dialect omits them (activities=None)."""
        names: Sequence[str] = ("WorkgroupId", *spec.workgroup_fields(), "Active")
        if self.options.detail == "example":
            names = EXAMPLE_DETAIL_FIELDS
        out = self._shown({name: record.get(name) for name in names})
        if activities is not None:  # every activity field too, unset ones as null
            fields = ("WorkgroupActivityId", "WorkgroupId", *spec.member_fields())
            out["Activities"] = [{name: a.get(name) for name in fields} for a in activities]
        if self.options.read_quirks:
            out = _quirky_detail(out)
        return out

    def get_workgroup(self, call: Call) -> Response:
        wid = call.query.get("workgroupid", "")
        if not wid:
            raise _bad("query parameter 'WorkgroupId' is required")
        with self.store.transaction() as db:
            record = self.store.get_workgroup(db, call.account, wid)
            if record is None:
                raise _not_found(f"workgroup {wid}")
            activities = self.store.activities_of(db, call.account, wid)
        return self.ok(self._read_view(record, activities if self.options.detail == "full" else None))

    def list_workgroups(self, call: Call) -> Response:
        with self.store.transaction() as db:
            rows = self.store.list_workgroups(db, call.account)
            records = [self.store.get_workgroup(db, call.account, row[0]) for row in rows] \
                if self.options.list_fields == "full" else []
        quirks = self.options.read_quirks
        items: list[dict[str, Any]] = [
            {
                "WorkgroupId": wid,
                "Name": name,
                "Type": _QUIRK_SUMMARY_TYPE.get(type_, type_) if quirks else type_,
                "Active": _quirky_bool(active) if quirks else active,
            }
            for wid, name, type_, active in rows
        ]
        if records:  # whole records, like the sibling lists' Results (Type as in the summary)
            items = [{**self._read_view(r or {}, None), **item} for r, item in zip(records, items, strict=True)]
        body: dict[str, Any] = {self.options.list_key: items}
        if self.options.list_key == "Results":
            body["TotalWorkgroups"] = len(items)
        return self.ok(body)

    def update_workgroup(self, call: Call) -> Response:
        wid = call.body["WorkgroupId"]
        with self.store.transaction() as db:
            record = self.store.get_workgroup(db, call.account, wid)
            if record is None:
                raise _not_found(f"workgroup {wid}")
            record.pop("Active")
            for name, value in call.body.items():
                if name == "WorkgroupId":
                    continue
                if value == "":
                    if name == "Name":
                        raise _bad("field 'Name' cannot be cleared")
                    record.pop(name, None)  # partial update: "" clears a field
                else:
                    record[name] = value
            self._check_workgroup_refs(db, call.account, record)
            self.store.put_workgroup(db, call.account, wid, record)
        return self.ok(self._shown(record))

    def delete_workgroup(self, call: Call) -> Response:
        wid = call.query.get("workgroupid") or call.body.get("WorkgroupId") or ""
        if not wid:
            raise _bad("query parameter 'WorkgroupId' is required")
        with self.store.transaction() as db:
            if not self.store.delete_workgroup(db, call.account, wid):
                raise _not_found(f"workgroup {wid}")
        return self.ok({"WorkgroupId": wid, "Successful": True})

    def _check_workgroup_refs(self, db: sqlite3.Connection, account: str, record: Mapping[str, Any]) -> None:
        for type_field, id_field in _HOURS_REFS:
            if str(record.get(type_field, "")).lower() != "workgroup":
                continue
            ref = record.get(id_field)
            if not ref:
                raise _bad(f"field '{id_field}' is required when {type_field} is Workgroup")
            if not self.store.workgroup_exists(db, account, ref):
                raise _bad(f"field '{id_field}': workgroup {ref} does not exist in this account")

    # --- activities (members) ---

    def create_activity(self, call: Call) -> Response:
        data = {k: v for k, v in call.body.items() if v != ""}
        aid = self._new_id("WAID-")
        with self.store.transaction() as db:
            wid = data["WorkgroupId"]
            if not self.store.workgroup_exists(db, call.account, wid):
                raise _not_found(f"workgroup {wid}")
            record = {"WorkgroupActivityId": aid, **data}
            self._check_activity_refs(db, call.account, record)
            self.store.put_activity(db, call.account, aid, record)
        if self.faults.count_activity_create():
            return Response(200, drop=True)  # committed; the client never hears of it
        return self.ok({"WorkgroupActivityStatus": "Created", "WorkgroupActivityId": aid})

    def update_activity(self, call: Call) -> Response:
        aid = call.body["WorkgroupActivityId"]
        with self.store.transaction() as db:
            record = self.store.get_activity(db, call.account, aid)
            if record is None:
                raise _not_found(f"workgroup activity {aid}")
            for name, value in call.body.items():
                if name == "WorkgroupActivityId":
                    continue
                if value == "":
                    if name == "WorkgroupId":
                        raise _bad("field 'WorkgroupId' cannot be cleared")
                    record.pop(name, None)
                else:
                    record[name] = value
            if not self.store.workgroup_exists(db, call.account, record["WorkgroupId"]):
                raise _not_found(f"workgroup {record['WorkgroupId']}")
            self._check_activity_refs(db, call.account, record)
            self.store.put_activity(db, call.account, aid, record)
        return self.ok({"WorkgroupActivityStatus": "Updated", "WorkgroupActivityId": aid})

    def delete_activity(self, call: Call) -> Response:
        aid = call.body["WorkgroupActivityId"]
        with self.store.transaction() as db:
            if not self.store.delete_activity(db, call.account, aid):
                raise _not_found(f"workgroup activity {aid}")
        return self.ok({"WorkgroupActivityStatus": "Deleted", "WorkgroupActivityId": aid})

    def _check_activity_refs(self, db: sqlite3.Connection, account: str, record: Mapping[str, Any]) -> None:
        if record.get("Type") != "Workgroup":
            return
        ref = record.get("ReferenceWorkgroupId")
        if not ref:
            raise _bad("field 'ReferenceWorkgroupId' is required when Type is Workgroup")
        if not self.store.workgroup_exists(db, account, ref):
            raise _bad(f"field 'ReferenceWorkgroupId': workgroup {ref} does not exist in this account")

    # --- schedules ---

    def create_schedule(self, call: Call) -> Response:
        if not call.body["Name"]:
            raise _bad("field 'Name' must not be empty")
        sid = self._new_id("SID-")
        # "" is meaningful here (a closed day), so values are kept as sent. Like the documented
        # examples, AccountId echoes the caller's own key whatever was sent.
        record = {"ScheduleId": sid, "Active": True, **call.body, "AccountId": call.account}
        with self.store.transaction() as db:
            self.store.put_schedule(db, call.account, sid, record)
        if self.faults.count_create():
            return Response(200, drop=True)  # committed; the client never hears of it
        return self.ok(record)

    def list_schedules(self, call: Call) -> Response:
        with self.store.transaction() as db:
            results = self.store.list_schedules(db, call.account)
        return self.ok({"AccountID": call.account, "TotalSchedules": len(results), "Results": results})

    def _unreachable(self, call: Call) -> Response:
        raise AssertionError("token requests are answered by handle_token")


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _json_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _bad("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _only_workgroup_id(body: Mapping[str, Any]) -> bool:
    """Delete has no body in the spec; a JSON body {WorkgroupId} is tolerated."""
    return set(body) == {"WorkgroupId"} and isinstance(body["WorkgroupId"], str)


def _quirky_bool(value: bool) -> str:
    return "true" if value else "false"


def _quirky_detail(record: dict[str, Any]) -> dict[str, Any]:
    def convert(item: dict[str, Any]) -> dict[str, Any]:
        return {k: _quirky_bool(v) if isinstance(v, bool) else v for k, v in item.items()}

    out = convert(record)
    out["Type"] = _QUIRK_DETAIL_TYPE.get(record["Type"], record["Type"])
    if "Activities" in record:
        out["Activities"] = [convert(a) for a in record["Activities"]]
    return out
