"""Machine-readable output: `plan --json` / `show --json` in the
documented format (docs/json-format.md), and the `apply --json` line stream."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from telegent_sandbox import SandboxServer
from tests.support import REPO
from tests.support.cli import cli_env, console, copy_example, json_lines, run, state_path

V1: dict[str, dict[str, Any]] = {
    "keep": {"Name": "Keep", "Type": "simultaneous"},
    "change": {"Name": "Change", "Type": "simultaneous", "AnnouncementText": "Hello",
               "members": [{"Type": "User", "PhoneNumber": "+14155550101"}]},
    "swap": {"Name": "Swap", "Type": "round-robin", "WaitBetween": "5"},
    "drop": {"Name": "Drop", "Type": "simultaneous"},
}
V2: dict[str, dict[str, Any]] = {
    "keep": V1["keep"],
    "change": {"Name": "Change", "Type": "simultaneous", "AnnouncementText": "Hello again",
               "members": [{"Type": "User", "PhoneNumber": "+14155550101", "SmsNotification": True}]},
    "swap": {"Name": "Swap", "Type": "round-robin", "WaitBetween": "10"},  # not updatable: replace
    "new": {"Name": "New", "Type": "simultaneous"},
}
TOP_KEYS = {
    "format_version", "has_changes", "has_destroys", "applyable", "summary", "state", "input_hash", "refresh",
    "verified", "not_verified",
    "resource_changes", "schedule_changes", "drift", "kept", "moves", "prevent_destroy", "resolved_pending",
    "unchecked", "conflicts", "errors", "warnings", "targets",
}
CHANGE_KEYS = {"address", "workgroup_id", "actions", "reason", "before", "after", "changed_fields", "import_id",
               "members"}
MEMBER_KEYS = {"key", "member_id", "actions", "reason", "before", "after"}


def _write(path: Path, workgroups: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"workgroups": workgroups}, sort_keys=False))
    return path


@pytest.fixture
def applied_v1(sandbox: SandboxServer, tmp_path: Path) -> tuple[dict[str, str], Path]:
    env = cli_env(sandbox)
    config = _write(tmp_path / "wg.yaml", V1)
    result = run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config)
    assert result.exit_code == 0, result.output
    _write(config, V2)
    return env, config


def _by_address(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["address"]: c for c in body["resource_changes"]}


def test_plan_json_keys_and_action_arrays(applied_v1: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, config = applied_v1
    result = run(env, "plan", "--state", state_path(tmp_path), "--json", "--allow-delete", "--allow-replace",
                 "--detailed-exitcode", config)
    assert result.exit_code == 2, result.output
    body = json.loads(result.stdout)  # stdout is the JSON alone; progress goes to stderr
    assert set(body) == TOP_KEYS
    assert body["format_version"] == "1.2"
    assert body["has_changes"] is True and body["has_destroys"] is True and body["applyable"] is True
    assert body["summary"] == {"add": 2, "change": 1, "destroy": 2, "import": 0}
    state = json.loads(state_path(tmp_path).read_text())
    assert body["state"] == {"lineage": state["lineage"], "serial": state["serial"]}
    changes = _by_address(body)
    for c in changes.values():
        assert set(c) == CHANGE_KEYS
        assert isinstance(c["actions"], list)
        for m in c["members"]:
            assert set(m) == MEMBER_KEYS and isinstance(m["actions"], list)
    assert changes["keep"]["actions"] == ["no-op"]
    assert changes["change"]["actions"] == ["update"]
    assert changes["change"]["changed_fields"] == ["AnnouncementText"]
    assert changes["change"]["before"]["AnnouncementText"] == "Hello"
    assert changes["change"]["after"]["AnnouncementText"] == "Hello again"
    assert [m["actions"] for m in changes["change"]["members"]] == [["update"]]
    assert changes["swap"]["actions"] == ["delete", "create"]
    assert "WaitBetween" in changes["swap"]["reason"]
    assert changes["new"]["actions"] == ["create"]
    assert changes["new"]["before"] is None and changes["new"]["workgroup_id"] is None
    assert changes["drop"]["actions"] == ["delete"] and changes["drop"]["after"] is None
    assert changes["drop"]["workgroup_id"] == state["workgroups"]["drop"]["id"]
    for c in changes.values():
        if c["actions"] != ["no-op"]:
            assert c["reason"], c
    # The simple consumer check the array form exists for:
    assert any("delete" in c["actions"] for c in body["resource_changes"]) == body["has_destroys"]


def test_without_allow_delete_an_undeclared_workgroup_is_kept(
    applied_v1: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, config = applied_v1
    body = json.loads(run(env, "plan", "--state", state_path(tmp_path), "--json", "--allow-replace", config).stdout)
    assert "drop" not in _by_address(body)
    assert len(body["kept"]) == 1 and "drop" in body["kept"][0]
    assert body["has_destroys"] is True  # the replacement still deletes the old Swap


def test_blocked_plan_is_not_applyable(applied_v1: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, config = applied_v1
    result = run(env, "plan", "--state", state_path(tmp_path), "--json", config)
    assert result.exit_code == 1  # a replacement that was not allowed
    body = json.loads(result.stdout)
    assert body["applyable"] is False
    assert any("--allow-replace" in e for e in body["errors"])


def test_no_changes_is_machine_readable(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = _write(tmp_path / "wg.yaml", V1)
    assert run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config).exit_code == 0
    result = run(env, "plan", "--state", state_path(tmp_path), "--json", "--detailed-exitcode", config)
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["has_changes"] is False and body["has_destroys"] is False
    assert {tuple(c["actions"]) for c in body["resource_changes"]} == {("no-op",)}


def test_drift_is_its_own_list(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = _write(tmp_path / "wg.yaml", V1)
    assert run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config).exit_code == 0
    wid = json.loads(state_path(tmp_path).read_text())["workgroups"]["change"]["id"]
    with console(sandbox, env["TELEGENT_ACCOUNT_KEY"], env["TELEGENT_ACCOUNT_SECRET"]) as client:
        client.update_workgroup(wid, {"AnnouncementText": "Changed in the console"})

    summary = json.loads(run(env, "plan", "--state", state_path(tmp_path), "--json", config).stdout)
    assert summary["drift"] == [] and summary["refresh"] == "summary"  # one list call sees no field values

    body = json.loads(run(env, "plan", "--state", state_path(tmp_path), "--json", "--refresh", "full",
                          config).stdout)
    assert body["refresh"] == "full"
    assert body["drift"] == [{"address": "change", "field": "AnnouncementText", "recorded": "Hello",
                              "live": "Changed in the console"}]
    change = _by_address(body)["change"]
    assert change["actions"] == ["update"]  # set back to the declared value
    assert change["after"]["AnnouncementText"] == "Hello"


def test_conflict_in_json(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    with console(sandbox, env["TELEGENT_ACCOUNT_KEY"], env["TELEGENT_ACCOUNT_SECRET"]) as client:
        client.create_workgroup({"Name": "Keep", "Type": "simultaneous"})
    result = run(env, "plan", "--state", state_path(tmp_path), "--json", _write(tmp_path / "wg.yaml", V1))
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["applyable"] is False
    assert [c["address"] for c in body["conflicts"]] == ["keep"]
    assert set(body["conflicts"][0]) == {"address", "message"}


def test_apply_json_stream(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    result = run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", "--json", copy_example(tmp_path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(e, dict) and "type" in e for e in events)
    assert events[0]["type"] == "version" and events[0]["ui_format"] == "1.0"
    assert events[-1]["type"] == "change_summary"
    assert events[-1] == {"type": "change_summary", "added": 6, "changed": 0, "destroyed": 0, "imported": 0,
                          "errors": [], "interrupted": False}
    types = [e["type"] for e in events]
    planned = [e for e in events if e["type"] == "planned_change"]
    assert sorted(e["change"]["address"] for e in planned) == sorted(
        ["main-menu", "sales", "support", "billing", "after-hours"])
    assert all(e["change"]["actions"] == ["create"] for e in planned)
    # planned changes and their summary come before any call
    first_call = types.index("apply_start")
    assert max(i for i, t in enumerate(types) if t in ("planned_change", "plan_summary")) < first_call
    starts = [e for e in events if e["type"] == "apply_start"]
    done = [e for e in events if e["type"] == "apply_complete"]
    assert len(starts) == len(done) == 18  # 1 schedule, 5 workgroups + 12 members in the example
    state = json.loads(state_path(tmp_path).read_text())
    created = {e["address"]: e["id"] for e in done if e["action"] == "create"}
    assert created == {a: w["id"] for a, w in state["workgroups"].items()}
    for e in done:
        assert e["id"] and e["elapsed_seconds"] >= 0
    for e in starts:
        later = [d for d in done if (d["address"], d["action"], d.get("member")) ==
                 (e["address"], e["action"], e.get("member"))]
        assert len(later) == 1 and events.index(later[0]) > events.index(e)
    assert not any(t == "apply_errored" for t in types)
    assert "Apply complete" not in result.stdout  # nothing but JSON on stdout


def test_apply_json_stream_reports_an_error(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = _write(tmp_path / "wg.yaml", {"keep": {**V1["keep"], "AnnouncementText": "a"}})
    assert run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config).exit_code == 0
    wid = json.loads(state_path(tmp_path).read_text())["workgroups"]["keep"]["id"]
    # Behind the tool's back: point Keep's off-hours at a workgroup, then delete that one. The
    # sandbox (like Telegent) then refuses any update of Keep with a 400.
    with console(sandbox, env["TELEGENT_ACCOUNT_KEY"], env["TELEGENT_ACCOUNT_SECRET"]) as client:
        other = client.create_workgroup({"Name": "Other", "Type": "simultaneous"})
        client.update_workgroup(wid, {"OffHoursType": "Workgroup", "OffHoursId": other})
        client.delete_workgroup(other)
    _write(config, {"keep": {**V1["keep"], "AnnouncementText": "b"}})

    result = run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", "--json", config)
    assert result.exit_code == 1
    events = json_lines(result.stdout)
    assert [e["type"] for e in events] == [
        "version", "planned_change", "plan_summary", "apply_start", "apply_errored", "change_summary"]
    errored = events[4]
    assert errored["address"] == "keep" and errored["action"] == "update"
    assert "HTTP 400" in errored["message"] and "OffHoursId" in errored["message"]
    assert events[-1]["changed"] == 0 and len(events[-1]["errors"]) == 1
    assert "keep" in result.stderr  # the human message still goes to stderr


def test_apply_json_stream_ends_with_a_diagnostic_when_the_run_cannot_start(sandbox: SandboxServer,
                                                                           tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = tmp_path / "bad.yaml"
    config.write_text("workgroups:\n  sales:\n    Name: Sales\n    Type: ring\n", encoding="utf-8")
    result = run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", "--json", config)
    assert result.exit_code == 1
    events = json_lines(result.stdout)
    assert [e["type"] for e in events] == ["version", "diagnostic"]
    assert events[1]["severity"] == "error"
    assert len(events[1]["problems"]) == 1 and "bad.yaml:4:11: Type" in events[1]["problems"][0]
    assert "bad.yaml:4:11" in result.stderr
    assert sandbox.control.requests() == []


def test_apply_json_stream_reports_an_adopted_create(sandbox_factory: Any, tmp_path: Path) -> None:
    # The sandbox commits the first workgroup create and then closes the socket: the response is
    # lost, the client re-lists, and the stream says the workgroup was adopted, not made twice.
    server = sandbox_factory(rate_limit=0, drop_creates=(1,))
    env = cli_env(server)
    config = _write(tmp_path / "wg.yaml", {"keep": V1["keep"]})
    result = run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", "--json", config)
    assert result.exit_code == 0, result.output
    events = json_lines(result.stdout)
    assert events[0]["type"] == "version" and events[-1]["type"] == "change_summary"
    assert any(e["type"] == "note" and "adopted" in e["message"] for e in events)
    done = [e for e in events if e["type"] == "apply_complete"]
    wid = json.loads(state_path(tmp_path).read_text())["workgroups"]["keep"]["id"]
    assert [e["id"] for e in done] == [wid]
    with console(server, env["TELEGENT_ACCOUNT_KEY"], env["TELEGENT_ACCOUNT_SECRET"]) as client:
        assert [s.workgroup_id for s in client.list_workgroups()] == [wid]


def test_apply_saved_plan_json_stream(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    out = tmp_path / "plan.json"
    assert run(env, "plan", "--state", state_path(tmp_path), "--out", out, copy_example(tmp_path)).exit_code == 0
    result = run(env, "apply", "--state", state_path(tmp_path), "--json", out)
    assert result.exit_code == 0, result.output
    events = json_lines(result.stdout)
    assert events[0]["type"] == "version" and events[-1]["type"] == "change_summary"
    assert sum(e["type"] == "planned_change" for e in events) == 5
    assert events[-1]["added"] == 6  # the example's 5 workgroups and its schedule


def _doc_table_keys(doc: str, heading: str) -> set[str]:
    section = doc.split(heading, 1)[1].split("\n## ", 1)[0].split("\n# ", 1)[0]
    return {m for m in re.findall(r"^\| `([a-z_]+)` \|", section, re.M)}


def test_docs_describe_exactly_these_keys() -> None:
    """docs/json-format.md stays in step with render/json_view.py and the stream."""
    doc = (REPO / "docs" / "json-format.md").read_text(encoding="utf-8")
    assert _doc_table_keys(doc, "## Top level") == TOP_KEYS
    assert _doc_table_keys(doc, "## `resource_changes[]`") == CHANGE_KEYS
    assert _doc_table_keys(doc, "## `drift[]`") == {"address", "field", "recorded", "live"}
    example = json.loads(doc.split("## Example", 1)[1].split("```json\n", 1)[1].split("```", 1)[0])
    assert set(example) == TOP_KEYS
    assert {tuple(c["actions"]) for c in example["resource_changes"]} == {
        ("create",), ("update",), ("delete", "create"), ("delete",), ("no-op",)}
    stream_doc = doc.split("# The `apply --json` stream", 1)[1]
    stream_types = set(re.findall(r"^\| `([a-z_]+)` \| ", stream_doc, re.M)) - {"type"}
    assert stream_types == {"version", "planned_change", "plan_summary", "apply_start", "apply_complete",
                            "apply_errored", "note", "change_summary", "diagnostic"}
    stream_example = doc.rsplit("```\n", 2)[-2].split("```\n", 1)[-1]
    lines = json_lines(stream_example)
    assert lines[0]["type"] == "version" and lines[-1]["type"] == "change_summary"
    assert {e["type"] for e in lines} <= stream_types
