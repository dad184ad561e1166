"""The pull-request comment view. Every value is escaped, and the whole comment stays under
GitHub's 65,536-character limit by shortening lists and details, with a note saying so."""

from __future__ import annotations

from telegent_iac.model.workgroups import Member, Workgroup
from telegent_iac.plan.changes import DELETE, Plan, ResourceChange
from telegent_iac.render.common import HEADLINES, SYMBOLS, assignment, field_lines, fmt, grouped, member_lines
from telegent_iac.routing import diagram, flow
from telegent_iac.safety.terminal import escape_text

GITHUB_COMMENT_LIMIT = 65_536
MARKER = "<!-- telegent-iac plan -->"  # lets a CI job find and edit its own comment


# One pass over the text (str.translate): replacing characters one after another would escape
# the "#" and "&" of entities written by an earlier replacement.
_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "\n": "<br>", "\r": ""}
    | {ch: f"&#{ord(ch)};" for ch in "|`*_[]()#~\\!"}
)


def esc(text: object) -> str:
    """Escape for Markdown table cells and HTML blocks alike: nothing can break the comment,
    and no control, bidi or zero-width character reaches the reader's screen."""
    return escape_text(str(text), keep="\n").translate(_ESCAPES)


def _details(c: ResourceChange) -> str:
    # The reason goes inside <pre> with the values: GitHub makes no @mention or link there.
    lines = [f"# ({c.reason})"] if c.reason else []
    for sym, name, before, after in field_lines(c):
        lines.append(assignment(sym, name, before, after, arrow="→", replacing=c.is_replace))
    for mc in c.members:
        if mc.is_noop:
            continue
        lines.append(f"{ {'create': '+', 'update': '~', 'delete': '-'}.get(mc.actions[0], ' ')} member {mc.key}")
        for sym, name, before, after in member_lines(mc):
            lines.append(f"    {assignment(sym, name, before, after, arrow='→')}")
    body = "<br>".join(esc(line) for line in lines) or "(no field changes)"
    return (
        f"<details><summary><code>{esc(SYMBOLS[c.kind])}</code> <b>{esc(c.address)}</b> "
        f"{esc(HEADLINES[c.kind])}</summary>\n\n<pre>{body}</pre>\n\n</details>\n"
    )


# One list entry (a drift value, a conflict message) is cut to this many characters before
# escaping, so a single huge value cannot use up the whole comment.
MAX_ITEM_CHARS = 500
SHORTENED_NOTE = (
    "\n_Shortened to fit a pull-request comment: {what} not shown; "
    "run `telegent-iac plan` for the full plan._\n"
)


def _item(text: str) -> str:
    if len(text) > MAX_ITEM_CHARS:
        text = text[:MAX_ITEM_CHARS] + " …"
    # <code> also keeps GitHub from turning @names and #numbers in values into mentions/links.
    return f"- <code>{esc(text)}</code>\n"


# The call-flow diagram shows at most this many boxes: a bigger one is unreadable anyway.
MAX_DIAGRAM_NODES = 60


def _workgroups(plan: Plan) -> dict[str, Workgroup]:
    """Each planned address as it will be (as it was, for a delete), in the model's form."""
    out: dict[str, Workgroup] = {}
    for c in plan.changes:
        gone = c.kind == DELETE
        fields = (c.before if gone else c.after) or c.before or {}
        members = tuple(
            Member(m.key, (m.before if gone else m.after) or {})
            for m in c.members
            if gone or DELETE not in m.actions
        )
        out[c.address] = Workgroup(c.address, fields, members)
    return out


def call_flow(plan: Plan, budget: int) -> tuple[str, int]:
    """A Mermaid diagram of the changed workgroups and their neighbours, within `budget`
    characters, and how many changed workgroups it had to leave out."""
    changed = [c for _, cs in grouped(plan) for c in cs]
    if not changed:
        return "", 0
    whole = flow.build(_workgroups(plan))
    marks = {c.address: c.kind for c in changed}
    shown = len(changed)
    while shown > 0:
        part = whole.around(c.address for c in changed[:shown])
        text = "**Call flow of the changed workgroups and their neighbours**\n\n```mermaid\n"
        text += diagram.mermaid(part, marks) + "```\n\n"
        if len(part.nodes) <= MAX_DIAGRAM_NODES and len(text) <= budget:
            return text, len(changed) - shown
        shown = shown // 2 if shown > 1 else 0
    return "", len(changed)


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
    text = "\n".join(head) + "\n"
    # Everything below is cut to fit: room is kept for the note saying what was left out.
    budget = limit - len(text) - len(SHORTENED_NOTE) - 400
    left_out = {"list entries": 0, "details": 0, "changed workgroups in the call-flow diagram": 0}
    parts: list[str] = []
    picture, left_out["changed workgroups in the call-flow diagram"] = call_flow(plan, budget // 4)
    parts.append(picture)
    budget -= len(picture)
    for title, items in (
        ("Conflicts (the plan cannot be applied)", [f"{c.address}: {c.message}" for c in plan.conflicts]),
        ("Schedules", [f"{s.address}: {' and '.join(s.actions)}: {s.reason}" for s in plan.schedules if not s.is_noop]),
        ("Errors (the plan cannot be applied)", plan.errors),
        ("Warnings", plan.warnings),
        ("Drift (changed outside telegent-iac)",
         [f"{d.address}: {d.field}: recorded {fmt(d.recorded)}, live {fmt(d.live)}" for d in plan.drift]),
        ("Could not be checked (nothing is planned on it)", plan.unchecked),
        ("No longer declared (not deleted)", plan.kept),
        ("prevent_destroy recorded in the state (no API call)",
         [f"{a}: {'set' if on else 'cleared'}" for a, on in sorted(plan.protect.items())]),
    ):
        if not items:
            continue
        section = f"**{title}**\n\n"
        budget -= len(section) + 1
        parts.append(section)
        for n, item in enumerate(items):
            line = _item(item)
            if len(line) > budget:
                left_out["list entries"] += len(items) - n
                break
            parts.append(line)
            budget -= len(line)
        parts.append("\n")
    details = [c for _, cs in groups for c in cs]
    for n, c in enumerate(details):
        block = _details(c)
        if len(block) > budget:
            left_out["details"] += len(details) - n
            break
        parts.append(block)
        budget -= len(block)
    text += "".join(parts)
    counts = [f"{count} {name}" for name, count in left_out.items() if count]
    what = " and ".join([", ".join(counts[:-1]), counts[-1]] if len(counts) > 1 else counts)
    if what:
        text += SHORTENED_NOTE.format(what=what)
    return text
