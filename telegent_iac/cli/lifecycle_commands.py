"""import and export: adopting live workgroups, and onboarding a whole account (docs/lifecycle.md)."""

from __future__ import annotations

from pathlib import Path

import click

from telegent_iac.cli.flags import allow_secret_option, api_options, locked, settings_from, state_options
from telegent_iac.cli.output import err, handle_errors, say
from telegent_iac.errors import UserError
from telegent_iac.model.addresses import SCHEDULE
from telegent_iac.ops import exporting, importing, run
from telegent_iac.ops.load import load_desired
from telegent_iac.state.records import WorkgroupState
from telegent_iac.state.recovery import uncertain_member_message


@click.command("import")
@click.argument("address")
@click.argument("workgroup_id")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--var-file", "var_files", multiple=True, type=click.Path(dir_okay=False),
              help="YAML file of variables for ${var.NAME} (with PATHS).")
@allow_secret_option
@state_options
@api_options
@handle_errors
def import_command(address: str, workgroup_id: str, paths: tuple[str, ...], var_files: tuple[str, ...],
                   state_location: str, lock_timeout: float, sandbox: bool) -> None:
    """Adopt the live workgroup WORKGROUP_ID into the state under ADDRESS.

    Nothing in the account changes: the workgroup's current fields and members are recorded,
    so the next `plan` shows only where the configuration differs. Give the configuration
    PATHS too so members keep their declared `key:`s and prevent_destroy is recorded. To
    import through review instead, add an `import:` entry to the configuration. A schedule is
    imported as `schedule.ADDRESS SCHEDULE_ID`.
    """
    settings = settings_from(paths, state_location, lock_timeout, sandbox, var_files)
    if address.startswith(SCHEDULE):
        store = run.store_for(settings)
        with locked(store, "import", lock_timeout):
            ss = importing.import_into(store, settings, address, workgroup_id)
        say(f"Imported schedule {workgroup_id} as {address}: {ss.fields.get('Name', '')!r}. Nothing in the "
            "account was changed. Run `telegent-iac plan` to compare it with the configuration.")
        return
    declared = None
    if paths:
        desired = load_desired(settings)
        declared = desired.workgroups.get(address)
        if declared is None:
            err(f"Warning: {address} is not declared in {', '.join(paths)}; the next plan will list it as "
                "no longer declared.")
    store = run.store_for(settings)
    with locked(store, "import", lock_timeout):
        ws = importing.import_into(store, settings, address, workgroup_id, declared)
    assert isinstance(ws, WorkgroupState)
    members = len(ws.members)
    say(f"Imported {workgroup_id} as {address}: {ws.fields.get('Name', '')!r} "
               f"({ws.fields.get('Type', 'unknown type')}), {members} member{'s' if members != 1 else ''}.")
    for key, ms in sorted(ws.members.items()):
        note = f"[id={ms.id}]" if ms.id else uncertain_member_message(address, key)
        say(f"  member {key} {note}")
    say("Nothing in the account was changed. Run `telegent-iac plan` to compare it with the configuration.")


@click.command("export")
@click.option("--out", "out", default="workgroups.yaml", show_default=True, type=click.Path(dir_okay=False),
              help="Where to write the configuration ('-' for stdout).")
@click.option("--force", is_flag=True,
              help="Overwrite an existing --out file, and replace a state that already manages workgroups.")
@state_options
@api_options
@handle_errors
def export_command(out: str, force: bool, state_location: str, lock_timeout: float, sandbox: bool) -> None:
    """Write the configuration and the state of every live workgroup (for onboarding).

    Reads the account's list and then each workgroup's details (paced within the rate
    limit), generates readable addresses from the Names, and writes YAML in the config format
    plus the matching state, so that `plan` right after shows `No changes.`. A workgroup the
    format cannot express (a duplicate Name, a reference to a workgroup that is not in the
    account, a reference cycle) is skipped with the reason on stderr, and so is anything that
    refers to it. See docs/lifecycle.md.
    """
    settings = settings_from((), state_location, lock_timeout, sandbox)
    out_path = None if out == "-" else Path(out)
    if out_path is not None and out_path.exists() and not force:
        raise UserError(f"{out} already exists; choose another --out, or add --force to overwrite it")
    store = run.store_for(settings)
    with locked(store, "export", lock_timeout):

        def write_config(text: str) -> None:
            if out_path is None:
                click.echo(text, nl=False)
            else:
                exporting.write_text_atomic(out_path, text)

        exported = exporting.export_into(store, settings, force, write_config)
    count = len(exported.workgroups)
    where = "stdout" if out_path is None else str(out_path)
    err(f"Exported {count} workgroup{'s' if count != 1 else ''} to {where} and recorded them in "
        f"{store.description}" + (f"; {len(exported.skipped)} skipped (see above)" if exported.skipped else "")
        + ". Review the file, then run `telegent-iac plan` until it shows `No changes.`")
