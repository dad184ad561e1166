"""The pull-request comment view. Every value is escaped, and the whole comment stays under
GitHub's 65,536-character limit by shortening details, with a note saying so."""

from __future__ import annotations

import html

from telegent_iac.plan.model import Plan, ResourceChange
from telegent_iac.render.common import HEADLINES, SYMBOLS, field_lines, fmt, grouped, member_lines

GITHUB_COMMENT_LIMIT = 65_536
MARKER = "<!-- telegent-iac plan -->"  # lets a CI job find and edit its own comment


def esc(text: object) -> str:
    """Escape for Markdown table cells and HTML blocks alike: nothing can break the comment."""
    s = html.escape(str(text), quote=True)
    for ch in "|`*_[]()#~\\":
        s = s.replace(ch, f"&#{ord(ch)};")
    return s.replace("\n", "<br>").replace("\r", "")


def _details(c: ResourceChange) -> str:
    lines = []
    for sym, name, before, after in field_lines(c):
        value = f"{fmt(before)} → {fmt(after)}" if sym == "~" else fmt(after if sym == "+" else before)
        lines.append(f"{sym} {name} = {value}")
    for mc in c.members:
        if mc.is_noop:
            continue
        lines.append(f"{ {'create': '+', 'update': '~', 'delete': '-'}.get(mc.actions[0], ' ')} member {mc.key}")
        for sym, name, before, after in member_lines(mc):
            value = f"{fmt(before)} → {fmt(after)}" if sym == "~" else fmt(after if sym == "+" else before)
            lines.append(f"    {sym} {name} = {value}")
    body = "<br>".join(esc(line) for line in lines) or "(no field changes)"
    reason = f"<br><em>{esc(c.reason)}</em>" if c.reason else ""
    return (
        f"<details><summary><code>{esc(SYMBOLS[c.kind])}</code> <b>{esc(c.address)}</b> "
        f"{esc(HEADLINES[c.kind])}</summary>\n\n<pre>{body}</pre>{reason}\n\n</details>\n"
    )


def render_markdown(plan: Plan, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    head = [MARKER, "### telegent-iac plan", ""]
    head.append(f"**{esc(plan.summary_line())}**")
    head.append("")
    groups = grouped(plan)
    if groups:
        head += ["| action | count | addresses |", "| --- | ---: | --- |"]
        for kind, changes in groups:
            names = ", ".join(esc(c.address) for c in changes[:10])
            if len(changes) > 10:
                names += f" and {len(changes) - 10} more"
            head.append(f"| {esc(SYMBOLS[kind])} {kind} | {len(changes)} | {names} |")
        head.append("")
    for title, items in (
        ("Conflicts (the plan cannot be applied)", [f"{c.address}: {c.message}" for c in plan.conflicts]),
        ("Errors (the plan cannot be applied)", plan.errors),
        ("Drift (changed outside telegent-iac)",
         [f"{d.address}: {d.field}: recorded {fmt(d.recorded)}, live {fmt(d.live)}" for d in plan.drift]),
        ("No longer declared (not deleted)", plan.kept),
    ):
        if items:
            head.append(f"**{title}**")
            head.append("")
            head += [f"- {esc(item)}" for item in items]
            head.append("")
    text = "\n".join(head) + "\n"
    tail_note = (
        "\n_Details shortened to fit a pull-request comment: {n} more not shown; "
        "run `telegent-iac plan` for all._\n"
    )
    budget = limit - len(text) - len(tail_note) - 20
    shown = 0
    details = [c for _, cs in groups for c in cs]
    parts: list[str] = []
    for c in details:
        block = _details(c)
        if len(block) > budget:
            break
        parts.append(block)
        budget -= len(block)
        shown += 1
    text += "".join(parts)
    if shown < len(details):
        text += tail_note.format(n=len(details) - shown)
    return text
