"""One small hostile Telegent API on 127.0.0.1 for tests where the server must misbehave in a
way the sandbox will not: it trickles bodies or headers, sends huge or deeply nested bodies,
asks for absurd Retry-After waits, repeats IDs, hands out tokens of its choosing and can echo
what it was sent (the account secret, the bearer token) back in an error message, as a careless
server does. Every loop is bounded (a byte budget), and every request and byte sent is counted
so tests assert on events, never on wall-clock time."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from telegent_iac import spec


@dataclass
class Behaviour:
    """What the server does. The token request is answered with `token` unless it is echoed."""

    mode: str = "ok"  # ok | trickle | trickle-headers | huge | huge-declared | deep | retry-after | repeat-id
    trickle_interval: float = 0.2  # seconds between bytes
    trickle_bytes: int = 200  # the body (or header) a trickle would take: bounded
    huge_bytes: int = 256 * 1024 * 1024  # the most a huge body ever sends
    retry_after: str = "100000"
    repeated_id: str = "WID-REPEATED"
    list_body: Any = field(default_factory=lambda: {"Successful": True, "Data": []})
    token: str = "hostile-token-0123456789"
    # when set, every call fails with this status and a message that echoes the request (its
    # body and Authorization header) followed by `tail`
    echo_status: int | None = None
    echo_tokens: bool = False  # echo on the token request too (it carries the account secret)
    tail: str = ""


@dataclass
class Counters:
    requests: list[str] = field(default_factory=list)
    body_bytes_sent: int = 0
    finished: int = 0  # responses sent to the end (a trickle or huge body nobody cut short)
    lock: threading.Lock = field(default_factory=threading.Lock)


class HostileServer:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.counters = Counters()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                outer._handle(self)

            def do_POST(self) -> None:
                outer._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # --- answers -----------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        path = h.path.split("?", 1)[0]
        with self.counters.lock:
            self.counters.requests.append(f"{h.command} {path}")
        b = self.behaviour
        try:
            if path == spec.TOKENS and not b.echo_tokens:
                self._json(h, 200, {"Successful": True, "Token": b.token, "TokenExpiry": "2099-01-01T00:00:00Z"})
            elif b.echo_status is not None:
                echoed = f"bad request {raw.decode('utf-8', 'replace')} with {h.headers.get('Authorization')} {b.tail}"
                self._json(h, b.echo_status, {"Successful": False, "Message": echoed})
            elif b.mode == "trickle":
                self._trickle_body(h)
            elif b.mode == "trickle-headers":
                self._trickle_headers(h)
            elif b.mode in ("huge", "huge-declared"):
                self._huge(h, declared=b.mode == "huge-declared")
            elif b.mode == "deep":
                deep = b"[" * 100_000 + b"]" * 100_000
                self._send(h, 200 if h.command == "GET" else 400, deep)
            elif b.mode == "retry-after":
                h.send_response(429)
                h.send_header("Retry-After", b.retry_after)
                h.send_header("Content-Length", "0")
                h.end_headers()
            elif path == spec.ACCOUNT_WORKGROUPS and h.command == "GET":
                self._json(h, 200, b.list_body)
            elif b.mode == "repeat-id" and path == spec.WORKGROUPS and h.command == "POST":
                json.loads(raw or b"{}")
                self._json(h, 200, {"Successful": True, "Data": {"WorkgroupId": b.repeated_id}})
            else:  # nothing scripted it: a test never passes on an answer it did not choose
                self._json(h, 400, {"Successful": False, "Message": f"unexpected {h.command} {h.path}"})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up: exactly what a bounded client does

    def _json(self, h: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        self._send(h, status, json.dumps(body).encode())

    def _send(self, h: BaseHTTPRequestHandler, status: int, data: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
        self._sent(len(data))

    def _sent(self, n: int) -> None:
        with self.counters.lock:
            self.counters.body_bytes_sent += n

    def _trickle_body(self, h: BaseHTTPRequestHandler) -> None:
        b = self.behaviour
        body = json.dumps({"Successful": True, "Data": [], "Pad": " " * b.trickle_bytes}).encode()[: b.trickle_bytes]
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.flush()
        for i in range(len(body)):
            h.wfile.write(body[i : i + 1])
            h.wfile.flush()
            self._sent(1)
            time.sleep(b.trickle_interval)
        with self.counters.lock:
            self.counters.finished += 1

    def _trickle_headers(self, h: BaseHTTPRequestHandler) -> None:
        b = self.behaviour
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"x" * b.trickle_bytes
        for i in range(len(head)):
            h.wfile.write(head[i : i + 1])
            h.wfile.flush()
            self._sent(1)
            time.sleep(b.trickle_interval)
        h.wfile.write(b"\r\nContent-Length: 2\r\n\r\n{}")
        with self.counters.lock:
            self.counters.finished += 1

    def _huge(self, h: BaseHTTPRequestHandler, declared: bool) -> None:
        b = self.behaviour
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        if declared:
            h.send_header("Content-Length", str(b.huge_bytes))
        else:
            h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunk = b"[" + b"0," * 32767 + b"0"  # 64 KiB of one never-ending JSON list
        sent = 0
        while sent < b.huge_bytes:
            if declared:
                h.wfile.write(chunk)
            else:
                h.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            h.wfile.flush()
            sent += len(chunk)
            self._sent(len(chunk))
        if not declared:
            h.wfile.write(b"0\r\n\r\n")
        with self.counters.lock:
            self.counters.finished += 1


@contextmanager
def hostile_server(behaviour: Behaviour) -> Iterator[HostileServer]:
    """Serve `behaviour` on 127.0.0.1 (an ephemeral port) until the block ends."""
    server = HostileServer(behaviour).start()
    try:
        yield server
    finally:
        server.stop()
