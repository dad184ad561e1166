"""`state pull` (PostgreSQL -> file) and `state push` (file -> PostgreSQL): one copy routine."""

from __future__ import annotations

from telegent_iac.state.records import State, StateError
from telegent_iac.state.store import StateStore


def transfer(
    src: StateStore,
    dst: StateStore,
    force: bool = False,
    *,
    operation: str = "state transfer",
    lock_timeout: float = 0.0,
) -> State:
    """Copy the state in `src` to `dst` under `dst`'s lock and return what `dst` now holds.

    Refused unless `force`: a destination of another lineage (a different state altogether),
    and a destination whose serial is newer than the source's, or equal with other content
    (they diverged). Equal serial and equal content is a no-op. The destination keeps the
    source's serial, or goes one past its own when forced over a newer one, so its serial
    never moves backwards (saved plans against it become stale, as they should).
    """
    state = src.read()
    if state is None:
        raise StateError(f"{src.description} holds no state; nothing to copy")
    with dst.lock(operation, lock_timeout):
        current = dst.read()
        if current is not None:
            hint = "; to overwrite it anyway, run again with --force"
            if current.lineage != state.lineage:
                if not force:
                    raise StateError(
                        f"refusing to copy: {dst.description} holds a different state (lineage "
                        f"{current.lineage}) than {src.description} (lineage {state.lineage}){hint}"
                    )
            elif current.serial > state.serial:
                if not force:
                    raise StateError(
                        f"refusing to copy: {dst.description} is newer (serial {current.serial}) than "
                        f"{src.description} (serial {state.serial}); copying would lose its changes{hint}"
                    )
            elif current.serial == state.serial:
                if current.to_dict() == state.to_dict():
                    return current
                if not force:
                    raise StateError(
                        f"refusing to copy: {dst.description} and {src.description} both have serial "
                        f"{state.serial} but different content (they diverged){hint}"
                    )
        copy = State.from_dict(state.to_dict(), source=src.description)
        # write() makes the serial max(stored, given) + 1; one less keeps the source's serial.
        copy.serial = state.serial - 1
        dst.write(copy)
        return copy


def pull(src: StateStore, dst: StateStore, force: bool = False, lock_timeout: float = 0.0) -> State:
    """`state pull`: the shared (PostgreSQL) state into a local file."""
    return transfer(src, dst, force, operation="state pull", lock_timeout=lock_timeout)


def push(src: StateStore, dst: StateStore, force: bool = False, lock_timeout: float = 0.0) -> State:
    """`state push`: a local state file into the shared (PostgreSQL) state."""
    return transfer(src, dst, force, operation="state push", lock_timeout=lock_timeout)
