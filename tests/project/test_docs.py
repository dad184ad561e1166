"""The docs are tested like code: every YAML block in README.md and docs/ presented as a config
validates, every relative link resolves (anchors too), and every `telegent-iac ...` command
shown, in a code block or inline, exists with those flags in the real click command tree."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from telegent_iac.cli import main
from telegent_iac.config import json_schema
from tests.support import REPO
from tests.support.commands import check_argv, command_lines

MARKDOWN = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "examples").rglob("*.md")])
FENCE = re.compile(r"^( *)```(\w*)[^\n]*\n(.*?)^\1```", re.M | re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
INLINE = re.compile(r"`(telegent-iac [^`]*)`")
SHELL = {"sh", "bash", "console", "shell"}


@dataclass
class Block:
    path: Path
    line: int
    lang: str
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line} ({self.lang or 'plain'} block)"


def blocks(lang: set[str] | None = None) -> Iterator[Block]:
    for path in MARKDOWN:
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if lang is None or m.group(2) in lang:
                yield Block(path, text[:m.start()].count("\n") + 1, m.group(2), textwrap.dedent(m.group(3)))


def prose(text: str) -> str:
    """The text outside fenced blocks (links and inline code live there)."""
    return FENCE.sub("", text)


# --- YAML blocks -----------------------------------------------------------------------------


def config_keys() -> set[str]:
    """The top-level keys a config may have, from the same schema validation uses."""
    return set(json_schema()["properties"])


def placeholder(name: str) -> str:
    return "+14155550100" if "PHONE" in name else f"placeholder-{name.lower()}"


def as_config(document: dict[str, Any]) -> dict[str, Any]:
    """A fragment (only `import:` or `moved:`) is shown against workgroups the reader already
    has: declare the addresses it names so the fragment itself is what gets validated."""
    if "workgroups" in document:
        return document
    named = [e.get("address") for e in document.get("import") or []]
    named += [e.get("to") for e in document.get("moved") or []]
    return {"workgroups": {a: {"Name": f"Stub {a}", "Type": "round-robin"} for a in named if a}, **document}


def yaml_blocks() -> list[Block]:
    return list(blocks({"yaml", "yml"}))


def test_there_are_config_blocks_to_check() -> None:
    configs = [b for b in yaml_blocks() if isinstance(yaml.safe_load(b.text), dict)
               and set(yaml.safe_load(b.text)) & config_keys()]
    assert len(configs) >= 4, [str(b) for b in configs]  # README, config.md, lifecycle.md's fragments


@pytest.mark.parametrize("block", yaml_blocks(), ids=str)
def test_yaml_block_presented_as_a_config_validates(block: Block, tmp_path: Path) -> None:
    document = yaml.safe_load(block.text)
    if document is None:
        assert block.text.strip().startswith("#"), f"{block}: empty YAML block"
        return  # a comment alone, e.g. the editor's schema line
    assert isinstance(document, dict), f"{block}: a YAML block that is neither a config nor a known kind"
    if not set(document) & config_keys():
        assert set(document) == {"repos"}, f"{block}: a YAML block that is neither a config nor a pre-commit config"
        return
    config = tmp_path / "block.yaml"
    if "workgroups" in document:
        config.write_text(block.text, encoding="utf-8")  # exactly as shown: positions, anchors, comments
    else:
        config.write_text(yaml.safe_dump(as_config(document)), encoding="utf-8")
    env = {name: placeholder(name) for name in re.findall(r"\$\{env\.(\w+)\}", block.text)}
    result = CliRunner(env=env).invoke(main, ["validate", str(config)])
    assert result.exit_code == 0, f"{block} does not validate:\n{result.stderr}"


def test_the_checker_refuses_a_bad_config_block(tmp_path: Path) -> None:
    bad = Block(REPO / "README.md", 1, "yaml", "workgroups:\n  a:\n    Name: A\n    Type: ring\n")
    with pytest.raises(AssertionError, match="does not validate"):
        test_yaml_block_presented_as_a_config_validates(bad, tmp_path)
    with pytest.raises(AssertionError, match="neither"):
        test_yaml_block_presented_as_a_config_validates(Block(REPO / "README.md", 1, "yaml", "jobs: {}\n"), tmp_path)


# --- links --------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = prose(path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", text, re.M)}


def relative_links() -> list[tuple[Path, str]]:
    out = []
    for path in MARKDOWN:
        for m in LINK.finditer(prose(path.read_text(encoding="utf-8"))):
            target = m.group(1) or m.group(2)
            if not re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                out.append((path, target))
    return out


def broken(path: Path, target: str) -> str | None:
    file_part, _, anchor = target.partition("#")
    resolved = (path.parent / file_part).resolve() if file_part else path
    if not resolved.exists():
        return f"{path.relative_to(REPO)}: link to {target}: no such file"
    if REPO.resolve() not in resolved.parents and resolved != REPO.resolve():
        return f"{path.relative_to(REPO)}: link to {target} leaves the repository"
    if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
        return f"{path.relative_to(REPO)}: link to {target}: no heading #{anchor}"
    return None


def test_every_relative_link_resolves() -> None:
    links = relative_links()
    assert len(links) >= 10
    problems = [p for path, target in links if (p := broken(path, target))]
    assert not problems, "\n".join(problems)


def test_every_page_named_in_backticks_exists() -> None:
    """A page named as `path/page.md` rather than linked must exist too (in the repository)."""
    problems = []
    for path in MARKDOWN:
        for m in re.finditer(r"`([\w./-]*/[\w.-]+\.md)`", prose(path.read_text(encoding="utf-8"))):
            name = m.group(1)
            if not any((base / name).is_file() for base in (path.parent, REPO)) or name.startswith("/"):
                problems.append(f"{path.relative_to(REPO)}: `{name}` is not a page of this repository")
    assert not problems, "\n".join(problems)


def test_the_link_checker_can_fail() -> None:
    readme = REPO / "README.md"
    assert broken(readme, "docs/nope.md") is not None
    assert broken(readme, "docs/sandbox.md#no-such-heading") is not None
    assert broken(readme, "../outside.md") is not None
    assert broken(readme, "docs/sandbox.md#where-the-real-api-is-unknown") is None


# --- commands ----------------------------------------------------------------------------------


def test_every_command_in_a_code_block_exists() -> None:
    checked = 0
    for block in blocks(SHELL):  # (a plain block is output or a picture, not commands to run)
        text = "\n".join(line[2:] if line.startswith("$ ") else line for line in block.text.splitlines())
        for argv in command_lines(text):
            try:
                check_argv(argv)
            except AssertionError as exc:
                raise AssertionError(f"{block}: {exc}") from None
            checked += 1
    assert checked >= 12


def test_every_command_named_inline_exists() -> None:
    checked = 0
    for path in MARKDOWN:
        for m in INLINE.finditer(prose(path.read_text(encoding="utf-8"))):
            for argv in command_lines(m.group(1)):
                try:
                    check_argv(argv, complete=False)
                except AssertionError as exc:
                    raise AssertionError(f"{path.relative_to(REPO)}: `{m.group(1)}`: {exc}") from None
                checked += 1
    assert checked >= 10
