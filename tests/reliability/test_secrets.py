"""Secrets: a canary account secret and every token the sandbox issued for it never appear in
any file the runs wrote (state, backup, audit log, lock, plan files) or in anything they
printed, across validate, plan, a saved plan, show, apply (saved and --json), faults and
-vv logging."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path
from typing import Any

from tests.support.cli import Cli, subprocess_env
from tests.support.trials import Figures, verify, workgroup_names, write_config

CANARY_KEY = "DID-canary"


def issued_tokens(server: Any, account: str) -> list[str]:
    """Every token the sandbox issued for `account`. The sandbox keeps them only in memory
    (telegent_sandbox/token_issuer.py) and has no listing endpoint, so read its store."""
    store = server._app.tokens
    with store._lock:
        return [value for value, token in store._tokens.items() if token.account == account]


def test_canary_secret_and_tokens_never_leak(start_sandbox: Any, tmp_path: Path, figures: Figures) -> None:
    secret = f"canary-secret-{secrets.token_hex(16)}"
    # A dropped create and some 5xx: the error and recovery paths print and log too.
    server = start_sandbox(accounts=((CANARY_KEY, secret),), drop_creates=(2,), error_rate=0.1, seed=11,
                           token_ttl=3.0)
    work = tmp_path / "work"
    work.mkdir()
    state = work / "state" / "telegent.state.json"
    first = workgroup_names(6)
    config = write_config(work / "workgroups.yaml", first)
    cli = Cli(subprocess_env(server, CANARY_KEY, secret), work)
    st = ("--state", str(state))
    runs: list[subprocess.CompletedProcess[str]] = []

    def run(*args: str, expect: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        result = cli.run(*args)
        runs.append(result)
        assert result.returncode in expect, f"{args}: exit {result.returncode}\n{result.stderr}"
        return result

    run("validate", str(config))
    run("-vv", "plan", *st, str(config), expect=(0, 1))
    run("-vv", "plan", *st, "--out", str(work / "first.plan"), str(config), expect=(0, 1))
    if not (work / "first.plan").exists():  # a 5xx that outlived the retries: plan again
        run("-vv", "plan", *st, "--out", str(work / "first.plan"), str(config))
    run("show", str(work / "first.plan"))
    run("show", "--json", str(work / "first.plan"))
    run("show", "--format", "markdown", str(work / "first.plan"))
    run("-vv", "apply", *st, str(work / "first.plan"), expect=(0, 1))
    # More workgroups, applied with the JSON stream and full logging, until converged.
    declared = {**first, **workgroup_names(6, prefix="more")}
    write_config(config, declared)
    for _ in range(6):
        if run("-vv", "apply", "--auto-approve", "--json", *st, str(config), expect=(0, 1)).returncode == 0:
            break
    # A run killed mid-apply leaves its lock file and pending records behind: scan those too.
    declared.update(workgroup_names(4, prefix="killed"))
    write_config(config, declared)
    server.control.set_faults(latency_ms=400, error_rate=0.0)
    killed = cli.start("-vv", "apply", "--auto-approve", *st, str(config), log_dir=tmp_path, name="killed")
    killed.wait_for_stderr(": create...")
    killed.popen.kill()
    killed.popen.wait()
    lock_file = Path(f"{state}.lock")
    assert lock_file.exists()
    left_behind = {p: p.read_bytes() for p in (lock_file, state)}
    server.control.set_faults(latency_ms=0, error_rate=0.1)
    for _ in range(6):
        if run("-vv", "apply", "--auto-approve", *st, str(config), expect=(0, 1)).returncode == 0:
            break
    run("-vv", "plan", "--json", "--refresh", "full", *st, str(config), expect=(0, 1))
    run("-vv", "plan", "--detailed-exitcode", "--format", "markdown", *st, str(config), expect=(0, 1))
    assert runs[-3].returncode == 0, runs[-3].stderr
    verdict = verify(server, state, declared, CANARY_KEY, secret)
    assert verdict.ok, verdict.problems

    tokens = issued_tokens(server, CANARY_KEY)
    assert len(tokens) >= 3, "the runs should have fetched several tokens for the canary account"
    canaries = [secret, *tokens]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert "telegent.state.json" in names and "telegent.state.json.audit.jsonl" in names, names
    assert "telegent.state.json.backup" in names and "first.plan" in names, names
    leaks = [f"file {p}" for p in written for c in canaries if c.encode() in p.read_bytes()]
    leaks += [f"file {p} (as the killed run left it)" for p, data in left_behind.items() for c in canaries
              if c.encode() in data]
    leaks += [f"output of {r.args[3:]}" for r in runs for c in canaries if c in r.stdout or c in r.stderr]
    # Partial leaks (a token cut short, say in a truncated log line) count too.
    leaks += [f"prefix of a token in output of {r.args[3:]}" for r in runs for t in tokens
              if t[:16] in r.stdout + r.stderr]
    figures.add(secret_runs=len(runs), secret_tokens_checked=len(tokens), secret_files_scanned=len(written),
                secret_leaks=len(leaks))
    assert not leaks, leaks
