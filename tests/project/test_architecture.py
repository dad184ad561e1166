"""The import rules of docs/architecture.md, checked from the source: data flows one way
(cli -> ops -> apply -> plan -> {state, config, api, routing} -> {model, spec}), nothing imports
the CLI, only the CLI imports the emulator, and the emulator imports only the spec. A cycle or
an upward import fails here, naming the file and line."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.support import REPO

FOUNDATION = {"errors", "safety", "spec", "version"}  # usable from every stage

# Stage -> the stages it may import (besides itself and FOUNDATION).
ALLOWED: dict[str, set[str]] = {
    "cli": {"ops", "apply", "plan", "render", "state", "config", "api", "routing", "model", "telegent_sandbox"},
    "ops": {"apply", "plan", "state", "config", "api", "routing", "model"},
    "apply": {"plan", "state", "api", "model"},
    "plan": {"state", "config", "api", "routing", "model"},
    # Views of a plan and of apply events: what a plan is made of, and the call-flow drawing.
    "render": {"plan", "apply.events", "routing", "model"},
    "state": {"model"},
    "config": {"routing", "model"},  # validation runs the routing lints
    "api": {"model"},
    "routing": {"model"},
    "model": set(),
    "spec": set(),
    "safety": set(),
    "errors": set(),
    "main": {"cli"},  # python -m telegent_iac
}


def modules() -> Iterator[tuple[str, Path]]:
    for package in ("telegent_iac", "telegent_sandbox"):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every telegent module `name` imports (in functions and TYPE_CHECKING blocks too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parents + ([base] if base else []))
            # `from pkg import mod` names a module when pkg/mod.py exists
            targets = [f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in ("telegent_iac", "telegent_sandbox"):
                yield target, node.lineno


def _is_module(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def stage(module: str) -> str:
    """telegent_iac.plan.planner -> plan; telegent_iac (its version) -> version."""
    parts = module.split(".")
    if parts[0] == "telegent_sandbox":
        return "telegent_sandbox"
    if len(parts) == 1:
        return "version"
    return "main" if parts[1] == "__main__" else parts[1]


def test_imports_flow_one_way() -> None:
    wrong = []
    for name, path in modules():
        source = stage(name)
        for target, line in imports(name, path):
            dest = stage(target)
            where = f"{path.relative_to(REPO)}:{line}: {name} imports {target}"
            if source == "telegent_sandbox":
                if dest != "telegent_sandbox" and target != "telegent_iac.spec":
                    wrong.append(f"{where} (the emulator imports only the spec)")
                continue
            if dest == source or dest in FOUNDATION - {"version"} or (dest == "version" and target == "telegent_iac"):
                continue
            allowed = ALLOWED[source]
            if dest in allowed or ".".join(target.split(".")[1:3]) in allowed:
                continue
            wrong.append(f"{where} ({source} may import {', '.join(sorted(allowed)) or 'no other stage'})")
    assert not wrong, "\n".join(wrong)


def test_foundation_imports_no_stage() -> None:
    wrong = []
    for name, path in modules():
        if stage(name) in ("errors", "safety", "spec"):
            for target, line in imports(name, path):
                if stage(target) not in (stage(name), "errors", "safety"):
                    wrong.append(f"{path.relative_to(REPO)}:{line}: {name} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    known = {name for name, _ in modules()}
    for name, path in modules():
        graph[name] = {t for t, _ in imports(name, path) if t in known and t != name}
    # A package's __init__ re-exporting its own modules is not a cycle of the design.
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1 and not _reexport(nxt, stack[stack.index(nxt):]):
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(cycles)


def _reexport(package: str, chain: list[str]) -> bool:
    """A cycle that only passes through a package's own __init__ (it imports its modules)."""
    return all(m == package or m.startswith(package + ".") for m in chain) and _is_module(package) and (
        REPO.joinpath(*package.split("."), "__init__.py").is_file())


def test_nothing_imports_the_cli_and_only_the_cli_imports_the_emulator() -> None:
    wrong = []
    for name, path in modules():
        for target, line in imports(name, path):
            if stage(target) == "cli" and stage(name) not in ("cli", "main"):
                wrong.append(f"{path.relative_to(REPO)}:{line}: {name} imports the CLI")
            if stage(target) == "telegent_sandbox" and stage(name) not in ("cli", "telegent_sandbox"):
                wrong.append(f"{path.relative_to(REPO)}:{line}: {name} imports the emulator")
    assert not wrong, "\n".join(wrong)


def test_no_two_modules_share_a_name() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for name, path in modules():
        if path.name == "__init__.py" or path.name == "__main__.py":
            continue
        if path.stem in seen:
            clashes.append(f"{seen[path.stem]} and {name}")
        seen[path.stem] = name
    assert not clashes, clashes
