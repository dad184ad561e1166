"""plan, apply, show, force-unlock: the commands that compare with (and change) the account."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from telegent_iac.cli.flags import (
    allow_secret_option,
    api_options,
    config_options,
    locked,
    options_from,
    parallelism_option,
    plan_options,
    settings_from,
    state_options,
)
from telegent_iac.cli.output import err, handle_errors, json_diagnostics, json_line, say, use_color
from telegent_iac.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_INTERRUPTED, UserError
from telegent_iac.ops import run
from telegent_iac.ops.load import load_desired
from telegent_iac.render import progress

if TYPE_CHECKING:
    from telegent_iac.apply.events import ApplyResult
    from telegent_iac.plan.changes import Plan


@click.command()
@config_options
@state_options
@api_options
@plan_options
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="Save the plan to FILE; `apply FILE` carries out exactly that plan.")
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable plan (docs/json-format.md).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="Output format; markdown is for pull-request comments.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 for no changes, 1 for an error, 2 for changes.")
@parallelism_option
@handle_errors
def plan(paths: tuple[str, ...], var_files: tuple[str, ...], state_location: str, lock_timeout: float,
         sandbox: bool, refresh: str, refresh_only: bool, allow_delete: bool, allow_replace: bool,
         destroy_threshold: float, force: bool, targets: tuple[str, ...], no_color: bool, out: str | None,
         as_json: bool, fmt: str, detailed_exitcode: bool, parallelism: int) -> None:
    """Show what apply would change, without changing anything.

    Compares the YAML with the state and the live account (one list call by default). The plan
    goes to stdout, progress and logs to stderr. It never changes the account; the state only
    with --refresh sample=N, which records when the sampled workgroups were verified.
    """
    settings = settings_from(paths, state_location, lock_timeout, sandbox, var_files, parallelism)
    options = options_from(refresh, refresh_only, allow_delete, allow_replace, destroy_threshold, force, targets)
    machine = as_json or fmt == "json"
    with json_diagnostics(json_line) if machine else contextlib.nullcontext():
        desired = load_desired(settings)
        store = run.store_for(settings)
        with locked(store, "plan", lock_timeout):
            state = run.read_state_for(store, desired, options.targets)
            with run.open_client(settings) as client:
                live = run.list_and_bind(state, client, settings, store.description)
                the_plan, _ = run.compute_plan(desired, state, client, options, err, live=live,
                                               parallelism=parallelism, record=store)
    if out:
        run.write_plan_file(Path(out), the_plan, settings, options, state)
        err(f"Saved the plan to {out}; apply it with: telegent-iac apply {out}")
    emit_plan(the_plan, "json" if as_json else fmt, use_color(no_color))
    if not the_plan.ok:
        sys.exit(EXIT_ERROR)
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(EXIT_CHANGES)


def emit_plan(the_plan: Plan, fmt: str, color: bool) -> None:
    from telegent_iac.render.json_view import render_json
    from telegent_iac.render.markdown import render_markdown
    from telegent_iac.render.text import render_text

    if fmt == "json":
        click.echo(render_json(the_plan), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown(the_plan), nl=False)
    else:
        click.echo(render_text(the_plan, color), nl=False, color=color)  # click strips it off a terminal


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False),
              help="YAML file of variables for ${var.NAME} (repeatable).")
@allow_secret_option
@state_options
@api_options
@plan_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (needed without a terminal).")
@parallelism_option
@click.option("--json", "as_json", is_flag=True, help="Stream progress as JSON lines on stdout.")
@handle_errors
def apply(paths: tuple[str, ...], var_files: tuple[str, ...], state_location: str, lock_timeout: float,
          sandbox: bool, refresh: str, refresh_only: bool, allow_delete: bool, allow_replace: bool,
          destroy_threshold: float, force: bool, targets: tuple[str, ...], no_color: bool, auto_approve: bool,
          parallelism: int, as_json: bool) -> None:
    """Make the account match the YAML (or carry out a saved plan).

    PATHS are configuration files/directories, or one saved plan file from `plan --out`,
    which is carried out exactly, without a prompt, with its own options (and in the sandbox if
    it was made with --sandbox). It is refused if the file was edited or if planning now, from
    the current configuration, state and account, gives any other plan. Every call is made in
    dependency order; the state is written after each one.
    """
    saved: tuple[Plan, dict[str, Any]] | None = None
    plan_path = Path(paths[0])
    if len(paths) == 1 and plan_path.is_file() and _looks_like_plan(plan_path):
        saved = run.read_plan_file(plan_path)
        paths = tuple(saved[1]["config"])
        var_files = tuple(saved[1].get("var_files", ()))
        sandbox = sandbox or saved[1].get("sandbox") is True  # made with --sandbox: applied there too
        ctx = click.get_current_context()
        ctx.meta["allow_secret_vars"] = (*ctx.meta.get("allow_secret_vars", ()),
                                         *saved[1].get("allow_secret_vars", ()))
    settings = settings_from(paths, state_location, lock_timeout, sandbox, var_files, parallelism)
    options = options_from(refresh, refresh_only, allow_delete, allow_replace, destroy_threshold, force, targets)
    stream = progress.JsonStream(json_line) if as_json else None
    with json_diagnostics(stream.write) if stream else contextlib.nullcontext():
        desired = load_desired(settings)
        store = run.store_for(settings)
        with locked(store, "apply", lock_timeout):
            # a saved plan's targets were checked when it was made (a changed config or state makes it stale)
            state = run.read_state_for(store, desired, () if saved else options.targets)
            with run.open_client(settings) as client:
                the_plan, state = run.plan_for_apply(desired, store, state, client, options, settings,
                                                     saved, plan_path)
                if stream:
                    stream.planned(the_plan)
                elif saved is None:
                    emit_plan(the_plan, "text", use_color(no_color))
                if saved is None:  # a saved plan was reviewed already: no prompt
                    if not the_plan.ok:
                        raise UserError("the plan cannot be applied (see the errors above)")
                    if not the_plan.has_changes:
                        from telegent_iac.apply.events import ApplyResult

                        _finish(ApplyResult(), stream)
                        return
                    _confirm(auto_approve)
                on_event = stream.event if stream else lambda event: err(progress.event_line(event))
                result = run.carry_out(the_plan, state, store, client, settings, on_event)
    _finish(result, stream)


def _looks_like_plan(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(4096)
            if not head.lstrip().startswith(b"{"):
                return False
            # Keys are sorted, so "kind" comes after the account and the list of config
            # paths: with many paths it is past the first 4 KiB.
            head += f.read()
    except OSError:
        return False
    from telegent_iac.plan.saved import PLAN_FILE_KIND

    return f'"kind": "{PLAN_FILE_KIND}"'.encode() in head


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise UserError("apply needs --auto-approve when it is not run from a terminal (nothing was changed)")
    click.echo("\nDo you want to perform these actions? Only 'yes' will be accepted.")
    if click.prompt("  Enter a value", default="", show_default=False).strip() != "yes":
        raise UserError("apply cancelled (nothing was changed)")


def _finish(result: ApplyResult, stream: progress.JsonStream | None) -> None:
    if stream:
        stream.summary(result)
    for line in progress.closing_lines(result):
        err(line)
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if result.errors:
        sys.exit(EXIT_ERROR)
    if not stream:
        say(f"Apply complete! {progress.summary(result)}")


@click.command()
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable plan.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--no-color", is_flag=True, help="Plain output (also when NO_COLOR is set and not empty).")
@handle_errors
def show(plan_file: str, as_json: bool, fmt: str, no_color: bool) -> None:
    """Print a saved plan again (text, JSON or Markdown)."""
    the_plan, _ = run.read_plan_file(Path(plan_file))
    emit_plan(the_plan, "json" if as_json else fmt, use_color(no_color))
