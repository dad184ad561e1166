"""Reading one YAML file into plain values plus the position of every key and value.

The text is decoded by us (UTF-8, an optional UTF-8 byte-order mark; UTF-16 and binary data
are refused with a message), then libyaml's C parser (or PyYAML's pure-Python parser where
libyaml is missing) turns it into events, and `_Builder` turns the events into dicts, lists
and scalars itself. Building from events rather than from `yaml.compose` nodes is what keeps
10,000 workgroups fast (compose spends most of its time in the Python resolver, see
docs/config.md), and doing it ourselves is where duplicate keys, merge keys, interpolation
and the alias budget are handled. A file of the common shape (block mappings and lists of
one-line scalars, nothing else) is first read line by line, which gives the same values and
positions without the cost of an event object per token; any other file, and any file with
a problem, goes through the events.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from telegent_iac.errors import Position, Problem
from telegent_iac.safety.files import UnsafeFileError, open_input

MAX_FILE_BYTES = 64 * 1024 * 1024  # per input file; a larger file is refused unread
MAX_DEPTH = 64  # nesting of mappings/lists; a config needs about 6, paths cost O(depth)
MAX_ALIAS_NODES = 1_000_000  # nodes reached through aliases, per file (billion-laughs guard)

PathKey = tuple[str | int, ...]

# Interpolation: ${env.NAME}, ${var.NAME}; $${ is a literal ${.
INTERPOLATION = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
REFERENCE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")
NAMESPACES = ("env", "var")

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_MAP_TAGS = {None, "!", "tag:yaml.org,2002:map"}
_SEQ_TAGS = {None, "!", "tag:yaml.org,2002:seq"}
_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    _BOOL,
    "tag:yaml.org,2002:null",
    _TIMESTAMP,
}
_IMPLICIT = Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = SafeConstructor()


def _scalar_value(tag: str, text: str) -> Any:
    """The value of a scalar with one of _SCALAR_TAGS, as this loader keeps it (both readers
    use it). Raises ValueError or yaml.YAMLError when `text` is not a value of that tag."""
    if tag in (_STR, _TIMESTAMP):
        return text  # YAML 1.2 has no timestamps: a date-looking value stays text
    if tag == _BOOL:  # what construct_yaml_bool returns, without a node (and a KeyError) per value
        value = _CONSTRUCTOR.bool_values.get(text.lower())
        if value is None:
            raise ValueError("not one of true, false, yes, no, on, off")
        return value
    return _CONSTRUCTOR.construct_object(yaml.ScalarNode(tag, text))

Interpolator = Callable[[str], tuple[str, list[str]]]


def parser_class() -> type[Any]:
    """libyaml's C loader when PyYAML was built with it, else the pure-Python one."""
    if getattr(yaml, "__with_libyaml__", False):
        return yaml.CSafeLoader  # type: ignore[no-any-return]
    return yaml.SafeLoader


@dataclass
class Document:
    """One parsed file: plain data and where each part of it came from."""

    file: str
    data: Any = None
    empty: bool = True
    # path -> (mark of the key, mark of the value); list items have the item twice.
    marks: dict[PathKey, tuple[Any, Any]] = field(default_factory=dict)
    interpolated: set[PathKey] = field(default_factory=set)
    failed: set[PathKey] = field(default_factory=set)  # interpolation failed: already reported
    problems: list[Problem] = field(default_factory=list)

    def _marks(self, path: PathKey) -> tuple[Any, Any] | None:
        found = self.marks.get(path)  # nearly always there: no slice made
        if found is not None:
            return found
        # A value reached through an alias or merge has no entry of its own: the nearest
        # ancestor that has one (the alias, or the anchor's definition) stands for it.
        for end in range(len(path) - 1, -1, -1):
            found = self.marks.get(path[:end])
            if found is not None:
                return found
        return None

    def key_position(self, path: PathKey) -> Position:
        found = self._marks(path)
        return self._position(found[0] if found else None)

    def value_position(self, path: PathKey) -> Position:
        found = self._marks(path)
        return self._position(found[1] if found else None)

    def _position(self, mark: Any) -> Position:
        if mark is None:
            return Position(self.file, 1, 1)
        return Position(self.file, mark.line + 1, mark.column + 1)

    def problem(self, mark: Any, message: str) -> None:
        self.problems.append(Problem(self._position(mark), message))


def read_text(path: Path, shown: str) -> tuple[str | None, bytes, list[Problem]]:
    """The file's text, or None and the problems that stop it from being parsed."""

    def fail(message: str, line: int = 1, column: int = 1) -> tuple[None, bytes, list[Problem]]:
        return None, b"", [Problem(Position(shown, line, column), message)]

    try:
        # Opened without blocking and checked on the descriptor: a FIFO, a device or a link
        # loop given as a config or var file is refused, never waited on or read forever.
        fd = open_input(path)
        with os.fdopen(fd, "rb") as handle:
            size = os.fstat(fd).st_size
            if size > MAX_FILE_BYTES:
                return fail(f"file is too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes)")
            data = handle.read(MAX_FILE_BYTES + 1)
    except UnsafeFileError as exc:
        return fail(f"cannot read file: it {exc}")
    except FileNotFoundError:
        return fail("no such file or directory")
    except IsADirectoryError:
        return fail("is a directory")
    except PermissionError:
        return fail("cannot read file: permission denied")
    except OSError as exc:
        return fail(f"cannot read file: {exc.strerror or exc}")
    if len(data) > MAX_FILE_BYTES:  # grew while we looked
        return fail(f"file is too large (the limit is {MAX_FILE_BYTES:,} bytes)")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        # UTF-32 LE starts with the UTF-16 LE mark, so both land here.
        return fail("file is UTF-16/UTF-32 encoded (it starts with that byte-order mark); save it as UTF-8")
    if len(data) >= 4 and (data[0] == 0) != (data[1] == 0) and data.count(0) * 3 >= len(data):
        return fail("file looks UTF-16 encoded (every other byte is zero); save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _byte_position(data, nul)
        return fail("file contains binary data (a NUL byte), not YAML text", line, column)
    try:
        text = data.decode("utf-8-sig")  # a UTF-8 byte-order mark is dropped silently
    except UnicodeDecodeError as exc:
        line, column = _byte_position(data, exc.start)
        return fail(f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8", line, column)
    return text, data, []


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    start = 3 if data.startswith(codecs.BOM_UTF8) else 0
    before = data[start:offset]
    line = before.count(b"\n") + 1
    last = before.rsplit(b"\n", 1)[-1]
    return line, len(last.decode("utf-8", errors="replace")) + 1


def parse(text: str, shown: str, interpolate: Interpolator | None) -> Document:
    """Parse one file's text; every problem found is in the returned document."""
    fast = _parse_block_subset(text, shown, interpolate)
    if fast is not None:
        return fast
    doc = Document(shown)
    builder = _Builder(doc, interpolate)
    loader = None
    try:
        loader = parser_class()(text)  # the pure-Python reader checks characters right here
        builder.run(loader)
    except yaml.MarkedYAMLError as exc:
        _syntax_problem(doc, text, exc)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        doc.problems.append(
            Problem(Position(shown, line, column), f"unacceptable character {char!r} (#x{ord(char):04x})")
        )
    except yaml.YAMLError as exc:  # never seen from PyYAML, kept so nothing escapes as a traceback
        doc.problems.append(Problem(Position(shown, 1, 1), f"YAML error: {exc}"))
    except _Stop:
        pass
    finally:
        if loader is not None:
            loader.dispose()
    return doc


def _syntax_problem(doc: Document, text: str, exc: yaml.MarkedYAMLError) -> None:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    # A tab in the indentation at or before the error is nearly always the real cause.
    for number, row in enumerate(text.splitlines()[:line], start=1):
        indent = row[: len(row) - len(row.lstrip(" \t"))]
        if "\t" in indent:
            doc.problems.append(
                Problem(
                    Position(doc.file, number, indent.index("\t") + 1),
                    "tab character in indentation; YAML indentation must use spaces",
                )
            )
            return
    message = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
        message = f"{message} ({exc.context} at line {exc.context_mark.line + 1})"
    elif exc.context:
        message = f"{message} ({exc.context})"
    doc.problem(mark, f"YAML syntax error: {message}")


class _Stop(Exception):
    """Building this file cannot go on (alias budget spent, recursion); already reported."""


@dataclass
class _Anchor:
    value: Any
    path: PathKey
    size: int  # nodes it expands to, aliases inside it included
    open: bool = True  # still being built: an alias to it now would be recursive


_MISSING = object()
_BAD_KEY = object()


class _Frame:
    __slots__ = ("is_map", "value", "path", "anchor", "start_mark", "size", "key", "key_mark", "seen", "merges")

    def __init__(self, is_map: bool, value: Any, path: PathKey, anchor: str | None, mark: Any) -> None:
        self.is_map = is_map
        self.start_mark = mark
        self.value = value
        self.path = path
        self.anchor = anchor
        self.size = 1
        self.key: Any = _MISSING  # mapping: the key waiting for its value
        self.key_mark: Any = None
        self.seen: dict[str, Any] = {}  # key -> mark of its first occurrence
        self.merges: list[tuple[Any, PathKey, Any]] = []


class _Builder:
    """Turns parser events into plain values, recording marks, checking as it goes."""

    def __init__(self, doc: Document, interpolate: Interpolator | None) -> None:
        self.doc = doc
        self.interpolate = interpolate
        self.anchors: dict[str, _Anchor] = {}
        self.alias_nodes = 0
        self.stack: list[_Frame] = []
        self.documents = 0

    def run(self, loader: Any) -> None:
        events = yaml.events
        for event in iter(loader.get_event, None):
            kind = type(event)
            if kind is events.ScalarEvent:
                self.scalar(event)
            elif kind is events.MappingStartEvent:
                self.start(event, True)
            elif kind is events.SequenceStartEvent:
                self.start(event, False)
            elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                self.end()
            elif kind is events.AliasEvent:
                self.alias(event)
            elif kind is events.DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    self.doc.problem(event.start_mark, "more than one YAML document in this file (---)")
                    raise _Stop
            elif kind is events.StreamEndEvent:
                break

    # --- where the next value goes --------------------------------------------------------

    def _slot(self, mark: Any) -> tuple[_Frame | None, PathKey, bool]:
        """(parent frame, path of the value about to be built, whether it is a mapping key)."""
        if not self.stack:
            return None, (), False
        frame = self.stack[-1]
        if not frame.is_map:
            return frame, (*frame.path, len(frame.value)), False
        if frame.key is _MISSING:
            return frame, frame.path, True
        key = frame.key
        return frame, (*frame.path, key if isinstance(key, str) else "<<"), False

    def _place(self, value: Any, mark: Any, size: int, origin: PathKey | None) -> None:
        """Put a finished value into its parent (or make it the document).

        `origin` is where an aliased value was defined (its inner marks live there)."""
        frame, path, is_key = self._slot(mark)
        if frame is None:
            self.doc.data = value
            self.doc.empty = False
            self.doc.marks[()] = (mark, mark)
            return
        frame.size += size
        if is_key:
            self._take_key(frame, value, mark)
            return
        if not frame.is_map:
            self.doc.marks[path] = (mark, mark)
            frame.value.append(value)
            return
        key, key_mark = frame.key, frame.key_mark
        frame.key = _MISSING
        if key is _BAD_KEY:
            return
        if key is _MERGE_KEY:
            frame.merges.append((value, origin if origin is not None else path, mark))
            return
        if key in frame.seen:
            first = self.doc._position(frame.seen[key])
            self.doc.problem(key_mark, f"duplicate key '{key}' (first defined at {first})")
            return
        self.doc.marks[path] = (key_mark, mark)
        frame.seen[key] = key_mark
        frame.value[key] = value

    def _take_key(self, frame: _Frame, value: Any, mark: Any) -> None:
        frame.key_mark = mark
        if isinstance(value, _KeyText):
            frame.key = value.text
        else:
            self.doc.problem(mark, "mapping keys must be plain strings, not lists or mappings")
            frame.key = _BAD_KEY

    # --- events ---------------------------------------------------------------------------

    def scalar(self, event: Any) -> None:
        mark = event.start_mark
        stack = self.stack
        frame = stack[-1] if stack else None
        if frame is not None and frame.is_map and frame.key is _MISSING:
            # A mapping key: never resolved to a number or boolean; "<<" plain is a merge.
            text = event.value
            frame.size += 1
            frame.key_mark = mark
            if text == "<<" and event.implicit[0] and event.tag is None:
                frame.key = _MERGE_KEY
            else:
                if "${" in text and "${" in text.replace("$${", ""):
                    self.doc.problem(mark, f"interpolation is not allowed in mapping keys ('{text}')")
                    self.doc.failed.add((*frame.path, text))
                frame.key = text
            if event.anchor is not None:
                self._remember(event.anchor, text, (*frame.path, "<key>"), 1)
            return
        tag = event.tag
        if tag is None or tag == "!":
            tag = _plain_tag(event.value) if event.implicit[0] else _STR
        value = event.value if tag == _STR else self._construct(event, tag, mark)
        if self.interpolate is not None and isinstance(value, str) and "$" in value:
            path = self._slot(mark)[1]
            value, errors = self.interpolate(value)
            for error in errors:
                self.doc.problem(mark, error)
            self.doc.interpolated.add(path)
            if errors:
                self.doc.failed.add(path)
        if event.anchor is not None:
            self._remember(event.anchor, value, self._slot(mark)[1], 1)
        if frame is not None and frame.is_map:
            key = frame.key
            if key.__class__ is str and key not in frame.seen:
                # The common case, inlined: a scalar value under a new plain key.
                frame.key = _MISSING
                frame.size += 1
                self.doc.marks[(*frame.path, key)] = (frame.key_mark, mark)
                frame.seen[key] = frame.key_mark
                frame.value[key] = value
                return
        self._place(value, mark, 1, None)

    def _construct(self, event: Any, tag: str, mark: Any) -> Any:
        if tag not in _SCALAR_TAGS:
            if tag == _MERGE:
                return event.value
            self.doc.problem(mark, f"unsupported YAML tag '{_short_tag(tag)}'")
            self.doc.failed.add(self._slot(mark)[1])
            return None
        try:
            return _scalar_value(tag, event.value)
        except (yaml.YAMLError, ValueError) as exc:
            self.doc.problem(mark, f"invalid {_short_tag(tag)} value '{event.value}': {exc}")
            self.doc.failed.add(self._slot(mark)[1])
            return None

    def start(self, event: Any, is_map: bool) -> None:
        mark = event.start_mark
        if len(self.stack) >= MAX_DEPTH:
            self.doc.problem(mark, f"nesting deeper than {MAX_DEPTH} levels; refusing")
            raise _Stop
        _, path, is_key = self._slot(mark)
        if event.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
            self.doc.problem(mark, f"unsupported YAML tag '{_short_tag(event.tag)}'")
            self.doc.failed.add(path)
        if is_key:
            path = (*path, "<key>")
        value: Any = {} if is_map else []
        self.stack.append(_Frame(is_map, value, path, event.anchor, mark))
        if event.anchor is not None:
            self.anchors[event.anchor] = _Anchor(value, path, 0, open=True)

    def end(self) -> None:
        frame = self.stack.pop()
        if frame.is_map and frame.merges:
            self._merge(frame)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = _Anchor(frame.value, frame.path, frame.size, open=False)
        self._place(frame.value, frame.start_mark, frame.size, None)

    def alias(self, event: Any) -> None:
        mark = event.start_mark
        anchor = self.anchors.get(event.anchor)
        if anchor is None:  # the parser reports this first; kept for safety
            self.doc.problem(mark, f"unknown alias '*{event.anchor}'")
            raise _Stop
        if anchor.open:
            self.doc.problem(mark, f"recursive alias '*{event.anchor}' refers to a value that contains it")
            raise _Stop
        self.alias_nodes += anchor.size
        if self.alias_nodes > MAX_ALIAS_NODES:
            self.doc.problem(
                mark,
                f"aliases expand to more than {MAX_ALIAS_NODES:,} values; refusing (is this an alias bomb?)",
            )
            raise _Stop
        value = anchor.value
        if isinstance(value, str) and self.stack and self._slot(mark)[2]:
            value = _KeyText(value)
        self._place(value, mark, anchor.size, anchor.path)

    def _remember(self, anchor: str | None, value: Any, path: PathKey, size: int) -> None:
        if anchor is not None:
            self.anchors[anchor] = _Anchor(value.text if isinstance(value, _KeyText) else value, path, size, False)

    def _merge(self, frame: _Frame) -> None:
        """`<<: *base` / `<<: [*a, *b]`: keys not set explicitly come from the merged mappings."""
        sources: list[tuple[dict[str, Any], PathKey]] = []
        for value, origin, mark in frame.merges:
            if isinstance(value, dict):
                sources.append((value, origin))
            elif isinstance(value, list) and all(isinstance(item, dict) for item in value):
                sources.extend((item, (*origin, index)) for index, item in enumerate(value))
            else:
                self.doc.problem(mark, "a merge key (<<) needs a mapping or a list of mappings")
        for source, origin in sources:  # earlier sources win, explicit keys win over all
            for key, value in source.items():
                if key not in frame.value:
                    frame.value[key] = value
                    frame.seen[key] = None
                    found = self.doc.marks.get((*origin, key))
                    if found is not None:
                        self.doc.marks[(*frame.path, key)] = found


class _KeyText:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_MERGE_KEY = _KeyText("<<")


def _short_tag(tag: str | None) -> str:
    if tag and tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag[len("tag:yaml.org,2002:") :]
    return str(tag)


def _plain_tag(text: str) -> str:
    """The tag YAML 1.1's implicit resolvers give a plain scalar (as PyYAML resolves it)."""
    for candidate, regexp in _IMPLICIT.get(text[:1], ()):
        if regexp.match(text):
            return candidate  # type: ignore[no-any-return]
    return _STR


# --- the common shape, read line by line --------------------------------------------------
#
# Nearly every configuration is block mappings and lists of one-line scalars: `key: value`,
# `key:` opening what the next lines hold, `- key: value`, `- value`, comments. For such a
# file, reading the lines directly gives the same values and positions as libyaml's events
# at a fraction of the cost (the events are Python objects with two marks each). Anything
# else (flow style, anchors, aliases, tags, merge keys, multi-line or escaped scalars, an
# empty value, a duplicate key, a problem of any kind, a character YAML treats specially)
# makes `_parse_block_subset` return None and the file goes through the parser above, which
# reports every problem with its place. tests/unit/config/test_yaml_loaders.py compares the two.

def _plain_characters(text: str) -> bool:
    """Whether the line reader may read `text`: every character printable as YAML sees it, and
    none of those YAML treats specially (tab, CR, NEL, U+2028/9, byte-order mark), which are
    left to libyaml, as are control and non-BMP characters."""
    if text.isascii():  # the usual case, without a pattern
        return text.replace("\n", "").isprintable()
    return _special_characters().search(text) is None


@cache
def _special_characters() -> re.Pattern[str]:
    # Compiled when first needed: a class this wide takes milliseconds to compile.
    return re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
                      "\U00010000-\U0010ffff]")
_LINE = re.compile(
    r"( *)(- +)?"  # 1 indent, 2 dash
    r"(?:([A-Za-z0-9_][A-Za-z0-9_.-]{0,199}):(?= |$) *)?"  # 3 key
    r"(?:"
    r'"([^"\\]*)"'  # 4 double-quoted
    r"|'([^']*)'"  # 5 single-quoted
    # 6 plain: no indicator first, no ": " and no "#" inside (a comment follows a space)
    r"""|([^\s\-?:,\[\]{}#&*!|>'"%@`][^:#]*(?::[^ :#][^:#]*)*)"""
    r")?"
    r" *(?:(?<![^ ])#.*)?$"
)


class _Mark:
    """Where a token starts, 0-based, as libyaml's marks say it."""

    __slots__ = ("line", "column")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column


class _Open:
    """A mapping or list being read: the column of its keys (or dashes) and its path."""

    __slots__ = ("indent", "value", "path", "is_map", "indentless")

    def __init__(self, indent: int, value: Any, path: PathKey, is_map: bool, indentless: bool) -> None:
        self.indent = indent
        self.value = value
        self.path = path
        self.is_map = is_map
        self.indentless = indentless  # a list at its parent key's column (`key:` then `- item`)


def _parse_block_subset(text: str, shown: str, interpolate: Interpolator | None) -> Document | None:
    """The document, when the whole file is of the common shape above; otherwise None."""
    if not _plain_characters(text):
        return None
    doc = Document(shown)
    marks = doc.marks
    match_line = _LINE.match
    stack: list[_Open] = []
    # A `key:` with nothing after it: the next line says whether a mapping or a list follows.
    pending: tuple[_Open, str, _Mark] | None = None
    top: _Open | None = None
    for number, line in enumerate(text.split("\n")):
        m = match_line(line)
        if m is None:
            return None
        _, dash, key, double, single, plain = m.groups()
        if key is None and dash is None:
            if double is not None or single is not None or plain is not None:
                return None  # a bare scalar: a multi-line value or a scalar document
            continue  # blank, or a comment
        indent = m.end(1)
        if pending is not None:
            parent, parent_key, key_mark = pending
            pending = None
            if not (indent > parent.indent or (indent == parent.indent and dash is not None)):
                return None  # an empty value
            if len(stack) >= MAX_DEPTH:
                return None
            child: Any = {} if dash is None else []
            path = (*parent.path, parent_key)
            marks[path] = (key_mark, _Mark(number, indent))
            parent.value[parent_key] = child
            top = _Open(indent, child, path, dash is None, indent == parent.indent)
            stack.append(top)
        elif top is None:
            if indent or dash is not None:
                return None  # the top level is not a mapping starting at column 1
            root: dict[str, Any] = {}
            doc.data, doc.empty = root, False
            marks[()] = (_Mark(number, 0),) * 2
            top = _Open(0, root, (), True, False)
            stack.append(top)
        else:
            while top.indent > indent:
                stack.pop()
                if not stack:
                    return None
                top = stack[-1]
            if top.indent != indent:
                return None
            if dash is None and top.indentless:
                stack.pop()  # the key after an indentless list belongs to the mapping that holds it
                top = stack[-1]
            if top.is_map != (dash is None):
                return None
        column = indent
        if dash is not None:  # an item of the list on top
            column += len(dash)
            items = top.value
            path = (*top.path, len(items))
            if key is None:
                if double is None and single is None and plain is None:
                    return None  # an empty item
                found = _line_scalar(m, double, single, plain, number, doc, path, interpolate)
                if found is None:
                    return None
                items.append(found[0])
                marks[path] = (found[1], found[1])
                continue
            if len(stack) >= MAX_DEPTH:
                return None
            item: dict[str, Any] = {}
            items.append(item)
            marks[path] = (_Mark(number, column),) * 2
            top = _Open(column, item, path, True, False)
            stack.append(top)
        mapping = top.value
        if key in mapping:
            return None  # a duplicate key: the parser words it
        key_mark = _Mark(number, column)
        if plain is not None and "$" not in plain:
            # The common case, inlined: a plain scalar that stays text.
            value = plain.rstrip(" ")
            if _plain_tag(value) == _STR:
                mapping[key] = value
                marks[(*top.path, key)] = (key_mark, _Mark(number, m.start(6)))
                continue
        elif double is None and single is None and plain is None:
            mapping[key] = None  # keeps the key's place in the order; the next line says what it holds
            pending = (top, key, key_mark)
            continue
        path = (*top.path, key)
        found = _line_scalar(m, double, single, plain, number, doc, path, interpolate)
        if found is None:
            return None
        mapping[key] = found[0]
        marks[path] = (key_mark, found[1])
    if pending is not None or top is None:
        return None  # ends on an empty value, or holds no value at all
    return doc


def _line_scalar(m: re.Match[str], double: str | None, single: str | None, plain: str | None, number: int,
                 doc: Document, path: PathKey, interpolate: Interpolator | None) -> tuple[Any, _Mark] | None:
    """A one-line scalar's value and mark, resolved as `_Builder.scalar` does; None to decline."""
    value: Any
    if plain is not None:
        mark = _Mark(number, m.start(6))
        value = plain.rstrip(" ")
        tag = _plain_tag(value)
        if tag not in _SCALAR_TAGS:
            return None
        try:
            value = _scalar_value(tag, value)
        except (yaml.YAMLError, ValueError):
            return None
    elif double is not None:
        mark = _Mark(number, m.start(4) - 1)
        value = double
    else:
        mark = _Mark(number, m.start(5) - 1)
        value = single
    if interpolate is not None and isinstance(value, str) and "$" in value:
        value, errors = interpolate(value)
        if errors:
            return None
        doc.interpolated.add(path)
    return value, mark
