"""A saved plan applies exactly what was reviewed: any byte edited in the file is refused, and
since anyone can recompute a checksum, `apply FILE` also makes the plan again from the current
configuration, state and account and refuses any difference, naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from telegent_iac.errors import UserError
from telegent_iac.plan import saved
from telegent_sandbox import SandboxServer
from tests.support.cli import cli_env, console, copy_example, live_names, plan_out, run, state_path


def forge(path: Path, edit: Any) -> None:
    """Edit the plan and write it back with a valid checksum, as anyone can."""
    body = json.loads(path.read_text())
    del body["checksum"]
    edit(body)
    saved.write_plan_file(path, body)


def mutating_requests(server: SandboxServer) -> list[str]:
    return [r["path"] for r in server.control.requests() if r["method"] == "POST" and "tokens" not in r["path"]]


def test_every_byte_of_a_plan_file_is_covered(sandbox: SandboxServer, tmp_path: Path) -> None:
    config = tmp_path / "one.yaml"  # a small plan keeps the byte-by-byte walk short
    config.write_text("workgroups:\n  sales:\n    Name: Sales\n    Type: simultaneous\n")
    out = plan_out(cli_env(sandbox), tmp_path, config)
    original = out.read_bytes()
    saved.read_plan_file(out)  # the untouched file reads
    refused = 0
    for i in range(len(original)):
        for replacement in ({0x20: 0x0A}.get(original[i], 0x20), original[i] ^ 0x01):
            edited = bytearray(original)
            edited[i] = replacement
            out.write_bytes(bytes(edited))
            with pytest.raises(UserError):
                saved.read_plan_file(out)
            refused += 1
    assert refused == 2 * len(original)
    # a trailing byte, a re-indented file, a reordered one
    body = json.loads(original)
    for variant in (original + b"\n", json.dumps(body, indent=4, sort_keys=True).encode() + b"\n",
                    json.dumps(dict(reversed(list(body.items()))), indent=2).encode() + b"\n"):
        out.write_bytes(variant)
        with pytest.raises(UserError, match="modified after it was written"):
            saved.read_plan_file(out)


def test_a_forged_plan_with_a_recomputed_checksum_is_refused_naming_the_difference(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    out = plan_out(env, tmp_path, config)

    def rename_sales(body: dict[str, Any]) -> None:
        for change in body["plan"]["changes"]:
            if change["address"] == "sales":
                change["after"]["Name"] = "Sales (edited in the plan file)"

    forge(out, rename_sales)
    before = len(mutating_requests(sandbox))
    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1, result.output
    assert "plan is stale: planning now gives a different plan" in result.stderr
    assert "['changes']['sales']['after']['Name']" in result.stderr
    assert "Sales (edited in the plan file)" in result.stderr
    assert len(mutating_requests(sandbox)) == before  # not one create
    assert live_names(sandbox) == []


@pytest.mark.parametrize("edit", ["drop a change", "add a delete", "options", "other account"])
def test_other_forgeries_are_refused(sandbox: SandboxServer, tmp_path: Path, edit: str) -> None:
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    out = plan_out(env, tmp_path, config)

    def change(body: dict[str, Any]) -> None:
        plan = body["plan"]
        if edit == "drop a change":
            plan["changes"] = [c for c in plan["changes"] if c["address"] != "support"]
        elif edit == "add a delete":
            plan["changes"][0]["actions"] = ["delete"]
        elif edit == "options":  # what apply would plan with, not what the plan says
            body["options"]["allow_replace"] = True
        else:
            body["account"]["key_hash"] = "0" * 64

    forge(out, change)
    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1, result.output
    assert "plan is stale" in result.stderr
    assert live_names(sandbox) == []


def test_a_change_only_a_full_refresh_sees_makes_a_full_plan_stale(sandbox: SandboxServer, tmp_path: Path) -> None:
    """A field changed in the console between plan and apply: the list call alone cannot see
    it, the recomputed (full-refresh) plan does."""
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    assert run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config).exit_code == 0
    config.write_text(config.read_text().replace("Connecting you to our sales team.", "Sales, one moment."))
    out = plan_out(env, tmp_path, config, "--refresh", "full")
    sales_id = json.loads(state_path(tmp_path).read_text())["workgroups"]["sales"]["id"]
    with console(sandbox) as client:
        client.update_workgroup(sales_id, {"RecordCalls": False})
    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 1, result.output
    assert "['changes']['sales']" in result.stderr and "RecordCalls" in result.stderr


def test_an_unchanged_plan_with_its_options_applies(sandbox: SandboxServer, tmp_path: Path) -> None:
    """The recompute uses the options the plan was made with (here --allow-delete), not apply's."""
    env = cli_env(sandbox)
    config = copy_example(tmp_path)
    assert run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config).exit_code == 0
    text = config.read_text()
    text = text[: text.index("  billing:")] + text[text.index("  after-hours:"):]
    config.write_text(text.replace("      - Type: Workgroup\n        DigitOrder: 3\n"
                                   "        ReferenceWorkgroupId: billing\n", ""))
    out = plan_out(env, tmp_path, config, "--allow-delete")
    assert "billing" in out.read_text()
    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 0, result.output
    assert "Billing" not in live_names(sandbox)


def test_a_plan_of_many_config_files_is_still_recognised(sandbox: SandboxServer, tmp_path: Path) -> None:
    """The file's keys are sorted: with many config paths, "kind" is far from the start."""
    env = cli_env(sandbox)
    configs = []
    for i in range(120):
        path = tmp_path / f"workgroup-file-with-a-long-name-{i:03d}.yaml"
        path.write_text(f"workgroups:\n  wg-{i:03d}:\n    Name: Workgroup {i:03d}\n    Type: simultaneous\n")
        configs.append(path)
    out = tmp_path / "plan.json"
    assert run(env, "plan", "--state", state_path(tmp_path), "--out", out, *configs).exit_code == 0
    assert out.read_text().index('"kind"') > 4096
    result = run(env, "apply", "--state", state_path(tmp_path), out)
    assert result.exit_code == 0, result.output
    assert len(live_names(sandbox)) == 120
