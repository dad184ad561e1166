"""`telegent-iac test`: each case passed or failed with its path, exit 1 on a failure,
--json, and no request (it needs no credentials and no reachable API)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import EXAMPLE
from tests.support.cli import run
from tests.support.config import write

# An API URL where nothing listens and no credentials: any request would fail the run.
OFFLINE = {"NO_COLOR": "1", "TELEGENT_API_URL": "http://127.0.0.1:9", "TELEGENT_ACCOUNT_KEY": "",
           "TELEGENT_ACCOUNT_SECRET": ""}

FAILING = """\
routing_tests:
  - name: digit 2 is not sales
    call: {number: "+14155550100", at: "2026-03-02T10:00-05:00", digits: "2"}
    expect: {workgroup: sales}
  - call: {number: "+14155550100", at: "2026-03-02T10:00-05:00", digits: "1"}
    expect: {nobody: true}
"""



def test_the_example_routing_tests_pass() -> None:
    result = run(OFFLINE, "test", EXAMPLE)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"PASS {EXAMPLE}:") and lines[0].endswith(": pressing 1 rings the whole sales team")
    assert lines[1].startswith("     path: dial +14155550100 -> main-menu (IVR) -> ")
    assert lines[-1] == "Routing tests: 7 passed, 0 failed."


def test_a_failing_case_exits_1_with_the_path_and_the_reason(tmp_path: Path) -> None:
    extra = write(tmp_path, FAILING, "calls.yaml")  # routing tests in a file of their own
    result = run(OFFLINE, "test", EXAMPLE, extra)
    assert result.exit_code == 1
    out = result.stdout
    assert f"FAIL {extra}:2:5: digit 2 is not sales" in out
    assert "     expected workgroup sales, reached support" in out
    assert f"FAIL {extra}:5:5: routing test 2" in out
    assert "     expected nobody to ring, but USER-alice-001, USER-bob-002, +14155550123 ring" in out
    assert out.splitlines()[-1] == "Routing tests: 7 passed, 2 failed."


def test_json_output(tmp_path: Path) -> None:
    extra = write(tmp_path, FAILING, "calls.yaml")
    result = run(OFFLINE, "test", "--json", EXAMPLE, extra)
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert (body["passed"], body["failed"]) == (7, 2)
    case = body["cases"][7]
    assert case["name"] == "digit 2 is not sales" and case["passed"] is False
    assert case["reached"] == "support"
    assert case["rings"] == ["USER-carol-003", "USER-dave-004", "USER-erin-005"]
    assert case["call"] == {"number": "+14155550100", "at": "2026-03-02T10:00:00-05:00", "digits": "2"}
    assert case["path"][0] == "dial +14155550100"
    assert case["failures"] == ["expected workgroup sales, reached support"]


def test_an_undeclared_workgroup_fails_the_case_not_the_config(tmp_path: Path) -> None:
    extra = write(tmp_path, FAILING.replace("workgroup: sales", "workgroup: saless"), "calls.yaml")
    result = run(OFFLINE, "test", EXAMPLE, extra)
    assert result.exit_code == 1
    assert "     expected workgroup saless, which is not declared" in result.stdout


def test_no_case_is_an_error(tmp_path: Path) -> None:
    bare = write(tmp_path, 'workgroups:\n  a:\n    Name: A\n    Type: IVR\n    TelegentPhone: "+14155550100"\n')
    result = run(OFFLINE, "test", bare)
    assert result.exit_code == 1
    assert "no routing tests found" in result.stderr


def test_a_bad_routing_test_is_a_config_error_with_its_place(tmp_path: Path) -> None:
    bad = write(tmp_path, """\
    routing_tests:
      - call: {number: "4155550100", at: "yesterday", digits: "1x"}
        expect: {workgroup: nowhere, colour: red}
      - call: {number: "+14155550100", at: "yesterday"}
        expect: {nobody: true}
    """, "bad.yaml")
    result = run(OFFLINE, "test", EXAMPLE, bad)
    assert result.exit_code == 1
    err = result.stderr
    assert f"{bad}:2:20: number must be an E.164 phone number" in err
    assert f"{bad}:2:59: digits must be the keys pressed: digits 0-9, * and #, got '1x'" in err
    assert f"{bad}:3:34: unknown field 'colour'" in err
    assert f"{bad}:4:40: at must be an ISO 8601 moment" in err
    assert "Traceback" not in err
