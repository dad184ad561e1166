"""Mutation testing over a committed list of mutants (scripts/mutants.yaml).

Each mutant is one small bug: in `file`, the exact source text `find` (it must occur exactly
once) is replaced by `replace`. For each, a scratch copy of the tree gets the bug, the tests
named for it (or for its file) run with -x, and the mutant is:
  killed          a test failed (or the run timed out): the suite noticed the bug
  survived        every test passed: no test pins that behaviour down
  not applicable  `find` is no longer in the file exactly once (the code moved on: update the list)

    python scripts/mutants.py                 # every mutant
    python scripts/mutants.py -k pending      # those whose file or description contains "pending"
    python scripts/mutants.py --list          # list them, run nothing
    python scripts/mutants.py -j 1            # one at a time (default: 3 at once)

Exit status: 0 when no mutant survived and every one applied, else 1. CPU heavy: one pytest
run per mutant.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
LIST = REPO / "scripts" / "mutants.yaml"
COPIED = ("telegent_iac", "telegent_sandbox", "tests", "pyproject.toml", "schema", "examples", "bench", "docs",
          "README.md")


@dataclass
class Mutant:
    file: str
    find: str
    replace: str
    why: str
    tests: list[str]


def load(path: Path) -> list[Mutant]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    default_tests: dict[str, list[str]] = data["tests"]
    out = []
    for m in data["mutants"]:
        tests = m.get("tests") or default_tests[m["file"]]
        out.append(Mutant(m["file"], m["find"], m["replace"], m["why"], list(tests)))
    return out


def run_one(mutant: Mutant, tree: Path, timeout: float) -> tuple[str, str]:
    target = tree / mutant.file
    original = target.read_text(encoding="utf-8")
    if original.count(mutant.find) != 1:
        return "not applicable", f"`find` occurs {original.count(mutant.find)} times"
    target.write_text(original.replace(mutant.find, mutant.replace), encoding="utf-8")
    try:
        # The first entry alone first (collecting everything costs more than running it), then
        # the rest if that did not notice.
        stages = [mutant.tests[:1], mutant.tests[1:]] if len(mutant.tests) > 1 else [mutant.tests]
        for stage in stages:
            outcome, detail = run_tests(stage, tree, timeout)
            if outcome != "survived":
                return outcome, detail
        return "survived", ""
    finally:
        target.write_text(original, encoding="utf-8")


def run_tests(tests: list[str], tree: Path, timeout: float) -> tuple[str, str]:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not slow", *tests]
    try:
        result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout,
                                check=False)
    except subprocess.TimeoutExpired:
        return "killed", "timed out"
    if result.returncode == 0:
        return "survived", ""
    failed = [line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    if result.returncode == 1:
        return "killed", failed[0] if failed else "a test failed"
    return "error", f"pytest exit {result.returncode}: {(result.stdout + result.stderr)[-500:]}"


def copy_tree(tree: Path) -> None:
    tree.mkdir(parents=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, tree / name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", dest="only", action="append", metavar="TEXT",
                        help="only mutants whose file or description contains TEXT (repeatable: any of them)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant (default 900)")
    parser.add_argument("-j", "--jobs", type=int, default=3,
                        help="mutants tried at once, each in its own copy (default 3: the tests mostly wait)")
    args = parser.parse_args()
    mutants = load(LIST)
    if args.only:
        mutants = [m for m in mutants if any(t in m.file or t in m.why for t in args.only)]
    if args.list:
        for i, m in enumerate(mutants, 1):
            print(f"{i:3d} {m.file}: {m.why}")
        return 0
    counts: dict[str, int] = {}
    survivors: list[tuple[Mutant, str]] = []
    started = time.monotonic()
    done = 0
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="telegent-mutants-") as scratch:
        trees: queue.Queue[Path] = queue.Queue()
        for j in range(args.jobs):
            tree = Path(scratch) / str(j)
            copy_tree(tree)
            trees.put(tree)

        def work(mutant: Mutant) -> None:
            nonlocal done
            tree = trees.get()
            try:
                outcome, detail = run_one(mutant, tree, args.timeout)
            finally:
                trees.put(tree)
            with lock:
                done += 1
                counts[outcome] = counts.get(outcome, 0) + 1
                shown = f"  ({detail})" if detail and outcome != "killed" else ""
                print(f"[{done}/{len(mutants)}] {outcome:14} {mutant.file}: {mutant.why}{shown}", flush=True)
                if outcome != "killed":
                    survivors.append((mutant, outcome))

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            list(pool.map(work, mutants))
    applied = counts.get("killed", 0) + counts.get("survived", 0)
    score = 100.0 * counts.get("killed", 0) / applied if applied else 0.0
    print(f"\n{counts.get('killed', 0)} killed, {counts.get('survived', 0)} survived, "
          f"{counts.get('not applicable', 0)} not applicable, {counts.get('error', 0)} errors: "
          f"{score:.1f}% of the applied mutants killed ({time.monotonic() - started:.0f} s)")
    for mutant, outcome in survivors:
        print(f"  {outcome}: {mutant.file}: {mutant.why}")
    return 0 if not survivors else 1


if __name__ == "__main__":
    sys.exit(main())
