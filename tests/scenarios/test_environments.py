"""Environments: one configuration tree, a var file and a state per environment, each account
getting its own workgroups; an environment variable the tree uses is required, and its value is
part of the plan's hash."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxServer
from tests.support import REPO
from tests.support.cli import cli_env, json_lines, live_names, run

ENVIRONMENTS = REPO / "examples" / "environments"

PRODUCTION = ("DID-production", "production-secret")


def _env(server: SandboxServer, account: tuple[str, str]) -> dict[str, str]:
    return cli_env(server, key=account[0], secret=account[1], SUPPORT_ONCALL_PHONE="+14155550142")


def _plan_apply(env: dict[str, str], tmp_path: Path, name: str) -> tuple[Path, Path]:
    """The documented pipeline for one environment: plan --out, then apply the saved plan."""
    state = tmp_path / "state" / f"{name}.state.json"
    out = tmp_path / f"{name}.plan.json"
    planned = run(env, "plan", ENVIRONMENTS, "--var-file", ENVIRONMENTS / f"{name}.vars.yaml",
                  "--state", state, "--out", out, "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in planned.stdout
    applied = run(env, "apply", "--state", state, "--json", out)
    assert applied.exit_code == 0, applied.output
    assert json_lines(applied.stdout)[-1]["added"] == 3
    return state, out


def test_one_config_tree_two_accounts_two_states(sandbox_factory: Callable[..., SandboxServer],
                                                 tmp_path: Path) -> None:
    server = sandbox_factory(rate_limit=0, accounts=(PRODUCTION,))
    staging, production = (DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET), PRODUCTION
    staging_state, staging_plan = _plan_apply(_env(server, staging), tmp_path, "staging")
    production_state, _ = _plan_apply(_env(server, production), tmp_path, "production")

    assert live_names(server, *staging) == ["[staging] Front desk", "[staging] On call", "[staging] Sales desk"]
    assert live_names(server, *production) == ["Front desk", "On call", "Sales desk"]
    staging_doc = json.loads(staging_state.read_text())
    production_doc = json.loads(production_state.read_text())
    assert staging_doc["lineage"] != production_doc["lineage"]
    assert staging_doc["workgroups"]["front-desk"]["fields"]["TelegentPhone"] == "+14155550900"
    assert production_doc["workgroups"]["front-desk"]["fields"]["TelegentPhone"] == "+14155550100"
    assert staging_doc["workgroups"]["front-desk"]["fields"]["RecordCalls"] is False

    for name, account, state in (("staging", staging, staging_state), ("production", production, production_state)):
        again = run(_env(server, account), "plan", ENVIRONMENTS, "--var-file", ENVIRONMENTS / f"{name}.vars.yaml",
                    "--state", state, "--detailed-exitcode")
        assert again.exit_code == 0, again.output
        assert "No changes." in again.stdout

    # A plan made for staging cannot be applied to production's state.
    new_plan = tmp_path / "staging-2.plan.json"
    staging_vars = ENVIRONMENTS / "staging.vars.yaml"
    assert run(_env(server, staging), "plan", ENVIRONMENTS, "--var-file", staging_vars,
               "--state", staging_state, "--out", new_plan).exit_code == 0
    crossed = run(_env(server, production), "apply", "--state", production_state, new_plan)
    assert crossed.exit_code == 1
    assert "plan is stale" in crossed.stderr
    assert live_names(server, *production) == ["Front desk", "On call", "Sales desk"]


def test_environment_variable_is_required_and_part_of_the_plan_hash(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = cli_env(sandbox)
    state = tmp_path / "state" / "staging.state.json"
    var_file = ENVIRONMENTS / "staging.vars.yaml"
    missing = run(env, "plan", ENVIRONMENTS, "--var-file", var_file, "--state", state)
    assert missing.exit_code == 1
    assert "SUPPORT_ONCALL_PHONE" in missing.stderr
    assert sandbox.control.request_count() == 0  # invalid config: no request at all

    out = tmp_path / "p.json"
    planned = run({**env, "SUPPORT_ONCALL_PHONE": "+14155550142"}, "plan", ENVIRONMENTS, "--var-file", var_file,
                  "--state", state, "--out", out)
    assert planned.exit_code == 0, planned.output
    moved = run({**env, "SUPPORT_ONCALL_PHONE": "+14155550143"}, "apply", "--state", state, out)
    assert moved.exit_code == 1
    assert "plan is stale" in moved.stderr
    assert live_names(sandbox) == []
