"""Packaging: the metadata a package index shows, and the platform line the README promises.
(Building, `twine check` and running the installed wheel outside the tree is .ci/package.sh.)"""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.support import REPO


def test_metadata_is_ready_to_publish() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"  # SPDX expression, not the deprecated table
    assert project["license-files"] == ["LICENSE"]
    assert "Apache License" in (REPO / "LICENSE").read_text(encoding="utf-8")
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # forbidden with SPDX
    assert "Operating System :: POSIX" in project["classifiers"]
    assert "Typing :: Typed" in project["classifiers"]
    assert (REPO / "telegent_iac" / "py.typed").is_file()
    assert {"Repository", "Documentation"} <= set(project["urls"])


def test_native_windows_is_refused_with_a_message() -> None:
    code = "import sys; sys.platform = 'win32'; import telegent_iac.cli"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 1
    assert "POSIX" in result.stderr and "WSL" in result.stderr
    assert "Traceback" not in result.stderr
