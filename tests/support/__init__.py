"""The one home of the suite's helpers; fixtures stay in the conftest.py files.

- cli: run the CLI in-process or as a child process against a sandbox; look at the account
  behind the tool's back.
- workspace: a sandbox, a state file and a config in tmp_path, driven through the CLI.
- sandbox_http: raw HTTP to a sandbox (tokens, a plain client); sandbox_api: a small client
  of the emulator's endpoints for its own tests.
- hostile_server: a server on 127.0.0.1 that misbehaves as the sandbox never will.
- config: configuration text written to files and loaded as the CLI loads it; models:
  configurations built in code, and Hypothesis strategies of them.
- stores: state stores for the contract (PostgreSQL locations, sample states, lock files);
  store_workers is the child process of the lock and concurrency tests.
- trials: the reliability trials' seeds, checks and figures.
- commands: `telegent-iac` commands quoted in shell and docs, walked through the click tree.
- clock: a fake clock for timing logic; bounded: a call that must end, run with a timeout.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "workgroups.yaml"
FIXTURES = Path(__file__).parent / "fixtures"
