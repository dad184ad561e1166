"""The root command group: the only composition root. It parses flags, loads each command's
module only when that command runs (so `--version`, `--help` and shell completion stay fast),
and maps usage errors to the exit codes pipelines read.

Exit codes: 0 success (plan: no changes), 1 error (usage errors included), 2 changes present
(plan --detailed-exitcode only), 130 interrupted.
"""

from __future__ import annotations

import gc
import re
import sys
from typing import Any

import click

from telegent_iac import __version__
from telegent_iac.cli.output import configure_logging, interrupted
from telegent_iac.errors import EXIT_ERROR
from telegent_iac.safety import secrets
from telegent_iac.safety.terminal import escape_text

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
    configure_logging(verbose)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
def version(as_json: bool) -> None:
    """Print the version of telegent-iac (and of Python and the plan format)."""
    import json
    import platform

    from telegent_iac.plan.changes import PLAN_FORMAT_VERSION

    info = {"telegent_iac": __version__, "plan_format_version": PLAN_FORMAT_VERSION,
            "python": platform.python_version(), "platform": sys.platform}
    if as_json:
        click.echo(json.dumps(info))
    else:
        click.echo(f"telegent-iac {__version__} (plan format {PLAN_FORMAT_VERSION}; "
                   f"Python {info['python']} on {sys.platform})")


# Every other command is loaded when used: name -> (module, attribute, short help). The short
# help is listed by --help without importing the module (a test keeps it equal to the command's).
LAZY_COMMANDS = {
    "validate": ("telegent_iac.cli.config_commands", "validate",
                 "Check configuration files without contacting Telegent."),
    "fmt": ("telegent_iac.cli.config_commands", "fmt_command", "Rewrite config files into the canonical layout."),
    "graph": ("telegent_iac.cli.config_commands", "graph",
              "Print the call flow: numbers, workgroups, IVR digits, on/off-hours routes, members."),
    "test": ("telegent_iac.cli.config_commands", "test_command",
             "Run the routing tests (`routing_tests:`) against the declared call flow, offline."),
    "schema": ("telegent_iac.cli.config_commands", "schema",
               "Print the configuration's JSON Schema (for editors), derived from the vendored spec."),
    "plan": ("telegent_iac.cli.plan_commands", "plan", "Show what apply would change, without changing anything."),
    "apply": ("telegent_iac.cli.plan_commands", "apply",
              "Make the account match the YAML (or carry out a saved plan)."),
    "show": ("telegent_iac.cli.plan_commands", "show", "Print a saved plan again (text, JSON or Markdown)."),
    "force-unlock": ("telegent_iac.cli.state_commands", "force_unlock",
                     "Remove a stuck state lock. LOCK_ID is the ID shown in the \"locked by\" message."),
    "import": ("telegent_iac.cli.lifecycle_commands", "import_command",
               "Adopt the live workgroup WORKGROUP_ID into the state under ADDRESS."),
    "export": ("telegent_iac.cli.lifecycle_commands", "export_command",
               "Write the configuration and the state of every live workgroup (for onboarding)."),
    "state": ("telegent_iac.cli.state_commands", "state_group",
              "Inspect and edit the state without touching the account."),
    "sandbox": ("telegent_sandbox.command", "sandbox_command", "Run a local emulator of Telegent's workgroup API."),
}
