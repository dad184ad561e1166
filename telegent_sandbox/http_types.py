"""The transport-free request and response the sandbox's logic works on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str  # upper-case
    target: str  # path plus query string, as received
    headers: Mapping[str, str]  # names lower-case
    body: bytes
    client: str  # the peer's IP address


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without sending any response bytes


def error(status: int, message: str, **headers: str) -> Response:
    """Telegent's documented error body: {StatusCode, Message}."""
    return Response(status, {"StatusCode": status, "Message": message}, dict(headers))
