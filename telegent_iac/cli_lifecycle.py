"""Commands for the lifecycle outside plan/apply: import, export and `state ...`.

Registered on the main group by cli._register_optional(); the logic is in lifecycle.py.
"""

from __future__ import annotations

from pathlib import Path

import click

from telegent_iac import lifecycle, workflow
from telegent_iac.cli import (
    allow_secret_option,
    api_options,
    err,
    handle_errors,
    locked,
    say,
    settings_from,
    state_options,
)
from telegent_iac.errors import UserError
from telegent_iac.model.addresses import SCHEDULE
from telegent_iac.state import open_store
from telegent_iac.state.recovery import uncertain_member_message
from telegent_iac.state.store import StateStore
from telegent_iac.state.transfer import pull, push


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
        store = workflow.store_for(settings)
        with locked(store, "import", lock_timeout), workflow.open_client(settings) as client:
            state = workflow.read_state(store)
            workflow.bind_account(state, workflow.account_binding(client, settings), store.description, err)
            ss = lifecycle.import_schedule(state, client, address.removeprefix(SCHEDULE), workgroup_id)
            store.write(state)
        say(f"Imported schedule {workgroup_id} as {address}: {ss.fields.get('Name', '')!r}. Nothing in the "
            "account was changed. Run `telegent-iac plan` to compare it with the configuration.")
        return
    declared = None
    if paths:
        desired = workflow.load_desired(settings)
        declared = desired.workgroups.get(address)
        if declared is None:
            err(f"Warning: {address} is not declared in {', '.join(paths)}; the next plan will list it as "
                "no longer declared.")
    store = workflow.store_for(settings)
    with locked(store, "import", lock_timeout), workflow.open_client(settings) as client:
        state = workflow.read_state(store)
        workflow.bind_account(state, workflow.account_binding(client, settings), store.description, err)
        ws = lifecycle.import_workgroup(state, client, address, workgroup_id, declared)
        store.write(state)
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
    store = workflow.store_for(settings)
    with locked(store, "export", lock_timeout):
        state = workflow.read_state(store)
        managed = [a for a, ws in state.workgroups.items() if ws.id or ws.pending_create]
        if managed and not force:
            raise UserError(
                f"the state at {store.description} already manages {len(managed)} workgroup"
                f"{'s' if len(managed) != 1 else ''}; export writes a new state. Use another --state, or "
                "--force to replace it (the old one is kept as a .backup)"
            )
        with workflow.open_client(settings) as client:
            binding = workflow.account_binding(client, settings)
            if force:  # a new state for this account replaces whatever was there
                state.account = binding
            else:
                workflow.bind_account(state, binding, store.description, err)
            exported = lifecycle.export_account(client, err)
        for skipped in exported.skipped:
            err(f"Warning: {skipped.describe()}")
        for address, note in exported.unread.items():
            err(f"Warning: {address}: {note} (marked in the file)")
        if out_path is None:
            click.echo(exported.yaml_text, nl=False)
        else:
            lifecycle.write_text_atomic(out_path, exported.yaml_text)
        state.workgroups = exported.workgroups
        state.schedules = exported.schedules
        store.write(state)
    count = len(exported.workgroups)
    where = "stdout" if out_path is None else str(out_path)
    err(f"Exported {count} workgroup{'s' if count != 1 else ''} to {where} and recorded them in "
        f"{store.description}" + (f"; {len(exported.skipped)} skipped (see above)" if exported.skipped else "")
        + ". Review the file, then run `telegent-iac plan` until it shows `No changes.`")


# --- state ------------------------------------------------------------------------------------------


@click.group("state")
def state_group() -> None:
    """Inspect and edit the state without touching the account."""


def _store(state_location: str, lock_timeout: float) -> StateStore:
    return workflow.store_for(settings_from((), state_location, lock_timeout, False))


@state_group.command("list")
@state_options
@handle_errors
def state_list(state_location: str, lock_timeout: float) -> None:
    """List the managed addresses: address, ID, Name, notes (tab-separated); schedules as
    schedule.ADDRESS."""
    state = workflow.read_state(_store(state_location, lock_timeout))
    for row in lifecycle.state_rows(state):
        say(row)


@state_group.command("show")
@click.argument("address")
@state_options
@handle_errors
def state_show(address: str, state_location: str, lock_timeout: float) -> None:
    """Show what the state records for ADDRESS (IDs and last applied fields); a schedule is
    named schedule.ADDRESS."""
    state = workflow.read_state(_store(state_location, lock_timeout))
    if address.startswith(SCHEDULE):
        ss = state.schedules.get(address.removeprefix(SCHEDULE))
        if ss is None:
            raise UserError(f"{address} is not in the state")
        say(lifecycle.describe_schedule(address.removeprefix(SCHEDULE), ss), nl=False)
        return
    ws = state.workgroups.get(address)
    if ws is None:
        raise UserError(f"{address} is not in the state")
    say(lifecycle.describe_workgroup(address, ws), nl=False)


@state_group.command("rm")
@click.argument("addresses", nargs=-1, required=True)
@state_options
@handle_errors
def state_rm(addresses: tuple[str, ...], state_location: str, lock_timeout: float) -> None:
    """Forget ADDRESSES: telegent-iac stops managing them; the workgroups (and schedules, named
    schedule.ADDRESS) stay in the account."""
    store = _store(state_location, lock_timeout)
    with locked(store, "state rm", lock_timeout):
        state = workflow.read_state(store)
        removed = [(address, lifecycle.forget(state, address)) for address in addresses]
        store.write(state)
    for address, ws in removed:
        what = "schedule" if address.startswith(SCHEDULE) else "workgroup"
        say(f"Removed {address} ({ws.id or 'no ID'}) from the state; the {what} is untouched "
                   "in the account.")


@state_group.command("adopt-member")
@click.argument("address")
@click.argument("key")
@click.argument("activity_id")
@state_options
@handle_errors
def state_adopt_member(address: str, key: str, activity_id: str, state_location: str, lock_timeout: float) -> None:
    """Settle an uncertain member: it exists in Telegent as ACTIVITY_ID (its WorkgroupActivityId).

    A member is uncertain when a create for it may have reached Telegent but the account's
    workgroup details list no activities, so telegent-iac cannot look. Nothing in the account
    changes: the ID is recorded under member KEY of ADDRESS.
    """
    store = _store(state_location, lock_timeout)
    with locked(store, "state adopt-member", lock_timeout):
        state = workflow.read_state(store)
        lifecycle.adopt_member(state, address, key, activity_id)
        store.write(state)
    say(f"Recorded {address} member {key} as activity {activity_id}; the account is untouched.")


@state_group.command("confirm-absent")
@click.argument("address")
@click.argument("key")
@state_options
@handle_errors
def state_confirm_absent(address: str, key: str, state_location: str, lock_timeout: float) -> None:
    """Settle an uncertain member: you checked in Telegent and it does not exist.

    The record is dropped, so the next apply creates member KEY of ADDRESS. Confirm only what
    you checked: if it does exist, the next apply makes a duplicate.
    """
    store = _store(state_location, lock_timeout)
    with locked(store, "state confirm-absent", lock_timeout):
        state = workflow.read_state(store)
        lifecycle.confirm_absent(state, address, key)
        store.write(state)
    say(f"Forgot the uncertain create of {address} member {key}; the next apply creates it.")


@state_group.command("mv")
@click.argument("old")
@click.argument("new")
@state_options
@handle_errors
def state_mv(old: str, new: str, state_location: str, lock_timeout: float) -> None:
    """Rename address OLD to NEW in the state (references to it follow); schedules as
    schedule.OLD schedule.NEW."""
    store = _store(state_location, lock_timeout)
    with locked(store, "state mv", lock_timeout):
        state = workflow.read_state(store)
        lifecycle.move(state, old, new)
        store.write(state)
    say(f"Moved {old} to {new}. Rename it in the configuration too, then `telegent-iac plan` "
               "shows no change for it.")


@state_group.command("pull")
@click.option("--to", "to", required=True, type=click.Path(dir_okay=False),
              help="The local state file to write.")
@click.option("--force", is_flag=True, help="Overwrite a destination of another lineage or a newer serial.")
@state_options
@handle_errors
def state_pull(to: str, force: bool, state_location: str, lock_timeout: float) -> None:
    """Copy the state at --state (e.g. a shared postgresql:// one) into the local file --to."""
    src, dst = _pair(state_location, to)
    copied = pull(src, dst, force=force, lock_timeout=lock_timeout)
    say(f"Copied {src.description} (serial {copied.serial}, {len(copied.workgroups)} workgroups) "
               f"to {dst.description}.")


@state_group.command("push")
@click.option("--from", "from_", required=True, type=click.Path(dir_okay=False, exists=True),
              help="The local state file to read.")
@click.option("--force", is_flag=True, help="Overwrite a destination of another lineage or a newer serial.")
@state_options
@handle_errors
def state_push(from_: str, force: bool, state_location: str, lock_timeout: float) -> None:
    """Copy the local state file --from into the state at --state (e.g. a shared postgresql:// one)."""
    dst, src = _pair(state_location, from_)
    copied = push(src, dst, force=force, lock_timeout=lock_timeout)
    say(f"Copied {src.description} (serial {copied.serial}, {len(copied.workgroups)} workgroups) "
               f"to {dst.description}.")


def _pair(state_location: str, local: str) -> tuple[StateStore, StateStore]:
    """(the --state store, the local file store); refused when they are the same place."""
    if "://" not in state_location and Path(state_location).resolve() == Path(local).resolve():
        raise UserError(f"--state and {local} are the same file; nothing to copy")
    return open_store(state_location), open_store(local)
