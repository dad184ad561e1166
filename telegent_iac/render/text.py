"""The human view of a plan (Terraform's symbols and summary line)."""

from __future__ import annotations

from telegent_iac.plan.model import Plan
from telegent_iac.render.common import HEADLINES, SYMBOLS, field_lines, fmt, grouped, member_lines

_COLORS = {"+": "32", "~": "33", "-": "31", "-/+": "35", "<=": "36", "!": "31"}


def _paint(symbol: str, text: str, color: bool) -> str:
    code = _COLORS.get(symbol)
    return f"\x1b[{code}m{text}\x1b[0m" if color and code else text


def render_text(plan: Plan, color: bool = False) -> str:
    out: list[str] = []
    if plan.resolved:
        out.append("Interrupted creates found in the state:")
        out.extend(f"  {line}" for line in plan.resolved)
        out.append("")
    if plan.drift:
        out.append("Changes made outside telegent-iac (drift), seen by a full refresh:")
        for d in plan.drift:
            out.append(f"  ~ {d.address}: {d.field}: recorded {fmt(d.recorded)}, live {fmt(d.live)}")
        out.append("")
    groups = grouped(plan)
    if groups:
        out.append("telegent-iac will perform the following actions:")
        out.append("")
    for kind, changes in groups:
        for c in changes:
            symbol = SYMBOLS[kind]
            ident = f" ({c.workgroup_id})" if c.workgroup_id else ""
            out.append(f"  # {c.address}{ident} {HEADLINES[kind]}")
            if c.reason:
                out.append(f"  # ({c.reason})")
            out.append(_paint(symbol, f"  {symbol} workgroup \"{c.address}\" {{", color))
            for sym, name, before, after in field_lines(c):
                if sym == "~":
                    line = f"      ~ {name} = {fmt(before)} -> {fmt(after)}"
                elif sym == "+":
                    line = f"      + {name} = {fmt(after)}"
                else:
                    line = f"      - {name} = {fmt(before)}"
                out.append(_paint(sym, line, color))
            for old in c.deposed:
                out.append(_paint("-", f"      - old workgroup {old} (left by a replacement)", color))
            for mc in c.members:
                if mc.is_noop:
                    continue
                action = mc.actions[0]
                sym = {"create": "+", "update": "~", "delete": "-"}.get(action, " ")
                why = f"  # {mc.reason}" if mc.reason else ""
                out.append(_paint(sym, f"      {sym} member \"{mc.key}\" {{{why}", color))
                for s2, name, before, after in member_lines(mc):
                    value = f"{fmt(before)} -> {fmt(after)}" if s2 == "~" else fmt(after if s2 == "+" else before)
                    out.append(_paint(s2, f"          {s2} {name} = {value}", color))
                out.append("        }")
            out.append("    }")
            out.append("")
    if plan.moves:
        out.append("Renamed addresses (state only, no API call):")
        out.extend(f"  {m['from']} -> {m['to']}" for m in plan.moves)
        out.append("")
    if plan.protect:
        out.append("prevent_destroy changes (state only, no API call):")
        out.extend(f"  {a}: prevent_destroy {'set' if on else 'cleared'}" for a, on in sorted(plan.protect.items()))
        out.append("")
    if plan.accept:
        out.append("Refresh only: the state will accept what is live for:")
        for address, accepted in sorted(plan.accept.items()):
            what = "forget (gone from the account)" if accepted.get("forget") else "accept live values"
            out.append(f"  {address}: {what}")
        out.append("")
    if plan.kept:
        out.append("No longer declared (not deleted):")
        out.extend(f"  {line}" for line in plan.kept)
        out.append("")
    if plan.conflicts:
        out.append(_paint("!", "Conflicts (the plan cannot be applied):", color))
        out.extend(f"  {c.address}: {c.message}" for c in plan.conflicts)
        out.append("")
    if plan.errors:
        out.append(_paint("!", "Errors (the plan cannot be applied):", color))
        out.extend(f"  {e}" for e in plan.errors)
        out.append("")
    for w in plan.warnings:
        out.append(f"Warning: {w}")
    summary = summary_table(plan)
    if summary:
        out.extend(summary)
        out.append("")
    out.append(plan.summary_line())
    return "\n".join(out) + "\n"


def summary_table(plan: Plan) -> list[str]:
    """Per-address summary grouped by action: readable even when the details are long."""
    groups = grouped(plan)
    if sum(len(c) for _, c in groups) < 2:
        return []
    lines = ["Summary by action:"]
    for kind, changes in groups:
        names = ", ".join(c.address for c in changes[:20])
        more = f" and {len(changes) - 20} more" if len(changes) > 20 else ""
        lines.append(f"  {SYMBOLS[kind]:>3} {kind:<8} {len(changes):>5}  {names}{more}")
    return lines
