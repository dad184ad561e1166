"""The test tree keeps its shape: every folder of Python files is a package (so two folders
may hold files of the same name), a test file imports helpers from tests/support only, never
from another test file or a conftest (a helper two files need lives there once), and only
tests/support works out where the repository is (REPO)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO

TESTS = REPO / "tests"


def python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "cases" not in p.relative_to(TESTS).parts)


def test_every_folder_of_python_files_is_a_package() -> None:
    folders = {p.parent for p in python_files()}
    assert len(folders) > 10
    assert sorted(str(f.relative_to(REPO)) for f in folders if not (f / "__init__.py").is_file()) == []


def imported_modules(path: Path) -> list[str]:
    package = ".".join(path.relative_to(REPO).parent.parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            found.append(".".join(p for p in (base, node.module or "") if p))
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_test_files_import_helpers_from_support_only() -> None:
    wrong = []
    for path in python_files():
        for module in imported_modules(path):
            last = module.rsplit(".", 1)[-1]
            if module.startswith("tests.") and (last.startswith("test_") or last == "conftest"):
                wrong.append(f"{path.relative_to(REPO)} imports {module}")
    assert wrong == []


def test_only_support_works_out_the_repository_root() -> None:
    support = TESTS / "support"
    needle = "__file__).resolve()" + ".parents["  # split, so this file does not match itself
    computing = [str(p.relative_to(REPO)) for p in python_files()
                 if support not in p.parents and needle in p.read_text(encoding="utf-8")]
    assert computing == []
