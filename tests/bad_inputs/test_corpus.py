"""Every bad-input case produces exactly its recorded problems, with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from telegent_iac.config import load
from telegent_iac.errors import UserError
from tests.bad_inputs import CASES, Case, cases, generated_cases

ALL = cases()


def _check(case: Case) -> None:
    with pytest.raises(UserError) as caught:
        load([str(case.path)], case.env)
    problems = caught.value.problems
    shown = "\n".join(str(problem) for problem in problems)
    for expected in case.expected:
        assert any(
            expected.matches(p.position.file, p.position.line, p.position.column, p.message) for p in problems
        ), f"{case.name}: expected {expected}\ngot:\n{shown}"
    assert len(problems) == len(case.expected), f"{case.name}: unexpected extra problems:\n{shown}"
    assert str(caught.value).startswith(f"{len(problems)} problem")


def test_corpus_is_large_enough() -> None:
    assert len(ALL) >= 65


def test_every_case_file_is_recorded() -> None:
    on_disk = {path.name for path in CASES.iterdir()}
    assert on_disk == {case.path.name for case in ALL}


@pytest.mark.parametrize("case", ALL, ids=[case.name for case in ALL])
def test_bad_input(case: Case) -> None:
    _check(case)


def test_oversized_file(tmp_path: Path) -> None:
    for case in generated_cases(tmp_path):
        _check(case)
