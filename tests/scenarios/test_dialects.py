"""Correct under every reading of the docs: the core, lifecycle and recovery scenarios run
against sandbox dialect combinations (docs/sandbox.md, "Dialects").

A pairwise-covering set (every pair of values of every two dialect options appears in some
combination) runs in the fast suite; every other combination of the full product is marked
`dialect_matrix` (and `slow`), and CI runs it as its own step.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from telegent_sandbox.options import (
    ACCOUNT_ID_ECHOES,
    DETAILS,
    ENVELOPES,
    ID_PREFIXES,
    LIST_FIELDS,
    LIST_KEYS,
    WRONG_SCOPE_STATUSES,
)
from tests.support.sandbox_http import get_token
from tests.support.workspace import Workspace, base, make_workspace

AXES: dict[str, tuple[Any, ...]] = {
    "detail": DETAILS,
    "list_fields": LIST_FIELDS,
    "envelope": ENVELOPES,
    "list_key": LIST_KEYS,
    "id_prefix": ID_PREFIXES,
    "read_quirks": (False, True),
    "wrong_scope_status": WRONG_SCOPE_STATUSES,
    "account_id": ACCOUNT_ID_ECHOES,
}
Dialect = dict[str, Any]


def every_combination() -> list[Dialect]:
    return [dict(zip(AXES, values, strict=True)) for values in itertools.product(*AXES.values())]


def _pairs(dialect: Dialect) -> set[tuple[str, Any, str, Any]]:
    names = list(AXES)
    return {(a, dialect[a], b, dialect[b]) for i, a in enumerate(names) for b in names[i + 1:]}


def pairwise() -> list[Dialect]:
    """A small set covering every pair of values of every two options (greedy, deterministic)."""
    candidates = every_combination()
    uncovered = set().union(*(_pairs(c) for c in candidates))
    chosen: list[Dialect] = []
    while uncovered:
        best = max(candidates, key=lambda c: len(_pairs(c) & uncovered))
        chosen.append(best)
        uncovered -= _pairs(best)
    return chosen


def label(dialect: Dialect) -> str:
    return ",".join(f"{k}={v}" for k, v in dialect.items())


PAIRWISE = pairwise()
REST = [d for d in every_combination() if d not in PAIRWISE]


def test_the_pairwise_set_covers_every_pair_and_the_full_product_is_complete() -> None:
    assert set().union(*(_pairs(d) for d in PAIRWISE)) == set().union(*(_pairs(d) for d in every_combination()))
    assert len(PAIRWISE) + len(REST) == len(every_combination()) == 384


@pytest.fixture
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    yield from make_workspace(tmp_path, **request.param)


@pytest.mark.parametrize("workspace", PAIRWISE, ids=label, indirect=True)
def test_scenarios_pairwise(workspace: Workspace, tmp_path: Path) -> None:
    run_scenarios(workspace, tmp_path)


@pytest.mark.slow
@pytest.mark.dialect_matrix
@pytest.mark.parametrize("workspace", REST, ids=label, indirect=True)
def test_scenarios_every_other_combination(workspace: Workspace, tmp_path: Path) -> None:
    run_scenarios(workspace, tmp_path)


# --- the scenarios --------------------------------------------------------------------------------


def truth(ws: Workspace) -> dict[str, int]:
    """Name -> number of activities, from the sandbox's own store (whatever a read shows);
    fails on a duplicate Name: that is the incident this suite exists to catch."""
    records = list(ws.server.control.snapshot().values())
    names = [r["Name"] for r in records]
    assert len(names) == len(set(names)), f"duplicate workgroups: {sorted(names)}"
    return {r["Name"]: len(r["Activities"]) for r in records}


def declared(config: dict[str, Any]) -> dict[str, int]:
    return {wg["Name"]: len(wg.get("members", [])) for wg in config["workgroups"].values()}


def settled(ws: Workspace) -> None:
    """Without an activity list an import's members are uncertain: settle them as absent (the
    scenario made the workgroup by hand, with none)."""
    for row in ws.run("state", "list").stdout.splitlines():
        address, *_, notes = row.split("\t")
        for note in notes.split("; "):
            if note.startswith("uncertain members: "):
                for key in note.removeprefix("uncertain members: ").split(", "):
                    ws.run("state", "confirm-absent", address, key)


def no_changes(ws: Workspace, *paths: str) -> None:
    for refresh in ("summary", "full"):
        ws.run("plan", *(paths or (str(ws.config_path),)), f"--refresh={refresh}", "--detailed-exitcode")


def direct_create(ws: Workspace, body: dict[str, Any]) -> str:
    answer = ws.direct("/v1.0/workgroups", body)
    return str(answer.get("Data", answer)["WorkgroupId"])


def run_scenarios(ws: Workspace, tmp_path: Path) -> None:
    dialect = ws.server.options.dialect()
    config = base()

    # First apply, then no-op (summary and full refresh).
    ws.write(config)
    ws.apply()
    assert truth(ws) == declared(config)
    no_changes(ws)

    # A token for another endpoint is refused as this reading says.
    token = get_token(ws.server, "/v1.0/account/workgroups")
    wrong = httpx.get(f"{ws.server.url}/v1.0/workgroups", params={"WorkgroupId": ws.wid("sales")},
                      headers={"Authorization": f"Bearer {token}"})
    assert wrong.status_code == dialect["wrong_scope_status"]

    # Add a workgroup; change a field; edit members.
    config["workgroups"]["extra"] = {"Name": "Extra", "Type": "simultaneous",
                                     "members": [{"Type": "User", "ReferenceUserId": "USER-x"}]}
    config["workgroups"]["sales"]["AnnouncementText"] = "Changed."
    ws.write(config)
    ws.apply()
    config["workgroups"]["sales"]["members"].pop()
    config["workgroups"]["support"]["members"].append({"Type": "User", "PhoneNumber": "+14155550124"})
    ws.write(config)
    ws.apply()
    assert truth(ws) == declared(config)
    assert ws.server.control.snapshot()[ws.wid("sales")]["AnnouncementText"] == "Changed."
    no_changes(ws)

    # A create whose response is lost is adopted, never made twice.
    ws.server.control.set_faults(drop_next_creates=1)
    config["workgroups"]["lost"] = {"Name": "Lost", "Type": "round-robin",
                                    "members": [{"Type": "User", "PhoneNumber": "+14155550155"}]}
    ws.write(config)
    ws.apply()
    assert truth(ws) == declared(config)
    no_changes(ws)

    # Deleted outside telegent-iac: created again, once.
    ws.direct(f"/v1.0/workgroups/delete?WorkgroupId={ws.wid('extra')}", {})
    ws.plan("--detailed-exitcode", code=2)
    ws.apply()
    assert truth(ws) == declared(config)

    # Deleted and re-created by hand under the same Name: a conflict, nothing created.
    ws.direct(f"/v1.0/workgroups/delete?WorkgroupId={ws.wid('support')}", {})
    by_hand = direct_create(ws, {"Name": "Support", "Type": "round-robin", "CallerIdName": "Acme Support"})
    assert f"import support {by_hand}" in ws.plan(code=1).stdout
    ws.apply(code=1)
    assert truth(ws)["Support"] == 0
    ws.run("state", "rm", "support")
    ws.run("import", "support", by_hand, str(ws.config_path))
    settled(ws)
    ws.apply()
    # The hand-made delete left the menu's activity pointing at the old ID: only a full
    # refresh can see that (where details list activities), and it repairs it.
    ws.apply("--refresh=full")
    assert truth(ws) == declared(config)
    no_changes(ws)

    # --refresh full applies nothing more.
    ws.clear()
    ws.apply("--refresh=full")
    assert ws.writes() == []

    # Export, then plan from the export: no changes, nothing planned away.
    out, state = tmp_path / "exported.yaml", tmp_path / "exported" / "state.json"
    ws.run("export", "--out", str(out), "--state", str(state))
    no_changes(ws, str(out), "--state", str(state))
    assert truth(ws) == declared(config)
