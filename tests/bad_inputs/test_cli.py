"""The bad-input corpus at the command line: for every case `validate` and `plan` exit 1,
print each expected problem as FILE:LINE:COLUMN: MESSAGE, print no traceback, and the sandbox
(whose URL and credentials are in the environment) receives zero requests.

The expectations are the corpus's own (tests/bad_inputs/expected.yaml via its helper); this
file only adds the command-line view. The default run drives the real click command
in-process (about 220 runs in a few seconds); the slow run starts each as a subprocess.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from telegent_iac.cli import main
from telegent_sandbox import SandboxServer
from tests.bad_inputs import Case, cases, generated_cases
from tests.support.cli import Cli, subprocess_env
from tests.support.trials import Figures

ALL = cases()
COMMANDS = ("validate", "plan")


def _args(command: str, case: Case, tmp: Path) -> list[str]:
    if command == "plan":
        return ["plan", "--state", str(tmp / "state" / "telegent.state.json"), str(case.path)]
    return ["validate", str(case.path)]


def _check_output(case: Case, command: str, code: int, stdout: str, stderr: str) -> None:
    context = f"{case.name}: `{command}` exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    assert code == 1, context
    assert "Traceback" not in stdout + stderr, context
    lines = stderr.splitlines()
    for expected in case.expected:
        where = f"{expected.file}:{expected.line}:{expected.column}: "
        assert any(line.startswith(where) and expected.text in line for line in lines), \
            f"expected {expected}\n{context}"


def test_corpus_is_large_enough() -> None:
    assert len(ALL) >= 60


@pytest.mark.parametrize("command", COMMANDS)
def test_every_case_in_process(command: str, sandbox: SandboxServer, tmp_path: Path, figures: Figures,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in subprocess_env(sandbox).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    every = ALL + generated_cases(tmp_path)
    for case in every:
        result = runner.invoke(main, _args(command, case, tmp_path), env=case.env or None, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{case.name}: `{command}` raised {result.exception!r}") from result.exception
        _check_output(case, command, result.exit_code, result.stdout, result.stderr)
    assert sandbox.control.request_count() == 0, sandbox.control.requests()[:5]
    assert not (tmp_path / "state" / "telegent.state.json").exists()
    figures.add(bad_input_cases=len(every) if command == "validate" else 0, bad_input_cli_runs=len(every),
                bad_input_requests_sent=sandbox.control.request_count())


@pytest.mark.slow
@pytest.mark.parametrize("case", ALL, ids=[case.name for case in ALL])
def test_every_case_subprocess(case: Case, sandbox: SandboxServer, tmp_path: Path) -> None:
    cli = Cli(subprocess_env(sandbox), tmp_path)
    for command in COMMANDS:
        result = cli.run(*_args(command, case, tmp_path), env=case.env)
        _check_output(case, command, result.returncode, result.stdout, result.stderr)
    assert sandbox.control.request_count() == 0
