"""Saved plans: `plan --out FILE` then `apply FILE` carries out exactly that
plan without a prompt, and a stale plan is refused before any call is made."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from telegent_sandbox import SandboxServer
from tests.support.cli import cli_env, console, copy_example, create_direct, live_names, plan_out, run, state_path

DECLARED = ["After hours", "Billing", "Main menu", "Sales", "Support"]


def test_apply_saved_plan_carries_out_exactly_that_plan_without_prompting(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    out = plan_out(env, tmp_path, config)
    planned = json.loads(run(env, "show", out, "--json").stdout)
    creates = sorted(c["address"] for c in planned["resource_changes"] if c["actions"] == ["create"])
    assert len(creates) == 5

    # CliRunner's stdin is not a terminal: a plain apply would refuse without --auto-approve;
    # a saved plan is the reviewed approval, so it must not ask.
    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 0, result.output
    assert "Apply complete! Resources: 6 added, 0 changed, 0 destroyed." in result.stdout
    assert "Enter a value" not in result.output
    assert live_names(sandbox) == DECLARED

    # Exactly the plan: one workgroup create per planned create, nothing else at that endpoint.
    audit = state_path(tmp_path).with_name("telegent.state.json.audit.jsonl")
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    created = sorted(r["address"] for r in records if r["endpoint"] == "/v1.0/workgroups")
    assert created == creates

    again = run(env, "plan", "--state", state_path(tmp_path), "--detailed-exitcode", config)
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout


def test_plain_apply_without_a_terminal_needs_auto_approve(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    result = run(env, "apply", "--state", state_path(tmp_path), copy_example(tmp_path))
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert live_names(sandbox) == []


def test_saved_plan_is_stale_after_another_apply_moved_the_serial(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    out = plan_out(env, tmp_path, config)
    other = run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config)
    assert other.exit_code == 0, other.output

    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1
    assert "plan is stale" in result.stderr
    assert "serial 0" in result.stderr and "serial" in result.stderr
    assert str(out) in result.stderr  # names the plan file
    assert live_names(sandbox) == DECLARED  # no duplicate of anything


def test_saved_plan_is_stale_after_a_state_with_history_moved(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    assert run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config).exit_code == 0
    config.write_text(config.read_text().replace("Connecting you to our sales team.", "Sales, one moment."))
    out = plan_out(env, tmp_path, config)
    serial_then = json.loads(state_path(tmp_path).read_text())["serial"]
    # A second run applies the same change first (as another pipeline would).
    assert run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config).exit_code == 0
    assert json.loads(state_path(tmp_path).read_text())["serial"] > serial_then

    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1
    assert "plan is stale" in result.stderr
    assert f"serial {serial_then}" in result.stderr


def test_saved_plan_is_stale_after_a_config_file_changed(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    out = plan_out(env, tmp_path, config)
    config.write_text(config.read_text().replace("Connecting you to our sales team.", "Sales, one moment."))

    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1
    assert "plan is stale" in result.stderr
    assert "configuration files" in result.stderr
    assert live_names(sandbox) == []  # refused before the first call


def test_saved_plan_is_stale_after_a_var_file_changed(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = tmp_path / "wg.yaml"
    config.write_text("workgroups:\n  desk:\n    Name: ${var.NAME}\n    Type: simultaneous\n")
    var_file = tmp_path / "env.vars.yaml"
    var_file.write_text("NAME: Desk\n")
    out = plan_out(env, tmp_path, config, "--var-file", str(var_file))
    var_file.write_text("NAME: Front desk\n")

    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1
    assert "plan is stale" in result.stderr
    assert live_names(sandbox) == []


def test_saved_plan_is_stale_after_the_account_changed(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    out = plan_out(env, tmp_path, config)
    # Someone makes a same-Name workgroup directly in the account between review and merge.
    create_direct(sandbox, {"Name": "Sales", "Type": "simultaneous"})

    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1
    assert "plan is stale" in result.stderr
    assert "account changed" in result.stderr and "'Sales'" in result.stderr
    assert live_names(sandbox) == ["Sales"]  # nothing created, no duplicate


def _sales_update_planned(sandbox: SandboxServer, tmp_path: Path) -> tuple[dict[str, str], Path, str]:
    """The example applied, then a saved plan that updates sales: (env, plan file, sales ID)."""
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    assert run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config).exit_code == 0
    config.write_text(config.read_text().replace("Connecting you to our sales team.", "Sales, one moment."))
    out = plan_out(env, tmp_path, config)
    sales_id = json.loads(state_path(tmp_path).read_text())["workgroups"]["sales"]["id"]
    return env, out, sales_id


def test_saved_plan_is_stale_after_a_managed_workgroup_was_deleted(sandbox: SandboxServer, tmp_path: Path) -> None:
    env, out, sales_id = _sales_update_planned(sandbox, tmp_path)
    with console(sandbox) as client:
        client.delete_workgroup(sales_id)

    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1
    assert "plan is stale" in result.stderr and sales_id in result.stderr


def test_saved_plan_with_a_conflict_is_never_applied(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    create_direct(sandbox, {"Name": "Sales", "Type": "simultaneous"})
    out = tmp_path / "plan.json"
    planned = run(env, "plan", "--state", state_path(tmp_path), "--out", out, config)
    assert planned.exit_code == 1  # a conflict: the plan is saved for review but cannot be applied
    assert "Conflicts" in planned.stdout

    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1
    assert "cannot be applied" in result.stderr
    assert live_names(sandbox) == ["Sales"]


def test_tampered_plan_file_is_refused(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    out = plan_out(env, tmp_path, copy_example(tmp_path))
    out.write_text(out.read_text().replace('"Sales"', '"Sales 2"'))
    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1
    assert "modified after it was written" in result.stderr
    assert live_names(sandbox) == []


def test_plan_file_and_outputs_hold_no_secret(sandbox_factory: Callable[..., SandboxServer], tmp_path: Path) -> None:
    secret = "canary-secret-XYZ"
    server = sandbox_factory(rate_limit=0, accounts=(("DID-canary", secret),))
    env = cli_env(server, key="DID-canary", secret=secret)
    config = copy_example(tmp_path)
    out = tmp_path / "plan.json"
    planned = run(env, "plan", "--state", state_path(tmp_path), "--out", out, config)
    assert planned.exit_code == 0, planned.output
    applied = run(env, "apply", "--state", state_path(tmp_path), "--json", out)
    assert applied.exit_code == 0, applied.output
    assert live_names(server, "DID-canary", secret) == DECLARED

    shown = [run(env, "show", out, *flags).output for flags in ((), ("--json",), ("--format", "markdown"))]
    texts = [out.read_text(), planned.output, applied.output, *shown]
    texts += [p.read_text(errors="replace") for p in state_path(tmp_path).parent.iterdir() if p.is_file()]
    for text in texts:
        assert secret not in text
        assert "Bearer" not in text


def test_show_prints_the_saved_plan_again(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    out = tmp_path / "plan.json"
    text = run(env, "plan", "--state", state_path(tmp_path), "--out", out, config)
    assert text.exit_code == 0
    as_json = run(env, "plan", "--state", state_path(tmp_path), "--json", config)
    as_md = run(env, "plan", "--state", state_path(tmp_path), "--format", "markdown", config)

    shown = run(env, "show", out)
    assert shown.exit_code == 0
    assert shown.stdout == text.stdout
    assert "Plan: 6 to add, 0 to change, 0 to destroy." in shown.stdout

    shown_json = run(env, "show", out, "--json")
    assert shown_json.exit_code == 0
    body = json.loads(shown_json.stdout)
    fresh = json.loads(as_json.stdout)
    # Same plan, same view (the lineage of a not-yet-written state differs per run).
    body.pop("state")
    fresh.pop("state")
    assert body == fresh
    assert run(env, "show", out, "--format", "json").stdout == shown_json.stdout
    assert run(env, "show", out, "--format", "markdown").stdout == as_md.stdout


def test_show_refuses_a_file_that_is_not_a_plan(tmp_path: Path) -> None:
    not_a_plan = tmp_path / "x.json"
    not_a_plan.write_text('{"hello": 1}')
    result = run({}, "show", not_a_plan)
    assert result.exit_code == 1
    assert "not a telegent-iac plan file" in result.stderr


def test_saved_plan_is_stale_after_a_touched_workgroup_was_renamed_live(sandbox: SandboxServer,
                                                                       tmp_path: Path) -> None:
    env, out, sales_id = _sales_update_planned(sandbox, tmp_path)
    with console(sandbox) as client:
        client.update_workgroup(sales_id, {"Name": "Sales (renamed in the console)"})

    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1
    assert "plan is stale" in result.stderr and "renamed in the console" in result.stderr
