"""The state: what telegent-iac knows it manages (address -> IDs and last applied fields).

Serialised as JSON with sorted keys so a state kept in git diffs cleanly. Field values are in
the canonical form of `telegent_iac.model` (workgroup references as addresses).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from telegent_iac.errors import TelegentError

# 2: schedules, the account binding and the file store's journal. A release that reads only
# version 1 would drop the schedules it does not know and ignore an unreplayed journal, losing
# IDs, so it must refuse a version 2 state; version 1 states are read and upgraded on write.
FORMAT_VERSION = 2


class StateError(TelegentError):
    """The state cannot be read or written safely (newer format, corrupt, lineage moved...)."""


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class PendingCreate:
    """Intent recorded durably *before* a create POST, replaced by the ID right after it."""

    name: str  # Name for a workgroup; the member key for a member
    type: str
    started_at: str
    fields: dict[str, Any] = field(default_factory=dict)  # what was sent (address form)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "started_at": self.started_at, "fields": self.fields}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PendingCreate:
        return cls(name=d["name"], type=d["type"], started_at=d["started_at"], fields=dict(d.get("fields", {})))


@dataclass
class IdRecord:
    """An object the state knows by its ID alone: a member or a schedule (a workgroup carries
    more). `pending_create` is the intent written before its create POST."""

    id: str | None = None  # opaque
    fields: dict[str, Any] = field(default_factory=dict)  # last applied, canonical
    pending_create: PendingCreate | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "fields": self.fields}
        if self.pending_create is not None:
            d["pending_create"] = self.pending_create.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        pending = d.get("pending_create")
        return cls(
            id=d.get("id"),
            fields=dict(d.get("fields", {})),
            pending_create=PendingCreate.from_dict(pending) if pending else None,
        )


@dataclass
class MemberState(IdRecord):
    """A member of a workgroup; its ID is the WorkgroupActivityId."""


@dataclass
class WorkgroupState:
    id: str | None = None  # WorkgroupId, opaque
    fields: dict[str, Any] = field(default_factory=dict)  # last applied, canonical
    members: dict[str, MemberState] = field(default_factory=dict)
    prevent_destroy: bool = False
    pending_create: PendingCreate | None = None
    # IDs of objects this address replaced but has not deleted yet (Terraform's "deposed"):
    # kept so an interrupted replacement never loses the old workgroup's ID.
    deposed: list[str] = field(default_factory=list)
    # When its live details were last read and compared (UTC ISO-8601), for `--refresh sample=N`.
    verified: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "fields": self.fields,
            "members": {k: m.to_dict() for k, m in sorted(self.members.items())},
            "prevent_destroy": self.prevent_destroy,
        }
        if self.pending_create is not None:
            d["pending_create"] = self.pending_create.to_dict()
        if self.deposed:
            d["deposed"] = list(self.deposed)
        if self.verified:
            d["verified"] = self.verified
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WorkgroupState:
        pending = d.get("pending_create")
        members, deposed = d.get("members", {}), d.get("deposed", [])
        return cls(
            id=d.get("id"),
            fields=dict(d.get("fields", {})),
            # the empty cases without a comprehension (most workgroups; anything else is still
            # read item by item, and a malformed value still fails there)
            members={k: MemberState.from_dict(m) for k, m in members.items()} if members != {} else {},
            prevent_destroy=bool(d.get("prevent_destroy", False)),
            pending_create=PendingCreate.from_dict(pending) if pending else None,
            deposed=[str(i) for i in deposed] if deposed != [] else [],
            verified=str(d["verified"]) if d.get("verified") else None,
        )


@dataclass
class ScheduleState(IdRecord):
    """A schedule telegent-iac created or adopted. Telegent documents no update or delete for
    schedules, so an ID, once recorded, is only ever replaced by a new schedule's."""


@dataclass(frozen=True)
class AccountBinding:
    """The account a state belongs to: the API base URL ("sandbox" for the built-in one) and
    the account, by its AccountId when known and always by a keyed hash of the account key
    (never the key). Two bindings name the same account when the URLs match and the
    AccountIds match, or, when either AccountId is unknown, the key hashes match."""

    api_url: str
    key_hash: str
    account_id: str | None = None

    def same_account(self, other: AccountBinding) -> bool:
        if self.api_url != other.api_url:
            return False
        if self.account_id and other.account_id:
            return self.account_id == other.account_id
        return self.key_hash == other.key_hash

    def describe(self) -> str:
        who = f"account {self.account_id}" if self.account_id else f"the account with key hash {self.key_hash[:12]}"
        return f"{who} at {self.api_url}"

    def to_dict(self) -> dict[str, Any]:
        return {"api_url": self.api_url, "account_id": self.account_id, "key_hash": self.key_hash}

    @classmethod
    def from_dict(cls, d: Any) -> AccountBinding:
        if not isinstance(d, dict) or not isinstance(d.get("api_url"), str) or not isinstance(d.get("key_hash"), str):
            raise TypeError("account must be an object with api_url and key_hash")
        account_id = d.get("account_id")
        return cls(api_url=d["api_url"], key_hash=d["key_hash"], account_id=str(account_id) if account_id else None)


@dataclass
class State:
    lineage: str
    serial: int = 0
    workgroups: dict[str, WorkgroupState] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    account: AccountBinding | None = None  # None: a new state, or one written before states had it
    schedules: dict[str, ScheduleState] = field(default_factory=dict)

    @classmethod
    def new(cls) -> State:
        return cls(lineage=str(uuid.uuid4()))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "format_version": self.format_version,
            "lineage": self.lineage,
            "serial": self.serial,
            "workgroups": {a: w.to_dict() for a, w in sorted(self.workgroups.items())},
        }
        if self.account is not None:
            d["account"] = self.account.to_dict()
        if self.schedules:  # absent when unused: older states read back unchanged
            d["schedules"] = {a: s.to_dict() for a, s in sorted(self.schedules.items())}
        return d

    @classmethod
    def from_dict(cls, d: Any, source: str = "state") -> State:
        if not isinstance(d, dict):
            raise StateError(f"{source}: not a telegent-iac state (expected a JSON object)")
        version = d.get("format_version")
        if not isinstance(version, int):
            raise StateError(f"{source}: not a telegent-iac state (no format_version)")
        if version > FORMAT_VERSION:
            raise StateError(
                f"{source}: state format version {version} is newer than this telegent-iac "
                f"understands ({FORMAT_VERSION}); upgrade telegent-iac. The state was not changed."
            )
        try:
            return cls(
                lineage=str(d["lineage"]),
                serial=int(d["serial"]),
                workgroups={a: WorkgroupState.from_dict(w) for a, w in d.get("workgroups", {}).items()},
                format_version=FORMAT_VERSION,
                account=AccountBinding.from_dict(d["account"]) if d.get("account") is not None else None,
                schedules={a: ScheduleState.from_dict(s) for a, s in d.get("schedules", {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateError(f"{source}: malformed state ({exc})") from exc

    def pending_schedules(self) -> list[str]:
        """Addresses of schedules with an unresolved pending create."""
        return [a for a, s in sorted(self.schedules.items()) if s.pending_create is not None]

    def pending(self) -> list[tuple[str, str | None]]:
        """(address, member key or None) of every unresolved pending workgroup or member create."""
        out: list[tuple[str, str | None]] = []
        for address, wg in sorted(self.workgroups.items()):
            if wg.pending_create is not None:
                out.append((address, None))
            for key, member in sorted(wg.members.items()):
                if member.pending_create is not None:
                    out.append((address, key))
        return out
