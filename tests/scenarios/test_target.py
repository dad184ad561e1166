"""--target through the CLI against the sandbox: a partial plan says so, a saved targeted plan
records its targets and applies only them, a schedule is targeted as schedule.ADDRESS and a
targeted workgroup brings the schedule it uses, an unknown address is refused before any request."""

from __future__ import annotations

import json
from pathlib import Path

from telegent_sandbox import SandboxServer
from tests.support.cli import cli_env, console, copy_example, live_names, live_schedules, run, state_path


def test_plan_and_apply_with_targets_and_a_saved_targeted_plan(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    state = state_path(tmp_path)

    result = run(env, "plan", "--state", state, "--target", "support", config)
    assert result.exit_code == 0, result.output
    assert "this plan is partial: only --target support" in result.stdout
    assert "Plan: 1 to add" in result.stdout

    out = tmp_path / "plan.json"
    result = run(env, "plan", "--state", state, "--target", "billing", "--out", out, config)
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    assert body["plan"]["targets"] == ["billing"] and body["options"]["targets"] == ["billing"]
    markdown = run(env, "show", out, "--format", "markdown").stdout
    assert "**Warnings**" in markdown and "partial" in markdown  # the reviewers see it in the comment
    shown = json.loads(run(env, "show", out, "--json").stdout)
    assert shown["targets"] == ["billing"]
    assert sorted(c["address"] for c in shown["resource_changes"]) == ["billing", "support"]  # billing rings support

    result = run(env, "apply", "--state", state, out)
    assert result.exit_code == 0, result.output
    assert live_names(sandbox) == ["Billing", "Support"]

    result = run(env, "apply", "--state", state, "--target", "nope", "--auto-approve", config)
    assert result.exit_code == 1 and "--target nope: no workgroup with that address" in result.stderr
    assert live_names(sandbox) == ["Billing", "Support"]

    result = run(env, "plan", "--state", state, "--detailed-exitcode", config)
    assert result.exit_code == 2 and "Plan: 4 to add" in result.stdout and "partial" not in result.stdout  # + schedule


def test_an_unknown_target_is_refused_before_any_request(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    state = state_path(tmp_path)
    for command in (["plan"], ["plan", "--json"], ["apply", "--auto-approve"]):
        result = run(env, *command, "--state", state, "--target", "suport", config)
        assert result.exit_code == 1, result.output
        assert ("--target suport: no workgroup with that address in the configuration or the state "
                "(did you mean 'support'?)") in result.stderr
        assert "Traceback" not in result.output
    assert sandbox.control.request_count() == 0  # not even a token


def test_schedules_are_targets_and_a_targeted_workgroup_brings_its_schedule(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    state = state_path(tmp_path)

    result = run(env, "plan", "--state", state, "--target", "business-hours", config)
    assert result.exit_code == 1 and "(did you mean 'schedule.business-hours'?)" in result.stderr
    assert sandbox.control.request_count() == 0

    result = run(env, "apply", "--state", state, "--target", "schedule.business-hours", "--auto-approve", config)
    assert result.exit_code == 0, result.output
    assert "partial: only --target schedule.business-hours." in result.stdout
    assert [s["Name"] for s in live_schedules(sandbox)] == ["Business hours"] and live_names(sandbox) == []
    assert json.loads(state.read_text())["schedules"]["business-hours"]["id"]

    # The schedule is in the state now: the state alone makes it a known target.
    empty = tmp_path / "empty.yaml"
    empty.write_text("workgroups: {}\n")
    result = run(env, "plan", "--state", state, "--target", "schedule.business-hours", empty)
    assert result.exit_code == 0, result.output
    assert "schedule business-hours (" in result.stdout and "no longer declared, kept" in result.stdout

    # Created anew when its hours change, the schedule comes with the workgroup that uses it.
    config.write_text(config.read_text().replace('FridayEndTime: "5:00 PM"', 'FridayEndTime: "4:00 PM"'))
    out = tmp_path / "plan.json"
    result = run(env, "plan", "--state", state, "--target", "main-menu", "--out", out, config)
    assert result.exit_code == 0, result.output
    assert "what they need (after-hours, billing, sales, support, schedule.business-hours)" in result.stdout
    shown = json.loads(run(env, "show", out, "--json").stdout)
    assert [s["address"] for s in shown["schedule_changes"]] == ["business-hours"]
    result = run(env, "apply", "--state", state, out)
    assert result.exit_code == 0, result.output
    # the old one stays (no delete)
    assert [s["Name"] for s in live_schedules(sandbox)] == ["Business hours", "Business hours"]
    recorded = json.loads(state.read_text())
    schedule_id = recorded["schedules"]["business-hours"]["id"]
    with console(sandbox) as client:
        menu = client.get_workgroup(recorded["workgroups"]["main-menu"]["id"])
    assert str(menu["ScheduleId"]) == schedule_id
