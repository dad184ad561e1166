"""The C (libyaml) and pure-Python loaders give the same values, positions and problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telegent_iac.config import load, yamlfile
from telegent_iac.errors import UserError
from tests.bad_inputs import cases
from tests.support import REPO

needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")


def _parse_both(text: str) -> tuple[yamlfile.Document, yamlfile.Document]:
    c_doc = yamlfile.parse(text, "f.yaml", None)
    original = yamlfile.parser_class
    try:
        yamlfile.parser_class = lambda: yaml.SafeLoader  # type: ignore[assignment]
        py_doc = yamlfile.parse(text, "f.yaml", None)
    finally:
        yamlfile.parser_class = original  # type: ignore[assignment]
    return c_doc, py_doc


def _marks(doc: yamlfile.Document) -> dict[tuple[object, ...], tuple[tuple[int, int], tuple[int, int]]]:
    return {
        path: ((key.line, key.column), (value.line, value.column)) for path, (key, value) in doc.marks.items()
    }


def test_c_loader_is_used_when_available() -> None:
    expected = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    assert yamlfile.parser_class() is expected


@needs_libyaml
@pytest.mark.parametrize(
    "path",
    [REPO / "examples" / "workgroups.yaml", REPO / "examples" / "environments" / "workgroups.yaml"],
    ids=lambda p: p.name,
)
def test_identical_positions_on_examples(path: Path) -> None:
    c_doc, py_doc = _parse_both(path.read_text(encoding="utf-8"))
    assert c_doc.data == py_doc.data
    assert _marks(c_doc) == _marks(py_doc)
    assert c_doc.marks  # there is something to compare


@needs_libyaml
@pytest.mark.parametrize("case", [c for c in cases() if c.path.is_file()], ids=lambda c: c.name)
def test_identical_results_on_bad_inputs(case: object, monkeypatch: pytest.MonkeyPatch) -> None:
    path = case.path  # type: ignore[attr-defined]

    def run() -> list[str]:
        try:
            load([str(path)], case.env)  # type: ignore[attr-defined]
        except UserError as error:
            return [str(problem) for problem in error.problems]
        return []

    with_c = run()
    monkeypatch.setattr(yamlfile, "parser_class", lambda: yaml.SafeLoader)
    with_python = run()
    # Syntax-error wording differs between libyaml and PyYAML; positions must not.
    strip = [item.split(": YAML syntax error")[0] for item in with_c]
    assert strip == [item.split(": YAML syntax error")[0] for item in with_python]


SCALARS = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    st.integers(-10**6, 10**6),
    st.booleans(),
    st.none(),
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(alphabet="abcXYZ_-é ", min_size=1, max_size=6), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES, st.sampled_from([False, True]))
def test_values_round_trip_like_safe_load(tree: object, flow: bool) -> None:
    text = yaml.safe_dump(tree, default_flow_style=flow, allow_unicode=True)
    for loader in ([yaml.CSafeLoader] if yaml.__with_libyaml__ else []) + [yaml.SafeLoader]:
        original = yamlfile.parser_class
        yamlfile.parser_class = lambda loader=loader: loader  # type: ignore[assignment,misc]
        try:
            doc = yamlfile.parse(text, "f.yaml", None)
        finally:
            yamlfile.parser_class = original  # type: ignore[assignment]
        assert doc.problems == []
        assert doc.data == yaml.safe_load(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_input_never_raises_anything_but_user_error(tmp_path_factory: pytest.TempPathFactory,
                                                               data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.yaml"
    path.write_bytes(data)
    try:
        load([str(path)], {})
    except UserError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.position.file == str(path)
            assert problem.position.line >= 1 and problem.position.column >= 1


# --- the line reader for the common shape ----------------------------------------------------


def _parse_with_events(text: str) -> yamlfile.Document:
    original = yamlfile._parse_block_subset
    yamlfile._parse_block_subset = lambda *args: None  # type: ignore[assignment]
    try:
        return yamlfile.parse(text, "f.yaml", _interpolate)
    finally:
        yamlfile._parse_block_subset = original  # type: ignore[assignment]


def _interpolate(text: str) -> tuple[str, list[str]]:
    """A stand-in for the loader's interpolation: `${x}` becomes X, `${bad}` is an error."""
    if "${bad}" in text:
        return text, ["cannot interpolate ${bad}"]
    return text.replace("${x}", "X"), []


def _same_as_events(text: str) -> bool:
    """True when the line reader took the file; then it must agree with the event builder."""
    fast = yamlfile._parse_block_subset(text, "f.yaml", _interpolate)
    if fast is None:
        return False
    slow = _parse_with_events(text)
    assert slow.problems == [] and fast.problems == []
    assert fast.data == slow.data
    assert [type(v) for v in _leaves(fast.data)] == [type(v) for v in _leaves(slow.data)]
    assert _marks(fast) == _marks(slow)
    assert list(fast.marks) == list(slow.marks) or set(fast.marks) == set(slow.marks)
    assert (fast.interpolated, fast.failed, fast.empty) == (slow.interpolated, slow.failed, slow.empty)
    return True


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in [key, *_leaves(item)]]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_line_reader_takes_the_examples_and_the_benchmark_shape() -> None:
    # The examples use anchors and flow lists: they must go to the parser, and say so.
    for path in (REPO / "examples" / "workgroups.yaml", REPO / "examples" / "environments" / "workgroups.yaml"):
        _same_as_events(path.read_text(encoding="utf-8"))
    text = (
        "# workgroups\nworkgroups:\n  wg-00000:\n    Name: Team 00000\n    Type: IVR\n"
        '    TelegentPhone: "+14152000000"\n    RecordCalls: true  # recorded\n    TimeZone: America/New_York\n'
        "    members:\n      - Type: Workgroup\n        ReferenceWorkgroupId: wg-00001\n        DigitOrder: 1\n"
        "  wg-00001:\n    Name: ${x} team\n    Type: round-robin\n    members:\n    - Type: User\n"
        "      ReferenceUserId: u-1\n    - 'quoted item'\n    OffHoursId: wg-00000\n"
    )
    assert _same_as_events(text)


# Scalars YAML 1.1 reads in surprising ways, and ones the line reader must refuse.
_SCALARS = [
    "Team 1", "yes", "No", "on", "OFF", "y", "n", "true", "False", "null", "Null", "~", "0", "007", "-1", "+1",
    "0x1F", "0o17", "0b101", "1_000", "1:30", "190:20:30", "1.5", "1e3", "6.8523015e+5", ".inf", "-.Inf", ".nan",
    "2001-12-14", "2001-12-14 21:59:43.10 -5", "2001-12-14t21:59:43.10-05:00", "=", "<<", "a:b", "a: b", "a #b",
    "a#b", "#c", "x  # comment", "ends:", "a::b", "http://x.example/a?b=c", "${x}", "${bad}", "$${x}", "-", "- a",
    "-a", "?", "? a", ":a", "[1, 2]", "{a: 1}", "&a b", "*a", "!!str 1", "!x", "|", ">", "%x", "@x", "`x", "'a'",
    '"a"', "'it''s'", '"a\\tb"', '"q', "'q", "a  b", "é", "Ünïcödé text", "\u00a0x", "x\u2028y", "x\u0085y", "",
    " ", "  lead", "trail  ", "A/B_c.d-e+f", "(x)", "a,b", "a]b", "a}b", "...", "---", "__", "1.0.0", "0.",
]


def _scalar_text(scalar: str, style: str) -> str:
    if style == "double":
        return f'"{scalar}"'
    if style == "single":
        return f"'{scalar}'"
    return scalar


_GOOD_KEYS = ["a", "Name", "wg-0001", "x.y", "true", "1", "_k", "null", "y"]
_KEYS = st.sampled_from(_GOOD_KEYS * 8 + ["<<", "a b", "k:", "é", "k" * 201, "-k"])
_STYLES = st.sampled_from(["plain", "plain", "double", "single"])
# Mostly values the line reader takes, so that most documents test it rather than its refusal.
_READ = [s for s in _SCALARS if yamlfile._parse_block_subset(f"k: {s}\n", "f", None) is not None]
_LEAF = st.builds(lambda text, style: ("scalar", text, style),
                  st.one_of(*[st.sampled_from(_READ)] * 6, st.sampled_from(_SCALARS),
                            st.text(st.characters(min_codepoint=32, max_codepoint=0x2100), max_size=8),
                            st.text(max_size=3)),
                  _STYLES)
_NODE = st.recursive(
    _LEAF,
    lambda children: st.one_of(
        st.builds(lambda items: ("seq", items), st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda pairs: ("map", pairs),
                  st.lists(st.tuples(_KEYS, children), min_size=1, max_size=3, unique_by=lambda pair: pair[0])),
    ),
    max_leaves=12,
)


def _render(node: Any, indent: int, step: int, indentless: bool, lines: list[str], first: str = "") -> None:
    """Block YAML for `node` at column `indent`; `first` replaces the first line's indentation
    (a list item's "- " goes there)."""
    pad = first or " " * indent
    if node[0] == "scalar":
        lines.append(f"{pad}{_scalar_text(node[1], node[2])}")
    elif node[0] == "seq":
        for item in node[1]:
            dash = f"{pad}- "
            _render(item, len(dash), step, indentless, lines, dash)
            pad = " " * indent
    else:
        for key, value in node[1]:
            if value[0] == "scalar":
                lines.append(f"{pad}{key}: {_scalar_text(value[1], value[2])}")
            else:
                lines.append(f"{pad}{key}:")
                inner = indent if indentless and value[0] == "seq" else indent + step
                _render(value, inner, step, indentless, lines)
            pad = " " * indent


@settings(max_examples=500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.builds(lambda pairs: ("map", pairs),
                st.lists(st.tuples(_KEYS, _NODE), min_size=1, max_size=4, unique_by=lambda pair: pair[0])),
       st.integers(1, 4), st.booleans(),
       st.lists(st.tuples(st.integers(0, 40),
                          st.sampled_from(["", "# note", "  # note", "", "# x: y", "\t", "  x", "- y", "---"])),
                max_size=1))
def test_line_reader_agrees_with_the_event_builder(tree: Any, step: int, indentless: bool,
                                                   noise: list[tuple[int, str]]) -> None:
    lines: list[str] = []
    _render(tree, 0, step, indentless, lines)
    for at, extra in noise:
        lines.insert(min(at, len(lines)), extra)
    _same_as_events("\n".join(lines) + "\n")


def test_the_generated_documents_are_mostly_read_by_the_line_reader() -> None:
    """The comparison above means something only if the line reader takes many of them."""
    taken = 0
    for seed in range(200):
        lines: list[str] = []
        rows = [("map", [(f"k{seed}", ("scalar", _SCALARS[(seed + i) % 20], "plain"))]) for i in range(3)]
        _render(("map", [("top", ("seq", rows))]), 0, 1 + seed % 3, bool(seed % 2), lines)
        taken += _same_as_events("\n".join(lines) + "\n")
    assert taken >= 150


@pytest.mark.parametrize("scalar", _SCALARS)
@pytest.mark.parametrize("style", ["plain", "double", "single"])
def test_line_reader_reads_each_scalar_as_yaml_does(scalar: str, style: str) -> None:
    for text in (f"k: {_scalar_text(scalar, style)}\n", f"k:\n  - {_scalar_text(scalar, style)}\n",
                 f"k:\n- {_scalar_text(scalar, style)}\n"):
        _same_as_events(text)


def test_line_reader_agrees_on_mutated_configurations() -> None:
    """A configuration of the usual shape with one to three characters inserted, deleted or
    replaced (seeded: a failure replays): whatever the line reader takes, the events agree."""
    import random

    rows = ["# workgroups", "workgroups:"]
    for i in range(6):
        rows += [f"  wg-{i:05d}:", f"    Name: Team {i:05d}", f"    Type: {'IVR' if i % 3 == 0 else 'round-robin'}",
                 f'    TelegentPhone: "+1415200{i:04d}"', f"    RecordCalls: {'true' if i % 2 else 'false'}",
                 "    TimeZone: America/New_York  # the office", "    members:",
                 f"      - Type: User\n        ReferenceUserId: USER-{i}\n        SmsNotification: yes",
                 f"      - PhoneNumber: '+1212200{i:04d}'\n        DigitOrder: {i % 10}"]
    rows += ["  indentless:", "    members:", "    - Type: User", "      ReferenceUserId: u", "    - x: 'y'",
             "    Name: N"]
    text = "\n".join(rows) + "\n"
    assert _same_as_events(text)
    alphabet = " :-#'\"\t\nabcXYZ0123456789.,[]{}&*!|>?%@`~$é\u00a0\u2028\r"
    rng = random.Random(20261202)
    taken = 0
    for _ in range(400):
        chars = list(text)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(chars))
            roll = rng.random()
            if roll < 0.4:
                chars.insert(at, rng.choice(alphabet))
            elif roll < 0.7:
                del chars[at]
            else:
                chars[at] = rng.choice(alphabet)
        taken += _same_as_events("".join(chars))
    assert taken >= 50  # the mutations must exercise the line reader, not only its refusal
