"""What the reliability trials count (trials, faults injected, duplicates found, IDs lost): one
tally per session, printed at the end of the run (tests/conftest.py); docs/reliability.md
quotes the last full run."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figures:
    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def add(self, **counts: int) -> None:
        self.counts.update(counts)


FIGURES = Figures()


def report_figures(terminalreporter: Any) -> None:
    if not FIGURES.counts:
        return
    terminalreporter.section("reliability figures")
    for name, value in sorted(FIGURES.counts.items()):
        terminalreporter.write_line(f"{name}: {value}")
    for note in FIGURES.notes:
        terminalreporter.write_line(note)
    out = os.environ.get("TELEGENT_RELIABILITY_REPORT")
    if out:
        report = {**FIGURES.counts, "reliability_seed": int(os.environ["TELEGENT_RELIABILITY_SEED"])}
        Path(out).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
