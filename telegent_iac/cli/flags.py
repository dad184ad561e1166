"""The options commands share, and how they become a run's Settings and PlanOptions: the one
place the environment is read. Also the --sandbox hook (only the CLI imports the emulator)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from telegent_iac.cli.output import F, err
from telegent_iac.errors import UserError
from telegent_iac.ops.settings import SANDBOX_STATE_PATH, Endpoint, Settings
from telegent_iac.safety import secrets
from telegent_iac.state import DEFAULT_STATE_PATH
from telegent_iac.state.store import LockError, StateStore

if TYPE_CHECKING:
    from telegent_iac.plan.planner import PlanOptions



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
                  var_files: tuple[str, ...] = (), parallelism: int = 4) -> Settings:
    if sandbox and _defaulted("state_location"):
        state_location = SANDBOX_STATE_PATH  # the sandbox's account never shares the real state
    ctx = click.get_current_context(silent=True)
    allowed = tuple(ctx.meta.get("allow_secret_vars", ())) if ctx is not None else ()
    env = dict(os.environ)
    # Every credential-named variable's value is kept out of every output from here on, except
    # those the user explicitly allowed into the configuration.
    secrets.register_environment({k: v for k, v in env.items() if k not in allowed})
    return Settings(
        config_paths=list(paths), state_location=state_location, env=env,
        var_files=list(var_files), lock_timeout=lock_timeout, sandbox=sandbox,
        parallelism=parallelism, progress=err, allow_secret_vars=allowed, start_sandbox=start_sandbox,
    )


@contextlib.contextmanager
def start_sandbox(db: Path, rate_limit: int) -> Iterator[Endpoint]:
    """The --sandbox hook: the built-in emulator on a free loopback port."""
    from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxOptions, SandboxServer

    with SandboxServer(SandboxOptions(port=0, db=str(db), rate_limit=rate_limit)) as server:
        yield Endpoint(server.url, DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET)


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
