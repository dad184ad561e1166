"""The HTTP side of the sandbox: a stdlib threading server speaking HTTP/1.1 with keep-alive."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from telegent_sandbox.app import RequestHook, SandboxApp
from telegent_sandbox.control import SandboxControl
from telegent_sandbox.http_types import Request, Response, error
from telegent_sandbox.options import SandboxOptions

_IDLE_TIMEOUT = 120.0  # seconds an idle keep-alive connection is kept open


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: SandboxApp
    control: SandboxControl

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family
        super().__init__(address, _Handler)
        self.connections: set[socket.socket] = set()
        self.busy = 0
        self.state = threading.Condition()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = _IDLE_TIMEOUT

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle's algorithm
        # meets the client's delayed ACK and every response waits ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.state:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.state:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET  # noqa: N815

    def _serve(self) -> None:
        with self.server.state:
            self.server.busy += 1
        try:
            self._serve_one()
        finally:
            with self.server.state:
                self.server.busy -= 1
                self.server.state.notify_all()

    def _serve_one(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send(error(411, "Length required: send a Content-Length."))
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(error(400, "Bad request: invalid Content-Length."))
            return
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command.upper(),
            target=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client=self.client_address[0],
        )
        app = self.server.app
        control = app.is_control(request)
        response = self.server.control.handle_http(request) if control else app.handle(request)
        if response.drop:
            # Commit-then-drop: not one byte of a response, then the socket closes.
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode("utf-8")
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log (and the CLI's hook) replace http.server's stderr lines


class SandboxServer:
    """A sandbox serving on loopback in a background thread.

    `with SandboxServer(SandboxOptions()) as server: ...` or `server = SandboxServer().start()`.
    """

    def __init__(self, options: SandboxOptions | None = None, *,
                 on_request: RequestHook | None = None) -> None:
        self.options = options or SandboxOptions()
        self._on_request = on_request
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._app: SandboxApp | None = None
        self._control: SandboxControl | None = None
        self._port: int | None = None  # kept after stop, so url still names where it was

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            raise RuntimeError("the sandbox is already running")
        app = SandboxApp(self.options, self._on_request)
        host = "127.0.0.1" if self.options.host == "localhost" else self.options.host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            httpd = _HTTPServer((host, self.options.port), family)
        except BaseException:
            app.close()
            raise
        httpd.app = app
        httpd.control = SandboxControl(app)
        self._app, self._control, self._httpd = app, httpd.control, httpd
        self._port = int(httpd.server_address[1])
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"telegent-sandbox-{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being served (say, the ones a killed client left behind);
        False if that did not happen within timeout seconds."""
        httpd = self._httpd
        if httpd is None:
            return True
        with httpd.state:
            return httpd.state.wait_for(lambda: httpd.busy == 0, timeout=timeout)

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with httpd.state:
            # Wake handler threads parked on idle keep-alive connections, then let requests
            # in flight finish before the database closes under them.
            for conn in list(httpd.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            httpd.state.wait_for(lambda: httpd.busy == 0, timeout=5.0)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        httpd.app.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox has not been started")
        return self._port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.options.host == "localhost" else self.options.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    @property
    def control(self) -> SandboxControl:
        if self._control is None:
            raise RuntimeError("the sandbox has not been started")
        return self._control
