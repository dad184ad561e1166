"""apply's promises when a call fails, against a real sandbox (DESIGN principle 5):
a definite failure leaves no pending record and starts nothing new; a delete of what is
already gone reaches its goal; an ambiguous create is not tried again while it may still be
in flight."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from telegent_iac import spec
from telegent_iac.api.client import TelegentClient
from telegent_iac.apply import Applier, ApplyResult, Event
from telegent_iac.model import Desired, Workgroup, canonical_workgroup
from telegent_iac.plan.planner import PlanOptions, make_plan
from telegent_iac.sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxServer
from telegent_iac.sandbox.http_types import Response
from telegent_iac.state import FileStateStore, State


def desired(*names: str) -> Desired:
    """One simultaneous workgroup per name, at address = the name lower-cased; the name ""
    is a workgroup at "bad" of a Type the server refuses with a 400 (a definite failure)."""
    workgroups = {}
    for name in names:
        address, fields = (name.lower(), {"Name": name, "Type": "simultaneous"}) if name else \
            ("bad", {"Name": "Bad", "Type": "no-such-type"})
        workgroups[address] = Workgroup(address, canonical_workgroup(fields), ())
    return Desired(workgroups)


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[TelegentClient]:
    with TelegentClient(sandbox.url, DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, rate_limit=0, timeout=2.0) as c:
        yield c


def apply(want: Desired, client: TelegentClient, store: FileStateStore, parallelism: int = 1,
          events: list[Event] | None = None) -> tuple[ApplyResult, State]:
    state = store.read() or State.new()
    plan = make_plan(want, state, client.list_workgroups())
    assert plan.ok, plan.errors
    result = Applier(plan, state, store, client, parallelism=parallelism,
                     on_event=(events.append if events is not None else None)).run()
    after = store.read()
    assert after is not None
    return result, after


def creates(server: SandboxServer) -> int:
    return sum(1 for r in server.control.requests() if r["method"] == "POST" and r["path"] == spec.WORKGROUPS)


def test_a_definite_create_failure_leaves_no_pending_record(sandbox: SandboxServer, client: TelegentClient,
                                                            tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    result, state = apply(desired(""), client, store)
    assert not result.ok and "bad: create failed" in result.errors[0]
    assert not state.pending(), "a create the server refused is not in doubt"


def test_a_failed_call_starts_nothing_new(sandbox: SandboxServer, client: TelegentClient, tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    result, state = apply(desired("", "Later", "Last"), client, store, parallelism=1)
    assert len(result.errors) == 1
    assert creates(sandbox) == 1, "steps were started after a call had failed"
    assert not any(ws.id for ws in state.workgroups.values())


def test_deleting_a_workgroup_that_is_already_gone_reaches_the_goal(sandbox: SandboxServer,
                                                                   client: TelegentClient, tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    result, state = apply(desired("Keep", "Drop"), client, store)
    assert result.ok
    gone = state.workgroups["drop"].id
    assert gone
    plan = make_plan(desired("Keep"), state, client.list_workgroups(), PlanOptions(allow_delete=True))
    client.delete_workgroup(gone)  # someone deletes it between the plan and the apply
    result = Applier(plan, state, store, client).run()
    assert result.ok, result.errors
    assert result.destroyed == 1
    after = store.read()
    assert after is not None and "drop" not in after.workgroups


def test_an_ambiguous_create_is_not_repeated_while_it_may_still_be_in_flight(
        sandbox: SandboxServer, client: TelegentClient, tmp_path: Path) -> None:
    """The connection breaks before the server has committed the create; the server commits
    it only after answering the list apply reads next. Creating again at once would make a
    duplicate: apply waits out the request timeout, lists again and adopts it."""
    app: Any = sandbox._app  # noqa: SLF001 - the in-process sandbox's request pipeline
    handle = app.handle
    held: list[Any] = []

    def late_commit(request: Any) -> Response:
        path = urlsplit(request.target).path
        if request.method == "POST" and path == spec.WORKGROUPS and not held:
            held.append(request)
            return Response(0, drop=True)  # the client sees the connection close, no answer
        response: Response = handle(request)
        if request.method == "GET" and path == spec.ACCOUNT_WORKGROUPS and len(held) == 1:
            held.append(handle(held[0]))  # committed just after this list was answered
        return response

    app.handle = late_commit
    store = FileStateStore(tmp_path / "state.json")
    events: list[Event] = []
    result, state = apply(desired("Sales"), client, store, events=events)
    assert result.ok, result.errors
    names = [s.name for s in client.list_workgroups()]
    assert names == ["Sales"], f"the create was repeated: {names}"
    assert state.workgroups["sales"].id == client.list_workgroups()[0].workgroup_id
    assert any("may still be in flight" in e.message for e in events)
