"""The call flow as text: Mermaid (renders in GitHub Markdown) or Graphviz DOT.

Every label is escaped: a workgroup Name is user text and must not break the diagram or
the comment it is embedded in."""

from __future__ import annotations

from collections.abc import Mapping

from telegent_iac.routing.flow import EXTERNAL, NUMBER, OFF_HOURS, ON_HOURS, PERSON, WORKGROUP, Flow

_MERMAID_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.:+/(),@'?=")
_MERMAID_SHAPES = {NUMBER: ('(["', '"])'), WORKGROUP: ('["', '"]'), PERSON: ('(("', '"))'), EXTERNAL: ('{{"', '"}}')}
_DOT_SHAPES = {NUMBER: "cds", WORKGROUP: "box", PERSON: "ellipse", EXTERNAL: "hexagon"}
# Plan kinds of changed workgroups, shown in the label as words (colour alone is not enough).
_MARKS = {"create": "new", "update": "changed", "replace": "replaced", "delete": "deleted", "import": "imported"}


def mermaid_text(text: str) -> str:
    """Inside a quoted Mermaid label only plain characters stay; others become #code;."""
    return "".join(ch if ch in _MERMAID_SAFE else f"#{ord(ch)};" for ch in text)


def _ids(flow: Flow) -> dict[str, str]:
    return {node.id: f"n{index}" for index, node in enumerate(flow.sorted_nodes(), 1)}


def mermaid(flow: Flow, marks: Mapping[str, str] | None = None) -> str:
    """A Mermaid flowchart; `marks` (address -> plan kind) labels and colours changed workgroups."""
    marks = marks or {}
    ids = _ids(flow)
    lines = ["flowchart LR"]
    marked = []
    for node in flow.sorted_nodes():
        label = node.label
        if node.kind == WORKGROUP and node.address in marks:
            label += f" ({_MARKS.get(marks[node.address], marks[node.address])})"
            marked.append(ids[node.id])
        opening, closing = _MERMAID_SHAPES[node.kind]
        lines.append(f"  {ids[node.id]}{opening}{mermaid_text(label)}{closing}")
    for edge in flow.edges:
        arrow = "-.->" if edge.kind in (ON_HOURS, OFF_HOURS) else "-->"
        label = f'|"{mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
    if marked:
        lines.append("  classDef changed stroke:#d97706,stroke-width:3px")
        lines.append(f"  class {','.join(marked)} changed")
    return "\n".join(lines) + "\n"


def dot_text(text: str) -> str:
    """A DOT string's inside: quotes and backslashes escaped, control characters (which could
    drive a terminal the graph is printed on) made spaces."""
    text = "".join(" " if ord(ch) < 32 and ch != "\n" or 0x7F <= ord(ch) <= 0x9F else ch for ch in text)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def dot(flow: Flow) -> str:
    ids = _ids(flow)
    lines = ["digraph callflow {", "  rankdir=LR;"]
    for node in flow.sorted_nodes():
        lines.append(f'  {ids[node.id]} [label="{dot_text(node.label)}", shape={_DOT_SHAPES[node.kind]}];')
    for edge in flow.edges:
        attrs = [f'label="{dot_text(edge.label)}"'] if edge.label else []
        if edge.kind in (ON_HOURS, OFF_HOURS):
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {ids[edge.source]} -> {ids[edge.target]}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
