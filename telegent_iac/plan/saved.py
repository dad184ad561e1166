"""Saved plan files (`plan --out FILE`, `apply FILE`, `show FILE`).

A plan file is the Plan serialised with what it was made from (config paths, var files, the
sandbox flag, the plan options, the account) and a SHA-256 over all of it. The checksum only
catches an edit made without recomputing it; anyone can recompute one. What makes `apply FILE`
carry out exactly what was reviewed is `differences`: apply makes the plan again from the
current configuration, state and account and refuses the file if the two differ at all.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from telegent_iac.errors import UserError
from telegent_iac.plan.changes import Plan
from telegent_iac.plan.planner import PlanOptions
from telegent_iac.safety.files import UnsafeFileError, read_input
from telegent_iac.safety.secrets import redact_data

PLAN_FILE_KIND = "telegent-iac plan"


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_plan_file(path: Path, body: dict[str, Any]) -> None:
    """`body`: kind, tool_version, config, var_files, sandbox, options, account, plan."""
    body = dict(redact_data(body))  # a value equal to a known secret never reaches the file
    body["checksum"] = hashlib.sha256(_canonical(body).encode()).hexdigest()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(_canonical(body), encoding="utf-8")
    os.replace(tmp, path)


def read_plan_file(path: Path) -> tuple[Plan, dict[str, Any]]:
    """The plan and the file's body. Refused unless the file is byte for byte what
    `write_plan_file` wrote: the checksum covers the content, and the content must be in the
    one canonical layout, so whitespace, key order and escapes cannot change either."""
    try:
        raw = read_input(path)
        body = json.loads(raw.decode("utf-8"))
    except UnsafeFileError as exc:
        raise UserError(f"{path}: cannot read the saved plan: it {exc}") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the saved plan: {exc}") from exc
    except RecursionError:
        raise UserError(f"{path}: not a telegent-iac plan file (nested too deeply)") from None
    if not isinstance(body, dict) or body.get("kind") != PLAN_FILE_KIND:
        raise UserError(f"{path}: not a telegent-iac plan file")
    checksum = body.pop("checksum", None)
    text = _canonical(body)
    exact = raw == _canonical({**body, "checksum": checksum}).encode()
    if checksum != hashlib.sha256(text.encode()).hexdigest() or not exact:
        raise UserError(f"{path}: the plan file was modified after it was written (checksum mismatch)")
    try:
        plan = Plan.from_dict(body["plan"])
    except (KeyError, TypeError) as exc:
        raise UserError(f"{path}: malformed plan file ({exc})") from exc
    return plan, body


def options_to_dict(options: PlanOptions) -> dict[str, Any]:
    return asdict(options)


def options_from_dict(d: Any, path: Path) -> PlanOptions:
    try:
        return PlanOptions(**d) if isinstance(d, dict) else PlanOptions()
    except TypeError as exc:
        raise UserError(f"{path}: malformed plan file (options: {exc})") from exc


def comparable(plan: Plan, account: dict[str, Any] | None) -> dict[str, Any]:
    """The plan as data to compare, changes keyed by address and members by key, so that a
    difference is named by where it is ("root['changes']['sales']['after']['Name']")."""
    d = plan.to_dict()
    if plan.serial == 0:
        d["lineage"] = None  # no state yet: every run makes up a new lineage for it
    d["changes"] = {
        c["address"]: {**c, "members": {m["key"]: m for m in c["members"]}} for c in d["changes"]
    }
    d["account"] = account
    return d


def differences(saved: dict[str, Any], fresh: dict[str, Any], limit: int = 5) -> list[str]:
    """How the plan made now differs from the saved one, in words (empty: identical)."""
    if saved == fresh:  # the common case, and far cheaper than a diff of 10,000 changes
        return []
    from deepdiff import DeepDiff

    lines: list[str] = str(DeepDiff(saved, fresh, verbose_level=2).pretty()).splitlines()
    more = len(lines) - limit
    return lines[:limit] + ([f"... and {more} more"] if more > 0 else [])
