"""Exit codes a pipeline can trust: every usage error exits 1, never 2 (which `plan
--detailed-exitcode` uses for "changes present"). The commands are discovered from the click
tree, so a command added later is covered without editing this file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from telegent_iac.cli import main
from telegent_iac.cli.root import Cli
from telegent_iac.errors import EXIT_ERROR, EXIT_INTERRUPTED
from telegent_sandbox import SandboxServer
from tests.support.cli import cli_env, copy_example, run, state_path


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):  # the lazily loaded commands too
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from walk(sub, (*path, name))


COMMANDS = list(walk(main))
IDS = [" ".join(path) or "(root)" for path, _ in COMMANDS]


def test_the_tree_is_walked() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"plan", "apply", "validate", "show", "state list", "state pull", "import", "force-unlock"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_an_unknown_flag_exits_1(path: tuple[str, ...], command: click.Command) -> None:
    result = run({}, *path, "--no-such-flag")
    assert result.exit_code == EXIT_ERROR, result.output
    assert "No such option" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_a_bad_value_exits_1(path: tuple[str, ...], command: click.Command) -> None:
    """Every option that checks its value (a choice, a number, a range) given a bad one."""
    checked = [p for p in command.params if isinstance(p, click.Option) and not p.is_flag and not p.count
               and isinstance(p.type, (click.Choice, click.types.IntParamType, click.types.FloatParamType))]
    for option in checked:
        result = run({}, *path, option.opts[0], "not-a-valid-value", "x")
        assert result.exit_code == EXIT_ERROR, (option.opts, result.output)
        assert "Invalid value" in result.output


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_a_missing_argument_or_option_value_exits_1(path: tuple[str, ...], command: click.Command) -> None:
    required = [p for p in command.params if p.required]
    if isinstance(command, click.Group):
        result = run({}, *path, "no-such-command")
        assert result.exit_code == EXIT_ERROR, result.output
    elif required:
        result = run({}, *path)
        assert result.exit_code == EXIT_ERROR, result.output
        assert "Missing" in result.output
    valued = [p for p in command.params if isinstance(p, click.Option) and not p.is_flag and not p.count
              and p.nargs == 1]
    for option in valued:  # the option as the last word: its value is missing
        result = run({}, *path, option.opts[0])
        assert result.exit_code == EXIT_ERROR, (option.opts, result.output)


@pytest.mark.parametrize(("args", "hint"), [
    (["apply", "-auto-approve", "x.yaml"], "did you mean --auto-approve?"),
    (["plan", "-out=plan.json", "x.yaml"], "did you mean --out=plan.json?"),
    (["plan", "-detailed-exitcode", "x.yaml"], "did you mean --detailed-exitcode?"),
    (["plan", "-lock-timeout=5", "x.yaml"], "did you mean --lock-timeout=5?"),
    (["plan", "-auto-approve", "x.yaml"], "did you mean --auto-approve? (an option of another command, not of plan)"),
])
def test_terraform_single_dash_spellings_get_a_hint(args: list[str], hint: str) -> None:
    result = run({}, *args)
    assert result.exit_code == EXIT_ERROR
    assert hint in result.output


def test_a_real_process_exits_1_on_a_usage_error(tmp_path: Path) -> None:
    """The installed entry point, not only click's test runner."""
    proc = subprocess.run([sys.executable, "-m", "telegent_iac", "plan", "-detailed-exitcode", "x.yaml"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == EXIT_ERROR, proc.stderr
    assert "did you mean --detailed-exitcode?" in proc.stderr


def test_detailed_exitcode_2_means_changes_and_0_none(tmp_path: Path, sandbox: SandboxServer) -> None:
    env = cli_env(sandbox)
    config, state = copy_example(tmp_path), state_path(tmp_path)
    assert run(env, "plan", config, "--state", state, "--detailed-exitcode").exit_code == 2
    assert run(env, "apply", config, "--state", state, "--auto-approve").exit_code == 0
    assert run(env, "plan", config, "--state", state, "--detailed-exitcode").exit_code == 0
    # an error is 1 even with --detailed-exitcode
    assert run(env, "plan", tmp_path / "missing.yaml", "--state", state, "--detailed-exitcode").exit_code == 1


def test_an_interrupt_before_a_command_has_its_own_handler_exits_130() -> None:
    """Ctrl-C while click parses or loads a command: 130 as documented, not click's 1."""
    group = Cli(name="telegent-iac")

    @group.command()
    def slow() -> None:  # no handler of its own, as while a lazy command is imported
        raise KeyboardInterrupt

    result = CliRunner().invoke(group, ["slow"])
    assert result.exit_code == EXIT_INTERRUPTED
    assert "Interrupted." in result.output
