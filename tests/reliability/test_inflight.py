"""A run killed while its creates are still on their way to a slow server, re-run at once.

The server commits those creates after the killed client is gone. The next run must not take
"not in the list yet" for "never happened": it waits out the request timeout from when each
pending create was sent, lists again and adopts them, so no duplicate is made.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from .conftest import Cli, cli_env, read_state, verify, workgroup_names, write_config

LATENCY_MS = 3000  # under TELEGENT_HTTP_TIMEOUT (4 s, see conftest)


def test_rerun_right_after_a_kill_waits_for_creates_still_in_flight(start_sandbox: Any, tmp_path: Path) -> None:
    server = start_sandbox(latency_ms=LATENCY_MS)
    declared = workgroup_names(6)
    config = write_config(tmp_path / "workgroups.yaml", declared)
    state = tmp_path / "state.json"
    cli = Cli(cli_env(server), tmp_path)
    args = ("apply", "--auto-approve", "--parallelism", "6", "--state", str(state), str(config))
    proc = cli.start(*args, log_dir=tmp_path, name="killed")
    deadline = time.monotonic() + 20
    while not (state.exists() and len(read_state(state).pending()) == 6):  # all six POSTs on their way
        assert time.monotonic() < deadline and proc.popen.poll() is None, proc.stderr()
        time.sleep(0.01)
    proc.popen.send_signal(signal.SIGKILL)
    proc.popen.wait()
    # New requests are fast again; the six creates already received keep their 3 s delay, so
    # the next run lists the account long before the server commits them.
    server.control.set_faults(latency_ms=0)

    again = cli.run(*args)
    assert again.returncode == 0, again.stderr
    time.sleep(LATENCY_MS / 1000)  # every create the killed run sent has landed by now
    verdict = verify(server, state, declared)
    assert verdict.ok, "\n".join(verdict.problems)
    assert verdict.duplicates == 0 and verdict.lost == 0
    assert "may still be in flight" in again.stderr
