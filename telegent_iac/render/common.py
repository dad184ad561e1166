"""What every view of a plan shares: value formatting and the order of sections."""

from __future__ import annotations

import json
import re
from typing import Any

from telegent_iac import spec
from telegent_iac.plan.changes import MemberChange, Plan, ResourceChange

# Grouping order of the per-address summary: what matters most to a reviewer first.
KIND_ORDER = ("delete", "replace", "import", "create", "update", "no-op")
SYMBOLS = {
    "create": "+",
    "update": "~",
    "delete": "-",
    "replace": "-/+",
    "import": "<=",
    "no-op": " ",
}
HEADLINES = {
    "create": "will be created",
    "update": "will be updated in-place",
    "delete": "will be destroyed",
    "replace": "must be replaced",
    "import": "will be imported",
    "no-op": "is unchanged",
}


# JSON writes a control character in a string as \u001b; the human views show every escaped
# character the one way (render/escape.py), so such an escape is rewritten as \x1b (an escape,
# not an escaped backslash before "u": the backslashes before it are counted).
_JSON_CONTROL = re.compile(r"(?<!\\)((?:\\\\)*)\\u00([01][0-9a-f])")


def fmt(value: Any) -> str:
    if value is None:
        return "(unset)"
    return _JSON_CONTROL.sub(r"\1\\x\2", json.dumps(value, ensure_ascii=False))


def grouped(plan: Plan) -> list[tuple[str, list[ResourceChange]]]:
    # One pass: `kind` looks at every member, and a plan may hold 10,000 no-op changes.
    by_kind: dict[str, list[ResourceChange]] = {}
    for c in plan.changes:
        by_kind.setdefault(c.kind, []).append(c)
    return [(kind, by_kind[kind]) for kind in KIND_ORDER if kind != "no-op" and by_kind.get(kind)]


def member_kind(mc: MemberChange) -> str:
    return mc.actions[0]


def field_lines(change: ResourceChange) -> list[tuple[str, str, Any, Any]]:
    """(symbol, field, before, after) for each field worth showing."""
    before, after = change.before or {}, change.after or {}
    kind = change.kind
    rows: list[tuple[str, str, Any, Any]] = []
    if kind == "create":
        return [("+", n, None, after[n]) for n in sorted(after)]
    if kind == "delete":
        return [("-", n, before[n], None) for n in sorted(before)]
    for n in change.changed:
        if n not in after:
            rows.append(("-", n, before.get(n), None))
        elif n not in before:
            rows.append(("+", n, None, after[n]))
        else:
            rows.append(("~", n, before.get(n), after.get(n)))
    return rows


def member_lines(mc: MemberChange) -> list[tuple[str, str, Any, Any]]:
    before, after = mc.before or {}, mc.after or {}
    action = member_kind(mc)
    if action == "create":
        return [("+", n, None, after[n]) for n in sorted(after)]
    if action == "delete":
        return [("-", n, before[n], None) for n in sorted(before)]
    names = sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))
    return [("~", n, before.get(n), after.get(n)) for n in names]


def assignment(sym: str, name: str, before: Any, after: Any, arrow: str = "->", replacing: bool = False) -> str:
    """One field line as every view shows it: `~ name = before -> after`. A reference whose
    address stays but whose workgroup gets a new ID says so instead of `"x" -> "x"`; in a
    replacement, a field the update endpoint does not accept is marked as the cause."""
    if sym == "~" and before == after and name == "ScheduleId":
        value = f"{fmt(after)} (re-pointed: the schedule it names is created anew, with a new ScheduleId)"
    elif sym == "~" and before == after:
        value = f"{fmt(after)} (re-pointed: the workgroup it names gets a new WorkgroupId)"
    elif sym == "~":
        value = f"{fmt(before)} {arrow} {fmt(after)}"
    else:
        value = fmt(after if sym == "+" else before)
    forced = "  # forces replacement" if replacing and name not in spec.workgroup_updatable() else ""
    return f"{sym} {name} = {value}{forced}"
