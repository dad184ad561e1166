"""Benchmark of telegent-iac at scale, and its budget.

Usage:
    python bench/run.py                          # sizes 100, 1,000 and 10,000, all checks
    python bench/run.py --sizes 100,1000         # other sizes
    python bench/run.py --quick --out /tmp/p.md  # a small run (a smoke test; ~15 s)

For each size it generates a configuration of N workgroups (a few fields each, some with
members, some referring to other workgroups by address), starts the sandbox in a separate
process (its CPU never counts against the tool) with no rate limit, and runs as whole
processes (`python -m telegent_iac ...`, interpreter start included):

    validate  ->  plan (first: everything to add)  ->  apply --auto-approve  ->  plan (no-op)

measuring wall time, CPU time (user + system) and peak memory of that one process (the
rusage os.wait4 returns for it), and the requests it made by endpoint (from the sandbox's
request log). More experiments check the other budget items:

  * rate limit: N creates against a sandbox that allows R requests per rolling minute, with
    TELEGENT_RATE_LIMIT=R: elapsed time against 1.02 x requests / R minutes, and no 429.
  * a shorter window: 30 creates against a sandbox allowing 20 requests per 10 s (the same
    average rate as 120 a minute) with TELEGENT_RATE_LIMIT=120: no 429.
  * parallelism: creates against a sandbox adding 50 ms to every request, no rate limit,
    `apply --parallelism 8` against a bare httpx loop (a process of its own too) making the
    same requests (two tokens, the list, the creates with the same bodies), 8 at a time.
  * PostgreSQL (when TELEGENT_TEST_PG_DSN or --pg-dsn names a database): WAL bytes per
    mutating call's state write at 10,000 workgroups, from pg_current_wal_lsn().

It writes a Markdown report (docs/performance.md by default) with the machine it ran on,
and prints PASS/FAIL per budget item with its figure; the exit status is 1 if any item
fails, --quick included (an item a run did not measure is neither).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegent_iac import spec  # noqa: E402  (the endpoint paths; after the path is set)

DEMO_KEY = "DID-sandbox-demo"
DEMO_SECRET = "sandbox-demo-secret"
PER_FILE = 1000  # workgroups per generated YAML file (a directory of files, as teams keep them)
TYPES = ("IVR", "simultaneous", "round-robin")
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London")

# The budget.
NOOP_PLAN_SIZE = 10_000
NOOP_PLAN_MAX_WALL = 1.0  # seconds
NOOP_PLAN_MAX_RSS_MB = 150.0
NOOP_RATIO_MAX = 10.0  # no-op plan 10,000 / 1,000
SMALL_NOOP_SIZE = 100
SMALL_NOOP_MAX_WALL = 0.4
VERSION_MAX_WALL = 0.15
APPLY_RATIO_MAX = 11.0  # apply 10,000 / 1,000, no rate limit
PACING_SLACK = 1.02
WINDOW_LIMIT, WINDOW_SECONDS, WINDOW_CLIENT_RATE, WINDOW_CREATES = 20, 10.0, 120, 30
PARALLEL_MAX_OVERHEAD = 1.15  # apply --parallelism 8 / the bare httpx loop
PARALLEL = 8
PARALLEL_LATENCY_MS = 50
WAL_SIZE = 10_000
WAL_MAX_BYTES = 16 * 1024  # per mutating call


# --- configuration -------------------------------------------------------------------------------


def generate_config(n: int, directory: Path, *, members: bool = True, references: bool = True) -> None:
    """N workgroups in files of PER_FILE: every 10th an IVR menu whose members are the next
    three workgroups (by address), every 4th of the others two user members, every 7th an
    off-hours reference to an earlier non-IVR workgroup (so references never form a cycle)."""
    directory.mkdir(parents=True, exist_ok=True)
    for start in range(0, n, PER_FILE):
        lines = ["workgroups:"]
        for i in range(start, min(n, start + PER_FILE)):
            lines += _workgroup(i, n, members=members, references=references)
        (directory / f"workgroups-{start // PER_FILE:03d}.yaml").write_text("\n".join(lines) + "\n")


def _workgroup(i: int, n: int, *, members: bool, references: bool) -> list[str]:
    ivr = i % 10 == 0
    kind = "IVR" if ivr else TYPES[1 + i % 2]
    out = [
        f"  wg-{i:05d}:",
        f"    Name: Team {i:05d}",
        f"    Type: {kind}",
        f'    TelegentPhone: "+1415{200 + i // 10_000:03d}{i % 10_000:04d}"',  # valid numbers: lints check
        f"    AnnouncementText: Thank you for calling team {i}. Please hold.",
        f"    RecordCalls: {'true' if i % 3 == 0 else 'false'}",
        f"    TimeZone: {ZONES[i % len(ZONES)]}",
    ]
    target = i - 11 - i % 5
    if references and i % 7 == 3 and target >= 0:
        target += 1 if target % 10 == 0 else 0  # never an IVR menu, which may ring `i` back
        out += ["    OffHoursType: Workgroup", f"    OffHoursId: wg-{target:05d}"]
    if not members:
        return out
    if ivr:
        targets = [j for j in range(i + 1, i + 4) if j < n]
        if targets and references:
            out.append("    members:")
            for digit, j in enumerate(targets, 1):
                out += ["      - Type: Workgroup", f"        ReferenceWorkgroupId: wg-{j:05d}",
                        f"        DigitOrder: {digit}"]
    elif i % 4 == 1:
        out += [
            "    members:",
            "      - Type: User",
            f"        ReferenceUserId: USER-{i:05d}-a",
            "        SmsNotification: true",
            "      - Type: User",
            f'        PhoneNumber: "+1212{200 + i // 10_000:03d}{i % 10_000:04d}"',
        ]
    return out


# --- the sandbox, in its own process ----------------------------------------------------------------


def serve_sandbox(rate_limit: int, latency_ms: int, rate_window: float = 60.0) -> None:
    """Child-process entry: serve until stdin closes; the URL is the first line on stdout."""
    from telegent_sandbox import SandboxOptions, SandboxServer

    options = SandboxOptions(port=0, rate_limit=rate_limit, latency_ms=latency_ms, rate_window=rate_window)
    with SandboxServer(options) as server:
        print(server.url, flush=True)
        sys.stdin.read()


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url

    def _control(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_sandbox/{name}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        self._control("POST", "reset")
        self.clear()

    def clear(self) -> None:
        self._control("POST", "requests/clear")

    def requests(self) -> list[dict[str, Any]]:
        return list(self._control("GET", "requests")["requests"])


@contextmanager
def sandbox_process(rate_limit: int = 0, latency_ms: int = 0, rate_window: float = 60.0) -> Iterator[Sandbox]:
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve-sandbox",
         "--sandbox-rate-limit", str(rate_limit), "--sandbox-latency-ms", str(latency_ms),
         "--sandbox-rate-window", str(rate_window)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the sandbox did not start (said {url!r})")
        yield Sandbox(url)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


# --- measuring one process ---------------------------------------------------------------------------


@dataclass
class Run:
    what: str
    wall: float
    cpu: float
    rss_mb: float
    exit_code: int
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    stdout: str = ""
    stderr: str = ""

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


def run_tool(args: Sequence[str], env: dict[str, str], cwd: Path, what: str,
             sandbox: Sandbox | None = None, expect: Sequence[int] = (0,),
             command: Sequence[str] = ("-m", "telegent_iac")) -> Run:
    """One whole `python -m telegent_iac ...` process: wall, CPU and peak RSS are its own
    (os.wait4 returns the rusage of exactly that child), requests come from the sandbox log."""
    if sandbox is not None:
        sandbox.clear()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, *command, *args], env=env, cwd=cwd,
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    run = Run(what, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode,
              stdout=stdout, stderr=stderr)
    if sandbox is not None:
        for entry in sandbox.requests():
            run.requests[f"{entry['method']} {entry['path']}"] += 1
            run.statuses[entry["status"] or 0] += 1
    if run.exit_code not in expect:
        raise RuntimeError(f"{what}: exit {run.exit_code} (expected {list(expect)})\n"
                           f"stdout: {stdout[-2000:]}\nstderr: {stderr[-4000:]}")
    return run


def tool_env(url: str, rate_limit: int) -> dict[str, str]:
    # Start-up is measured as users see it: with the compiled bytecode caches.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGENT_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(TELEGENT_API_URL=url, TELEGENT_ACCOUNT_KEY=DEMO_KEY, TELEGENT_ACCOUNT_SECRET=DEMO_SECRET,
               TELEGENT_RATE_LIMIT=str(rate_limit), NO_COLOR="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])))
    return env


# --- the experiments --------------------------------------------------------------------------------------


@dataclass
class SizeResult:
    size: int
    members: int
    files: int
    yaml_bytes: int
    state_bytes: int
    runs: list[Run]

    def run(self, what: str) -> Run:
        return next(r for r in self.runs if r.what == what)


def bench_size(n: int, sandbox: Sandbox, work: Path, parallelism: int) -> SizeResult:
    directory = work / f"size-{n}"
    config = directory / "config"
    generate_config(n, config)
    state = directory / "state" / "telegent.state.json"
    env = tool_env(sandbox.url, 0)
    sandbox.reset()
    common = ["--state", str(state)]
    runs = [
        run_tool(["validate", str(config)], env, directory, "validate", sandbox),
        run_tool(["plan", str(config), *common, "--detailed-exitcode"], env, directory, "first plan",
                 sandbox, expect=(2,)),
        run_tool(["apply", str(config), *common, "--auto-approve", "--parallelism", str(parallelism)],
                 env, directory, "apply", sandbox),
        run_tool(["plan", str(config), *common, "--detailed-exitcode"], env, directory, "no-op plan",
                 sandbox, expect=(0,)),
    ]
    members = runs[2].requests.get(f"POST {spec.ACTIVITY}", 0)
    yaml_bytes = sum(p.stat().st_size for p in config.iterdir())
    result = SizeResult(n, members, len(list(config.iterdir())), yaml_bytes, state.stat().st_size, runs)
    shutil.rmtree(directory, ignore_errors=True)
    return result


@dataclass
class RateResult:
    creates: int
    limit: int  # the client's TELEGENT_RATE_LIMIT, a minute
    window: float  # the sandbox's window, seconds (it allows limit * window / 60 in it)
    run: Run

    @property
    def bound(self) -> float:
        return PACING_SLACK * self.run.total_requests / self.limit * 60.0

    @property
    def throttled(self) -> int:
        return self.run.statuses.get(429, 0)


def bench_rate_limit(creates: int, limit: int, work: Path, window: float = 60.0) -> RateResult:
    directory = work / "rate"
    config = directory / "config"
    generate_config(creates, config, members=False, references=False)
    allowed = round(limit * window / 60.0)
    with sandbox_process(rate_limit=allowed, rate_window=window) as sandbox:
        run = run_tool(["apply", str(config), "--state", str(directory / "state.json"), "--auto-approve"],
                       tool_env(sandbox.url, limit), directory,
                       f"apply {creates} creates at {limit}/min against {allowed} per {window:g} s", sandbox)
    shutil.rmtree(directory, ignore_errors=True)
    return RateResult(creates, limit, window, run)


@dataclass
class ParallelResult:
    creates: int
    latency_ms: int
    tool: Run
    bare: Run

    @property
    def overhead(self) -> float:
        return self.tool.wall / self.bare.wall


def bare_loop(url: str, config: Path, concurrency: int) -> None:
    """Child-process entry: what apply does at the HTTP level and nothing else - a token for
    the list and one for the create endpoint, the list, then one POST per workgroup of the
    generated configuration (the same bodies), `concurrency` at a time."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    import yaml

    workgroups = {}
    for path in sorted(config.iterdir()):
        workgroups.update(yaml.safe_load(path.read_text())["workgroups"])
    with httpx.Client(base_url=url, timeout=60, limits=httpx.Limits(max_connections=32)) as client:
        def token(endpoint: str) -> str:
            body = {"AccountKey": DEMO_KEY, "AccountSecret": DEMO_SECRET, "ApiEndpoint": url + endpoint}
            response = client.post(spec.TOKENS, json=body)
            response.raise_for_status()
            return str(response.json()["token"])  # the sandbox's spelling (the tool accepts any)

        listing = {"Authorization": f"Bearer {token(spec.ACCOUNT_WORKGROUPS)}"}
        client.get(spec.ACCOUNT_WORKGROUPS, headers=listing).raise_for_status()
        creating = {"Authorization": f"Bearer {token(spec.WORKGROUPS)}"}

        def create(fields: dict[str, Any]) -> None:
            client.post(spec.WORKGROUPS, json=fields, headers=creating).raise_for_status()

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(create, workgroups.values()))


def bench_parallelism(creates: int, work: Path) -> ParallelResult:
    config = work / "parallel" / "config"
    generate_config(creates, config, members=False, references=False)
    with sandbox_process(rate_limit=0, latency_ms=PARALLEL_LATENCY_MS) as sandbox:
        sandbox.reset()
        bare = run_tool(["--bare-loop", sandbox.url, str(config), str(PARALLEL)], tool_env(sandbox.url, 0),
                        work / "parallel", f"bare httpx loop, {PARALLEL} at a time", sandbox,
                        command=(str(Path(__file__).resolve()),))
        sandbox.reset()
        state = work / "parallel" / "state.json"
        tool = run_tool(["apply", str(config), "--state", str(state), "--auto-approve", "--parallelism", str(PARALLEL)],
                        tool_env(sandbox.url, 0), work / "parallel", f"apply --parallelism {PARALLEL}", sandbox)
    shutil.rmtree(work / "parallel", ignore_errors=True)
    return ParallelResult(creates, PARALLEL_LATENCY_MS, tool, bare)


def bench_startup(work: Path, repeat: int = 5) -> list[Run]:
    """`python -c pass` and `--version`, the median of `repeat` runs of each (start-up is short
    enough for a busy moment on the machine to dominate one run)."""
    env = tool_env("http://127.0.0.1:9", 0)
    runs = []
    commands = (("python -c pass", ["-c", "pass"]), ("telegent-iac --version", ["-m", "telegent_iac", "--version"]))
    for what, args in commands:
        samples = []
        for _ in range(repeat):
            with tempfile.TemporaryFile() as out:
                started = time.perf_counter()
                child = subprocess.Popen([sys.executable, *args], env=env, cwd=work, stdout=out, stderr=out)
                _, status, usage = os.wait4(child.pid, 0)
                samples.append(Run(what, time.perf_counter() - started, usage.ru_utime + usage.ru_stime,
                                   usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)))
        runs.append(sorted(samples, key=lambda r: r.wall)[len(samples) // 2])
    return runs


@dataclass
class WalResult:
    size: int
    calls: int
    per_call: list[int]  # WAL bytes of each mutating call's state write

    @property
    def median(self) -> int:
        return sorted(self.per_call)[len(self.per_call) // 2]

    @property
    def mean(self) -> float:
        return sum(self.per_call) / len(self.per_call)


def bench_wal(dsn: str, size: int, calls: int) -> WalResult:
    """The PostgreSQL store at `size` workgroups: WAL written by each of `calls` state writes
    as the apply makes them (an intent before a create, the ID after it), measured from the
    WAL insert position (pg_current_wal_insert_lsn()) around each write. The WAL is the
    cluster's: the median is reported so that another database's traffic in the same moment
    does not count."""
    import uuid

    import psycopg

    from telegent_iac.state.postgres import PostgresStateStore
    from telegent_iac.state.records import PendingCreate, State, WorkgroupState

    workspace = f"bench-wal-{uuid.uuid4().hex}"
    store = PostgresStateStore(dsn, workspace)
    state = State.new()
    for i in range(size):
        fields = {"Name": f"Team {i:05d}", "Type": TYPES[1 + i % 2], "TelegentPhone": f"+1415{i:07d}",
                  "AnnouncementText": f"Thank you for calling team {i}. Please hold.", "RecordCalls": i % 3 == 0,
                  "TimeZone": ZONES[i % len(ZONES)]}
        state.workgroups[f"wg-{i:05d}"] = WorkgroupState(id=f"WID-{uuid.uuid4()}", fields=fields)
    store.write(state)
    per_call: list[int] = []
    with psycopg.connect(dsn, autocommit=True) as probe:
        def lsn() -> str:
            # The insert position: pg_current_wal_lsn() is how far WAL has been written out,
            # which moves by whole buffers rather than with each record.
            return str(probe.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0])

        for n in range(calls):
            address = f"wg-new-{n // 2:05d}"
            if n % 2 == 0:  # the intent before the POST
                fields = {"Name": f"New {n}", "Type": "IVR"}
                state.workgroups[address] = WorkgroupState(
                    fields=fields, pending_create=PendingCreate(f"New {n}", "IVR", "2026-01-01T00:00:00Z", fields))
            else:  # the ID right after it
                ws = state.workgroups[address]
                ws.pending_create, ws.id = None, f"WID-{uuid.uuid4()}"
            before = lsn()
            store.write(state, changed={address})
            after = lsn()
            per_call.append(int(probe.execute("SELECT pg_wal_lsn_diff(%s, %s)", (after, before)).fetchone()[0]))
        for table in ("telegent_state_workgroup", "telegent_state_backup", "telegent_state"):
            probe.execute(f"DELETE FROM {table} WHERE workspace = %s", (workspace,))
    store.close()
    return WalResult(size, calls, per_call)


# --- the budget and the report -------------------------------------------------------------------------


@dataclass
class Check:
    item: str
    passed: bool | None  # None: not measured in this run
    detail: str


def budget(sizes: list[SizeResult], startup: list[Run], rate: RateResult | None, window: RateResult | None,
           parallel: ParallelResult | None, wal: WalResult | None) -> list[Check]:
    by_size = {s.size: s for s in sizes}
    checks: list[Check] = []

    def noop(n: int) -> Run | None:
        return by_size[n].run("no-op plan") if n in by_size else None

    big, small, mid = noop(NOOP_PLAN_SIZE), noop(SMALL_NOOP_SIZE), noop(1000)
    item = f"no-op plan of {NOOP_PLAN_SIZE:,} workgroups <= {NOOP_PLAN_MAX_WALL:g} s and <= {NOOP_PLAN_MAX_RSS_MB:g} MB"
    checks.append(Check(item, None, "size not run") if big is None else Check(
        item, big.wall <= NOOP_PLAN_MAX_WALL and big.rss_mb <= NOOP_PLAN_MAX_RSS_MB,
        f"{big.wall:.2f} s, {big.rss_mb:.0f} MB"))
    item = f"no-op plan 10,000 / 1,000 wall ratio <= {NOOP_RATIO_MAX:g}"
    checks.append(Check(item, None, "sizes not run") if big is None or mid is None else Check(
        item, big.wall / mid.wall <= NOOP_RATIO_MAX, f"{big.wall / mid.wall:.2f}"))
    item = f"no-op plan of {SMALL_NOOP_SIZE} workgroups <= {SMALL_NOOP_MAX_WALL:g} s"
    checks.append(Check(item, None, "size not run") if small is None else Check(
        item, small.wall <= SMALL_NOOP_MAX_WALL, f"{small.wall:.2f} s"))
    version = next(r for r in startup if "--version" in r.what)
    checks.append(Check(f"telegent-iac --version <= {VERSION_MAX_WALL:g} s (median of 5)",
                        version.wall <= VERSION_MAX_WALL and version.exit_code == 0, f"{version.wall:.3f} s"))
    counts = {s.size: s.run("no-op plan").requests for s in sizes}
    token, listing = f"POST {spec.TOKENS}", f"GET {spec.ACCOUNT_WORKGROUPS}"
    exact = all(sum(c.values()) == 2 and c.get(token) == 1 and c.get(listing) == 1 for c in counts.values())
    checks.append(Check("no-op plan makes exactly 2 requests (a token and the list) at every size", exact,
                        ", ".join(f"{n:,}: {sum(c.values())}" for n, c in counts.items())))
    item = f"apply of 10,000 <= {APPLY_RATIO_MAX:g} x apply of 1,000 (no rate limit, same run)"
    if NOOP_PLAN_SIZE in by_size and 1000 in by_size:
        large, base = by_size[NOOP_PLAN_SIZE].run("apply"), by_size[1000].run("apply")
        checks.append(Check(item, large.wall / base.wall <= APPLY_RATIO_MAX,
                            f"{large.wall:.1f} s / {base.wall:.1f} s = {large.wall / base.wall:.2f}"))
    else:
        checks.append(Check(item, None, "sizes not run"))
    if rate is not None:
        checks.append(Check(
            f"apply of {rate.creates} creates at {rate.limit}/min against {rate.limit} per 60 s within "
            f"{PACING_SLACK:g} x requests / R, zero 429",
            rate.run.wall <= rate.bound and rate.throttled == 0,
            f"{rate.run.wall:.1f} s for {rate.run.total_requests} requests (bound {rate.bound:.1f} s), "
            f"{rate.throttled} x 429"))
    else:
        checks.append(Check("apply within the rate limit", None, "not run"))
    item = (f"apply of {WINDOW_CREATES} at TELEGENT_RATE_LIMIT={WINDOW_CLIENT_RATE} against {WINDOW_LIMIT} per "
            f"{WINDOW_SECONDS:g} s: zero 429")
    checks.append(Check(item, None, "not run") if window is None else Check(
        item, window.throttled == 0 and window.run.exit_code == 0,
        f"{window.throttled} x 429 in {window.run.total_requests} requests, {window.run.wall:.1f} s"))
    item = (f"apply --parallelism {PARALLEL} within {PARALLEL_MAX_OVERHEAD:g} x a bare httpx loop "
            f"({PARALLEL_LATENCY_MS} ms latency, same requests, same concurrency)")
    checks.append(Check(item, None, "not run") if parallel is None else Check(
        item, parallel.overhead <= PARALLEL_MAX_OVERHEAD,
        f"{parallel.tool.wall:.2f} s / {parallel.bare.wall:.2f} s = {parallel.overhead:.2f}"))
    item = f"PostgreSQL WAL per mutating call at {WAL_SIZE:,} workgroups <= {WAL_MAX_BYTES // 1024} KiB"
    checks.append(Check(item, None, "no database (TELEGENT_TEST_PG_DSN or --pg-dsn)") if wal is None else Check(
        item, wal.median <= WAL_MAX_BYTES,
        f"median {wal.median:,} B, mean {wal.mean:,.0f} B over {wal.calls} writes at {wal.size:,}"))
    return checks


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    import yaml

    return {
        "CPU": cpu,
        "Cores": str(os.cpu_count()),
        "Memory": memory,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "PyYAML": f"{yaml.__version__} ({'with' if getattr(yaml, '__with_libyaml__', False) else 'without'} libyaml)",
    }


def _endpoints(run: Run) -> str:
    if not run.requests:
        return "none"
    return "<br>".join(f"{method_path} x{count:,}" for method_path, count in sorted(run.requests.items()))


def render_report(sizes: list[SizeResult], startup: list[Run], rate: RateResult | None, window: RateResult | None,
                  parallel: ParallelResult | None, wal: WalResult | None, checks: list[Check], parallelism: int,
                  command: str) -> str:
    lines = [
        "# Performance",
        "",
        "Measured by `bench/run.py`; this file is written by it. Re-run with:",
        "",
        "```",
        "python bench/run.py                      # sizes 100, 1,000, 10,000 and the pacing/parallelism checks",
        "python bench/run.py --quick --out /tmp/performance.md   # a small smoke run",
        "```",
        "",
        f"This run: `{command}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "Every figure is one whole `python -m telegent_iac ...` process, interpreter start "
        "included: wall time, CPU time (user + system) and peak resident memory of that "
        "process, and the requests it sent by endpoint, read from the sandbox's request log. "
        "The sandbox runs in a separate process, so its CPU and memory are not counted. "
        f"Apply runs use `--parallelism {parallelism}` against a sandbox with no rate limit "
        "(`TELEGENT_RATE_LIMIT=0`).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in machine().items()]
    lines += ["", "## Budget", "", "| Item | Result | Measured |", "|---|---|---|"]
    for c in checks:
        verdict = "not run" if c.passed is None else "PASS" if c.passed else "**FAIL**"
        lines.append(f"| {c.item} | {verdict} | {c.detail} |")
    lines += ["", "## Interpreter start", "", "| Command | Wall (s) | CPU (s) | Peak RSS (MB) |", "|---|---|---|---|"]
    lines += [f"| `{r.what}` | {r.wall:.3f} | {r.cpu:.3f} | {r.rss_mb:.0f} |" for r in startup]
    for s in sizes:
        lines += [
            "",
            f"## {s.size:,} workgroups",
            "",
            f"{s.size:,} workgroups and {s.members:,} members in {s.files} files "
            f"({s.yaml_bytes / 1024:,.0f} KiB of YAML); state after apply {s.state_bytes / 1024:,.0f} KiB.",
            "",
            "| Command | Wall (s) | CPU (s) | Peak RSS (MB) | Requests | By endpoint |",
            "|---|---|---|---|---|---|",
        ]
        for r in s.runs:
            lines.append(f"| {r.what} | {r.wall:.2f} | {r.cpu:.2f} | {r.rss_mb:.0f} | {r.total_requests:,} | "
                         f"{_endpoints(r)} |")
    if rate is not None:
        r = rate.run
        lines += [
            "",
            "## Pacing against the rate limit",
            "",
            f"{rate.creates} creates, the sandbox allowing {rate.limit} requests per rolling minute "
            f"and `TELEGENT_RATE_LIMIT={rate.limit}` (burst 5, then even spacing). {r.total_requests} requests "
            f"({_endpoints(r)}) in {r.wall:.1f} s, interpreter start included; the budget is {PACING_SLACK:g} x "
            f"{r.total_requests} / {rate.limit} minutes = {rate.bound:.1f} s. "
            f"Responses: {dict(sorted(r.statuses.items()))}.",
        ]
    if window is not None:
        r = window.run
        lines += [
            "",
            "## Pacing against a shorter window",
            "",
            f"{window.creates} creates with `TELEGENT_RATE_LIMIT={window.limit}`, the sandbox allowing "
            f"{round(window.limit * window.window / 60)} requests per {window.window:g} s (the same average rate, "
            f"counted in a shorter window). {r.total_requests} requests in {r.wall:.1f} s. "
            f"Responses: {dict(sorted(r.statuses.items()))}.",
        ]
    if parallel is not None:
        lines += [
            "",
            "## Parallelism",
            "",
            f"{parallel.creates} creates, no rate limit, the sandbox adding {parallel.latency_ms} ms to "
            f"every request, {PARALLEL} at a time; both are whole processes.",
            "",
            "| Run | Wall (s) | CPU (s) | Peak RSS (MB) | Requests |",
            "|---|---|---|---|---|",
        ]
        for r in (parallel.tool, parallel.bare):
            lines.append(f"| {r.what} | {r.wall:.2f} | {r.cpu:.2f} | {r.rss_mb:.0f} | {r.total_requests} |")
        lines += ["", f"apply / bare loop: {parallel.overhead:.2f}."]
    if wal is not None:
        lines += [
            "",
            "## PostgreSQL WAL per state write",
            "",
            f"A state of {wal.size:,} workgroups in the PostgreSQL store, then {wal.calls} writes as an apply "
            f"makes them (an intent, then the ID, for each create): WAL bytes from the insert position "
            f"(`pg_current_wal_insert_lsn()`; `pg_current_wal_lsn()` moves by whole written-out buffers) "
            f"around each write, median {wal.median:,} B, mean {wal.mean:,.0f} B, max {max(wal.per_call):,} B "
            f"(the WAL is the whole cluster's, so other databases' traffic can only add to a figure).",
        ]
    notes = Path(__file__).with_name("notes.md")
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    return "\n".join(lines) + "\n"


# --- main ------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated workgroup counts")
    parser.add_argument("--quick", action="store_true",
                        help="small run: size 50, 20 paced creates at 60/min, 16 parallel creates, no window "
                        "or WAL experiment")
    parser.add_argument("--parallelism", type=int, default=4, help="--parallelism of the per-size applies")
    parser.add_argument("--rate-creates", type=int, default=100, help="creates in the pacing experiment")
    parser.add_argument("--rate-limit", type=int, default=50, help="requests/minute in the pacing experiment")
    parser.add_argument("--no-rate", action="store_true", help="skip the pacing experiments")
    parser.add_argument("--parallel-creates", type=int, default=400, help="creates in the parallelism experiment")
    parser.add_argument("--no-parallel", action="store_true", help="skip the parallelism experiment")
    parser.add_argument("--pg-dsn", default=os.environ.get("TELEGENT_TEST_PG_DSN", ""),
                        help="PostgreSQL database for the WAL experiment (default: TELEGENT_TEST_PG_DSN)")
    parser.add_argument("--wal-calls", type=int, default=200, help="state writes in the WAL experiment")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md", help="report path")
    parser.add_argument("--serve-sandbox", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox-rate-limit", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--sandbox-latency-ms", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--sandbox-rate-window", type=float, default=60.0, help=argparse.SUPPRESS)
    parser.add_argument("--bare-loop", nargs=3, metavar=("URL", "CONFIG", "CONCURRENCY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_sandbox:
        serve_sandbox(args.sandbox_rate_limit, args.sandbox_latency_ms, args.sandbox_rate_window)
        return 0
    if args.bare_loop:
        bare_loop(args.bare_loop[0], Path(args.bare_loop[1]), int(args.bare_loop[2]))
        return 0
    if args.quick:
        args.sizes, args.rate_creates, args.rate_limit, args.parallel_creates = "50", 20, 60, 16
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    command = "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="telegent-bench-") as tmp:
        work = Path(tmp)
        startup = bench_startup(work)
        say(f"start-up: {', '.join(f'{r.what} {r.wall:.3f} s' for r in startup)}")
        results: list[SizeResult] = []
        with sandbox_process() as sandbox:
            for n in sizes:
                say(f"size {n:,} ...")
                results.append(bench_size(n, sandbox, work, args.parallelism))
                for r in results[-1].runs:
                    say(f"  {r.what:<12} {r.wall:8.2f} s wall {r.cpu:8.2f} s CPU {r.rss_mb:6.0f} MB "
                        f"{r.total_requests:7,} requests")
        parallel = None
        if not args.no_parallel:
            say(f"parallelism: {args.parallel_creates} creates, {PARALLEL_LATENCY_MS} ms latency ...")
            parallel = bench_parallelism(args.parallel_creates, work)
        rate = window = None
        if not args.no_rate:
            say(f"pacing: {args.rate_creates} creates at {args.rate_limit}/min ...")
            rate = bench_rate_limit(args.rate_creates, args.rate_limit, work)
            if not args.quick:
                say(f"pacing: {WINDOW_CREATES} creates at {WINDOW_CLIENT_RATE}/min against "
                    f"{WINDOW_LIMIT} per {WINDOW_SECONDS:g} s ...")
                window = bench_rate_limit(WINDOW_CREATES, WINDOW_CLIENT_RATE, work, WINDOW_SECONDS)
        wal = None
        if args.pg_dsn and not args.quick:
            say(f"PostgreSQL WAL: {args.wal_calls} writes at {WAL_SIZE:,} workgroups ...")
            wal = bench_wal(args.pg_dsn, WAL_SIZE, args.wal_calls)
    checks = budget(results, startup, rate, window, parallel, wal)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_report(results, startup, rate, window, parallel, wal, checks, args.parallelism,
                                      command))
    for c in checks:
        verdict = "SKIP" if c.passed is None else "PASS" if c.passed else "FAIL"
        print(f"{verdict}  {c.item}: {c.detail}")
    print(f"report: {args.out}")
    return 1 if any(c.passed is False for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
