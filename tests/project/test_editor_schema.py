"""Editor support: every example configuration names the committed JSON Schema (a
yaml-language-server comment), validates against it, and the committed file is what
`telegent-iac schema` prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.support import REPO
from tests.support.cli import run

EXAMPLES = REPO / "examples"
SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.M)


def example_configs() -> list[Path]:
    """Every config file under examples/: YAML that is not a var file or a CI recipe."""
    out = []
    for path in sorted(EXAMPLES.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or path.name.endswith((".vars.yaml", ".vars.yml")):
            continue
        if "ci" in path.relative_to(EXAMPLES).parts:
            continue
        out.append(path)
    return out


@pytest.fixture(scope="module")
def printed_schema() -> dict[str, object]:
    result = run({}, "schema")
    assert result.exit_code == 0
    schema: dict[str, object] = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_examples_are_found() -> None:
    names = {p.relative_to(EXAMPLES).as_posix() for p in example_configs()}
    assert {"workgroups.yaml", "environments/workgroups.yaml"} <= names


@pytest.mark.parametrize("path", example_configs(), ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_every_example_validates_against_the_printed_schema(path: Path, printed_schema: dict[str, object]) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(printed_schema).iter_errors(document), key=str)
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


@pytest.mark.parametrize("path", example_configs(), ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_every_example_refers_to_the_committed_schema(path: Path, printed_schema: dict[str, object]) -> None:
    match = SCHEMA_COMMENT.search(path.read_text(encoding="utf-8"))
    assert match, f"{path} has no yaml-language-server schema comment"
    target = (path.parent / match.group(1)).resolve()
    assert target == (REPO / "schema" / "telegent-iac.schema.json").resolve()
    # The committed file editors read is what `telegent-iac schema` prints (regenerate if not).
    assert json.loads(target.read_text(encoding="utf-8")) == printed_schema


def test_the_schema_catches_a_mistake(printed_schema: dict[str, object]) -> None:
    """The check above can fail: an unknown field and a bad enum are refused."""
    validator = jsonschema.Draft202012Validator(printed_schema)
    assert list(validator.iter_errors({"workgroups": {"x": {"Name": "X", "Type": "simultaneous", "Nmae": 1}}}))
    assert list(validator.iter_errors({"workgroups": {"x": {"Name": "X", "Type": "carousel"}}}))
