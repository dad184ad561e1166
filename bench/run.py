"""Benchmark of telegent-iac at scale, and the budget of issue 6.

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
request log). Two more experiments check the pacing and the parallelism budget items:

  * rate limit: N creates against a sandbox that allows R requests per rolling minute, with
    TELEGENT_RATE_LIMIT=R: elapsed time against 1.05 x requests / R minutes, and no 429.
  * parallelism: 200 creates against a sandbox adding 50 ms to every request, no rate
    limit, --parallelism 1 against --parallelism 8.

It writes a Markdown report (docs/performance.md by default) with the machine it ran on,
and prints PASS/FAIL per budget item; the exit status is 1 if any item fails (never with
--quick, whose sizes are too small for the budget to mean anything).
"""

from __future__ import annotations

import argparse
import json
import math
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

# The budget (issue 6).
NOOP_PLAN_SIZE = 10_000
NOOP_PLAN_MAX_WALL = 2.0  # seconds
NOOP_PLAN_MAX_RSS_MB = 300.0
LINEAR_MAX_RATIO = 12.0
PACING_SLACK = 1.05
PARALLEL_MIN_SPEEDUP = 6.0
PARALLEL_LATENCY_MS = 50


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


def serve_sandbox(rate_limit: int, latency_ms: int) -> None:
    """Child-process entry: serve until stdin closes; the URL is the first line on stdout."""
    from telegent_iac.sandbox import SandboxOptions, SandboxServer

    with SandboxServer(SandboxOptions(port=0, rate_limit=rate_limit, latency_ms=latency_ms)) as server:
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
def sandbox_process(rate_limit: int = 0, latency_ms: int = 0) -> Iterator[Sandbox]:
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve-sandbox",
         "--sandbox-rate-limit", str(rate_limit), "--sandbox-latency-ms", str(latency_ms)],
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
             sandbox: Sandbox | None = None, expect: Sequence[int] = (0,)) -> Run:
    """One whole `python -m telegent_iac ...` process: wall, CPU and peak RSS are its own
    (os.wait4 returns the rusage of exactly that child), requests come from the sandbox log."""
    if sandbox is not None:
        sandbox.clear()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "telegent_iac", *args], env=env, cwd=cwd,
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGENT_")}
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
    limit: int
    run: Run

    @property
    def bound(self) -> float:
        return PACING_SLACK * self.run.total_requests / self.limit * 60.0

    @property
    def throttled(self) -> int:
        return self.run.statuses.get(429, 0)


def bench_rate_limit(creates: int, limit: int, work: Path) -> RateResult:
    directory = work / "rate"
    config = directory / "config"
    generate_config(creates, config, members=False, references=False)
    with sandbox_process(rate_limit=limit) as sandbox:
        run = run_tool(["apply", str(config), "--state", str(directory / "state.json"), "--auto-approve"],
                       tool_env(sandbox.url, limit), directory, f"apply {creates} creates at {limit}/min", sandbox)
    shutil.rmtree(directory, ignore_errors=True)
    return RateResult(creates, limit, run)


@dataclass
class ParallelResult:
    creates: int
    latency_ms: int
    runs: dict[int, Run]

    @property
    def speedup(self) -> float:
        return self.runs[1].wall / self.runs[8].wall


def bench_parallelism(creates: int, work: Path) -> ParallelResult:
    config = work / "parallel" / "config"
    generate_config(creates, config, members=False, references=False)
    runs: dict[int, Run] = {}
    with sandbox_process(rate_limit=0, latency_ms=PARALLEL_LATENCY_MS) as sandbox:
        for p in (1, 8):
            sandbox.reset()
            state = work / "parallel" / f"state-{p}.json"
            runs[p] = run_tool(["apply", str(config), "--state", str(state), "--auto-approve", "--parallelism", str(p)],
                               tool_env(sandbox.url, 0), work / "parallel", f"apply --parallelism {p}", sandbox)
    shutil.rmtree(work / "parallel", ignore_errors=True)
    return ParallelResult(creates, PARALLEL_LATENCY_MS, runs)


def bench_startup(work: Path) -> list[Run]:
    env = tool_env("http://127.0.0.1:9", 0)
    runs = []
    commands = (("python -c pass", ["-c", "pass"]), ("telegent-iac --version", ["-m", "telegent_iac", "--version"]))
    for what, args in commands:
        with tempfile.TemporaryFile() as out:
            started = time.perf_counter()
            child = subprocess.Popen([sys.executable, *args], env=env, cwd=work, stdout=out, stderr=out)
            _, status, usage = os.wait4(child.pid, 0)
            runs.append(Run(what, time.perf_counter() - started, usage.ru_utime + usage.ru_stime,
                            usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)))
    return runs


# --- the budget and the report -------------------------------------------------------------------------


@dataclass
class Check:
    item: str
    passed: bool | None  # None: not measured in this run
    detail: str


def budget(sizes: list[SizeResult], rate: RateResult | None, parallel: ParallelResult | None) -> list[Check]:
    by_size = {s.size: s for s in sizes}
    checks: list[Check] = []
    big = by_size.get(NOOP_PLAN_SIZE)
    if big is not None:
        noop = big.run("no-op plan")
        checks.append(Check(
            f"no-op plan of {NOOP_PLAN_SIZE:,} workgroups <= {NOOP_PLAN_MAX_WALL:g} s "
            f"and <= {NOOP_PLAN_MAX_RSS_MB:g} MB",
            noop.wall <= NOOP_PLAN_MAX_WALL and noop.rss_mb <= NOOP_PLAN_MAX_RSS_MB,
            f"{noop.wall:.2f} s, {noop.rss_mb:.0f} MB"))
    else:
        checks.append(Check(f"no-op plan of {NOOP_PLAN_SIZE:,} workgroups", None, "size not run"))
    if big is not None and 1000 in by_size:
        ratio = big.run("no-op plan").wall / by_size[1000].run("no-op plan").wall
        checks.append(Check(f"no-op plan 10,000 / 1,000 wall ratio <= {LINEAR_MAX_RATIO:g}",
                            ratio <= LINEAR_MAX_RATIO, f"{ratio:.2f}"))
    else:
        checks.append(Check("no-op plan 10,000 / 1,000 ratio", None, "sizes not run"))
    counts = {s.size: s.run("no-op plan").requests for s in sizes}
    token, listing = f"POST {spec.TOKENS}", f"GET {spec.ACCOUNT_WORKGROUPS}"
    exact = all(sum(c.values()) == 2 and c.get(token) == 1 and c.get(listing) == 1 for c in counts.values())
    checks.append(Check("no-op plan makes exactly 2 requests (a token and the list) at every size", exact,
                        ", ".join(f"{n:,}: {sum(c.values())}" for n, c in counts.items())))
    if rate is not None:
        checks.append(Check(
            f"apply of {rate.creates} creates at {rate.limit}/min within 1.05 x requests / R, zero 429",
            rate.run.wall <= rate.bound and rate.throttled == 0,
            f"{rate.run.wall:.1f} s for {rate.run.total_requests} requests (bound {rate.bound:.1f} s), "
            f"{rate.throttled} x 429"))
    else:
        checks.append(Check("apply within the rate limit", None, "not run"))
    if parallel is not None:
        checks.append(Check(
            f"--parallelism 8 >= {PARALLEL_MIN_SPEEDUP:g}x --parallelism 1 ({parallel.creates} creates, "
            f"{parallel.latency_ms} ms latency)",
            parallel.speedup >= PARALLEL_MIN_SPEEDUP,
            f"{parallel.runs[1].wall:.2f} s / {parallel.runs[8].wall:.2f} s = {parallel.speedup:.1f}x"))
    else:
        checks.append(Check("parallelism speedup", None, "not run"))
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


def render_report(sizes: list[SizeResult], startup: list[Run], rate: RateResult | None,
                  parallel: ParallelResult | None, checks: list[Check], parallelism: int, command: str) -> str:
    lines = [
        "# Performance",
        "",
        "Measured by `bench/run.py` (issue 6); this file is written by it. Re-run with:",
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
        ideal = (math.ceil(r.total_requests / rate.limit) - 1) * 60.0
        lines += [
            "",
            "## Pacing against the rate limit",
            "",
            f"{rate.creates} creates, the sandbox allowing {rate.limit} requests per rolling minute "
            f"and `TELEGENT_RATE_LIMIT={rate.limit}`. {r.total_requests} requests "
            f"({_endpoints(r)}) in {r.wall:.1f} s; the budget is 1.05 x {r.total_requests} / {rate.limit} "
            f"minutes = {rate.bound:.1f} s, and the least a rolling window allows (the first {rate.limit} at "
            f"once, the next {rate.limit} a window later) is {ideal:.0f} s. "
            f"Responses: {dict(sorted(r.statuses.items()))}.",
        ]
    if parallel is not None:
        lines += [
            "",
            "## Parallelism",
            "",
            f"{parallel.creates} creates, no rate limit, the sandbox adding {parallel.latency_ms} ms to "
            "every request.",
            "",
            "| --parallelism | Wall (s) | CPU (s) | Peak RSS (MB) | Requests |",
            "|---|---|---|---|---|",
        ]
        for p, r in sorted(parallel.runs.items()):
            lines.append(f"| {p} | {r.wall:.2f} | {r.cpu:.2f} | {r.rss_mb:.0f} | {r.total_requests} |")
        lines += ["", f"Speed-up: {parallel.speedup:.1f}x."]
    notes = Path(__file__).with_name("notes.md")
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    return "\n".join(lines) + "\n"


# --- main ------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated workgroup counts")
    parser.add_argument("--quick", action="store_true",
                        help="small run: size 50, 20 paced creates at 60/min, 16 parallel creates")
    parser.add_argument("--parallelism", type=int, default=4, help="--parallelism of the per-size applies")
    parser.add_argument("--rate-creates", type=int, default=200, help="creates in the pacing experiment")
    parser.add_argument("--rate-limit", type=int, default=120, help="requests/minute in the pacing experiment")
    parser.add_argument("--no-rate", action="store_true", help="skip the pacing experiment")
    parser.add_argument("--parallel-creates", type=int, default=200, help="creates in the parallelism experiment")
    parser.add_argument("--no-parallel", action="store_true", help="skip the parallelism experiment")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md", help="report path")
    parser.add_argument("--serve-sandbox", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox-rate-limit", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--sandbox-latency-ms", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_sandbox:
        serve_sandbox(args.sandbox_rate_limit, args.sandbox_latency_ms)
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
        rate = None
        if not args.no_rate:
            say(f"pacing: {args.rate_creates} creates at {args.rate_limit}/min ...")
            rate = bench_rate_limit(args.rate_creates, args.rate_limit, work)
    checks = budget(results, rate, parallel)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_report(results, startup, rate, parallel, checks, args.parallelism, command))
    for c in checks:
        verdict = "SKIP" if c.passed is None else "PASS" if c.passed else "FAIL"
        print(f"{verdict}  {c.item}: {c.detail}")
    print(f"report: {args.out}")
    # --quick sizes are too small for the budget to mean anything: it only smoke-tests.
    return 1 if any(c.passed is False for c in checks) and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
