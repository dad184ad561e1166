"""write(state, changed=...): re-encoding only the named addresses gives the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

from telegent_iac.state.file import FileStateStore
from telegent_iac.state.model import PendingCreate, State, WorkgroupState


def exact(state: State) -> str:
    return json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"


def test_hinted_writes_match_a_full_encoding(tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "s.json")
    state = State.new()
    state.workgroups = {f"wg-{i}": WorkgroupState(id=f"WID-{i}", fields={"Name": f"N{i}"}) for i in range(20)}
    store.write(state)  # first write: full
    state.workgroups["wg-3"].pending_create = PendingCreate("N3", "IVR", "t", {"Name": "N3"})
    state.workgroups["wg-new"] = WorkgroupState(fields={"Name": "new"})
    del state.workgroups["wg-7"]
    store.write(state, changed={"wg-3", "wg-new", "wg-7"})
    assert (tmp_path / "s.json").read_text() == exact(state)
    state.workgroups["wg-3"].pending_create = None
    state.workgroups["wg-3"].id = "WID-3b"
    store.write(state, changed={"wg-3"})
    assert (tmp_path / "s.json").read_text() == exact(state)
    assert json.loads((tmp_path / "s.json").read_text())["workgroups"]["wg-3"]["id"] == "WID-3b"


def test_the_hint_is_trusted_so_unnamed_changes_wait_for_a_full_write(tmp_path: Path) -> None:
    """Documents the contract: an address left out of `changed` keeps its last written text
    (which is why the apply's StateWriter makes its first write and any untargeted one full)."""
    store = FileStateStore(tmp_path / "s.json")
    state = State.new()
    state.workgroups = {"a": WorkgroupState(id="1"), "b": WorkgroupState(id="2")}
    store.write(state)
    state.workgroups["a"].id = "1b"
    state.workgroups["b"].id = "2b"
    store.write(state, changed={"b"})
    written = json.loads((tmp_path / "s.json").read_text())["workgroups"]
    assert (written["a"]["id"], written["b"]["id"]) == ("1", "2b")
    store.write(state)
    assert (tmp_path / "s.json").read_text() == exact(state)
