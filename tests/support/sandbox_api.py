"""A tiny token-caching client for the sandbox contract tests (plain httpx underneath)."""

from __future__ import annotations

from typing import Any

import httpx

from telegent_sandbox import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxServer
from tests.support.sandbox_http import get_token, http_client


class Api:
    def __init__(self, server: SandboxServer, key: str = DEMO_ACCOUNT_KEY,
                 secret: str = DEMO_ACCOUNT_SECRET) -> None:
        self.server = server
        self.key, self.secret = key, secret
        self.http = http_client(server.url, timeout=10.0)
        self.tokens: dict[str, str] = {}

    def token(self, path: str) -> str:
        if path not in self.tokens:
            self.tokens[path] = get_token(self.server, path, key=self.key, secret=self.secret)
        return self.tokens[path]

    def call(self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None,
             token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token(path)}"}
        return self.http.request(method, path, json=json, params=params, headers=headers)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.call("POST", path, json=json, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.call("GET", path, **kw)

    def create_workgroup(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/v1.0/workgroups", {"Name": "Support", "Type": "IVR", **fields})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def workgroup(self, wid: str) -> httpx.Response:
        return self.get("/v1.0/workgroups", params={"WorkgroupId": wid})

    def summaries(self) -> list[dict[str, Any]]:
        response = self.get("/v1.0/account/workgroups")
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["Workgroups"]
        return items

    def close(self) -> None:
        self.http.close()
