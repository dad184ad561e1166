"""`state ...` and force-unlock: inspect and edit the state without touching the account."""

from __future__ import annotations

from pathlib import Path

import click

from telegent_iac.cli.flags import locked, settings_from, state_options
from telegent_iac.cli.output import handle_errors, say
from telegent_iac.errors import UserError
from telegent_iac.model.addresses import SCHEDULE
from telegent_iac.state import edits, listing, open_store
from telegent_iac.state.store import StateStore, read_or_new
from telegent_iac.state.transfer import pull, push


@click.group("state")
def state_group() -> None:
    """Inspect and edit the state without touching the account."""


def _store(state_location: str, lock_timeout: float) -> StateStore:
    return open_store(settings_from((), state_location, lock_timeout, False).state_location)


@state_group.command("list")
@state_options
@handle_errors
def state_list(state_location: str, lock_timeout: float) -> None:
    """List the managed addresses: address, ID, Name, notes (tab-separated); schedules as
    schedule.ADDRESS."""
    state = read_or_new(_store(state_location, lock_timeout))
    for row in listing.state_rows(state):
        say(row)


@state_group.command("show")
@click.argument("address")
@state_options
@handle_errors
def state_show(address: str, state_location: str, lock_timeout: float) -> None:
    """Show what the state records for ADDRESS (IDs and last applied fields); a schedule is
    named schedule.ADDRESS."""
    state = read_or_new(_store(state_location, lock_timeout))
    if address.startswith(SCHEDULE):
        ss = state.schedules.get(address.removeprefix(SCHEDULE))
        if ss is None:
            raise UserError(f"{address} is not in the state")
        say(listing.describe_schedule(address.removeprefix(SCHEDULE), ss), nl=False)
        return
    ws = state.workgroups.get(address)
    if ws is None:
        raise UserError(f"{address} is not in the state")
    say(listing.describe_workgroup(address, ws), nl=False)


@state_group.command("rm")
@click.argument("addresses", nargs=-1, required=True)
@state_options
@handle_errors
def state_rm(addresses: tuple[str, ...], state_location: str, lock_timeout: float) -> None:
    """Forget ADDRESSES: telegent-iac stops managing them; the workgroups (and schedules, named
    schedule.ADDRESS) stay in the account."""
    store = _store(state_location, lock_timeout)
    with locked(store, "state rm", lock_timeout):
        state = read_or_new(store)
        removed = [(address, edits.forget(state, address)) for address in addresses]
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
        state = read_or_new(store)
        edits.adopt_member(state, address, key, activity_id)
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
        state = read_or_new(store)
        edits.confirm_absent(state, address, key)
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
        state = read_or_new(store)
        edits.move(state, old, new)
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


@click.command("force-unlock")
@click.argument("lock_id")
@state_options
@handle_errors
def force_unlock(lock_id: str, state_location: str, lock_timeout: float) -> None:
    """Remove a stuck state lock. LOCK_ID is the ID shown in the "locked by" message."""
    store = _store(state_location, lock_timeout)
    store.force_unlock(lock_id)
    say(f"Lock {lock_id} removed.")
