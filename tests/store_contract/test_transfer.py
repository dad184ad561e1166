"""state pull / push: copying between stores refuses to lose anything unless forced."""

from __future__ import annotations

from pathlib import Path

import pytest

from telegent_iac.state import FileStateStore, StateError
from telegent_iac.state.transfer import pull, push, transfer
from tests.support.stores import StoreFactory, sample_state


def file_with(tmp_path: Path, name: str, writes: int) -> FileStateStore:
    store = FileStateStore(tmp_path / name)
    state = sample_state()
    for i in range(writes):
        state.workgroups["main-menu"].fields["RingTimeout"] = i
        store.write(state)
    return store


def test_push_into_an_empty_store_keeps_the_serial(tmp_path: Path, make_store: StoreFactory) -> None:
    src = file_with(tmp_path, "local.json", 3)
    copied = push(src, make_store())
    assert copied.serial == 3
    stored = make_store().read()
    assert stored is not None and stored.to_dict() == src.read().to_dict()  # type: ignore[union-attr]
    # Equal serial and content: nothing to do, not an error.
    assert transfer(src, make_store()).serial == 3


def test_lineage_mismatch_is_refused_unless_forced(tmp_path: Path, make_store: StoreFactory) -> None:
    dst = make_store()
    dst.write(sample_state())  # another lineage
    src = file_with(tmp_path, "local.json", 2)
    with pytest.raises(StateError, match="different state.*--force"):
        push(src, make_store())
    copied = push(src, make_store(), force=True)
    stored = make_store().read()
    assert stored is not None
    assert stored.lineage == copied.lineage == src.read().lineage  # type: ignore[union-attr]


def rename(store: object, name: str) -> None:
    state = store.read()  # type: ignore[attr-defined]
    assert state is not None
    state.workgroups["main-menu"].fields["Name"] = name
    store.write(state)  # type: ignore[attr-defined]


def test_older_or_diverged_source_is_refused_unless_forced(tmp_path: Path, make_store: StoreFactory) -> None:
    src = file_with(tmp_path, "local.json", 2)
    push(src, make_store())  # destination at serial 2
    rename(make_store(), "changed in the destination")  # destination at serial 3
    with pytest.raises(StateError, match=r"newer \(serial 3\).*serial 2.*--force"):
        push(src, make_store())
    # Forced over a newer destination: the source's content, and the serial still moves forward.
    assert push(src, make_store(), force=True).serial == 4
    stored = make_store().read()
    assert stored is not None and stored.serial == 4
    assert stored.workgroups["main-menu"].fields["Name"] == "Main menu"
    # Pulled back, the file gets the destination's serial.
    assert pull(make_store(), src).serial == 4
    # Both sides change once from serial 4: same serial 5, different content.
    rename(FileStateStore(src.path), "changed in the file")
    rename(make_store(), "changed in the destination again")
    with pytest.raises(StateError, match="serial 5 but different content.*diverged"):
        push(FileStateStore(src.path), make_store())


def test_missing_source_is_an_error(tmp_path: Path, make_store: StoreFactory) -> None:
    with pytest.raises(StateError, match="holds no state"):
        pull(FileStateStore(tmp_path / "none.json"), make_store())
