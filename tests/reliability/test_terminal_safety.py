"""Terminal safety: control characters, ANSI escapes, bidi overrides and zero-width characters
from config keys and values, file names, server messages and server IDs are shown escaped
(`\\x1b`, `\\u202e`, `\\u200b`) on every human-facing line; JSON output keeps them as JSON
escapes, and the state keeps the values as they are."""

from __future__ import annotations

import json
from pathlib import Path

from telegent_iac.safety.terminal import escape_text
from telegent_sandbox import SandboxServer
from tests.support import REPO
from tests.support.cli import run_cli, subprocess_env
from tests.support.hostile_server import Behaviour, hostile_server

EVIL = "\x1b[2J\x1b]0;owned\x07\u202eevil\u200b\u2066\x9b\x7f"



def assert_safe(text: str) -> None:
    assert escape_text(text) == text, [c for c in text if escape_text(c) != c]


def yaml_quoted(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def test_config_values_in_plan_views_and_apply_progress(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = {**subprocess_env(sandbox), "NO_COLOR": "1"}
    (tmp_path / "wg.yaml").write_text(
        f"workgroups:\n  sales:\n    Name: {yaml_quoted('Sales ' + EVIL)}\n    Type: simultaneous\n"
        f"    AnnouncementText: {yaml_quoted(EVIL)}\n")
    for args in (["plan"], ["plan", "--format", "markdown"], ["apply", "--auto-approve"],
                 ["plan", "--refresh", "full"]):
        result = run_cli(env, tmp_path, *args, "wg.yaml", "--state", "s.json")
        assert result.returncode == 0, result.stderr
        assert_safe(result.stdout)
        assert_safe(result.stderr)
        if args == ["plan"]:
            assert "\\x1b[2J\\x1b]0;owned\\x07\\u202eevil\\u200b\\u2066\\x9b\\x7f" in result.stdout
    planned = run_cli(env, tmp_path, "plan", "--json", "wg.yaml", "--state", "s.json")
    assert planned.returncode == 0
    # JSON is escaped by JSON, not by us: it reads back to the very value
    state = json.loads((tmp_path / "s.json").read_text())
    assert state["workgroups"]["sales"]["fields"]["AnnouncementText"] == EVIL
    json.loads(planned.stdout)


def test_a_file_name_with_control_characters(tmp_path: Path) -> None:
    name = "evil\x1b[31m\u202e.yaml"
    (tmp_path / name).write_text("workgroups:\n  sales:\n    Name: Sales\n    Type: carousel\n")
    result = run_cli({"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, tmp_path, "validate", name)
    assert result.returncode == 1
    assert "evil\\x1b[31m\\u202e.yaml:4:11:" in result.stderr
    assert_safe(result.stderr)


def test_config_keys_with_control_characters(tmp_path: Path) -> None:
    (tmp_path / "wg.yaml").write_text(
        f"workgroups:\n  {yaml_quoted('sales' + EVIL)}:\n    Name: Sales\n    Type: simultaneous\n"
        f"    {yaml_quoted('Na' + EVIL)}: x\n")
    result = run_cli({"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, tmp_path, "validate", "wg.yaml")
    assert result.returncode == 1
    assert "\\x1b[2J" in result.stderr
    assert_safe(result.stderr)


def test_server_messages_and_ids(tmp_path: Path) -> None:
    """A server whose list holds a workgroup with the declared Name under a hostile ID and Name
    (a conflict names it), and one whose error message carries escapes."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "TELEGENT_ACCOUNT_KEY": "DID-hostile",
           "TELEGENT_ACCOUNT_SECRET": "hostile-secret", "TELEGENT_RATE_LIMIT": "0", "NO_COLOR": "1"}
    (tmp_path / "wg.yaml").write_text("workgroups:\n  sales:\n    Name: Sales\n    Type: simultaneous\n")
    live = [{"WorkgroupId": "WID-" + EVIL, "Name": "Sales", "Type": "simultaneous"},
            {"WorkgroupId": "WID-2", "Name": "Other " + EVIL, "Type": "simultaneous"}]
    with hostile_server(Behaviour(list_body=live)) as server:
        result = run_cli({**env, "TELEGENT_API_URL": server.url}, tmp_path, "-vv", "plan", "wg.yaml", "--state",
                         "s.json")
    assert "WID-\\x1b[2J" in result.stdout + result.stderr, result.stdout + result.stderr
    assert_safe(result.stdout)
    assert_safe(result.stderr)
    with hostile_server(Behaviour(echo_status=500, tail=EVIL)) as server:
        result = run_cli({**env, "TELEGENT_API_URL": server.url, "TELEGENT_HTTP_TIMEOUT": "5"}, tmp_path,
                         "-vv", "apply", "--auto-approve", "wg.yaml", "--state", "s.json")
    assert result.returncode == 1
    assert "\\u202eevil" in result.stderr
    assert_safe(result.stdout)
    assert_safe(result.stderr)


def test_usage_errors_quote_what_was_typed_escaped(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    for args in (["plan", "--no-such" + EVIL, "x.yaml"], ["plan", "--refresh", EVIL, "x.yaml"],
                 ["state", "rm" + EVIL]):
        result = run_cli(env, tmp_path, *args)
        assert result.returncode == 1
        assert "\\x1b[2J" in result.stderr
        assert_safe(result.stderr)
