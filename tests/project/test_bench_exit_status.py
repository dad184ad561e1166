"""bench/run.py's exit status: 1 when any budget item is FAIL, `--quick` included; 0 when all
measured items pass. The measurements are replaced by fixed figures (the real ones are the
smoke test's business), so only the verdict and the exit status are under test here."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support import REPO


@pytest.fixture()
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_run_under_test", REPO / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def _fake_measurements(bench: Any, monkeypatch: pytest.MonkeyPatch, version_wall: float) -> None:
    Run = bench.Run
    two = Counter({f"POST {bench.spec.TOKENS}": 1, f"GET {bench.spec.ACCOUNT_WORKGROUPS}": 1})

    def startup(work: Path, repeat: int = 5) -> list[Any]:
        return [Run("python -c pass", 0.05, 0.05, 25, 0), Run("telegent-iac --version", version_wall, 0.09, 25, 0)]

    @contextmanager
    def sandbox(*args: Any, **kwargs: Any) -> Iterator[None]:
        yield None

    def size(n: int, sandbox: Any, work: Path, parallelism: int) -> Any:
        runs = [Run(what, 0.1, 0.1, 30, 0, requests=Counter(two)) for what in
                ("validate", "first plan", "apply", "no-op plan")]
        return bench.SizeResult(n, 0, 1, 1000, 1000, runs)

    def parallel(creates: int, work: Path) -> Any:
        return bench.ParallelResult(creates, 50, Run("apply", 1.0, 0.5, 50, 0), Run("bare", 1.0, 0.5, 50, 0))

    def rate(creates: int, limit: int, work: Path, window: float = 60.0) -> Any:
        return bench.RateResult(creates, limit, window, Run("apply", 1.0, 0.5, 40, 0, requests=Counter(x=3),
                                                            statuses=Counter({200: 3})))

    monkeypatch.setattr(bench, "bench_startup", startup)
    monkeypatch.setattr(bench, "sandbox_process", sandbox)
    monkeypatch.setattr(bench, "bench_size", size)
    monkeypatch.setattr(bench, "bench_parallelism", parallel)
    monkeypatch.setattr(bench, "bench_rate_limit", rate)


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "sizes"])
def test_any_fail_makes_the_exit_status_1(bench: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str], quick: bool) -> None:
    _fake_measurements(bench, monkeypatch, version_wall=0.5)  # over the --version budget
    args = ["--quick"] if quick else ["--sizes", "100"]
    assert bench.main([*args, "--out", str(tmp_path / "p.md")]) == 1
    out = capsys.readouterr().out
    assert "FAIL  telegent-iac --version" in out
    assert "**FAIL**" in (tmp_path / "p.md").read_text()


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "sizes"])
def test_all_pass_makes_the_exit_status_0(bench: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str], quick: bool) -> None:
    _fake_measurements(bench, monkeypatch, version_wall=0.1)
    args = ["--quick"] if quick else ["--sizes", "100"]
    assert bench.main([*args, "--out", str(tmp_path / "p.md")]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "PASS  telegent-iac --version" in out


def test_the_script_exits_with_what_main_returns() -> None:
    """`python bench/run.py` ends with sys.exit(main()): the status reaches the shell."""
    text = (REPO / "bench" / "run.py").read_text()
    assert text.rstrip().endswith('if __name__ == "__main__":\n    sys.exit(main())')
