"""A small hostile Telegent API for tests: it answers token requests with a token of its
choosing, lists workgroups of its choosing, and can echo what it was sent (the account secret
and the bearer token) back in an error message, as a careless server does. Loopback only."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    token: str = "hostile-token-0123456789"
    workgroups: list[dict[str, Any]] = field(default_factory=list)
    # when set, every workgroup call fails with this status and a message that echoes the
    # request (its body and Authorization header) followed by `tail`
    echo_status: int | None = None
    echo_tokens: bool = False  # echo on the token request too (it carries the account secret)
    tail: str = ""
    seen: list[str] = field(default_factory=list)


@contextmanager
def hostile_api(behaviour: Behaviour) -> Iterator[str]:
    """Serve `behaviour` on 127.0.0.1 (an ephemeral port); yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            sent = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            behaviour.seen.append(f"{self.command} {self.path}")
            if self.path.startswith("/v1.0/oauth2/tokens") and not behaviour.echo_tokens:
                self._answer(200, {"Successful": True, "Token": behaviour.token, "TokenExpiry": "2099-01-01T00:00:00Z"})
                return
            if behaviour.echo_status is not None:
                echoed = f"bad request {sent} with {self.headers.get('Authorization')} {behaviour.tail}"
                self._answer(behaviour.echo_status, {"Successful": False, "Message": echoed})
                return
            if self.command == "GET" and self.path.startswith("/v1.0/account/workgroups"):
                self._answer(200, behaviour.workgroups)
                return
            self._answer(400, {"Successful": False, "Message": f"unexpected {self.command} {self.path}"})

        do_GET = do_POST = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
