"""Start-up: `--version` and `--help` load neither the HTTP client, the schema validator nor
the sandbox (most of a run's start-up time); the lazily loaded commands still work."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from telegent_iac.cli import main
from telegent_iac.cli.root import LAZY_COMMANDS
from tests.support import REPO

HEAVY = ("httpx", "jsonschema", "telegent_sandbox", "telegent_iac.ops.run", "telegent_iac.spec")

PROBE = """
import sys
sys.argv = ["telegent-iac", *sys.argv[1:]]
from telegent_iac.cli import main
try:
    main()
except SystemExit:
    pass
print("LOADED", *sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_load_nothing_heavy(args: list[str]) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], capture_output=True,
                          text=True, env=env, timeout=60, check=True)
    loaded = done.stderr.strip().splitlines()[-1].split()[1:]
    assert loaded == [], done.stderr
    assert done.stdout


def test_the_short_help_of_a_lazy_command_is_its_own() -> None:
    ctx = click.Context(main)
    for name, (_, _, short) in LAZY_COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None
        first = (command.help or "").split("\n\n")[0].replace("\n", " ").strip()
        assert first == short, name


def test_lazy_commands_run() -> None:
    result = CliRunner().invoke(main, ["state", "list", "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert CliRunner().invoke(main, ["sandbox", "--help"]).exit_code == 0
