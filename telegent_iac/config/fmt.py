"""`telegent-iac fmt`: config files in one canonical layout, comments kept.

The layout: the fields of every workgroup, member, schedule and entry in the order the config
schema (and so the vendored spec) lists them, unknown keys after them in their own order,
`<<` merges first; phone numbers and times always double-quoted. The top-level sections and
the addresses keep the author's order, and so do indentation, blank lines and comments.

PyYAML drops comments, so this is a line-based rewrite guided by the positions PyYAML reports:
each field of a block mapping owns whole lines (its key line, its value, and the comment and
blank lines above it), and reordering moves those line blocks. A rewrite whose result does not
load to exactly the same data is refused, and the file is left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from telegent_iac.config.loader import config_files
from telegent_iac.config.schema import PHONE_FIELDS, build_schema
from telegent_iac.config.yamlfile import read_text
from telegent_iac.errors import Position, Problem

_STR = "tag:yaml.org,2002:str"
_MERGE = "<<"


class _Alias(yaml.Node):
    """Where an alias (`*name`) stands: compose would return the anchored node, whose
    position is elsewhere."""

    id = "alias"


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]
            return _Alias("alias", event.anchor, event.start_mark, event.end_mark)
        return super().compose_node(parent, index)


def quoted_field(name: str) -> bool:
    """Fields whose values are always written double-quoted: phones, and times (a plain 09:00
    is a number in YAML 1.1)."""
    return name in PHONE_FIELDS or name.endswith("Time")


@dataclass
class _Mapping:
    """One block mapping to reorder: its key lines' blocks, in the new order."""

    blocks: list[tuple[int, int]]  # [start, end] line indexes, inclusive, in file order
    order: list[int]  # new position -> old block index
    dash: int | None = None  # column of the "- " when the first key sits on a sequence item's line


@dataclass
class _Walk:
    lines: list[str]
    quotes: list[tuple[int, int, int, str]] = field(default_factory=list)  # line, start col, end col, text
    mappings: list[_Mapping] = field(default_factory=list)  # children before parents


def _resolve(schema: dict[str, Any] | None, defs: dict[str, Any]) -> dict[str, Any] | None:
    if schema and "$ref" in schema:
        resolved: dict[str, Any] = defs[schema["$ref"].rsplit("/", 1)[-1]]
        return resolved
    return schema


def _child_schema(schema: dict[str, Any] | None, key: str, defs: dict[str, Any]) -> dict[str, Any] | None:
    if not schema:
        return None
    props = schema.get("properties", {})
    if key in props:
        return _resolve(props[key], defs)
    extra = schema.get("additionalProperties")
    return _resolve(extra, defs) if isinstance(extra, dict) else None


def _last_line(node: yaml.Node, key_line: int) -> int:
    """The last line holding any of this value's text (comments after it excluded)."""
    if isinstance(node, _Alias):
        return int(node.end_mark.line)
    if isinstance(node, yaml.ScalarNode):
        if node.value == "" and not node.style:  # `key:` with nothing after it
            return key_line
        if node.style in ("|", ">"):
            # A block scalar ends at the start of the line after its text.
            return max(int(node.start_mark.line), node.end_mark.line - (1 if node.end_mark.column == 0 else 0))
        return int(node.end_mark.line)
    assert isinstance(node, yaml.CollectionNode)
    if node.flow_style or not node.value:
        return int(node.end_mark.line)
    if isinstance(node, yaml.MappingNode):
        last_key, last_value = node.value[-1]
        return max(int(last_key.start_mark.line), _last_line(last_value, last_key.start_mark.line))
    last = node.value[-1]
    return _last_line(last, last.start_mark.line)


def _walk(node: yaml.Node, schema: dict[str, Any] | None, defs: dict[str, Any], walk: _Walk,
          first_line: int | None, root: bool = False) -> None:
    """Collect quote edits and reorderings below `node`. `first_line` is where the lines owned
    by the first key may start (the line after the parent key), None on a sequence item."""
    if isinstance(node, yaml.SequenceNode):
        items = _resolve(schema.get("items"), defs) if schema else None
        for item in node.value:
            _walk(item, items, defs, walk, None)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    for key, value in node.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else ""
        if isinstance(value, yaml.ScalarNode):
            _quote(name, value, walk)
        _walk(value, _child_schema(schema, name, defs), defs, walk, key.start_mark.line + 1)
    if root or node.flow_style or not schema or "properties" not in schema:
        return  # the top-level sections stay in the author's order
    _reorder(node, list(schema["properties"]), walk, first_line)


def _quote(name: str, value: yaml.ScalarNode, walk: _Walk) -> None:
    if not quoted_field(name) or value.tag != _STR or value.style in ('"', "|", ">"):
        return
    if value.start_mark.line != value.end_mark.line or (not value.style and value.value == ""):
        return
    walk.quotes.append((value.start_mark.line, value.start_mark.column, value.end_mark.column,
                        json.dumps(value.value, ensure_ascii=False)))


def _reorder(node: yaml.MappingNode, order: list[str], walk: _Walk, first_line: int | None) -> None:
    keys = [k for k, _ in node.value]
    if not all(isinstance(k, yaml.ScalarNode) for k in keys):
        return
    names = [k.value for k in keys]
    rank = {name: i for i, name in enumerate(order)}

    def position(i: int) -> tuple[int, int]:
        name = names[i]
        if name == _MERGE:
            return (-1, i)
        return (rank.get(name, len(order)), i)

    new = sorted(range(len(keys)), key=position)
    if new == list(range(len(keys))):
        return
    lines = walk.lines
    key_lines = [k.start_mark.line for k in keys]
    if any(b <= a for a, b in zip(key_lines, key_lines[1:], strict=False)):
        return  # two keys on one line: not a layout we can move by lines
    dash = None
    first = keys[0]
    prefix = lines[first.start_mark.line][: first.start_mark.column]
    if prefix.strip():
        match = re.fullmatch(r"(\s*)-(\s+)", prefix)
        if not match or first_line is not None:
            return
        dash = len(match.group(1))
    if any(lines[k.start_mark.line][: k.start_mark.column].strip() for k in keys[1:]):
        return
    ends = [max(k.start_mark.line, _last_line(v, k.start_mark.line)) for k, v in node.value]
    column = keys[0].start_mark.column
    for i in range(len(keys) - 1):
        # Comment lines indented deeper than the keys, right after a value, close that value.
        while ends[i] + 1 < key_lines[i + 1] and _is_comment(lines[ends[i] + 1], deeper_than=column):
            ends[i] += 1
    starts = [key_lines[0] if first_line is None else first_line] + [e + 1 for e in ends[:-1]]
    blocks = [(starts[i], (starts[i + 1] - 1) if i + 1 < len(keys) else ends[-1]) for i in range(len(keys))]
    walk.mappings.append(_Mapping(blocks, new, dash))


def _apply(walk: _Walk) -> str:
    lines = walk.lines
    for line, start, end, text in sorted(walk.quotes, key=lambda q: (q[0], -q[1])):
        lines[line] = lines[line][:start] + text + lines[line][end:]
    for mapping in walk.mappings:
        if mapping.dash is not None:
            old_first = mapping.blocks[0]
            new_first = mapping.blocks[mapping.order[0]]
            d = mapping.dash
            old_key = lines[old_first[0]]
            lines[old_first[0]] = old_key[:d] + " " + old_key[d + 1:]
            # the new first key's own line is the last line of its block's leading part
            key_line = _key_line(lines, new_first)
            lines[key_line] = lines[key_line][:d] + "-" + lines[key_line][d + 1:]
        start, end = mapping.blocks[0][0], mapping.blocks[-1][1]
        moved = [line for i in mapping.order for line in lines[mapping.blocks[i][0]: mapping.blocks[i][1] + 1]]
        lines[start: end + 1] = moved
    return "".join(lines)


def _is_comment(line: str, deeper_than: int) -> bool:
    stripped = line.lstrip(" ")
    return stripped.startswith("#") and len(line) - len(stripped) > deeper_than


def _key_line(lines: list[str], block: tuple[int, int]) -> int:
    """The first line of a block that is not blank or a comment: the key's line."""
    for i in range(block[0], block[1] + 1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            return i
    return block[0]


class FormatError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def format_text(text: str, shown: str = "<text>") -> str:
    """The canonical layout of one config file's text (raises FormatError when it cannot)."""
    try:
        original = yaml.safe_load(text)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(shown, mark.line + 1, mark.column + 1) if mark else Position(shown, 1, 1)
        raise FormatError(Problem(where, f"not valid YAML: {exc.problem or exc}")) from None
    except yaml.YAMLError as exc:
        raise FormatError(Problem(Position(shown, 1, 1), f"not valid YAML: {exc}")) from None
    if node is None:
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    schema = build_schema(editor=False)
    walk = _Walk(text.splitlines(keepends=True))
    _walk(node, schema, schema["$defs"], walk, None, root=True)
    result = _apply(walk)
    try:
        same = yaml.safe_load(result) == original
    except yaml.YAMLError:
        same = False
    if not same:  # e.g. an alias moved above its anchor
        raise FormatError(Problem(Position(shown, 1, 1), "cannot be reordered without changing its meaning "
                                  "(an alias above its anchor?); left unchanged"))
    return result


@dataclass
class FormatResult:
    changed: list[str] = field(default_factory=list)  # files not in the canonical layout
    problems: list[Problem] = field(default_factory=list)


def format_files(paths: Sequence[str | Path], write: bool) -> FormatResult:
    """Format every config file PATHS name (directories as `load` reads them); with `write`,
    rewrite those that change (atomically), else only report them."""
    result = FormatResult()
    files, problems = config_files(paths)
    result.problems.extend(problems)
    for shown, path in files:
        text, _, read_problems = read_text(path, shown)
        if text is None:
            result.problems.extend(read_problems)
            continue
        try:
            formatted = format_text(text, shown)
        except FormatError as exc:
            result.problems.append(exc.problem)
            continue
        if formatted != text:
            result.changed.append(shown)
            if write:
                _replace(path, formatted)
    return result


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.fmt.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.chmod(path.stat().st_mode & 0o7777)
    tmp.replace(path)

