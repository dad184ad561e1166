"""A run killed while its creates are still on their way to the server, re-run at once.

The server commits those creates after the killed client is gone. The next run must not take
"not in the list yet" for "never happened": it waits out the request timeout from when each
pending create was sent, lists again and adopts them, so no duplicate is made.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from tests.support.cli import Cli, subprocess_env
from tests.support.trials import verify, workgroup_names, write_config

CREATES = 6
# The re-run's request timeout: how long it waits for a create the killed run may still have
# in flight, counted from when that run sent it. The re-run must start and list within it,
# however loaded the machine; the test takes about this long.
RERUN_TIMEOUT = "15"


def test_rerun_right_after_a_kill_waits_for_creates_still_in_flight(start_sandbox: Any, create_gate: Any,
                                                                      tmp_path: Path) -> None:
    server = start_sandbox()
    gate = create_gate(server)  # the killed run's creates reach the server and are held there
    declared = workgroup_names(CREATES)
    config = write_config(tmp_path / "workgroups.yaml", declared)
    state = tmp_path / "state.json"
    cli = Cli(subprocess_env(server), tmp_path)
    args = ("apply", "--auto-approve", "--parallelism", str(CREATES), "--state", str(state), str(config))
    killed = Cli({**cli.env, "TELEGENT_HTTP_TIMEOUT": "120"}, tmp_path).start(*args, log_dir=tmp_path, name="killed")
    gate.wait("every create on its way", lambda g: g.arrived == CREATES)
    killed.popen.send_signal(signal.SIGKILL)
    killed.popen.wait(timeout=120)

    again = Cli({**cli.env, "TELEGENT_HTTP_TIMEOUT": RERUN_TIMEOUT}, tmp_path).start(*args, log_dir=tmp_path,
                                                                                    name="again")
    # Only once the re-run has found them missing and decided to wait does the server commit
    # the held creates: the re-run must still find them, by waiting and listing again.
    again.wait_for_stderr("may still be in flight", timeout=120)
    gate.release()
    gate.wait("the held creates committed", lambda g: g.completed == CREATES)
    again.popen.wait(timeout=120)
    assert again.popen.returncode == 0, again.stderr()
    assert gate.arrived == CREATES, f"the re-run created {gate.arrived - CREATES} workgroups again"
    verdict = verify(server, state, declared)
    assert verdict.ok, "\n".join(verdict.problems)
    assert verdict.duplicates == 0 and verdict.lost == 0
