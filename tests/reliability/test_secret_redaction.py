"""Secrets: the tool's own credentials and credential-named variables cannot be interpolated
into a field; a known secret is replaced by `(sensitive)` in every output and file, in every
form it may take there (raw, escaped for the terminal, escaped in JSON), including `-vv` logs,
a server error message that echoes the request, and a token containing control characters;
and a `--var-file` that is not YAML never has its lines echoed."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from telegent_iac.safety.terminal import escape_text
from telegent_sandbox import SandboxServer
from tests.support import REPO
from tests.support.cli import run_cli, subprocess_env
from tests.support.hostile_server import Behaviour, hostile_server


def forms(secret: str) -> list[str]:
    """Every way the secret could appear in output, and a 16-character prefix of each."""
    whole = {secret, escape_text(secret), escape_text(secret, keep=""), json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1]}
    return sorted(whole | {f[:16] for f in whole})


def assert_no_leak(text: str, *known: str) -> None:
    for secret in known:
        for form in forms(secret):
            assert form not in text, f"{form!r} leaked"


def tree_text(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in sorted(root.rglob("*")) if p.is_file())



@pytest.mark.parametrize(("value", "allow", "refused"), [
    ("${env.TELEGENT_ACCOUNT_SECRET}", (), "own credential"),
    ("${env.TELEGENT_ACCOUNT_KEY}", ("--allow-secret-var", "TELEGENT_ACCOUNT_KEY"), "own credential"),
    ("x ${env.GITHUB_TOKEN} y", (), "--allow-secret-var GITHUB_TOKEN"),
    ("${env.DB_PASSWORD}", (), "says it holds a secret"),
    ("${var.api_key}", (), "--allow-secret-var api_key"),
    ("${var.clientSecret}", (), "says it holds a secret"),
])
def test_interpolating_a_credential_is_a_validation_error_with_its_place(
    sandbox: SandboxServer, tmp_path: Path, value: str, allow: tuple[str, ...], refused: str
) -> None:
    secret = f"canary-{secrets.token_hex(12)}"
    env = {**subprocess_env(sandbox), "TELEGENT_ACCOUNT_SECRET": secret, "GITHUB_TOKEN": secret, "DB_PASSWORD": secret}
    (tmp_path / "vars.yaml").write_text(f"api_key: {secret}\nclientSecret: {secret}\n")
    config = tmp_path / "wg.yaml"
    config.write_text(f'workgroups:\n  sales:\n    Name: Sales\n    Type: simultaneous\n'
                      f'    AnnouncementText: "{value}"\n')
    for command in ("validate", "plan"):
        result = run_cli(env, tmp_path, command, *allow, "--var-file", "vars.yaml", "wg.yaml",
                         *(["--state", "s.json"] if command == "plan" else []))
        assert result.returncode == 1, result.stderr
        assert "wg.yaml:5:23: " in result.stderr and refused in result.stderr
        assert_no_leak(result.stdout + result.stderr, secret)
    assert sandbox.control.request_count() == 0


def test_an_allowed_secret_looking_variable_is_interpolated(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = {**subprocess_env(sandbox), "GREETING_KEY": "Welcome to Acme"}
    config = tmp_path / "wg.yaml"
    config.write_text("workgroups:\n  sales:\n    Name: Sales\n    Type: simultaneous\n"
                      "    AnnouncementText: ${env.GREETING_KEY}\n")
    assert run_cli(env, tmp_path, "validate", "wg.yaml").returncode == 1
    allowed = run_cli(env, tmp_path, "plan", "--allow-secret-var", "GREETING_KEY", "--state", "s.json", "wg.yaml")
    assert allowed.returncode == 0, allowed.stderr
    assert '"Welcome to Acme"' in allowed.stdout  # allowed: not treated as a secret either


@pytest.mark.parametrize("pasted", ["canary-secret-{hex}", "DID-canary-{hex}", "x {secret} y"])
def test_a_credential_pasted_into_a_field_is_refused_and_never_shown(
    sandbox_factory: object, tmp_path: Path, pasted: str
) -> None:
    hex_ = secrets.token_hex(12)
    secret, key = f"canary-secret-{hex_}", f"DID-canary-{hex_}"
    value = pasted.format(hex=hex_, secret=secret)
    server = sandbox_factory(db=":memory:", rate_limit=0, accounts=((key, secret),))  # type: ignore[operator]
    env = subprocess_env(server, key, secret)
    config = tmp_path / "wg.yaml"  # pasted, not interpolated: still never sent, shown or stored
    config.write_text(f"workgroups:\n  sales:\n    Name: Sales\n    Type: simultaneous\n"
                      f"    AnnouncementText: {value}\n")
    outputs = []
    for args in (["validate", "wg.yaml"], ["-vv", "plan", "--out", "p.json", "wg.yaml", "--state", "s.json"],
                 ["plan", "--json", "wg.yaml", "--state", "s.json"]):
        result = run_cli(env, tmp_path, *args)
        assert result.returncode == 1, result.stderr
        assert "wg.yaml:5:23: AnnouncementText holds a credential" in result.stderr
        outputs.append(result.stdout + result.stderr)
    assert_no_leak("\n".join(outputs) + tree_text(tmp_path).replace(config.read_text(), ""), secret, key)
    assert server.control.request_count() == 0


def hostile_env(url: str, secret: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "TELEGENT_API_URL": url, "TELEGENT_ACCOUNT_KEY": "DID-hostile",
            "TELEGENT_ACCOUNT_SECRET": secret, "TELEGENT_RATE_LIMIT": "0", "NO_COLOR": "1",
            "TELEGENT_HTTP_TIMEOUT": "5", "PYTHONPATH": str(REPO)}


RUNS = (["-vv", "plan", "wg.yaml", "--state", "s.json"],
        ["-vv", "apply", "--auto-approve", "--json", "wg.yaml", "--state", "s.json"])


@pytest.mark.parametrize("echo", ["token request", "list call"])
def test_a_server_echoing_the_secret_and_the_token_in_its_error_messages(tmp_path: Path, echo: str) -> None:
    secret = f"canary-secret-{secrets.token_hex(12)}"
    token = f"canary-token-{secrets.token_hex(12)}"
    behaviour = Behaviour(token=token, echo_status=400, echo_tokens=echo == "token request",
                          tail="\x1b]0;pwned\x07\u202e")
    (tmp_path / "wg.yaml").write_text("workgroups:\n  sales:\n    Name: Sales\n    Type: simultaneous\n")
    with hostile_server(behaviour) as server:
        for args in RUNS:
            result = run_cli(hostile_env(server.url, secret), tmp_path, *args)
            assert result.returncode == 1, result.stderr
            assert "bad request" in result.stderr and "(sensitive)" in result.stderr  # shown, redacted
            assert "Traceback" not in result.stderr
            assert_no_leak(result.stdout + result.stderr, secret, token)
            assert escape_text(result.stderr) == result.stderr  # nothing raw reaches the terminal
    assert_no_leak(tree_text(tmp_path), secret, token)


def test_a_token_with_control_characters_is_refused_and_never_shown(tmp_path: Path) -> None:
    secret = f"canary-secret-{secrets.token_hex(12)}"
    token = f"tok\x1b[2J\u202e\x00{secrets.token_hex(12)}"
    (tmp_path / "wg.yaml").write_text("workgroups:\n  sales:\n    Name: Sales\n    Type: simultaneous\n")
    with hostile_server(Behaviour(token=token)) as server:
        for args in RUNS:
            result = run_cli(hostile_env(server.url, secret), tmp_path, *args)
            assert result.returncode == 1, result.stderr
            assert "the token has characters an HTTP header cannot carry" in result.stderr
            assert "Traceback" not in result.stderr
            assert_no_leak(result.stdout + result.stderr, secret, token)
            assert escape_text(result.stderr) == result.stderr
    assert_no_leak(tree_text(tmp_path), secret, token)


@pytest.mark.parametrize("content", [
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
    "-----END OPENSSH PRIVATE KEY-----\n",
    "DB_PASSWORD=hunter2-but-longer\nAPI_TOKEN=abc: def: ghi\n",
    "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
    '{"a": [1,\n "secretvalue" : x}\n',
    "\x00\x01binary\xff",
])
def test_var_file_errors_never_echo_a_non_yaml_file(tmp_path: Path, content: str) -> None:
    (tmp_path / "wg.yaml").write_text("workgroups:\n  sales:\n    Name: Sales\n    Type: simultaneous\n")
    (tmp_path / "not-yaml").write_bytes(content.encode("utf-8", "surrogateescape"))
    result = run_cli({"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, tmp_path,
                     "validate", "--var-file", "not-yaml", "wg.yaml")
    assert result.returncode == 1
    assert "not-yaml:" in result.stderr
    for line in content.splitlines():
        for word in line.replace(":", " ").replace("=", " ").split():
            if len(word) >= 6:
                assert word not in result.stderr, word
