"""The Plan: a plain data object. Text, JSON and Markdown are views of it; a saved plan file
is it serialised (`to_dict`), with the state lineage/serial and a hash of the inputs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

PLAN_FORMAT_VERSION = "1.2"


class Action(StrEnum):
    """Action words, as in Terraform's JSON plan: `actions` is a list so ["delete", "create"]
    is a replacement and a consumer can scan for "delete"."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "no-op"
    IMPORT = "import"


CREATE, UPDATE, DELETE, NOOP, IMPORT = Action.CREATE, Action.UPDATE, Action.DELETE, Action.NOOP, Action.IMPORT


@dataclass
class MemberChange:
    key: str
    actions: list[Action]
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    member_id: str | None = None
    reason: str = ""
    previous_key: str | None = None  # re-keyed in the state (same activity, new key)
    resend_refs: bool = False  # a workgroup it refers to gets a new ID: send the reference again
    # import on an account whose details list no activities: whether the member exists is
    # unknown, so it is recorded as uncertain (to be settled by the user), never created
    uncertain: bool = False

    @property
    def is_noop(self) -> bool:
        return self.actions == [NOOP]


@dataclass
class ResourceChange:
    """What happens to one workgroup address."""

    address: str
    actions: list[Action]
    workgroup_id: str | None = None  # the ID known before the run
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    changed: list[str] = field(default_factory=list)  # field names whose value changes
    reason: str = ""
    members: list[MemberChange] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)  # addresses that must exist first
    import_id: str | None = None  # for ["import", ...]: the live ID adopted
    deposed: list[str] = field(default_factory=list)  # old IDs to delete after a replacement
    prevent_destroy: bool = False

    @property
    def is_noop(self) -> bool:
        return self.actions == [NOOP] and all(m.is_noop for m in self.members)

    @property
    def is_replace(self) -> bool:
        return DELETE in self.actions and CREATE in self.actions

    @property
    def kind(self) -> str:
        """One word for grouping: create, update, replace, delete, import, no-op."""
        if self.is_replace:
            return "replace"
        if IMPORT in self.actions:
            return IMPORT
        for action in (CREATE, DELETE, UPDATE):
            if action in self.actions:
                return action
        if any(not m.is_noop for m in self.members):
            return UPDATE
        return NOOP


@dataclass
class ScheduleChange:
    """What happens to one schedule address. Telegent documents no schedule update or delete:
    a changed schedule is created anew (`schedule_id` is then the old one, no longer used)."""

    address: str
    actions: list[Action]  # ["create"], ["import"] or ["no-op"]
    schedule_id: str | None = None  # the ID known before the run
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    changed: list[str] = field(default_factory=list)
    reason: str = ""
    import_id: str | None = None

    @property
    def is_noop(self) -> bool:
        return self.actions == [NOOP]


@dataclass
class Drift:
    """A field (or member) changed outside telegent-iac, seen by a full refresh."""

    address: str
    field: str  # a field name, or "member <key>"
    recorded: Any  # what the state says was applied
    live: Any  # what the account has now


@dataclass
class Conflict:
    address: str
    message: str


@dataclass
class Plan:
    changes: list[ResourceChange] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # in state, not declared, not deleted
    drift: list[Drift] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)  # the plan cannot be applied
    errors: list[str] = field(default_factory=list)  # also blocking (replace not allowed, ...)
    warnings: list[str] = field(default_factory=list)
    lineage: str | None = None
    serial: int | None = None
    input_hash: str = ""
    refresh: str = "summary"  # "summary" | "full" | "sample" | "refresh-only"
    # Managed addresses whose live details this plan read and compared, and those it did not
    # (their fields are as the state last knew them): what a drift check covered.
    verified: list[str] = field(default_factory=list)
    not_verified: list[str] = field(default_factory=list)
    allow_delete: bool = False
    allow_replace: bool = False
    format_version: str = PLAN_FORMAT_VERSION
    # refresh-only: the live values to accept into the state, per address
    accept: dict[str, dict[str, Any]] = field(default_factory=dict)
    # `moved:` renames carried out in the state: [{"from": old, "to": new}]
    moves: list[dict[str, str]] = field(default_factory=list)
    # prevent_destroy switched on or off for a managed address (state only, no call): it must
    # reach the state even when nothing else changes, or removing the entry could delete it
    protect: dict[str, bool] = field(default_factory=dict)
    # WorkgroupId -> [Name, Type] in the live list when planned, for each ID the plan touches:
    # a saved plan is refused if any of them changed before it is applied
    seen: dict[str, list[Any]] = field(default_factory=dict)
    # interrupted creates found in the state and how they were resolved (words)
    resolved: list[str] = field(default_factory=list)
    # --target addresses: the plan covers only them and what they need to exist first
    targets: list[str] = field(default_factory=list)
    # what the plan could not check (e.g. members of an account whose details list none), in
    # words, each said once per run; nothing is planned on the strength of it
    unchecked: list[str] = field(default_factory=list)
    # schedules (`schedules:`), planned before the workgroups that use them
    schedules: list[ScheduleChange] = field(default_factory=list)

    # --- counts ---------------------------------------------------------------------------
    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def to_add(self) -> int:
        return sum(1 for c in self.changes if CREATE in c.actions) + sum(
            1 for s in self.schedules if CREATE in s.actions)

    @property
    def to_change(self) -> int:
        return sum(1 for c in self.changes if c.kind in (UPDATE,))

    @property
    def to_destroy(self) -> int:
        return sum(1 for c in self.changes if DELETE in c.actions)

    @property
    def to_import(self) -> int:
        return sum(1 for c in self.changes if IMPORT in c.actions) + sum(
            1 for s in self.schedules if IMPORT in s.actions)

    @property
    def has_changes(self) -> bool:
        return (any(not c.is_noop for c in self.changes) or any(not s.is_noop for s in self.schedules)
                or bool(self.accept) or bool(self.moves) or bool(self.protect))

    @property
    def has_destroys(self) -> bool:
        return self.to_destroy > 0

    @property
    def ok(self) -> bool:
        return not self.conflicts and not self.errors

    def summary_line(self) -> str:
        if not self.ok:
            counts = [(len(self.conflicts), "conflict"), (len(self.errors), "error")]
            what = " and ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in counts if n)
            return f"Plan cannot be applied ({what}, see above): nothing will be applied."
        if not self.has_changes:
            return "No changes."
        parts = [f"{self.to_add} to add", f"{self.to_change} to change", f"{self.to_destroy} to destroy"]
        if self.to_import:
            parts.insert(0, f"{self.to_import} to import")
        return "Plan: " + ", ".join(parts) + "."

    # --- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["has_changes"] = self.has_changes
        d["has_destroys"] = self.has_destroys
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        d = dict(d)
        d.pop("has_changes", None)
        d.pop("has_destroys", None)
        changes = []
        for c in d.pop("changes", []):
            c = {**c, "actions": _actions(c["actions"])}
            c["members"] = [MemberChange(**{**m, "actions": _actions(m["actions"])}) for m in c.get("members", [])]
            changes.append(ResourceChange(**c))
        return cls(
            changes=changes,
            drift=[Drift(**x) for x in d.pop("drift", [])],
            conflicts=[Conflict(**x) for x in d.pop("conflicts", [])],
            schedules=[ScheduleChange(**{**x, "actions": _actions(x["actions"])}) for x in d.pop("schedules", [])],
            **d,
        )


def _actions(words: list[str]) -> list[Action]:
    return [Action(w) for w in words]
