"""bench/run.py --quick end to end: it runs, measures and writes its report (no budget here:
speed targets live in the benchmark, not in timed tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_writes_a_report(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text()
    headings = ("## Machine", "## Budget", "## 50 workgroups", "## Pacing against the rate limit", "## Parallelism")
    for heading in headings:
        assert heading in report
    # The requests come from the sandbox's log: the no-op plan's two, the apply's creates.
    assert "| no-op plan |" in report and "GET /v1.0/account/workgroups x1<br>POST /v1.0/oauth2/tokens x1 |" in report
    assert "POST /v1.0/workgroups x50" in report
    assert "PASS  no-op plan makes exactly 2 requests" in done.stdout
