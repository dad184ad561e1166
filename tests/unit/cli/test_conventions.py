"""CLI conventions users of Terraform-like tools rely on: a version command, shell completion,
a message while waiting for a lock, NO_COLOR / FORCE_COLOR, a JSON diagnostic on errors, and a
pre-commit hook that finds the config or says which args: to set."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from telegent_iac import __version__
from telegent_iac.cli import flags, main, output
from telegent_iac.plan.changes import PLAN_FORMAT_VERSION
from telegent_iac.state.file import FileStateStore
from telegent_sandbox import SandboxServer
from tests.support.cli import cli_env, copy_example, json_lines, run, state_path

ANSI = "\x1b["


def test_version_command_and_flag() -> None:
    result = run({}, "version")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"telegent-iac {__version__} (plan format {PLAN_FORMAT_VERSION};")
    info = json.loads(run({}, "version", "--json").stdout)
    assert info["telegent_iac"] == __version__ and info["plan_format_version"] == PLAN_FORMAT_VERSION
    assert run({}, "--version").stdout == f"telegent-iac, version {__version__}\n"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_scripts(shell: str) -> None:
    """The documented `_TELEGENT_IAC_COMPLETE=<shell>_source telegent-iac` prints a script."""
    result = CliRunner(env={"_TELEGENT_IAC_COMPLETE": f"{shell}_source"}).invoke(main, [], prog_name="telegent-iac")
    assert result.exit_code == 0
    assert "_TELEGENT_IAC_COMPLETE" in result.stdout and "telegent-iac" in result.stdout


def test_shell_completion_completes_commands_and_options() -> None:
    def complete(words: str) -> list[str]:
        env = {"_TELEGENT_IAC_COMPLETE": "bash_complete", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
        result = CliRunner(env=env).invoke(main, [], prog_name="telegent-iac")
        return [line.split(",", 1)[1] for line in result.stdout.splitlines()]

    assert "plan" in complete("telegent-iac pl") and "version" in complete("telegent-iac ver")
    assert "--detailed-exitcode" in complete("telegent-iac plan --det")


@pytest.mark.parametrize(("env", "color"), [
    ({}, False),  # not a terminal
    ({"FORCE_COLOR": "1"}, True),
    ({"FORCE_COLOR": ""}, False),  # empty is unset
    ({"FORCE_COLOR": "1", "NO_COLOR": ""}, True),  # an empty NO_COLOR does not turn colour off
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
])
def test_no_color_and_force_color(sandbox: SandboxServer, tmp_path: Path, env: dict[str, str], color: bool) -> None:
    full = {**cli_env(sandbox), "NO_COLOR": None, "FORCE_COLOR": None, **env}
    result = CliRunner(env=full).invoke(
        main, ["plan", "--state", str(state_path(tmp_path)), str(copy_example(tmp_path))], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Plan: 6 to add" in result.stdout
    assert (ANSI in result.stdout) is color
    plain = CliRunner(env=full).invoke(
        main, ["plan", "--no-color", "--state", str(state_path(tmp_path)), str(copy_example(tmp_path))])
    assert ANSI not in plain.stdout


def test_plan_json_ends_with_a_diagnostic_on_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("workgroups:\n  a:\n    Name: A\n    Type: ring\n")
    for args in (["--json"], ["--format", "json"]):
        result = run({}, "plan", *args, "--state", state_path(tmp_path), bad)
        assert result.exit_code == 1
        last = json_lines(result.stdout)[-1]
        assert last["type"] == "diagnostic" and last["severity"] == "error"
        assert any("bad.yaml:4:11" in p for p in last["problems"]), last
        assert "bad.yaml:4:11" in result.stderr  # the human message is still on stderr


def test_waiting_for_a_lock_says_whose_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = state_path(tmp_path)
    holder = FileStateStore(path)
    messages: list[str] = []
    waiting = threading.Event()

    def err(message: str) -> None:
        messages.append(message)
        if message.startswith("Waiting"):
            waiting.set()

    monkeypatch.setattr(flags, "err", err)  # the waiting message
    monkeypatch.setattr(output, "err", err)  # the error
    held = holder.lock("apply")
    info = held.__enter__()
    # Refused at once without --lock-timeout, and no waiting message.
    refused = run({}, "state", "rm", "--state", path, "nothing")
    assert refused.exit_code == 1 and any(f"lock ID {info.id}" in m for m in messages)
    assert not any(m.startswith("Waiting") for m in messages)
    messages.clear()

    def release_when_waiting() -> None:
        waiting.wait(120)
        held.__exit__(None, None, None)

    releaser = threading.Thread(target=release_when_waiting)
    releaser.start()
    run({}, "state", "rm", "--state", path, "--lock-timeout", "300", "nothing")  # fails later: no such address
    releaser.join()
    waits = [m for m in messages if m.startswith("Waiting")]
    assert len(waits) == 1, messages
    assert f"lock ID {info.id}" in waits[0]
    assert "held by" in waits[0] and "'apply'" in waits[0] and "up to 300s" in waits[0]
    assert not any("is locked by" in m for m in messages), messages  # it got the lock in the end
    assert any("nothing" in m for m in messages[1:]), messages  # and went on to the command itself


def test_pre_commit_hook_finds_the_config_or_names_the_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    missing = run({}, "validate", "--pre-commit")
    assert missing.exit_code == 1
    assert "no telegent/ directory" in missing.stderr and "args:" in missing.stderr
    wrong = run({}, "validate", "--pre-commit", "configs/")
    assert wrong.exit_code == 1 and "configs/: no such file or directory" in wrong.stderr
    assert "args:" in wrong.stderr
    (tmp_path / "telegent").mkdir()
    copy_example(tmp_path / "telegent")
    found = run({}, "validate", "--pre-commit")
    assert found.exit_code == 0, found.output
    assert "valid: 5 workgroups" in found.stdout
