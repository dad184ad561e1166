"""bench/run.py --quick end to end: it runs, measures and writes its report, and its exit
status says whether any budget item failed (which items pass is not asserted here: speed
targets live in the benchmark, not in timed tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support import REPO


def test_quick_benchmark_writes_a_report(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert done.returncode == (1 if failed else 0), done.stdout + done.stderr[-3000:]
    assert "report:" in done.stdout, done.stderr[-3000:]
    report = out.read_text()
    headings = ("## Machine", "## Budget", "## 50 workgroups", "## Pacing against the rate limit", "## Parallelism")
    for heading in headings:
        assert heading in report
    # The requests come from the sandbox's log: the no-op plan's two, the apply's creates.
    assert "| no-op plan |" in report and "GET /v1.0/account/workgroups x1<br>POST /v1.0/oauth2/tokens x1 |" in report
    assert "POST /v1.0/workgroups x50" in report
    assert "PASS  no-op plan makes exactly 2 requests" in done.stdout
