"""The bad-input corpus, as data any test can iterate (the config tests and the CLI tests).

Each case is a file or a directory under `cases/`, loaded as one run, and the exact list of
problems it must produce, recorded in `expected.yaml` as "[file-in-dir:]line:column: message
substring". `generated_cases(tmp_path)` adds the cases too big to commit (an oversized file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).parent
CASES = HERE / "cases"
EXPECTED = HERE / "expected.yaml"


@dataclass(frozen=True)
class Expected:
    file: str  # the path as given on the command line (case path, or case dir/name)
    line: int
    column: int
    text: str  # a substring of the message

    def matches(self, file: str, line: int, column: int, message: str) -> bool:
        return (file, line, column) == (self.file, self.line, self.column) and self.text in message

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: ...{self.text}..."


@dataclass(frozen=True)
class Case:
    name: str
    path: Path  # give this to `validate` / config.load
    expected: tuple[Expected, ...]
    env: dict[str, str] = field(default_factory=dict)


def _parse_expectation(case_path: Path, entry: str) -> Expected:
    where, text = entry.split(": ", 1)
    parts = where.split(":")
    if len(parts) == 3:
        file = os.path.join(str(case_path), parts[0])
        line, column = parts[1], parts[2]
    else:
        file = str(case_path)
        line, column = parts
    return Expected(file, int(line), int(column), text)


def cases() -> list[Case]:
    """Every committed case, in name order."""
    recorded = yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))
    out = []
    for name, spec in sorted(recorded.items()):
        path = CASES / name.rstrip("/")
        if isinstance(spec, dict):
            entries, env = spec["expect"], dict(spec.get("env", {}))
        else:
            entries, env = spec, {}
        out.append(Case(name, path, tuple(_parse_expectation(path, entry) for entry in entries), env))
    return out


def generated_cases(tmp_path: Path) -> list[Case]:
    """Cases written at test time: a file one byte over the 64 MiB limit (sparse, instant)."""
    from telegent_iac.config import MAX_FILE_BYTES

    big = tmp_path / "oversized.yaml"
    with big.open("wb") as handle:
        handle.write(b"workgroups:\n")
        handle.truncate(MAX_FILE_BYTES + 1)
    return [Case("oversized.yaml", big, (Expected(str(big), 1, 1, "file is too large"),))]
