"""A workspace for scenarios: a real sandbox (request bodies logged), a state file and config
files in tmp_path, and the CLI driven in-process."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml
from click.testing import Result

from telegent_iac.api.client import TelegentClient
from telegent_sandbox import SandboxOptions, SandboxServer
from tests.support import cli
from tests.support.sandbox_http import get_token

TOKENS = "/v1.0/oauth2/tokens"
LIST = "/v1.0/account/workgroups"

# A small account: an IVR menu routing to two groups, off-hours to a third.
BASE: dict[str, Any] = {
    "workgroups": {
        "menu": {
            "Name": "Menu",
            "Type": "IVR",
            "TelegentPhone": "+14155550100",
            "AnnouncementText": "Press 1 for sales, 2 for support.",
            "OffHoursType": "Workgroup",
            "OffHoursId": "night",
            "members": [
                {"Type": "Workgroup", "ReferenceWorkgroupId": "sales", "DigitOrder": 1},
                {"Type": "Workgroup", "ReferenceWorkgroupId": "support", "DigitOrder": 2},
            ],
        },
        "sales": {
            "Name": "Sales",
            "Type": "simultaneous",
            "AnnouncementText": "Connecting you to sales.",
            "RecordCalls": True,
            "TimeZone": "America/New_York",
            "members": [
                {"Type": "User", "ReferenceUserId": "USER-a", "SmsNotification": True},
                {"Type": "User", "ReferenceUserId": "USER-b"},
                {"Type": "User", "ReferenceUserId": "USER-c", "EmailNotification": True},
            ],
        },
        "support": {
            "Name": "Support",
            "Type": "round-robin",
            "AnnouncementText": "Please hold.",
            "CallerIdName": "Acme Support",
            "members": [{"Type": "User", "PhoneNumber": "+14155550123"}],
        },
        "night": {
            "Name": "Night",
            "Type": "simultaneous",
            "CallerIdName": "Acme Night",
            "members": [{"Type": "User", "PhoneNumber": "+14155550199"}],
        },
    }
}


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


class Workspace:
    def __init__(self, server: SandboxServer, tmp: Path) -> None:
        self.server = server
        self.tmp = tmp
        self.state_path = tmp / "state" / "telegent.state.json"
        self.config_path = tmp / "workgroups.yaml"
        self.env = cli.cli_env(server, TELEGENT_STATE=str(self.state_path))

    # --- driving the CLI ---
    def run(self, *args: str, code: int | None = 0) -> Result:
        result = cli.run(self.env, *args)
        if code is not None:
            assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
        return result

    def write(self, config: dict[str, Any], path: Path | None = None) -> Path:
        target = path or self.config_path
        target.write_text(yaml.safe_dump(config, sort_keys=False))
        return target

    def apply(self, *extra: str, code: int | None = 0) -> Result:
        return self.run("apply", "--auto-approve", str(self.config_path), *extra, code=code)

    def plan(self, *extra: str, code: int | None = 0) -> Result:
        return self.run("plan", str(self.config_path), *extra, code=code)

    def plan_json(self, *extra: str, code: int | None = 0) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.plan("--json", *extra, code=code).stdout)
        return data

    # --- looking at the account and the state ---
    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.state_path.read_text())
        return data

    def wid(self, address: str) -> str:
        return str(self.state()["workgroups"][address]["id"])

    def client(self) -> TelegentClient:
        return cli.console(self.server)

    def live(self, workgroup_id: str) -> dict[str, Any]:
        with self.client() as client:
            return client.get_workgroup(workgroup_id)

    def live_ids(self) -> set[str]:
        with self.client() as client:
            return {s.workgroup_id for s in client.list_workgroups()}

    def requests(self) -> list[dict[str, Any]]:
        return self.server.control.requests()

    def writes(self) -> list[dict[str, Any]]:
        """The mutating API requests logged (token requests are not writes)."""
        return [r for r in self.requests() if r["method"] == "POST" and r["path"].lower() != TOKENS]

    def clear(self) -> None:
        self.server.control.clear_requests()

    def direct(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A change made behind telegent-iac's back: a raw request with a sandbox token."""
        token = get_token(self.server, path)
        response = httpx.post(f"{self.server.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def make_workspace(tmp_path: Path, **options: Any) -> Iterator[Workspace]:
    opts: dict[str, Any] = {"db": ":memory:", "rate_limit": 0, "log_bodies": True, **options}
    with SandboxServer(SandboxOptions(**opts)) as server:
        yield Workspace(server, tmp_path)
