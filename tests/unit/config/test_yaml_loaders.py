"""The C (libyaml) and pure-Python loaders give the same values, positions and problems."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telegent_iac.config import load, yamlfile
from telegent_iac.errors import UserError
from tests.bad_inputs import cases

REPO = Path(__file__).resolve().parents[3]
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
