"""The stages of a run wired together: files -> model -> plan -> calls -> state.

The CLI parses flags and calls these; every function here takes plain values and reports
through callbacks (it never prints nor reads the environment), so tests and other front ends
can drive a run without click.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telegent_iac import __version__, spec
from telegent_iac.errors import UserError
from telegent_iac.model.workgroups import Desired, LiveSummary
from telegent_iac.ops.interrupts import two_stage_interrupt
from telegent_iac.ops.settings import SANDBOX_STATE_PATH, Progress, Settings
from telegent_iac.plan import saved as saved_plans
from telegent_iac.plan.changes import CREATE, IMPORT, Plan
from telegent_iac.plan.planner import PlanOptions, check_targets, make_plan
from telegent_iac.plan.saved import PLAN_FILE_KIND
from telegent_iac.state import open_store
from telegent_iac.state.records import AccountBinding, PendingCreate, State, utc_now
from telegent_iac.state.recovery import AMBIGUOUS, IN_FLIGHT, age_seconds, resolve_all, resolve_schedule
from telegent_iac.state.store import StateStore, read_or_new

if TYPE_CHECKING:  # the client (httpx) loads only for the commands that talk to the API
    from telegent_iac.api.client import TelegentClient
    from telegent_iac.apply.events import ApplyResult, Event

@contextlib.contextmanager
def open_client(settings: Settings) -> Iterator[TelegentClient]:
    """The API client; with --sandbox, against an in-process sandbox whose database lives
    beside the state (so repeated runs see the same account). Never a silent fallback."""
    from telegent_iac.api.client import TelegentClient, rate_limit_from_env

    if not settings.sandbox:
        client = TelegentClient.from_env(settings.env, on_wait=settings.progress)
        try:
            yield client
        finally:
            client.close()
        return
    if settings.start_sandbox is None:
        raise UserError("--sandbox is not available here (no sandbox was provided to this run)")
    db = sandbox_db_path(settings.state_location)
    db.parent.mkdir(parents=True, exist_ok=True)
    with settings.start_sandbox(db, rate_limit_from_env(settings.env)) as endpoint:
        settings.progress(
            f"Using the built-in sandbox at {endpoint.url} (a local emulator of the Telegent API, "
            f"not Telegent; its account is kept in {db})"
        )
        client = TelegentClient.from_env(settings.env, base_url=endpoint.url, account_key=endpoint.account_key,
                                         account_secret=endpoint.account_secret, on_wait=settings.progress)
        try:
            yield client
        finally:
            client.close()


def sandbox_db_path(state_location: str) -> Path:
    if "://" in state_location:
        return Path("telegent-sandbox.db")
    return Path(state_location).parent / "telegent-sandbox.db"


def read_state_for(store: StateStore, desired: Desired, targets: Sequence[str]) -> State:
    """The state, with the run's --target addresses checked against it and the configuration.
    Called before the client is opened: bad input never causes a request."""
    state = read_or_new(store)
    check_targets(desired, state, targets)
    return state


def check_unique_ids(state: State, where: str) -> None:
    """One ID at two addresses would have two configs fight over one workgroup (or one
    delete take another's object): refuse to plan on such a state, naming both addresses.
    The state commands still read it, so `state rm` can repair it."""
    ids = [ws.id for ws in state.workgroups.values() if ws.id]
    members = [m.id for ws in state.workgroups.values() for m in ws.members.values() if m.id]
    if len(set(ids)) == len(ids) and len(set(members)) == len(members):
        return  # the usual case, seen without sorting 10,000 addresses
    seen: dict[tuple[str, str], str] = {}  # (kind, ID) -> where: workgroup and member IDs may overlap
    clashes: list[str] = []
    for address, ws in sorted(state.workgroups.items()):
        owned = [("workgroup", ws.id, address)]
        owned += [("member", m.id, f"{address} member {key}") for key, m in sorted(ws.members.items())]
        for kind, ident, at in owned:
            if not ident:
                continue
            if (kind, ident) in seen:
                clashes.append(f"{kind} ID {ident} is recorded at both {seen[kind, ident]} and {at}")
            else:
                seen[kind, ident] = at
    if clashes:
        raise UserError(
            f"{where}: " + "; ".join(clashes[:5]) + (f" (and {len(clashes) - 5} more)" if len(clashes) > 5 else "")
            + ". Only one of them can be that object: remove the wrong one with `telegent-iac state rm "
            "ADDRESS` (and import it again if needed); nothing was planned or changed"
        )


def account_binding(client: TelegentClient, settings: Settings) -> AccountBinding:
    """Who this run talks to. The built-in sandbox listens on a new port every run, so it is
    recorded as "sandbox" rather than by its URL."""
    return AccountBinding(
        api_url="sandbox" if settings.sandbox else client.base_url,
        key_hash=client.key_hash(),
        account_id=client.account_id or client.reported_account_id,
    )


def bind_account(state: State, binding: AccountBinding, where: str, progress: Progress) -> None:
    """Refuse a state that belongs to another account or API URL; bind one that records none.

    A sandbox run against the real state (or the reverse) would otherwise plan to create
    everything again in the other account."""
    recorded = state.account
    if recorded is None:
        if state.serial > 0:
            progress(f"Note: {where} records no account (written by an older telegent-iac); it is bound to "
                     f"{binding.describe()} from its next write.")
        state.account = binding
        return
    if not recorded.same_account(binding):
        raise UserError(
            f"{where} belongs to {recorded.describe()}, but this run is for {binding.describe()}. "
            "Nothing was changed. Point --state at this account's "
            "own state (with --sandbox the default is its own, " + SANDBOX_STATE_PATH + ")."
        )
    # Same account: keep what is newly known (an AccountId first seen, a rotated key).
    state.account = AccountBinding(recorded.api_url, binding.key_hash, binding.account_id or recorded.account_id)


def list_and_bind(state: State, client: TelegentClient, settings: Settings, where: str) -> list[LiveSummary]:
    """The live list (which may name the AccountId), once the state is known to be this account's."""
    live = client.list_workgroups()
    bind_account(state, account_binding(client, settings), where, settings.progress)
    return live


def fetch_details(
    client: TelegentClient, ids: Sequence[str], progress: Progress, what: str = "Refreshing", parallelism: int = 1
) -> dict[str, dict[str, Any]]:
    """Each workgroup's details, `parallelism` reads in flight (the client paces them all);
    the first failure stops the rest and is raised."""
    details: dict[str, dict[str, Any]] = {}
    total = len(ids)
    lock = threading.Lock()

    def read(workgroup_id: str) -> None:
        detail = client.get_workgroup(workgroup_id)
        with lock:
            details[workgroup_id] = detail
            n = len(details)
        if n == total or n % 10 == 0:
            progress(f"{what}: {n}/{total} workgroups read")

    if parallelism <= 1 or total <= 1:
        for workgroup_id in ids:
            read(workgroup_id)
        return details
    with ThreadPoolExecutor(min(parallelism, total), thread_name_prefix="refresh") as pool:
        futures = [pool.submit(read, i) for i in ids]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            future.cancel()  # after a failure, start nothing new
        for future in done:
            future.result()  # raises the failure, if any
        for future in futures:
            if not future.cancelled():
                future.result()
    return {i: details[i] for i in ids}


def to_verify(state: State, live_ids: set[str], options: PlanOptions) -> list[str]:
    """The managed addresses whose details a refresh reads: all of them for a full refresh;
    for a sample, the `options.sample` verified longest ago (never verified first)."""
    managed = [a for a, ws in state.workgroups.items() if ws.id and ws.id in live_ids]
    if options.refresh in ("full", "refresh-only"):
        return sorted(managed)
    if options.refresh == "sample":
        by_age = sorted(managed, key=lambda a: (state.workgroups[a].verified or "", a))
        return sorted(by_age[: options.sample])
    return []


def compute_plan(
    desired: Desired,
    state: State,
    client: TelegentClient,
    options: PlanOptions,
    progress: Progress,
    live: list[LiveSummary] | None = None,
    parallelism: int = 4,
    verify: Sequence[str] | None = None,
    record: StateStore | None = None,
) -> tuple[Plan, State]:
    """Read what the plan needs from the account and plan. Returns the plan and the state it
    was made against (pending creates resolved in a copy: planning never writes them). With
    `record`, a sampled refresh notes in that store when the sampled workgroups were verified,
    before planning, so the plan describes the state as written."""
    check_unique_ids(state, "the state")
    if live is None:
        live = client.list_workgroups()
    live_ids = {s.workgroup_id for s in live}
    as_read, resolutions = state, []
    # Schedules cost two requests (a token and the list): only when some are declared or known.
    live_schedules = client.list_schedules() if desired.schedules or state.schedules else []
    if state.pending() or state.pending_schedules():  # resolved in a copy (a deep copy of 10,000
        state = copy.deepcopy(state)                   # workgroups is ~0.2 s: only then)
        resolutions = resolve_all(state, live, client.get_workgroup, min_age=client.timeout)
        resolutions += [resolve_schedule(state, a, live_schedules, client.timeout) for a in state.pending_schedules()]
    details: dict[str, dict[str, Any]] = {}
    imports = [i.workgroup_id for i in desired.imports if i.workgroup_id in live_ids]
    if imports:
        details.update(fetch_details(client, imports, progress, "Reading imports", parallelism))
    if verify is None:
        verify = to_verify(state, live_ids, options)
    else:  # exactly these (a saved sampled plan made again): the sample has moved on since
        verify = sorted(a for a in verify if a in state.workgroups and state.workgroups[a].id in live_ids)
    verify_ids = [i for i in (state.workgroups[a].id for a in verify) if i and i not in details]
    details.update(fetch_details(client, verify_ids, progress, parallelism=parallelism))
    if record is not None and options.refresh == "sample" and verify:
        record_verified(record, as_read, verify)
        state.serial = as_read.serial  # the copy describes the state as now written
    plan = make_plan(desired, state, live, options, details, live_schedules, verified=verify, resolutions=resolutions)
    return plan, state


def record_verified(store: StateStore, state: State, verified: Sequence[str]) -> None:
    """`--refresh sample=N`: note in the state when the sampled workgroups were verified, so
    the next run reads the next N. The only write a plan makes, and only in this mode."""
    now = utc_now()
    for address in verified:
        ws = state.workgroups.get(address)
        if ws is not None:
            ws.verified = now
    store.write(state, changed=list(verified))


def plan_for_apply(
    desired: Desired,
    store: StateStore,
    state: State,
    client: TelegentClient,
    options: PlanOptions,
    settings: Settings,
    saved_file: tuple[Plan, dict[str, Any]] | None = None,
    plan_path: Path | None = None,
) -> tuple[Plan, State]:
    """Under the run's lock, with the state read from `store`: read the account, refuse a saved
    plan that is not what planning now would make, resolve (and record) creates an interrupted
    run left, then plan. Returns the plan to carry out and the state to carry it out on."""
    progress = settings.progress
    check_unique_ids(state, store.description)
    warm_up(desired, state, client)
    live = list_and_bind(state, client, settings, store.description)
    if saved_file is not None:
        saved, body = saved_file
        where = plan_path or Path("plan")
        if not saved.ok:  # saved anyway by `plan --out` for review; never carried out
            raise UserError(f"{where}: the saved plan has conflicts or errors and cannot be applied")
        check_fresh(saved, state, desired, live, where)
        check_recomputed(saved, body, desired, state, client, live, where, progress)
    if state.pending() or state.pending_schedules():
        live = resolve_interrupted(state, store, client, live, progress)
    if saved_file is not None:
        return saved_file[0], state
    plan, _ = compute_plan(desired, state, client, options, progress, live=live, parallelism=settings.parallelism,
                           record=store)
    return plan, state


def check_recomputed(saved: Plan, body: dict[str, Any], desired: Desired, state: State, client: TelegentClient,
                     live: list[LiveSummary], where: Path, progress: Progress) -> None:
    """Make the plan again from the configuration, state and account as they are now (with the
    saved plan's options) and refuse the saved one if they differ in anything."""
    options = saved_plans.options_from_dict(body.get("options"), where)
    fresh, _ = compute_plan(desired, state, client, options, progress, live=live,
                            verify=saved.verified if options.refresh == "sample" else None)
    account = state.account.to_dict() if state.account else None
    found = saved_plans.differences(saved_plans.comparable(saved, body.get("account")),
                                    saved_plans.comparable(fresh, account))
    if found:
        raise UserError(
            f"{where}: plan is stale: planning now gives a different plan than the one saved "
            f"(saved -> now: {'; '.join(found)}). Nothing was changed. Run `telegent-iac plan` again."
        )


def warm_up(desired: Desired, state: State, client: TelegentClient) -> None:
    """When creates are certain to come (a declared address has no ID yet), fetch the create
    endpoint's token while the account is being listed instead of after it."""
    known = state.workgroups
    if any(address not in known or not known[address].id for address in desired.workgroups):
        client.prefetch_token(spec.WORKGROUPS)


def resolve_interrupted(
    state: State, store: StateStore, client: TelegentClient, live: list[LiveSummary], progress: Progress,
    sleep: Callable[[float], None] = time.sleep,
) -> list[LiveSummary]:
    """Resolve the pending creates an interrupted run left, and record the outcome (apply only).

    A create with no match yet is given the client's request timeout from when it was sent: a
    server may still commit what a killed run sent, and creating again before then could make
    a duplicate. Returns the live list as last read."""
    while True:
        resolutions = resolve_all(state, live, client.get_workgroup, min_age=client.timeout)
        if state.pending_schedules():
            schedules = client.list_schedules()
            resolutions += [resolve_schedule(state, a, schedules, client.timeout) for a in state.pending_schedules()]
        for r in resolutions:
            if r.outcome != IN_FLIGHT:
                progress(r.describe())
        if any(r.outcome == AMBIGUOUS for r in resolutions):
            raise UserError("interrupted creates need attention before applying (see above)")
        store.write(state)
        if not any(r.outcome == IN_FLIGHT for r in resolutions):
            return live
        youngest = min(age_seconds(p) for p in _pending_records(state))
        wait = max(0.5, client.timeout - youngest)
        progress(f"An interrupted create may still be in flight; waiting {wait:.0f}s before checking again.")
        sleep(wait)
        live = client.list_workgroups()


def _pending_records(state: State) -> list[PendingCreate]:
    out = []
    for address, key in state.pending():
        ws = state.workgroups[address]
        record = ws.pending_create if key is None else ws.members[key].pending_create
        if record is not None:
            out.append(record)
    return out + [r for a in state.pending_schedules() if (r := state.schedules[a].pending_create) is not None]


def carry_out(plan: Plan, state: State, store: StateStore, client: TelegentClient, settings: Settings,
              on_event: Callable[[Event], None]) -> ApplyResult:
    """Apply `plan` to the account, recording every outcome in `store` (under the run's lock)."""
    from telegent_iac.apply.executor import Applier

    with two_stage_interrupt(settings.progress) as stop:
        applier = Applier(plan, state, store, client, parallelism=settings.parallelism, on_event=on_event,
                          stop=stop, audit=store.append_audit, lock_lost=store.lock_lost)
        return applier.run()


# --- saved plans ----------------------------------------------------------------------------------


def write_plan_file(path: Path, plan: Plan, settings: Settings, options: PlanOptions, state: State) -> None:
    saved_plans.write_plan_file(path, {
        "kind": PLAN_FILE_KIND,
        "tool_version": __version__,
        "config": list(settings.config_paths),
        "var_files": list(settings.var_files),
        "sandbox": settings.sandbox,
        "allow_secret_vars": list(settings.allow_secret_vars),
        "options": saved_plans.options_to_dict(options),
        "account": state.account.to_dict() if state.account else None,
        "plan": plan.to_dict(),
    })


def read_plan_file(path: Path) -> tuple[Plan, dict[str, Any]]:
    return saved_plans.read_plan_file(path)


def check_fresh(plan: Plan, state: State, desired: Desired, live: Sequence[LiveSummary], path: Path) -> None:
    """A saved plan is applied only as made: same state, same inputs, same live objects."""
    # Serial 0 is "no state yet" (a written state is always at serial 1 or more): each run
    # makes a new lineage for it, so only the serial can be compared then.
    neither_had_state = plan.serial == 0 and state.serial == 0
    if not neither_had_state and (plan.lineage != state.lineage or plan.serial != state.serial):
        raise UserError(
            f"{path}: plan is stale: it was made against state serial {plan.serial} "
            f"(lineage {plan.lineage}), and the state is now at serial {state.serial} "
            f"(lineage {state.lineage}). Run `telegent-iac plan` again."
        )
    if plan.input_hash != desired.input_hash:
        raise UserError(
            f"{path}: plan is stale: the configuration files (or the variables they use) changed "
            f"since the plan was made. Run `telegent-iac plan` again."
        )
    live_by_id = {s.workgroup_id: s for s in live}
    known = {ws.id for ws in state.workgroups.values() if ws.id}
    unknown_names = {s.name for s in live if s.workgroup_id not in known}
    moved: list[str] = []
    for c in plan.changes:
        if CREATE in c.actions and (c.after or {}).get("Name") in unknown_names:
            moved.append(f"{c.address}: a workgroup named {c.after and c.after.get('Name')!r} appeared")
        if c.workgroup_id and CREATE not in c.actions and c.workgroup_id not in live_by_id:
            moved.append(f"{c.address}: workgroup {c.workgroup_id} is gone")
        if c.workgroup_id and CREATE in c.actions and not c.is_replace and c.workgroup_id in live_by_id:
            moved.append(f"{c.address}: workgroup {c.workgroup_id} is back")
        if IMPORT in c.actions and c.import_id not in live_by_id:
            moved.append(f"{c.address}: workgroup {c.import_id} to import is gone")
    for workgroup_id, (name, type_) in sorted(plan.seen.items()):
        now = live_by_id.get(workgroup_id)
        if now is not None and (now.name, now.type) != (name, type_):
            moved.append(f"workgroup {workgroup_id} is now {now.name!r} ({now.type}), was {name!r} ({type_})")
    if moved:
        raise UserError(
            f"{path}: plan is stale: the account changed since the plan was made ("
            + "; ".join(moved) + "). Run `telegent-iac plan` again."
        )


def store_for(settings: Settings) -> StateStore:
    return open_store(settings.state_location)
