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
from telegent_iac.apply.events import ApplyResult, Event
from telegent_iac.apply.executor import Applier
from telegent_iac.model.workgroups import Desired, Member, Workgroup, canonical_member, canonical_workgroup, member_key
from telegent_iac.plan.planner import PlanOptions, make_plan
from telegent_iac.state import FileStateStore, State
from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxServer
from telegent_sandbox.http_types import Response


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


def hook_creates(sandbox: SandboxServer, answer: Any) -> None:
    """Route workgroup creates through `answer(request, handle)` (test-only, in-process)."""
    app: Any = sandbox._app  # noqa: SLF001 - the in-process sandbox's request pipeline
    handle = app.handle

    def hooked(request: Any) -> Response:
        if request.method == "POST" and urlsplit(request.target).path == spec.WORKGROUPS:
            result: Response = answer(request, handle)
            return result
        response: Response = handle(request)
        return response

    app.handle = hooked


def test_a_create_that_never_goes_through_is_an_error_not_done(sandbox: SandboxServer, tmp_path: Path) -> None:
    hook_creates(sandbox, lambda request, handle: Response(0, drop=True))  # lost, never committed
    store = FileStateStore(tmp_path / "state.json")
    with TelegentClient(sandbox.url, DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, rate_limit=0, timeout=0.5) as quick:
        result, state = apply(desired("Sales"), quick, store)
        assert not result.ok and result.added == 0
        assert "sales: create failed" in result.errors[0]
        assert quick.list_workgroups() == []
    assert not state.workgroups.get("sales") or not state.workgroups["sales"].id


def test_several_candidates_after_an_ambiguous_create_stop_instead_of_creating_again(
        sandbox: SandboxServer, client: TelegentClient, tmp_path: Path) -> None:
    def twice_then_drop(request: Any, handle: Any) -> Response:
        handle(request)
        handle(request)  # someone else made the same workgroup meanwhile
        return Response(0, drop=True)

    hook_creates(sandbox, twice_then_drop)
    store = FileStateStore(tmp_path / "state.json")
    result, state = apply(desired("Sales"), client, store)
    assert not result.ok and "left 2 workgroups named 'Sales'" in result.errors[0]
    assert [s.name for s in client.list_workgroups()] == ["Sales", "Sales"]  # no third
    assert state.workgroups["sales"].pending_create is not None  # left for a person to decide


def test_nothing_is_sent_for_a_workgroup_already_known_to_be_gone(sandbox: SandboxServer, client: TelegentClient,
                                                                  tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    result, state = apply(desired("Keep", "Drop"), client, store)
    assert result.ok
    gone = state.workgroups["drop"].id
    assert gone
    client.delete_workgroup(gone)  # deleted outside before the plan: the plan knows
    sandbox.control.clear_requests()
    plan = make_plan(desired("Keep"), state, client.list_workgroups(), PlanOptions(allow_delete=True))
    assert [c.reason for c in plan.changes if c.address == "drop"] == ["already gone from the account: forget it"]
    result = Applier(plan, state, store, client).run()
    assert result.ok, result.errors
    assert not [r for r in sandbox.control.requests() if r["path"] == spec.WORKGROUP_DELETE]
    after = store.read()
    assert after is not None and "drop" not in after.workgroups


def test_a_replaced_workgroup_is_deleted_only_after_its_referrers_point_at_the_new_one(
        sandbox: SandboxServer, client: TelegentClient, tmp_path: Path) -> None:
    night = {"Name": "Night", "Type": "simultaneous", "CallerIdName": "Old"}
    menu = {"Name": "Menu", "Type": "IVR", "OffHoursType": "Workgroup", "OffHoursId": "night"}

    def config(caller_id: str) -> Desired:
        return Desired({"night": Workgroup("night", canonical_workgroup({**night, "CallerIdName": caller_id}), ()),
                        "menu": Workgroup("menu", canonical_workgroup(menu), ())})

    store = FileStateStore(tmp_path / "state.json")
    result, state = apply(config("Old"), client, store)
    assert result.ok, result.errors
    # CallerIdName cannot be updated: night is replaced, and menu must follow the new ID first.
    plan = make_plan(config("New"), state, client.list_workgroups(), PlanOptions(allow_replace=True))
    steps = {s.id: s for s in Applier(plan, state, store, client).build_steps()}
    assert "update:menu" in steps["replace-delete:night"].deps


def with_member(announcement: str, member: dict[str, Any]) -> Desired:
    fields = canonical_member(member)
    return Desired({"sales": Workgroup("sales", canonical_workgroup(
        {"Name": "Sales", "Type": "simultaneous", "AnnouncementText": announcement}),
        (Member(member_key(fields), fields),))})


def test_an_update_and_its_member_changes_count_as_one_changed_workgroup(
        sandbox: SandboxServer, client: TelegentClient, tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    phone = {"Type": "User", "PhoneNumber": "+14155550123"}
    assert apply(with_member("Hello", phone), client, store)[0].ok
    result, _ = apply(with_member("Welcome", {**phone, "SmsNotification": True}), client, store)
    assert result.ok, result.errors
    assert (result.added, result.changed, result.destroyed) == (0, 1, 0)


def test_a_definite_member_create_failure_leaves_no_pending_record(
        sandbox: SandboxServer, client: TelegentClient, tmp_path: Path) -> None:
    store = FileStateStore(tmp_path / "state.json")
    # A Workgroup member naming no workgroup: the server refuses it with a 400.
    result, state = apply(with_member("Hello", {"Type": "Workgroup", "DigitOrder": 1}), client, store)
    assert not result.ok and "member" in result.errors[0] and "create failed" in result.errors[0]
    assert state.workgroups["sales"].id  # the workgroup itself was created
    assert not state.pending(), "a member create the server refused is not in doubt"


def test_an_interrupted_create_with_several_candidates_stops_the_next_apply(
        sandbox: SandboxServer, client: TelegentClient, tmp_path: Path) -> None:
    from telegent_iac.errors import UserError
    from telegent_iac.ops.run import resolve_interrupted
    from telegent_iac.state.records import PendingCreate, WorkgroupState

    store = FileStateStore(tmp_path / "state.json")
    state = State.new()
    state.workgroups["sales"] = WorkgroupState(pending_create=PendingCreate(
        "Sales", "simultaneous", "2001-01-01T00:00:00.000000Z", {"Name": "Sales", "Type": "simultaneous"}))
    for _ in range(2):
        client.create_workgroup({"Name": "Sales", "Type": "simultaneous"})
    notes: list[str] = []
    with pytest.raises(UserError, match="need attention"):
        resolve_interrupted(state, store, client, client.list_workgroups(), notes.append, sleep=lambda s: None)
    assert any("left 2 workgroups named 'Sales'" in n for n in notes)
    assert state.workgroups["sales"].pending_create is not None  # (an old record: no in-flight wait)
