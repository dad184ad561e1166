"""Configuration text in files, loaded through the config loader as the CLI loads it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from telegent_iac.config import load
from telegent_iac.errors import UserError
from telegent_iac.model.workgroups import Desired


def write(tmp_path: Path, text: str, name: str = "wg.yaml") -> Path:
    """`text`, its common indentation removed, as the file tmp_path/name."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str) -> Desired:
    return load([write(tmp_path, text)], {})


def problems(tmp_path: Path, text: str) -> list[str]:
    """Every problem the loader reports, as FILE:LINE:COLUMN: MESSAGE with the file name cut."""
    path = write(tmp_path, text)
    try:
        load([path], {})
    except UserError as exc:
        return [str(p).replace(f"{path}:", "") for p in exc.problems]
    return []


def warnings(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    return [str(w).replace(f"{path}:", "") for w in load([path], {}).warnings]
