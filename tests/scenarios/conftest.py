"""Scenario fixtures: a workspace (tests/support/workspace.py), empty or with the BASE account applied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.workspace import Workspace, base, make_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    yield from make_workspace(tmp_path)


@pytest.fixture
def applied(ws: Workspace) -> Workspace:
    """The BASE account applied, with the request log cleared."""
    ws.write(base())
    ws.apply()
    ws.clear()
    return ws
