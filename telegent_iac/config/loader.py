"""Load config files into the Desired model, collecting every problem of every file."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from telegent_iac.config import schema as config_schema
from telegent_iac.config.interpolate import VAR_NAME, Interpolation
from telegent_iac.config.yamlfile import Document, PathKey, parse, read_text
from telegent_iac.errors import ERROR, Position, Problem, UserError
from telegent_iac.model import workgroups as model
from telegent_iac.model.workgroups import (
    Desired,
    ImportEntry,
    Member,
    MovedEntry,
    RoutingTest,
    Schedule,
    Workgroup,
)
from telegent_iac.routing import schedule as hours
from telegent_iac.routing.lints import lint
from telegent_iac.safety import secrets

YAML_SUFFIXES = (".yaml", ".yml")
EXTENSION_PREFIX = "x-"  # top-level keys starting so are ignored (a home for &anchors)
VAR_FILE_SUFFIXES = (".vars.yaml", ".vars.yml")  # skipped when a directory is loaded
_ADDRESS_WORDS = config_schema.PATTERN_WORDS[config_schema.ADDRESS_PATTERN]
_INT_TEXT = re.compile(r"^[-+]?\d+$")

_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "empty",
}


def known_time_zones() -> frozenset[str]:
    """IANA zones of the `tzdata` package, so the answer does not depend on the machine."""
    return hours.time_zones()


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    options = list(choices)
    lowered = {choice.lower(): choice for choice in options}
    if word.lower() in lowered:
        return f" (did you mean '{lowered[word.lower()]}'?)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def describe(value: Any) -> str:
    """How a YAML value reads, for messages."""
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


@dataclass
class _Entry:
    """One workgroup as declared, before and after checking."""

    address: str
    raw: Any
    doc: Document
    path: PathKey
    fields: dict[str, Any] = field(default_factory=dict)
    members: list[tuple[dict[str, Any], PathKey]] = field(default_factory=list)
    # (key, canonical fields) of each member, worked out once by the member checks
    canonical_members: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ok: bool = True
    schedules: Mapping[str, Any] = field(default_factory=dict)  # declared schedule addresses

    @property
    def position(self) -> Position:
        return self.doc.key_position(self.path)


class _Run:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.validators = config_schema.validators()
        # Some file could not be read or parsed: its addresses are unknown, so "unknown
        # address" elsewhere would only be noise.
        self.incomplete = False

    def add(self, position: Position, message: str) -> None:
        self.problems.append(Problem(position, message))

    # --- jsonschema errors in words -------------------------------------------------------

    def schema_errors(self, validator: Any, instance: Any, doc: Document, base: PathKey) -> bool:
        """Report what `validator` finds in `instance` (found at `base`); True when valid."""
        valid = True
        for error in validator.iter_errors(instance):
            valid = False
            path = (*base, *error.absolute_path)
            if path in doc.failed:
                continue
            self._schema_error(error, path, doc)
        return valid

    def _schema_error(self, error: Any, path: PathKey, doc: Document) -> None:
        name = next((str(part) for part in reversed(path) if isinstance(part, str)), "value")
        if path and isinstance(path[-1], int):
            name = f"item {path[-1] + 1} of {name}"
        kind = error.validator
        if kind == "additionalProperties":
            known = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in error.schema.get("properties", {}) and (*path, key) not in doc.failed:
                    where = "top-level key" if len(path) == 0 else "field"
                    self.add(doc.key_position((*path, key)), f"unknown {where} '{key}'{did_you_mean(key, known)}")
            return
        if kind == "required":
            for missing in error.validator_value:
                if (*path, missing) in doc.failed:
                    continue
                if isinstance(error.instance, dict) and missing not in error.instance:
                    self.add(doc.key_position(path), f"missing required field '{missing}'")
            return
        position = doc.value_position(path)
        value = error.instance
        if kind == "type":
            wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
            words = _TYPE_WORDS.get(wanted[0], wanted[0])
            hint = ""
            if "string" in wanted and isinstance(value, bool | int | float):
                hint = " (put it in quotes)"
            self.add(position, f"{name} must be {words}, got {describe(value)}{hint}")
        elif kind == "enum":
            options = [str(option) for option in error.validator_value]
            hint = did_you_mean(str(value), options) if isinstance(value, str) else ""
            self.add(position, f"{name} must be one of {', '.join(options)}, got {describe(value)}{hint}")
        elif kind == "pattern":
            words = config_schema.PATTERN_WORDS.get(error.validator_value, f"match {error.validator_value}")
            self.add(position, f"{name} must be {words}, got {describe(value)}")
        elif kind == "format":
            self.add(position, f"{name} must be an http:// or https:// URL with a host, got {describe(value)}")
        elif kind == "minLength":
            self.add(position, f"{name} must not be empty")
        else:
            self.add(position, f"{name}: {error.message}")


def config_files(paths: Sequence[str | Path]) -> tuple[list[tuple[str, Path]], list[Problem]]:
    """The (shown name, path) of every file `load` reads for PATHS, and the problems finding them."""
    run = _Run()
    return _expand(paths, run), run.problems


def _expand(paths: Sequence[str | Path], run: _Run) -> list[tuple[str, Path]]:
    """Files to load: each file as given, each directory's *.yaml/*.yml (sorted, not recursive)."""
    files: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    for given in paths:
        shown = str(given)
        path = Path(given)
        if path.is_dir():
            try:
                names = sorted(
                    name
                    for name in os.listdir(path)
                    if name.endswith(YAML_SUFFIXES)
                    and not name.endswith(VAR_FILE_SUFFIXES)
                    and (path / name).is_file()
                )
            except OSError as exc:
                run.add(Position(shown, 1, 1), f"cannot read directory: {exc.strerror or exc}")
                continue
            if not names:
                run.add(Position(shown, 1, 1), "directory has no *.yaml or *.yml files")
            candidates = [(os.path.join(shown, name), path / name) for name in names]
        else:
            candidates = [(shown, path)]
        for shown_name, file in candidates:
            try:
                key = file.resolve()
            except (OSError, RuntimeError):  # RuntimeError: a symlink loop (read_text reports it)
                key = file
            if key not in seen:
                seen.add(key)
                files.append((shown_name, file))
    return files


def _load_var_files(var_files: Sequence[str | Path], run: _Run, digest: Any) -> dict[str, Any]:
    """--var-file: each a flat mapping of names to scalars; a later file overrides an earlier one."""
    variables: dict[str, Any] = {}
    for given in var_files:
        shown = str(given)
        text, data, problems = read_text(Path(given), shown)
        run.problems.extend(problems)
        _hash_file(digest, "var-file", shown, data)
        if text is None:
            continue
        doc = parse(text, shown, None)
        run.problems.extend(doc.problems)
        if doc.data is None:
            continue  # empty, or a syntax error already reported
        if not isinstance(doc.data, dict):
            # Only the kind of value: the file may be anything (a key, a .env file) and its
            # content must not reach the output.
            got = "text" if isinstance(doc.data, str) else describe(doc.data)
            message = f"a var file must be a YAML mapping of names to values, got {got}"
            run.add(doc.value_position(()), message)
            continue
        for name, value in doc.data.items():
            if not VAR_NAME.match(name):
                run.add(doc.key_position((name,)), f"invalid variable name '{name}' (letters, digits and '_')")
            elif value is None or isinstance(value, dict | list):
                run.add(doc.value_position((name,)), f"variable '{name}' must be a string, number or boolean")
            else:
                variables[name] = value
    return variables


def _hash_file(digest: Any, kind: str, shown: str, data: bytes) -> None:
    for part in (kind.encode(), shown.encode("utf-8", "surrogateescape"), str(len(data)).encode(), data):
        digest.update(part)
        digest.update(b"\0")


def load(
    paths: Sequence[str | Path],
    env: Mapping[str, str],
    var_files: Sequence[str | Path] = (),
    allow_secret_vars: Collection[str] = (),
) -> Desired:
    """Read, interpolate and validate config files; raise UserError listing every problem.
    `allow_secret_vars`: variable names that may be interpolated although they look like a
    credential (never TELEGENT_ACCOUNT_*)."""
    run = _Run()
    digest = hashlib.sha256()
    files = _expand(paths, run)
    variables = _load_var_files(var_files, run, digest)
    interpolation = Interpolation(env, variables, allow_secret_vars)
    docs: list[Document] = []
    blobs: dict[str, bytes] = {}
    for shown, file in files:
        text, data, problems = read_text(file, shown)
        blobs[shown] = data
        run.problems.extend(problems)
        if text is None:
            run.incomplete = True
            continue
        doc = parse(text, shown, interpolation)
        run.problems.extend(doc.problems)
        if doc.problems and doc.data is None:
            run.incomplete = True
        docs.append(doc)
    for shown in sorted(blobs):
        _hash_file(digest, "config", shown, blobs[shown])
    for name in sorted(interpolation.used_env):
        digest.update(f"env\0{name}\0{interpolation.used_env[name]}\0".encode("utf-8", "surrogateescape"))

    entries, imports, moved, schedule_entries, test_items = _collect(docs, run)
    addresses = {entry.address: entry for entry in entries}
    schedule_addresses = {entry.address: entry for entry in schedule_entries}
    for schedule_entry in schedule_entries:
        _check_schedule(schedule_entry, run)
    _check_names(schedule_entries, run, "schedule")
    for entry in entries:
        entry.schedules = schedule_addresses
        _check_workgroup(entry, addresses, run)
    _check_names(entries, run)
    _check_cycles(entries, addresses, run)
    import_entries = _check_imports(imports, {**schedule_addresses, **addresses}, run)
    moved_entries = _check_moved(moved, addresses, run, schedule_addresses)
    routing_tests = _check_routing_tests(test_items, addresses, run)

    if not run.problems:
        workgroups = {entry.address: _workgroup(entry) for entry in entries}
        desired = Desired(
            workgroups=workgroups,
            imports=tuple(import_entries),
            moved=tuple(moved_entries),
            input_hash=digest.hexdigest(),
            schedules={entry.address: _schedule(entry) for entry in schedule_entries},
            routing_tests=tuple(routing_tests),
        )
        findings = lint(desired)
        run.problems += [Problem(f.position, f"{f.severity} [{f.rule}]: {f.message}") for f in findings
                         if f.severity == ERROR]
        if not run.problems:
            return replace(desired, warnings=tuple(f for f in findings if f.severity != ERROR))
    if run.problems:
        problems = sorted(set(run.problems))
        count = len(problems)
        raise UserError(f"{count} problem{'s' if count != 1 else ''} in the configuration", problems=problems)
    raise AssertionError("unreachable")


# --- top level -----------------------------------------------------------------------------


Items = list[tuple[Any, Document, PathKey]]


def _collect(docs: list[Document], run: _Run) -> tuple[list[_Entry], Items, Items, list[_Entry], Items]:
    entries: list[_Entry] = []
    first_seen: dict[str, _Entry] = {}
    imports: Items = []
    moved: Items = []
    schedules: list[_Entry] = []
    first_schedule: dict[str, _Entry] = {}
    tests: Items = []
    for doc in docs:
        if doc.problems and doc.data is None:
            continue  # a syntax error: nothing more to say about this file
        data = doc.data
        if data is None:
            run.add(Position(doc.file, 1, 1), "file is empty; expected a mapping with a 'workgroups:' key")
            continue
        if not isinstance(data, dict):
            run.add(
                doc.value_position(()),
                f"the top level must be a mapping with a 'workgroups:' key, got {describe(data)}",
            )
            continue
        top = {
            key: ({} if value is None and key == "workgroups" else value)
            for key, value in data.items()
            if not key.startswith(EXTENSION_PREFIX)  # x-...: a place for anchors, ignored
        }
        for optional in ("import", "moved", "routing_tests"):
            if optional in top and top[optional] is None:
                top[optional] = []
        if top.get("schedules", {}) is None:
            top["schedules"] = {}
        if "workgroups" not in top and ("routing_tests" in top or "schedules" in top):
            top["workgroups"] = {}  # a file of routing tests or schedules only
        run.schema_errors(run.validators.top, top, doc, ())
        declared = top.get("schedules")
        if isinstance(declared, dict):
            for address, raw in declared.items():
                entry = _Entry(address, raw, doc, ("schedules", address))
                if not run.validators.address.is_valid(address):
                    run.add(entry.position, f"invalid schedule address '{address}': must be {_ADDRESS_WORDS}")
                if address in first_schedule:
                    run.add(entry.position, f"duplicate schedule address '{address}' "
                            f"(first declared at {first_schedule[address].position})")
                    continue
                first_schedule[address] = entry
                schedules.append(entry)
        workgroups = top.get("workgroups")
        if isinstance(workgroups, dict):
            for address, raw in workgroups.items():
                path = ("workgroups", address)
                entry = _Entry(address, raw, doc, path)
                if path in doc.failed:
                    pass  # interpolation in the key, already reported
                elif not run.validators.address.is_valid(address):
                    run.add(
                        entry.position,
                        f"invalid address '{address}': must be {_ADDRESS_WORDS}",
                    )
                if address in first_seen:
                    run.add(
                        entry.position,
                        f"duplicate address '{address}' (first declared at {first_seen[address].position})",
                    )
                    continue
                first_seen[address] = entry
                entries.append(entry)
        for key, bucket in (("import", imports), ("moved", moved), ("routing_tests", tests)):
            items = top.get(key)
            if isinstance(items, list):
                bucket.extend((item, doc, (key, index)) for index, item in enumerate(items))
    return entries, imports, moved, schedules, tests


# --- one workgroup -------------------------------------------------------------------------


def _normalise(
    raw: Mapping[str, Any], props: Mapping[str, Any], doc: Document, path: PathKey, run: _Run
) -> dict[str, Any]:
    """A copy with YAML's readings undone where the intent is clear (CallOrder: 1 -> "1")."""
    out: dict[str, Any] = {}
    failed, interpolated = doc.failed, doc.interpolated  # usually empty: skip building the paths then
    for key, value in raw.items():
        prop = props.get(key)
        if failed and (*path, key) in failed:
            continue  # its interpolation failed and was reported; nothing more to say
        if isinstance(value, str) and secrets.contains(value):
            # pasted rather than interpolated: it would still go to the API, the plan and the state
            run.add(doc.value_position((*path, key)),
                    f"{key} holds a credential (the account key or secret, or the value of an environment "
                    "variable whose name says it is secret); it would be sent to the API and kept in the state")
            continue
        if prop is None:
            out[key] = value
            continue
        number = isinstance(value, int) and not isinstance(value, bool)
        if key in config_schema.PHONE_FIELDS and number:
            run.add(
                doc.value_position((*path, key)),
                f"{key} is an unquoted number ({value}); write it in quotes with a leading +, "
                f'e.g. "+{value}"',
            )
            continue
        text = isinstance(value, str) and bool(interpolated) and (*path, key) in interpolated
        if number or text:  # only these can need another reading
            sub = prop.get("anyOf", [prop])[0]
            kinds = sub.get("type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if "string" in kinds and number:
                value = str(value)
            elif text:
                # An interpolated value is always text; take "true"/"7" for boolean/integer fields.
                if "boolean" in kinds and value.lower() in {"true", "false"}:
                    value = value.lower() == "true"
                elif "integer" in kinds and _INT_TEXT.match(value):
                    value = int(value)
        out[key] = value
    return out


def _check_workgroup(entry: _Entry, addresses: Mapping[str, _Entry], run: _Run) -> None:
    doc, path = entry.doc, entry.path
    if not isinstance(entry.raw, dict):
        run.add(entry.position, f"workgroup '{entry.address}' must be a mapping of fields, got {describe(entry.raw)}")
        entry.ok = False
        return
    validators = run.validators
    fields = _normalise(entry.raw, validators.workgroup_props, doc, path, run)
    raw_members = fields.get("members")
    members: list[tuple[dict[str, Any], PathKey]] = []
    if isinstance(raw_members, list):
        normalised = []
        for index, member in enumerate(raw_members):
            member_path = (*path, "members", index)
            if isinstance(member, dict):
                member = _normalise(member, validators.member_props, doc, member_path, run)
                members.append((member, member_path))
            normalised.append(member)
        fields["members"] = normalised
    before = len(run.problems)
    run.schema_errors(validators.workgroup, fields, doc, path)
    entry.fields = {key: value for key, value in fields.items() if key != "members"}
    entry.members = members
    _check_zone(entry, run)
    _check_schedule_ref(entry, run)
    _check_routing_refs(entry, addresses, run)
    _check_members(entry, addresses, run)
    entry.ok = len(run.problems) == before


def _check_zone(entry: _Entry, run: _Run) -> None:
    zone = entry.fields.get("TimeZone")
    zones = known_time_zones()
    if isinstance(zone, str) and zone not in zones:
        run.add(
            entry.doc.value_position((*entry.path, "TimeZone")),
            f"unknown time zone '{zone}'{did_you_mean(zone, zones)}; use an IANA name such as America/New_York",
        )


def _unknown_address(value: str, addresses: Mapping[str, _Entry]) -> str:
    hint = did_you_mean(value, addresses)
    if not hint:
        hint = " (refer to a workgroup by its address under workgroups:, not by its ID)"
    return f"unknown workgroup address '{value}'{hint}"


def _check_routing_refs(entry: _Entry, addresses: Mapping[str, _Entry], run: _Run) -> None:
    fields = entry.fields
    for type_field, id_field in model.ROUTING_REF_FIELDS:
        kind = fields.get(type_field)
        if not isinstance(kind, str) or kind.lower() != "workgroup":
            continue
        target = fields.get(id_field)
        if (*entry.path, id_field) in entry.doc.failed:
            continue
        if target is None or target == "":
            run.add(
                entry.doc.key_position((*entry.path, type_field)),
                f"{id_field} is required when {type_field} is Workgroup (the address of the workgroup to route to)",
            )
        elif isinstance(target, str) and target not in addresses and not run.incomplete:
            run.add(entry.doc.value_position((*entry.path, id_field)), _unknown_address(target, addresses))


def _check_schedule_ref(entry: _Entry, run: _Run) -> None:
    """ScheduleId holds a schedule address, or the ID of a schedule made elsewhere (SID-...,
    or any value taken from ${env.X} / ${var.X}: IDs come from outside, addresses are written)."""
    value = entry.fields.get("ScheduleId")
    path = (*entry.path, "ScheduleId")
    if not isinstance(value, str) or value in entry.schedules or path in entry.doc.failed:
        return
    if path in entry.doc.interpolated:
        return
    if run.validators.address.is_valid(value) and not run.incomplete:
        hint = did_you_mean(value, entry.schedules) or " (declare it under schedules:, or give the ID of a schedule)"
        run.add(entry.doc.value_position((*entry.path, "ScheduleId")), f"unknown schedule address '{value}'{hint}")


def _check_members(entry: _Entry, addresses: Mapping[str, _Entry], run: _Run) -> None:
    doc = entry.doc
    is_ivr = entry.fields.get("Type") == "IVR"
    identities: dict[str, PathKey] = {}
    digits: dict[int, PathKey] = {}
    for member, path in entry.members:
        kind = member.get("Type")
        if kind == "Workgroup":
            target = member.get("ReferenceWorkgroupId")
            if (*path, "ReferenceWorkgroupId") in doc.failed:
                pass
            elif target is None or target == "":
                run.add(doc.key_position(path), "a Workgroup member needs ReferenceWorkgroupId (a workgroup address)")
            elif isinstance(target, str) and target not in addresses and not run.incomplete:
                run.add(doc.value_position((*path, "ReferenceWorkgroupId")), _unknown_address(target, addresses))
        elif kind == "User" and not any(
            member.get(name) or (*path, name) in doc.failed for name in ("ReferenceUserId", "PhoneNumber")
        ):
            run.add(doc.key_position(path), "a User member needs ReferenceUserId or PhoneNumber")
        if is_ivr:
            digit = member.get("DigitOrder")
            if (*path, "DigitOrder") in doc.failed:
                pass
            elif digit is None:
                run.add(doc.key_position(path), "every member of an IVR workgroup needs DigitOrder (the digit 0-9)")
            elif isinstance(digit, int) and not isinstance(digit, bool):
                if not 0 <= digit <= 9:
                    run.add(
                        doc.value_position((*path, "DigitOrder")),
                        f"DigitOrder of an IVR member must be a digit 0-9, got {digit}",
                    )
                elif digit in digits:
                    first = doc.value_position((*digits[digit], "DigitOrder"))
                    run.add(
                        doc.value_position((*path, "DigitOrder")),
                        f"DigitOrder {digit} is already used in this IVR workgroup at {first}",
                    )
                else:
                    digits[digit] = path
        explicit = member.get("key")
        canonical = model.canonical_member(member)
        identity = model.member_key(canonical, str(explicit) if explicit else None)
        entry.canonical_members.append((identity, canonical))
        if identity in identities:
            first_position = doc.key_position(identities[identity])
            run.add(
                doc.key_position(path),
                f"two members have the same identity '{identity}' (the other is at {first_position}); "
                "give one of them a distinct `key:`",
            )
        else:
            identities[identity] = path


# --- schedules and routing tests ------------------------------------------------------------


def _check_schedule(entry: _Entry, run: _Run) -> None:
    doc, path = entry.doc, entry.path
    if not isinstance(entry.raw, dict):
        run.add(entry.position, f"schedule '{entry.address}' must be a mapping of fields, got {describe(entry.raw)}")
        entry.ok = False
        return
    fields = _normalise(entry.raw, run.validators.schedule_props, doc, path, run)
    before = len(run.problems)
    run.schema_errors(run.validators.schedule, fields, doc, path)
    entry.fields = fields
    if len(run.problems) > before:
        entry.ok = False
        return
    for day in hours.DAYS:
        start_field, end_field = hours.day_fields(day)
        start, end = fields.get(start_field) or "", fields.get(end_field) or ""
        times = {}
        for name, text in ((start_field, start), (end_field, end)):
            if text and hours.parse_time(str(text)) is None:
                run.add(doc.value_position((*path, name)), f"{name} must be {hours.TIME_WORDS}, got {describe(text)}")
            elif text:
                times[name] = hours.parse_time(str(text))
        if bool(start) != bool(end):
            missing = end_field if start else start_field
            run.add(doc.key_position((*path, start_field if start else end_field)),
                    f"{missing} is missing: give both times of {day}, or neither (closed)")
        elif len(times) == 2 and times[end_field] <= times[start_field]:  # type: ignore[operator]
            run.add(doc.value_position((*path, end_field)),
                    f"{end_field} must be later than {start_field} (hours that pass midnight are not supported)")
    entry.ok = len(run.problems) == before


def _check_routing_tests(items: Items, addresses: Mapping[str, _Entry], run: _Run) -> list[RoutingTest]:
    out: list[RoutingTest] = []
    for item, doc, path in items:
        if isinstance(item, dict) and isinstance(item.get("call"), dict):
            call = dict(item["call"])
            if isinstance(call.get("digits"), int) and not isinstance(call.get("digits"), bool):
                call["digits"] = str(call["digits"])
            item = {**item, "call": call}
        if not run.schema_errors(run.validators.routing_test, item, doc, path):
            continue
        call, expect = item["call"], item["expect"]
        position = doc.key_position(path)
        name = item.get("name") or f"routing test {path[-1] + 1}"  # type: ignore[operator]
        at = _moment(call, doc, (*path, "call"), run)
        if not expect:
            run.add(doc.key_position((*path, "expect")), "expect needs workgroup, rings or nobody")
        target = expect.get("workgroup")  # an undeclared one fails the case, not the config
        if expect.get("nobody") and (expect.get("rings") or target):
            run.add(doc.key_position((*path, "expect", "nobody")), "nobody: true cannot go with workgroup or rings")
        if at is None:
            continue
        rings = expect.get("rings")
        out.append(RoutingTest(
            name=str(name), number=call["number"], at=at, digits=str(call.get("digits", "")),
            workgroup=target, rings=tuple(rings) if rings is not None else None,
            nobody=bool(expect.get("nobody", False)), position=position,
        ))
    return out


def _moment(call: Mapping[str, Any], doc: Document, path: PathKey, run: _Run) -> datetime | None:
    """`at` with its offset, or read in `time_zone`; None (and a problem) when unusable."""
    text = str(call["at"]).strip().replace(" ", "T", 1)
    try:
        at = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        run.add(doc.value_position((*path, "at")), f"at must be an ISO 8601 moment such as "
                f"2026-03-02T09:30 or 2026-03-02T09:30-05:00, got {describe(call['at'])}")
        return None
    zone_name = call.get("time_zone")
    if zone_name is not None:
        if zone_name not in known_time_zones():
            run.add(doc.value_position((*path, "time_zone")), f"unknown time zone '{zone_name}'"
                    f"{did_you_mean(zone_name, known_time_zones())}; use an IANA name such as America/New_York")
            return None
        if at.tzinfo is not None:
            run.add(doc.value_position((*path, "time_zone")), "give either an offset in `at` or time_zone, not both")
            return None
        return at.replace(tzinfo=hours.zone(zone_name))
    if at.tzinfo is None:
        run.add(doc.value_position((*path, "at")), "the moment needs a time zone: add an offset "
                "(2026-03-02T09:30-05:00) or `time_zone: America/New_York`")
        return None
    return at


# --- across workgroups ---------------------------------------------------------------------


def _check_names(entries: list[_Entry], run: _Run, what: str = "workgroup") -> None:
    first: dict[str, _Entry] = {}
    for entry in entries:
        name = entry.fields.get("Name")
        if not isinstance(name, str):
            continue
        if name in first:
            other = first[name]
            kind = "" if what == "workgroup" else f"{what} "
            run.add(
                entry.doc.value_position((*entry.path, "Name")),
                f"duplicate {kind}Name '{name}' (also used by '{other.address}' at "
                f"{other.doc.value_position((*other.path, 'Name'))}); Names must be unique in the account",
            )
        else:
            first[name] = entry


def _edges(entry: _Entry, addresses: Mapping[str, _Entry]) -> list[str]:
    return [t for t in model.references(entry.fields, (member for member, _ in entry.members)) if t in addresses]


def _check_cycles(entries: list[_Entry], addresses: Mapping[str, _Entry], run: _Run) -> None:
    """Tarjan's strongly connected components (iterative); each cycle reported once."""
    order = {entry.address: index for index, entry in enumerate(entries)}
    graph = {entry.address: _edges(entry, addresses) for entry in entries}
    index_of: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    counter = 0
    components: list[list[str]] = []
    for root in graph:
        if root in index_of:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = graph[node]
            if child < len(targets):
                work.append((node, child + 1))
                target = targets[child]
                if target not in index_of:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index_of[target])
                continue
            if low[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    for component in components:
        if len(component) == 1 and component[0] not in graph[component[0]]:
            continue
        start = min(component, key=order.__getitem__)
        cycle = _cycle_path(start, set(component), graph)
        message = "reference cycle: " + " -> ".join(cycle)
        if not any(_way_out(addresses[a], set(component)) for a in component):
            message += (" [routing-loop]: a call that enters it goes round with no one to ring and no way out")
        run.add(addresses[start].position, message)


def _way_out(entry: _Entry, loop: set[str]) -> bool:
    """Whether a call in this workgroup can ring someone, or leave `loop`."""
    for type_field, id_field in model.ROUTING_REF_FIELDS:
        if entry.fields.get(id_field) and str(entry.fields.get(type_field, "")).lower() != "workgroup":
            return True
        if str(entry.fields.get(type_field, "")).lower() == "workgroup" and entry.fields.get(id_field) not in loop:
            return True
    for member, _ in entry.members:
        if str(member.get("Type", "")).lower() != "workgroup" or member.get("ReferenceWorkgroupId") not in loop:
            return True
    return False


def _cycle_path(start: str, component: set[str], graph: Mapping[str, list[str]]) -> list[str]:
    """The shortest way from `start` back to itself inside its component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in graph[node]:
                if target not in component:
                    continue
                if target == start:
                    chain = [node]
                    while chain[-1] != start:
                        chain.append(previous[chain[-1]])
                    return [*reversed(chain), start]
                if target not in previous:
                    previous[target] = node
                    following.append(target)
        frontier = following
    return [start, start]


def _check_imports(
    items: list[tuple[Any, Document, PathKey]], addresses: Mapping[str, _Entry], run: _Run
) -> list[ImportEntry]:
    out: list[ImportEntry] = []
    by_address: dict[str, Position] = {}
    by_id: dict[str, Position] = {}
    for item, doc, path in items:
        item = _normalise_entry(item, ("id",))
        if not run.schema_errors(run.validators.imports, item, doc, path):
            continue
        address, workgroup_id = item["address"], item["id"]
        position = doc.key_position(path)
        if address not in addresses and not run.incomplete:
            run.add(
                doc.value_position((*path, "address")),
                f"import address '{address}' is not declared under workgroups or schedules"
                f"{did_you_mean(address, addresses)}",
            )
        if address in by_address:
            run.add(position, f"address '{address}' is imported twice (also at {by_address[address]})")
        if workgroup_id in by_id:
            run.add(position, f"workgroup ID '{workgroup_id}' is imported twice (also at {by_id[workgroup_id]})")
        by_address.setdefault(address, position)
        by_id.setdefault(workgroup_id, position)
        out.append(ImportEntry(address, workgroup_id, position))
    return out


def _check_moved(
    items: list[tuple[Any, Document, PathKey]], addresses: Mapping[str, _Entry], run: _Run,
    schedules: Mapping[str, _Entry],
) -> list[MovedEntry]:
    """Moves of workgroup addresses, or of schedule addresses (a separate namespace)."""
    out: list[MovedEntry] = []
    by_from: dict[str, Position] = {}
    by_to: dict[str, Position] = {}
    for item, doc, path in items:
        if not run.schema_errors(run.validators.moved, item, doc, path):
            continue
        old, new = item["from"], item["to"]
        position = doc.key_position(path)
        if old in addresses or old in schedules:
            where = "workgroups" if old in addresses else "schedules"
            run.add(doc.value_position((*path, "from")),
                    f"moved from '{old}', but '{old}' is still declared under {where}")
        if new not in addresses and new not in schedules and not run.incomplete:
            run.add(
                doc.value_position((*path, "to")),
                f"moved to '{new}', which is not declared under workgroups or schedules"
                f"{did_you_mean(new, addresses)}",
            )
        if old in by_from:
            run.add(position, f"'{old}' is moved twice (also at {by_from[old]})")
        if new in by_to:
            run.add(position, f"two moves lead to '{new}' (the other at {by_to[new]})")
        by_from.setdefault(old, position)
        by_to.setdefault(new, position)
        out.append(MovedEntry(old, new, position))
    return out


def _normalise_entry(item: Any, string_keys: tuple[str, ...]) -> Any:
    if not isinstance(item, dict):
        return item
    return {
        key: str(value) if key in string_keys and isinstance(value, int) and not isinstance(value, bool) else value
        for key, value in item.items()
    }


# --- the model -----------------------------------------------------------------------------


def _workgroup(entry: _Entry) -> Workgroup:
    doc = entry.doc
    members = [Member(key, fields, doc.key_position(path))
               for (key, fields), (_, path) in zip(entry.canonical_members, entry.members, strict=True)]
    return Workgroup(
        address=entry.address,
        fields=model.canonical_workgroup(entry.fields),
        members=tuple(members),
        prevent_destroy=bool(entry.fields.get("prevent_destroy", False)),
        allow_replace=bool(entry.fields.get("allow_replace", False)),
        position=entry.position,
        lint_ignore=frozenset(entry.fields.get("lint_ignore", ())),
        field_positions={
            name: doc.value_position((*entry.path, name)) for name in _POSITIONED_FIELDS if name in entry.fields
        },
    )


# Fields whose place routing lint messages point at.
_POSITIONED_FIELDS = ("TelegentPhone", "TollFreeNumber", "OffHoursType", "OffHoursId", "OnHoursId", "ScheduleId")


def _schedule(entry: _Entry) -> Schedule:
    return Schedule(
        address=entry.address,
        fields=model.canonical_schedule(entry.fields),
        position=entry.position,
        field_positions={name: entry.doc.value_position((*entry.path, name)) for name in entry.fields},
    )
