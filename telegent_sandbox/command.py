"""`telegent-iac sandbox`: run the emulator in the foreground until Ctrl-C."""

from __future__ import annotations

import os
import threading
from typing import Any

import click

from telegent_sandbox.options import (
    ACCOUNT_ID_ECHOES,
    DEMO_ACCOUNT_KEY,
    DEMO_ACCOUNT_SECRET,
    DETAILS,
    ENVELOPES,
    ID_PREFIXES,
    LIST_FIELDS,
    LIST_KEYS,
    SandboxOptions,
    check_loopback,
)
from telegent_sandbox.server import SandboxServer


def _account(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        key, sep, secret = value.partition(":")
        if not sep or not key or not secret:
            raise click.BadParameter(f"expected KEY:SECRET, got {key or value!r}:...", ctx, param)
        pairs.append((key, secret))
    return tuple(pairs)


def _loopback(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        check_loopback(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    return value


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, callback=_loopback,
              help="Address to listen on. Only loopback addresses (127.0.0.1, ::1, localhost) are "
                   "accepted: the sandbox has no real security.")
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True,
              help="TCP port to listen on; 0 picks a free ephemeral port.")
@click.option("--db", "db", default="./telegent-sandbox.db", show_default=True,
              help="SQLite file holding the sandbox accounts' data, kept across restarts. "
                   "Use :memory: for a throwaway run.")
@click.option("--reset", is_flag=True,
              help="Wipe every account's workgroups, activities and schedules in --db at start.")
@click.option("--token-ttl", type=click.FloatRange(min=0, min_open=True), default=300.0, show_default=True,
              help="Seconds an API token stays valid after it is issued.")
@click.option("--rate-limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Requests allowed per account in any rolling window (--rate-window), token "
                   "requests included; past it the answer is 429 with Retry-After. 0 turns it off.")
@click.option("--rate-window", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Seconds of the rate limit's rolling window. Telegent documents a limit per "
                   "minute but not its window: e.g. --rate-limit 20 --rate-window 10 counts the "
                   "same average rate as 120 a minute in 10 s slices.")
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, show_default=True,
              help="Milliseconds added to every API request.")
@click.option("--latency-jitter-ms", type=click.IntRange(min=0), default=0, show_default=True,
              help="Up to this many more milliseconds, chosen at random per request.")
@click.option("--error-rate", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="Probability (0..1) that an API request is answered 500, 503 or 504 "
                   "without doing anything.")
@click.option("--drop-create", "drop_creates", type=click.IntRange(min=1), multiple=True, metavar="N",
              help="Commit the Nth workgroup create (1-based, counted from start), then close the "
                   "connection without a response: the lost response that makes a create "
                   "ambiguous. Repeatable.")
@click.option("--envelope", type=click.Choice(ENVELOPES), default="bare", show_default=True,
              help="Success bodies bare (as the spec's examples) or wrapped as "
                   "{Successful: true, Data: {...}} (as the docs' introduction claims).")
@click.option("--list-key", type=click.Choice(LIST_KEYS), default="Workgroups", show_default=True,
              help="Key of the workgroup list in GET /v1.0/account/workgroups (Results also adds "
                   "TotalWorkgroups, like the sibling list endpoints).")
@click.option("--id-prefix", type=click.Choice(ID_PREFIXES), default="WID-", show_default=True,
              help="Prefix of new WorkgroupIds; the docs use both.")
@click.option("--read-quirks", is_flag=True,
              help="Reads spell Type differently ('ring' in the list; 'Ivr', 'RoundRobin', "
                   "'Simultaneous' in details) and booleans as \"true\"/\"false\" strings, as "
                   "some documented examples do.")
@click.option("--detail", type=click.Choice(DETAILS), default="full", show_default=True,
              help="What a workgroup's detail read carries: every field with its Activities (full), "
                   "every field but no Activities (no-activities), or only the fields of the "
                   "documented example, no Activities (example).")
@click.option("--list-fields", type=click.Choice(LIST_FIELDS), default="summary", show_default=True,
              help="Each account-list entry carries WorkgroupId/Name/Type/Active (summary, as "
                   "documented) or the whole record (full, like the sibling lists).")
@click.option("--wrong-scope-status", type=click.Choice(["401", "403"]), default="401", show_default=True,
              help="The answer to a token issued for another endpoint (the docs say both).")
@click.option("--account-id", "account_id", type=click.Choice(ACCOUNT_ID_ECHOES), default="echo",
              show_default=True, help="Whether workgroup responses echo AccountId or leave it out.")
@click.option("--drop-activity-create", "drop_activity_creates", type=click.IntRange(min=1), multiple=True,
              metavar="N", help="Like --drop-create, for the Nth activity (member) create. Repeatable.")
@click.option("--seed", type=int, default=None,
              help="Seed for the random choices of --error-rate and --latency-jitter-ms, "
                   "for repeatable runs.")
@click.option("--account", "accounts", multiple=True, metavar="KEY:SECRET", callback=_account,
              help="An extra account besides the demo one (each account's data is separate). "
                   "Repeatable.")
def sandbox_command(host: str, port: int, db: str, reset: bool, token_ttl: float, rate_limit: int, rate_window: float,
                    latency_ms: int, latency_jitter_ms: int, error_rate: float,
                    drop_creates: tuple[int, ...], envelope: Any, list_key: Any, id_prefix: Any,
                    read_quirks: bool, detail: Any, list_fields: Any, wrong_scope_status: str, account_id: Any,
                    drop_activity_creates: tuple[int, ...], seed: int | None,
                    accounts: tuple[tuple[str, str], ...]) -> None:
    """Run a local emulator of Telegent's workgroup API.

    It is built from Telegent's public documentation and is NOT Telegent: where the docs
    disagree or are silent, it makes a documented choice (see docs/sandbox.md). It serves
    tokens, workgroups, workgroup activities (members) and schedules on loopback, with
    Telegent's per-endpoint tokens and rate limit, injectable faults and the documented
    dialects. Control endpoint: /_sandbox/. Stop it with Ctrl-C.
    """
    options = SandboxOptions(
        host=host, port=port, db=db, token_ttl=token_ttl, rate_limit=rate_limit, rate_window=rate_window,
        latency_ms=latency_ms, latency_jitter_ms=latency_jitter_ms, error_rate=error_rate,
        drop_creates=drop_creates, envelope=envelope, list_key=list_key, id_prefix=id_prefix,
        read_quirks=read_quirks, detail=detail, list_fields=list_fields,
        wrong_scope_status=int(wrong_scope_status), account_id=account_id,
        drop_activity_creates=drop_activity_creates, seed=seed, accounts=accounts,
    )

    def echo_request(entry: dict[str, Any]) -> None:
        status = "dropped" if entry["status"] is None else entry["status"]
        click.echo(f"{entry['method']} {entry['path']} -> {status}", err=True)

    server = SandboxServer(options, on_request=echo_request)
    try:
        server.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if reset:
        server.control.reset()
    where = "in memory (lost at exit)" if db == ":memory:" else os.path.abspath(db)
    click.echo("Telegent sandbox: an emulator built from Telegent's public docs, not Telegent.")
    click.echo(f"Serving {server.url}   data: {where}{'   (reset)' if reset else ''}")
    click.echo(f"Demo account: AccountKey {DEMO_ACCOUNT_KEY}  AccountSecret {DEMO_ACCOUNT_SECRET}")
    click.echo("Point telegent-iac at it:")
    click.echo(f"  export TELEGENT_API_URL={server.url}")
    click.echo(f"  export TELEGENT_ACCOUNT_KEY={DEMO_ACCOUNT_KEY}")
    click.echo(f"  export TELEGENT_ACCOUNT_SECRET={DEMO_ACCOUNT_SECRET}")
    click.echo(f"Control endpoint: {server.url}/_sandbox/   Ctrl-C stops.")
    try:
        threading.Event().wait()  # the server runs in its own thread
    except KeyboardInterrupt:
        click.echo("Stopping the sandbox.")
    finally:
        server.stop()
