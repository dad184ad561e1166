"""Command line: parses flags, calls the stages in telegent_iac.workflow, maps errors to exit
codes. Exit codes: 0 success (plan: no changes), 1 error (usage errors included), 2 changes
present (plan --detailed-exitcode only), 130 interrupted."""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import logging
import os
import platform
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from telegent_iac import __version__
from telegent_iac.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_INTERRUPTED, TelegentError, UserError
from telegent_iac.safety import secrets
from telegent_iac.safety.terminal import escape_text
from telegent_iac.state import DEFAULT_STATE_PATH
from telegent_iac.state.store import LockError, StateStore

if TYPE_CHECKING:
    from telegent_iac import workflow
    from telegent_iac.apply.events import ApplyResult, Event
    from telegent_iac.plan.changes import Plan
    from telegent_iac.plan.planner import PlanOptions
    from telegent_iac.state.records import State
else:

    class _Lazy(ModuleType):
        """A module imported on first use: `--version` and `--help` must not pay for the HTTP
        client, the schema validator or the planner (most of the start-up time)."""

        def __getattr__(self, name: str) -> Any:
            import importlib

            return getattr(importlib.import_module(self.__name__), name)

    workflow = _Lazy("telegent_iac.workflow")

F = TypeVar("F", bound=Callable[..., Any])


def err(message: str) -> None:
    """A human-facing line on stderr: terminal-safe (redacted on its way out, as all output)."""
    click.echo(escape_text(message), err=True)


def say(message: str, nl: bool = True) -> None:
    """A human-facing line on stdout (machine output, JSON, goes out with click.echo as is)."""
    click.echo(escape_text(message), nl=nl)


def interrupted() -> NoReturn:
    err("\nInterrupted.")
    sys.exit(EXIT_INTERRUPTED)


def handle_errors(fn: F) -> F:
    """User mistakes and API failures become one clear message and exit 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TelegentError as exc:
            for problem in exc.problems:
                err(escape_text(str(problem), keep=""))  # one line each, whatever the file held
            headline = exc.headline()
            err(f"Error: {escape_text(headline, keep='') if exc.quotes_untrusted_text else headline}")
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            # Ctrl-C outside the apply loop (which has its own handler) leaves no call half-done
            # and the lock is released on the way out: exit 130 as documented, not click's
            # "Aborted!" and 1.
            interrupted()

    return wrapper  # type: ignore[return-value]


class SafeFormatter(logging.Formatter):
    """Log records are human-facing lines too (server messages reach them at -v and -vv)."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_text(super().format(record))


def use_color(no_color: bool) -> bool:
    """--no-color, then NO_COLOR, then FORCE_COLOR, then whether stdout is a terminal. As the
    conventions say, only a non-empty NO_COLOR / FORCE_COLOR counts (`NO_COLOR=` is unset)."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


# --- shared options ---------------------------------------------------------------------------------


def state_options(fn: F) -> F:
    fn = click.option(
        "--lock-timeout", default=0.0, show_default=True, type=float, metavar="SECONDS",
        help="Wait this long for another run's state lock before giving up.",
    )(fn)
    fn = click.option(
        "--state", "state_location", envvar="TELEGENT_STATE", default=DEFAULT_STATE_PATH, show_default=True,
        help="State location: a JSON file path, or postgresql://... for a shared state (env TELEGENT_STATE).",
    )(fn)
    return fn


def api_options(fn: F) -> F:
    fn = click.option(
        "--sandbox", is_flag=True,
        help="Run against the built-in Telegent sandbox (a local emulator, not Telegent) on an "
        "ephemeral loopback port, with its database beside the state. Needs no credentials. Its "
        "state defaults to state/sandbox.state.json, never the real account's.",
    )(fn)
    return fn


def _remember_allowed(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    ctx.meta["allow_secret_vars"] = tuple(value)


def allow_secret_option(fn: F) -> F:
    """--allow-secret-var NAME; read by settings_from, so commands need no parameter for it."""
    return click.option(
        "--allow-secret-var", multiple=True, metavar="NAME", expose_value=False, callback=_remember_allowed,
        help="Allow ${env.NAME} / ${var.NAME} although the name looks like a credential (secret, token, "
        "password, key...): its value is then shown in the plan and kept in the state. Repeatable. "
        "TELEGENT_ACCOUNT_* is never allowed.",
    )(fn)


def config_options(fn: F) -> F:
    fn = allow_secret_option(fn)
    fn = click.option(
        "--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False),
        help="YAML file of variables for ${var.NAME} (repeatable; e.g. one per environment).",
    )(fn)
    fn = click.argument("paths", nargs=-1, required=True, type=click.Path())(fn)
    return fn


def _refresh_mode(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """--refresh summary | full | sample=N."""
    text = value.strip()
    if text in ("summary", "full"):
        return text
    count = text.removeprefix("sample=")
    if text.startswith("sample=") and count.isdigit() and int(count) > 0:
        return f"sample={int(count)}"
    raise click.BadParameter(f"{value!r} is not one of summary, full, sample=N (N a whole number above 0)")


def plan_options(fn: F) -> F:
    for decorator in reversed([
        click.option("--refresh", default="summary", show_default=True, callback=_refresh_mode,
                     metavar="summary|full|sample=N",
                     help="summary: one list call. full: also read every managed workgroup's details "
                     "(paced, --parallelism at once) and report changes made outside telegent-iac. "
                     "sample=N: read only the N verified longest ago and record when (the state keeps "
                     "it), so scheduled runs cover every workgroup in turn within the rate limit."),
        click.option("--refresh-only", is_flag=True,
                     help="Accept what is live into the state (after a full refresh); no write endpoint is called."),
        click.option("--allow-delete", is_flag=True,
                     help="Delete workgroups that are in the state but no longer declared "
                     "(never those with prevent_destroy)."),
        click.option("--allow-replace", is_flag=True,
                     help="Allow delete-and-create when a field the update endpoint does not accept changes."),
        click.option("--destroy-threshold", default=30.0, show_default=True, type=float, metavar="PERCENT",
                     help="Refuse a plan that deletes or replaces more than this share of the managed "
                     "workgroups (applies from 10 managed workgroups on)."),
        click.option("--force", is_flag=True, help="Override --destroy-threshold."),
        click.option("--target", "targets", multiple=True, metavar="ADDRESS",
                     help="Plan only this workgroup address (a schedule: schedule.ADDRESS) and what it needs "
                     "first: the workgroups it refers to, the schedules they use (repeatable). "
                     "The plan is partial: for exceptions, such as fixing one menu while other changes wait."),
        click.option("--no-color", is_flag=True, help="Plain output (also when NO_COLOR is set and not empty)."),
    ]):
        fn = decorator(fn)
    return fn


def settings_from(paths: tuple[str, ...], state_location: str, lock_timeout: float, sandbox: bool,
                  var_files: tuple[str, ...] = (), parallelism: int = 4) -> workflow.Settings:
    if sandbox and _defaulted("state_location"):
        state_location = workflow.SANDBOX_STATE_PATH  # the sandbox's account never shares the real state
    ctx = click.get_current_context(silent=True)
    allowed = tuple(ctx.meta.get("allow_secret_vars", ())) if ctx is not None else ()
    env = dict(os.environ)
    # Every credential-named variable's value is kept out of every output from here on, except
    # those the user explicitly allowed into the configuration.
    secrets.register_environment({k: v for k, v in env.items() if k not in allowed})
    return workflow.Settings(
        config_paths=list(paths), state_location=state_location, env=env,
        var_files=list(var_files), lock_timeout=lock_timeout, sandbox=sandbox,
        parallelism=parallelism, progress=err, allow_secret_vars=allowed, start_sandbox=start_sandbox,
    )


@contextlib.contextmanager
def start_sandbox(db: Path, rate_limit: int) -> Iterator[workflow.Endpoint]:
    """The --sandbox hook: the built-in emulator on a free loopback port."""
    from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxOptions, SandboxServer

    with SandboxServer(SandboxOptions(port=0, db=str(db), rate_limit=rate_limit)) as server:
        yield workflow.Endpoint(server.url, DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET)


def _defaulted(param: str) -> bool:
    """Whether the current command's `param` kept its default (neither flag nor environment)."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.get_parameter_source(param) in (
        click.core.ParameterSource.DEFAULT, click.core.ParameterSource.DEFAULT_MAP)


def options_from(refresh: str, refresh_only: bool, allow_delete: bool, allow_replace: bool,
                 destroy_threshold: float, force: bool, targets: tuple[str, ...] = ()) -> PlanOptions:
    from telegent_iac.plan.planner import PlanOptions

    mode, _, sample = refresh.partition("=")
    return PlanOptions(
        allow_delete=allow_delete, allow_replace=allow_replace,
        refresh="refresh-only" if refresh_only else mode, sample=int(sample or 0),
        destroy_threshold=destroy_threshold, force=force, targets=tuple(targets),
    )


parallelism_option = click.option(
    "--parallelism", default=4, show_default=True, type=click.IntRange(1, 64),
    help="Calls in flight at once (always within the account's rate limit).")


@contextlib.contextmanager
def locked(store: StateStore, operation: str, timeout: float) -> Iterator[None]:
    """The store's lock; when another run holds it and --lock-timeout allows waiting, say once
    whose lock we are waiting for (a silent wait looks like a hang in a CI log)."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(store.lock(operation, 0.0))
        except LockError as exc:
            if timeout <= 0:
                raise
            holder = exc.holder
            who = (f"{holder.user}@{holder.host} (pid {holder.pid}, '{holder.operation}' since {holder.created}, "
                   f"lock ID {holder.id})" if holder else "another run")
            err(f"Waiting up to {timeout:g}s for the lock on state {store.description} held by {who}...")
            stack.enter_context(store.lock(operation, timeout))
        yield


# --- exit codes for usage errors ------------------------------------------------------------------

# `-auto-approve`, `-out=plan.json`: Terraform's single-dash spelling of a long option.
_SINGLE_DASH = re.compile(r"^-([a-z][a-z0-9]*(?:-[a-z0-9]+)+|[a-z]{3,})(=.*)?$")


def _long_options(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in param.opts if opt.startswith("--")}


def _all_long_options(command: click.Command) -> set[str]:
    found = _long_options(command)
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):  # loads the lazy ones: only after a usage error
            sub = command.get_command(ctx, name)
            if sub is not None:
                found |= _all_long_options(sub)
    return found


def single_dash_hint(args: list[str], command: click.Command, root: click.Command) -> str:
    """'did you mean --auto-approve?' for each Terraform-style single-dash long option."""
    own, anywhere = _long_options(command), _all_long_options(root)
    hints = []
    for arg in args:
        match = _SINGLE_DASH.match(arg)
        if match is None or f"--{match.group(1)}" not in own | anywhere:
            continue
        where = "" if f"--{match.group(1)}" in own else f" (an option of another command, not of {command.name})"
        hints.append(f"{arg}: did you mean -{arg}?{where} telegent-iac spells long options with two dashes.")
    return "\n".join(hints)


class Cli(click.Group):
    """The root group. A usage error (unknown flag, bad value, missing argument) exits 1 like
    every other error: click's own code for it is 2, which `plan --detailed-exitcode` uses for
    "changes present", so a typo in a pipeline would read as a plan with changes."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # The one place output leaves the process: every known secret is redacted there.
        with secrets.redacted_output():
            return super().main(*args, **kwargs)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        raw = list(args)
        try:
            ctx = super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise self._usage_error(exc, raw) from None
        except KeyboardInterrupt:
            interrupted()
        ctx.meta["telegent_iac.args"] = raw
        return ctx

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            import importlib

            module, attribute, _ = LAZY_COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list without loading the lazy commands (their short help is above)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in LAZY_COMMANDS and name not in self.commands:
                rows.append((name, click.Command(name, help=LAZY_COMMANDS[name][2]).get_short_help_str(limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise self._usage_error(exc, ctx.meta.get("telegent_iac.args", [])) from None
        except KeyboardInterrupt:  # while loading a command, before its own handler runs
            interrupted()

    def _usage_error(self, exc: click.UsageError, args: list[str]) -> click.UsageError:
        if isinstance(exc, PipelineUsageError):
            return exc  # from a nested group: already mapped
        command = exc.ctx.command if exc.ctx is not None else self
        message = escape_text(exc.format_message())  # it quotes what was typed (or pasted)
        hint = single_dash_hint(args, command, self)
        return PipelineUsageError(f"{message}\n{hint}" if hint else message, ctx=exc.ctx)


class PipelineUsageError(click.UsageError):
    """A usage error that exits 1 (see Cli)."""

    exit_code = EXIT_ERROR


# --- commands ----------------------------------------------------------------------------------------


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="telegent-iac")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for HTTP calls).")
def main(verbose: int) -> None:
    """Telegent call-routing workgroups as code.

    Keep workgroups (IVR menus, simultaneous-ring and round-robin groups) and their members in
    YAML; `plan` shows exactly what would change in the account, `apply` makes only those calls
    and records every WorkgroupId in the state.

    Credentials come from TELEGENT_ACCOUNT_KEY and TELEGENT_ACCOUNT_SECRET (TELEGENT_API_URL to
    point elsewhere); or add --sandbox to plan/apply to try everything against the built-in
    emulator. Exit codes: 0 ok, 1 error (a usage error too), 2 changes present (only with plan
    --detailed-exitcode), 130 interrupted. Options take two dashes: --auto-approve.
    """
    # A run allocates hundreds of thousands of small containers (YAML events, dicts, position
    # marks) and makes next to no reference cycles, yet the default thresholds collect every
    # 700 allocations and rescan the growing heap: ~25% of a 10,000-workgroup no-op plan.
    gc.freeze()  # what the imports made is never garbage
    gc.set_threshold(100_000, 50, 100)
    # Optional modules the HTTP stack imports when they are installed and this tool never uses:
    # httpx's command-line client (rich, pygments, click's full set) and trio, which httpcore
    # probes for async locks (the client is synchronous). Marked absent, both libraries take
    # their documented fallbacks; together they were more than half of importing httpx.
    for unused in ("httpx._main", "trio"):
        sys.modules.setdefault(unused, None)  # type: ignore[arg-type]
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


DEFAULT_CONFIG_DIR = "telegent"
PRE_COMMIT_HINT = ("In .pre-commit-config.yaml, set this hook's `args:` to your config files or directories, "
                   "e.g. `args: [path/to/config/]`.")


def config_paths_or_default(paths: tuple[str, ...], pre_commit: bool) -> tuple[str, ...]:
    """PATHS, or telegent/ in the current directory when none are given. Run as the pre-commit
    hook, a missing path names the `args:` to set: the hook's user never typed the command."""
    hint = f" {PRE_COMMIT_HINT}" if pre_commit else ""
    if not paths:
        if Path(DEFAULT_CONFIG_DIR).is_dir():
            return (f"{DEFAULT_CONFIG_DIR}/",)
        raise UserError(f"no configuration given and there is no {DEFAULT_CONFIG_DIR}/ directory here: "
                        f"name the config files or directories.{hint}")
    missing = [p for p in paths if not Path(p).exists()]
    if pre_commit and missing:
        raise UserError(f"{', '.join(missing)}: no such file or directory.{hint}")
    return paths


def hook_options(fn: F) -> F:
    fn = click.option("--pre-commit", "pre_commit", is_flag=True, hidden=True,
                      help="Set by the pre-commit hook: errors about paths say which args: to set.")(fn)
    fn = click.argument("paths", nargs=-1, type=click.Path())(fn)
    return fn


@main.command()
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
    desired = workflow.load_desired(settings, all_warnings=True)
    counts = [f"{n} {what if n != 1 else what[:-1]}" for n, what in (
        (len(desired.workgroups), "workgroups"), (len(desired.schedules), "schedules"),
        (len(desired.routing_tests), "routing tests"), (len(desired.warnings), "routing warnings"),
    ) if n or what == "workgroups"]
    say(f"The configuration is valid: {', '.join(counts)}.")


@main.command()
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
        desired = workflow.load_desired(settings)
        store = workflow.store_for(settings)
        with locked(store, "plan", lock_timeout):
            state = workflow.read_state_for(store, desired, options.targets)
            with workflow.open_client(settings) as client:
                live = workflow.list_and_bind(state, client, settings, store.description)
                the_plan, _ = workflow.compute_plan(desired, state, client, options, err, live=live,
                                                    parallelism=parallelism, record=store)
    if out:
        workflow.write_plan_file(Path(out), the_plan, settings, options, state)
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


@main.command()
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
        saved = workflow.read_plan_file(plan_path)
        paths = tuple(saved[1]["config"])
        var_files = tuple(saved[1].get("var_files", ()))
        sandbox = sandbox or saved[1].get("sandbox") is True  # made with --sandbox: applied there too
        ctx = click.get_current_context()
        ctx.meta["allow_secret_vars"] = (*ctx.meta.get("allow_secret_vars", ()),
                                         *saved[1].get("allow_secret_vars", ()))
    settings = settings_from(paths, state_location, lock_timeout, sandbox, var_files, parallelism)
    options = options_from(refresh, refresh_only, allow_delete, allow_replace, destroy_threshold, force, targets)
    stream = JsonStream() if as_json else None
    with stream.diagnostics() if stream else contextlib.nullcontext():
        desired = workflow.load_desired(settings)
        store = workflow.store_for(settings)
        with locked(store, "apply", lock_timeout):
            # a saved plan's targets were checked when it was made (a changed config or state makes it stale)
            state = workflow.read_state_for(store, desired, () if saved else options.targets)
            with workflow.open_client(settings) as client:
                the_plan, state = workflow.plan_for_apply(desired, store, state, client, options, settings,
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
                result = _run_apply(the_plan, state, store, client, settings, stream)
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


def _run_apply(the_plan: Plan, state: State, store: StateStore, client: Any, settings: workflow.Settings,
               stream: JsonStream | None) -> ApplyResult:
    from telegent_iac.apply.executor import Applier

    stop = threading.Event()

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.is_set():
            err("\nSecond interrupt: stopping now. The next run resolves any unfinished create.")
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        err("\nInterrupt received: letting calls in flight finish and record; starting nothing new. "
            "Press Ctrl-C again to stop at once.")

    def on_event(event: Event) -> None:
        if stream:
            stream.event(event)
            return
        what = event.address + (f" member {event.member}" if event.member else "")
        progress = f"[{event.completed}/{event.total}] " if event.total else ""
        if event.kind == "start":
            err(f"{progress}{what}: {event.step}...")
        elif event.kind == "done":
            ident = f" [id={event.resource_id}]" if event.resource_id else ""
            err(f"{progress}{what}: {event.step} complete after {event.seconds:.1f}s{ident}")
        elif event.kind == "error":
            err(f"{progress}{what}: {event.step} FAILED: {event.message}")
        else:
            err(f"{what}: {event.message}")

    previous = signal.signal(signal.SIGINT, on_sigint) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        applier = Applier(the_plan, state, store, client, parallelism=settings.parallelism,
                          on_event=on_event, stop=stop, audit=store.append_audit, lock_lost=store.lock_lost)
        return applier.run()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _finish(result: ApplyResult, stream: JsonStream | None) -> None:
    summary = (f"Resources: {result.added} added, {result.changed} changed, {result.destroyed} destroyed"
               + (f", {result.imported} imported" if result.imported else "") + ".")
    if stream:
        stream.summary(result)
    if result.interrupted:
        err(f"Apply interrupted. {summary} Every completed call is recorded in the state.")
        sys.exit(EXIT_INTERRUPTED)
    if result.errors:
        for message in result.errors:
            err(f"Error: {message}")
        recorded = ("Completed calls are recorded in the state" if not result.unrecorded else
                    f"{result.unrecorded} call(s) that succeeded could not be recorded in the state (see above)")
        err(f"Apply failed. {summary} {recorded}; nothing new was started.")
        sys.exit(EXIT_ERROR)
    if not stream:
        say(f"Apply complete! {summary}")


def json_line(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def json_diagnostics(write: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """Machine output (`plan --json`, `apply --json`) ends with a `diagnostic` line when the run
    fails before it has anything else to say (the message still goes to stderr too)."""
    try:
        yield
    except TelegentError as exc:
        problems = [str(p) for p in exc.problems]
        write({"type": "diagnostic", "severity": "error", "message": str(exc), "problems": problems})
        raise


class JsonStream:
    """`apply --json`: one JSON object per line on stdout."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._write({"type": "version", "telegent_iac": __version__, "ui_format": "1.0"})

    def _write(self, obj: dict[str, Any]) -> None:
        with self._lock:
            json_line(obj)

    def diagnostics(self) -> contextlib.AbstractContextManager[None]:
        return json_diagnostics(self._write)

    def planned(self, the_plan: Plan) -> None:
        from telegent_iac.render.json_view import plan_json

        body = plan_json(the_plan)
        for change in body["resource_changes"]:
            if change["actions"] != ["no-op"] or any(m["actions"] != ["no-op"] for m in change["members"]):
                self._write({"type": "planned_change", "change": change})
        self._write({"type": "plan_summary", "summary": body["summary"], "has_changes": body["has_changes"]})

    def event(self, event: Event) -> None:
        kind = {"start": "apply_start", "done": "apply_complete", "error": "apply_errored"}.get(event.kind, "note")
        obj: dict[str, Any] = {"type": kind, "address": event.address, "action": event.step}
        if event.member:
            obj["member"] = event.member
        if event.resource_id:
            obj["id"] = event.resource_id
        if event.kind == "done":
            obj["elapsed_seconds"] = round(event.seconds, 3)
        if event.message:
            obj["message"] = event.message
        self._write(obj)

    def summary(self, result: ApplyResult) -> None:
        self._write({
            "type": "change_summary",
            "added": result.added, "changed": result.changed, "destroyed": result.destroyed,
            "imported": result.imported, "errors": result.errors, "interrupted": result.interrupted,
        })


@main.command()
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable plan.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--no-color", is_flag=True, help="Plain output (also when NO_COLOR is set and not empty).")
@handle_errors
def show(plan_file: str, as_json: bool, fmt: str, no_color: bool) -> None:
    """Print a saved plan again (text, JSON or Markdown)."""
    the_plan, _ = workflow.read_plan_file(Path(plan_file))
    emit_plan(the_plan, "json" if as_json else fmt, use_color(no_color))


@main.command("fmt")
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


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
def version(as_json: bool) -> None:
    """Print the version of telegent-iac (and of Python and the plan format)."""
    from telegent_iac.plan.changes import PLAN_FORMAT_VERSION

    info = {"telegent_iac": __version__, "plan_format_version": PLAN_FORMAT_VERSION,
            "python": platform.python_version(), "platform": sys.platform}
    if as_json:
        click.echo(json.dumps(info))
    else:
        click.echo(f"telegent-iac {__version__} (plan format {PLAN_FORMAT_VERSION}; "
                   f"Python {info['python']} on {sys.platform})")


@main.command()
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

    desired = workflow.load_desired(settings_from(paths, DEFAULT_STATE_PATH, 0, False, var_files))
    the_flow = flow.build(desired.workgroups)
    click.echo(diagram.dot(the_flow) if fmt == "dot" else diagram.mermaid(the_flow), nl=False)


@main.command("test")
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
    desired = workflow.load_desired(settings_from(paths, DEFAULT_STATE_PATH, 0, False, var_files))
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


@main.command()
def schema() -> None:
    """Print the configuration's JSON Schema (for editors), derived from the vendored spec."""
    from telegent_iac.config import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command("force-unlock")
@click.argument("lock_id")
@state_options
@handle_errors
def force_unlock(lock_id: str, state_location: str, lock_timeout: float) -> None:
    """Remove a stuck state lock. LOCK_ID is the ID shown in the "locked by" message."""
    store = workflow.store_for(settings_from((), state_location, lock_timeout, False))
    store.force_unlock(lock_id)
    say(f"Lock {lock_id} removed.")


# Commands defined elsewhere, loaded when used (the sandbox and the lifecycle commands pull
# in the HTTP server, the client and the planner): name -> (module, attribute, short help).
LAZY_COMMANDS = {
    "sandbox": ("telegent_sandbox.command", "sandbox_command", "Run a local emulator of Telegent's workgroup API."),
    "import": ("telegent_iac.cli_lifecycle", "import_command",
               "Adopt the live workgroup WORKGROUP_ID into the state under ADDRESS."),
    "export": ("telegent_iac.cli_lifecycle", "export_command",
               "Write the configuration and the state of every live workgroup (for onboarding)."),
    "state": ("telegent_iac.cli_lifecycle", "state_group", "Inspect and edit the state without touching the account."),
}

if __name__ == "__main__":
    main()
