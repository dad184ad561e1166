"""Commands that read only the configuration (no request is sent): validate, fmt, graph,
test, schema."""

from __future__ import annotations

import json
import sys

import click

from telegent_iac.cli.flags import (
    DEFAULT_CONFIG_DIR,
    allow_secret_option,
    config_options,
    config_paths_or_default,
    hook_options,
    settings_from,
)
from telegent_iac.cli.output import err, handle_errors, say
from telegent_iac.errors import EXIT_ERROR, UserError
from telegent_iac.ops.load import load_desired
from telegent_iac.state import DEFAULT_STATE_PATH


@click.command()
@hook_options
@click.option("--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False),
              help="YAML file of variables for ${var.NAME} (repeatable; e.g. one per environment).")
@allow_secret_option
@handle_errors
def validate(paths: tuple[str, ...], pre_commit: bool, var_files: tuple[str, ...]) -> None:
    """Check configuration files without contacting Telegent.

    Reports every problem in every file at once as FILE:LINE:COLUMN: MESSAGE and exits 1 if
    there is any. Routing lints (docs/routing.md) report as "error [rule]" (exit 1) or
    "warning [rule]" (printed, exit 0). PATHS are YAML files or directories of them (default:
    telegent/ in the current directory).
    """
    paths = config_paths_or_default(paths, pre_commit)
    settings = settings_from(paths, DEFAULT_STATE_PATH, 0, False, var_files)
    desired = load_desired(settings, all_warnings=True)
    counts = [f"{n} {what if n != 1 else what[:-1]}" for n, what in (
        (len(desired.workgroups), "workgroups"), (len(desired.schedules), "schedules"),
        (len(desired.routing_tests), "routing tests"), (len(desired.warnings), "routing warnings"),
    ) if n or what == "workgroups"]
    say(f"The configuration is valid: {', '.join(counts)}.")


@click.command("fmt")
@hook_options
@click.option("--check", is_flag=True,
              help="Change nothing: list the files that are not in the canonical layout and exit 1 if any is.")
@handle_errors
def fmt_command(paths: tuple[str, ...], pre_commit: bool, check: bool) -> None:
    """Rewrite config files into the canonical layout.

    Fields in the spec's order (unknown keys after them), phone numbers and times
    double-quoted; comments, blank lines, indentation and the order of workgroups are kept.
    Running it twice changes nothing. Prints each file it changed (with --check: would
    change). PATHS are YAML files or directories (default: telegent/).
    """
    from telegent_iac.config.fmt import format_files

    result = format_files(config_paths_or_default(paths, pre_commit), write=not check)
    for shown in result.changed:
        say(shown)
    if result.problems:
        count = len(result.problems)
        raise UserError(f"{count} file{'s' if count != 1 else ''} could not be formatted",
                        problems=sorted(result.problems))
    if check and result.changed:
        err(f"{len(result.changed)} file{'s' if len(result.changed) != 1 else ''} not in the canonical layout; "
            f"run: telegent-iac fmt {' '.join(paths) or DEFAULT_CONFIG_DIR + '/'}")
        sys.exit(EXIT_ERROR)


@click.command()
@config_options
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True,
              help="mermaid renders in GitHub Markdown; dot is for Graphviz.")
@handle_errors
def graph(paths: tuple[str, ...], var_files: tuple[str, ...], fmt: str) -> None:
    """Print the call flow: numbers, workgroups, IVR digits, on/off-hours routes, members.

    Reads only the configuration (no request is sent). Dashed arrows are on-hours and
    off-hours routes, labelled with the workgroup's schedule.
    """
    from telegent_iac.routing import diagram, flow

    desired = load_desired(settings_from(paths, DEFAULT_STATE_PATH, 0, False, var_files))
    the_flow = flow.build(desired.workgroups)
    click.echo(diagram.dot(the_flow) if fmt == "dot" else diagram.mermaid(the_flow), nl=False)


@click.command("test")
@hook_options
@click.option("--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False),
              help="YAML file of variables for ${var.NAME} (repeatable; e.g. one per environment).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON on stdout.")
@handle_errors
def test_command(paths: tuple[str, ...], pre_commit: bool, var_files: tuple[str, ...], as_json: bool) -> None:
    """Run the routing tests (`routing_tests:`) against the declared call flow, offline.

    Each case is a call (number, moment, digits) and what must happen (the workgroup reached,
    who rings, or nobody). Prints each case with the path the call took; exits 1 if any case
    fails or there is none. No request is sent. PATHS default to telegent/ in the current
    directory.
    """
    from telegent_iac.routing import cases

    paths = config_paths_or_default(paths, pre_commit)
    desired = load_desired(settings_from(paths, DEFAULT_STATE_PATH, 0, False, var_files))
    results = cases.run(desired)
    failed = sum(1 for r in results if not r.passed)
    if as_json:
        body = {"passed": len(results) - failed, "failed": failed, "cases": [r.to_dict() for r in results]}
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        for r in results:
            where = f"{r.test.position}: " if r.test.position else ""
            say(f"{'PASS' if r.passed else 'FAIL'} {where}{r.test.name}")
            say(f"     path: {' -> '.join(r.outcome.path)}")
            for failure in r.failures:
                say(f"     {failure}")
        say(f"Routing tests: {len(results) - failed} passed, {failed} failed.")
    if not results:
        err("Error: no routing tests found (add a routing_tests: list; see docs/routing.md)")
        sys.exit(EXIT_ERROR)
    if failed:
        sys.exit(EXIT_ERROR)


@click.command()
def schema() -> None:
    """Print the configuration's JSON Schema (for editors), derived from the vendored spec."""
    from telegent_iac.config import json_schema

    click.echo(json.dumps(json_schema(), indent=2))
