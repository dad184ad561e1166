"""The editor JSON Schema: derived from the spec, committed, and accepting every example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from telegent_iac import spec
from telegent_iac.config import json_schema, load
from telegent_iac.config.schema import build_schema, compile_fast_check, format_checker, validators
from tests.support import REPO

COMMITTED = REPO / "schema" / "telegent-iac.schema.json"
EXAMPLES = sorted(p for p in (REPO / "examples").rglob("*.yaml") if not p.name.endswith(".vars.yaml"))
CONFIG_EXAMPLES = [p for p in EXAMPLES if "workgroups:" in p.read_text(encoding="utf-8")]
EXAMPLE_ENV = {"SUPPORT_ONCALL_PHONE": "+14155550142"}


def test_committed_schema_is_current() -> None:
    # Regenerate with: telegent-iac schema > schema/telegent-iac.schema.json
    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == json_schema()


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(json_schema())
    assert json_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_fields_come_from_the_spec() -> None:
    defs = json_schema()["$defs"]
    own = {"members", "prevent_destroy", "allow_replace", "lint_ignore"}
    assert set(defs["workgroup"]["properties"]) == set(spec.workgroup_fields()) | own
    assert defs["workgroup"]["required"] == spec.workgroup_required()
    assert set(defs["member"]["properties"]) == set(spec.member_fields()) | {"key"}
    assert defs["workgroup"]["properties"]["Type"]["anyOf"][0]["enum"] == spec.workgroup_fields()["Type"]["enum"]


@pytest.mark.parametrize("path", CONFIG_EXAMPLES, ids=lambda p: str(p.relative_to(REPO)))
def test_examples_validate_against_the_schema_and_load(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("# yaml-language-server: $schema=")
    schema_ref = text.splitlines()[0].split("$schema=", 1)[1]
    assert (path.parent / schema_ref).resolve() == COMMITTED.resolve()
    validator = Draft202012Validator(json_schema(), format_checker=format_checker())
    errors = [error.message for error in validator.iter_errors(yaml.safe_load(text))]
    assert errors == []
    var_files = sorted(path.parent.glob("*.vars.yaml"))
    for var_file in var_files or [None]:
        desired = load([path], EXAMPLE_ENV, [var_file] if var_file else [])
        assert desired.workgroups


def test_fast_check_never_accepts_what_jsonschema_refuses() -> None:
    full = build_schema(editor=False)
    fast = compile_fast_check(full["$defs"]["workgroup"], full["$defs"])
    slow = Draft202012Validator({"$defs": full["$defs"], **full["$defs"]["workgroup"]}, format_checker=format_checker())
    samples = [
        {"Name": "A", "Type": "IVR"},
        {"Name": "A", "Type": "ivr"},
        {"Name": "A"},
        {"Name": 1, "Type": "IVR"},
        {"Name": "A", "Type": "IVR", "RecordCalls": "true"},
        {"Name": "A", "Type": "IVR", "TelegentPhone": "+1415"},
        {"Name": "A", "Type": "IVR", "TelegentPhone": "1415"},
        {"Name": "A", "Type": "IVR", "AnnouncementUrl": "ftp://x"},
        {"Name": "A", "Type": "IVR", "AnnouncementUrl": "https://x.example/a.mp3"},
        {"Name": "A", "Type": "IVR", "members": [{"Type": "User", "DigitOrder": 1.0}]},
        {"Name": "A", "Type": "IVR", "members": [{"Type": "Workgroup", "key": ""}]},
        {"Name": "A", "Type": "IVR", "Extra": 1},
    ]
    for sample in samples:
        if fast(sample):
            assert slow.is_valid(sample), sample
        assert fast(sample) == slow.is_valid(sample) or not fast(sample)


def test_top_level_fast_check_agrees_with_jsonschema() -> None:
    # The top level is checked on the fast path too (jsonschema loads only when it is unsure).
    top = validators().top
    slow = Draft202012Validator(top.schema, format_checker=format_checker())
    samples: list[object] = [
        {"workgroups": {}},
        {"workgroups": {}, "x-anchors": {"a": 1}},
        {"workgroups": {}, "schedules": {}, "import": [], "moved": [], "routing_tests": []},
        {"workgroups": {}, "bogus": 1},
        {"workgroups": []},
        {"schedules": {}},
        {"workgroups": {}, "import": {}},
        [],
    ]
    for sample in samples:
        assert top.fast(sample) == slow.is_valid(sample), sample
        assert top.is_valid(sample) == slow.is_valid(sample), sample
        assert (list(top.iter_errors(sample)) == []) == slow.is_valid(sample), sample
