"""The human view of a plan (Terraform's symbols and summary line)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from telegent_iac.plan.changes import Plan, ResourceChange, ScheduleChange
from telegent_iac.render.common import (
    HEADLINES,
    KIND_ORDER,
    SYMBOLS,
    assignment,
    field_lines,
    fmt,
    grouped,
    member_lines,
)
from telegent_iac.safety.terminal import escape_text

_COLORS = {"+": "32", "~": "33", "-": "31", "-/+": "35", "<=": "36", "!": "31"}


@dataclass(frozen=True)
class _Painted:
    """A line to colour by its symbol once its text has been made terminal-safe."""

    symbol: str
    text: str


Line = str | _Painted


def _paint(symbol: str, text: str, color: bool) -> Line:
    return _Painted(symbol, text) if color and symbol in _COLORS else text


def _final(line: Line) -> str:
    """Every line is escaped (config values, addresses, IDs and server words all reach it);
    only then is our own colour added."""
    if isinstance(line, _Painted):
        return f"\x1b[{_COLORS[line.symbol]}m{escape_text(line.text, keep='')}\x1b[0m"
    return escape_text(line, keep="")


def _section(out: list[Line], title: Line, lines: Iterable[str]) -> None:
    """A titled block of indented lines, left out when there are none."""
    items = [f"  {line}" for line in lines]
    if items:
        out.extend([title, *items, ""])


def _change_block(c: ResourceChange, kind: str, color: bool) -> list[Line]:
    symbol = SYMBOLS[kind]
    ident = f" ({c.workgroup_id})" if c.workgroup_id else ""
    out: list[Line] = [f"  # {c.address}{ident} {HEADLINES[kind]}"]
    if c.reason:
        out.append(f"  # ({c.reason})")
    out.append(_paint(symbol, f"  {symbol} workgroup \"{c.address}\" {{", color))
    out += [_paint(sym, f"      {assignment(sym, name, before, after, replacing=c.is_replace)}", color)
            for sym, name, before, after in field_lines(c)]
    out += [_paint("-", f"      - old workgroup {old} (left by a replacement)", color) for old in c.deposed]
    for mc in c.members:
        if mc.is_noop:
            continue
        sym = {"create": "+", "update": "~", "delete": "-"}.get(mc.actions[0], " ")
        why = f"  # {mc.reason}" if mc.reason else ""
        out.append(_paint(sym, f"      {sym} member \"{mc.key}\" {{{why}", color))
        out += [_paint(s2, f"          {assignment(s2, name, before, after)}", color)
                for s2, name, before, after in member_lines(mc)]
        out.append("        }")
    return [*out, "    }", ""]


def _schedule_block(sc: ScheduleChange, color: bool) -> list[Line]:
    kind = "import" if "import" in sc.actions else "create"
    symbol = SYMBOLS[kind]
    ident = f" ({sc.import_id or sc.schedule_id})" if sc.import_id or sc.schedule_id else ""
    headline = "will be imported" if kind == "import" else (
        "will be created anew (schedules cannot be updated)" if sc.schedule_id else "will be created")
    out: list[Line] = [f"  # schedule {sc.address}{ident} {headline}"]
    if sc.reason:
        out.append(f"  # ({sc.reason})")
    out.append(_paint(symbol, f"  {symbol} schedule \"{sc.address}\" {{", color))
    before = sc.before or {}
    for name in sorted(sc.after or {}):
        value = (sc.after or {})[name]
        sym = "~" if name in sc.changed and name in before else "+" if name in sc.changed else " "
        out.append(_paint(sym, f"      {assignment(sym, name, before.get(name), value)}", color))
    return [*out, "    }", ""]


def render_text(plan: Plan, color: bool = False) -> str:
    out: list[Line] = []
    _section(out, "Interrupted creates found in the state:", plan.resolved)
    _section(out, "Changes made outside telegent-iac (drift):",
             (f"~ {d.address}: {d.field}: recorded {fmt(d.recorded)}, live {fmt(d.live)}" for d in plan.drift))
    _section(out, "Could not be checked (nothing is planned on it):", plan.unchecked)
    groups = grouped(plan)
    schedules = [s for s in plan.schedules if not s.is_noop]
    if groups or schedules:
        out += ["telegent-iac will perform the following actions:", ""]
    for sc in schedules:
        out += _schedule_block(sc, color)
    for kind, changes in groups:
        for c in changes:
            out += _change_block(c, kind, color)
    _section(out, "Renamed addresses (state only, no API call):", (f"{m['from']} -> {m['to']}" for m in plan.moves))
    _section(out, "prevent_destroy changes (state only, no API call):",
             (f"{a}: prevent_destroy {'set' if on else 'cleared'}" for a, on in sorted(plan.protect.items())))
    _section(out, "Refresh only: the state will accept what is live for:",
             (f"{a}: {'forget (gone from the account)' if x.get('forget') else 'accept live values'}"
              for a, x in sorted(plan.accept.items())))
    _section(out, "No longer declared (not deleted):", plan.kept)
    _section(out, _paint("!", "Conflicts (the plan cannot be applied):", color),
             (f"{c.address}: {c.message}" for c in plan.conflicts))
    _section(out, _paint("!", "Errors (the plan cannot be applied):", color), plan.errors)
    out += [f"Warning: {w}" for w in plan.warnings]
    if plan.refresh != "summary":
        checked = len(plan.verified) + len(plan.not_verified)
        out += [f"Verified against live details: {len(plan.verified)} of {checked} managed workgroups"
                + (" (the rest as the state last knew them)." if plan.not_verified else "."), ""]
    summary = summary_table(plan)
    if summary:
        out += [*summary, ""]
    out.append(plan.summary_line())
    return "\n".join(_final(line) for line in out) + "\n"


def summary_table(plan: Plan) -> list[str]:
    """Per-address summary grouped by action: readable even when the details are long."""
    by_kind = {kind: [c.address for c in changes] for kind, changes in grouped(plan)}
    for sc in plan.schedules:  # counted in the plan's total line too
        if not sc.is_noop:
            by_kind.setdefault(sc.actions[0], []).append(f"schedule.{sc.address}")
    if sum(len(a) for a in by_kind.values()) < 2:
        return []
    lines = ["Summary by action:"]
    for kind in KIND_ORDER:
        addresses = by_kind.get(kind, [])
        if not addresses:
            continue
        names = ", ".join(addresses[:20])
        more = f" and {len(addresses) - 20} more" if len(addresses) > 20 else ""
        lines.append(f"  {SYMBOLS[kind]:>3} {kind:<8} {len(addresses):>5}  {names}{more}")
    return lines
