"""The pull-request comment: hostile values cannot break it, and it always
fits in one GitHub comment."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from telegent_iac.plan.changes import CREATE, NOOP, UPDATE, Conflict, Drift, Plan, ResourceChange
from telegent_iac.render.markdown import GITHUB_COMMENT_LIMIT, MARKER, SHORTENED_NOTE, render_markdown
from telegent_sandbox import SandboxServer
from tests.support.cli import cli_env, console, create_direct, run, state_path

HOSTILE = (
    "a|b || `tick` ``` <script>alert(1)</script> <img src=x onerror=alert(1)> **bold** _em_ "
    "[link](https://evil.example) ![img](x) &amp; @someone #1\n# heading\n| c | d |\n<!-- x --> </details>"
)
# The only tags the renderer itself writes.
OUR_TAGS = re.compile(r"</?(?:details|summary|code|b|pre|em)>|<br>")


_LABEL = r"[A-Za-z0-9 \-_.:+/(),@'?=#;]*"
_MERMAID_LINE = re.compile(
    r"flowchart LR|"
    rf'  n\d+(?:\(\["{_LABEL}"\]\)|\["{_LABEL}"\]|\(\("{_LABEL}"\)\)|\{{\{{"{_LABEL}"\}}\}})|'
    rf'  n\d+ (?:-->|-\.->)(?:\|"{_LABEL}"\|)? n\d+|'
    r"  classDef changed stroke:#d97706,stroke-width:3px|"
    r"  class n\d+(?:,n\d+)* changed"
)


def without_diagram(md: str) -> str:
    """The comment with its call-flow diagram taken out, once every line of it is checked to
    be one our renderer writes, with labels of plain characters only."""
    blocks = re.findall(r"```mermaid\n(.*?)```\n", md, flags=re.S)
    for block in blocks:
        for line in block.splitlines():
            assert _MERMAID_LINE.fullmatch(line), line
    return re.sub(r"```mermaid\n.*?```\n", "", md, flags=re.S)


def assert_safe(md: str) -> None:
    """Nothing in a value can change the structure of the comment."""
    assert md.startswith(MARKER + "\n")
    md = without_diagram(md)
    lines = md.splitlines()
    table = [line for line in lines if line.startswith("|")]
    for row in table:
        assert row.count("|") == 4, row  # | action | count | addresses |
    rest = OUR_TAGS.sub("", md.replace(MARKER, "", 1))
    assert "<" not in rest and ">" not in rest.replace("→", "")  # no tag from a value
    assert "<script" not in md and "<img" not in md
    note_free = md.replace("`telegent-iac plan`", "")
    assert "`" not in note_free
    assert "[" not in md and "](" not in md
    for line in lines:
        if "**" in line:
            assert re.fullmatch(r"\*\*[^*]+\*\*", line), line  # only our own bold headings
        assert not line.startswith("#") or line == "### telegent-iac plan"
    assert md.count("<details>") == md.count("</details>")
    assert md.count("<pre>") == md.count("</pre>")
    assert md.count("<code>") == md.count("</code>")
    # Values sit only inside <pre> or <code>, where GitHub makes no @mention or #reference.
    outside = re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", md)
    assert "@someone" not in outside


def _plan(value: str, n: int = 1) -> Plan:
    plan = Plan(lineage="L", serial=3)
    for i in range(n):
        plan.changes.append(ResourceChange(
            address=f"wg-{i}", actions=[CREATE], after={"Name": f"{value} {i}", "AnnouncementText": value},
            changed=["AnnouncementText", "Name"], reason=value,
        ))
    plan.changes.append(ResourceChange(
        address="upd", actions=[UPDATE], workgroup_id="WID-1", before={"AnnouncementText": value},
        after={"AnnouncementText": value + "!"}, changed=["AnnouncementText"],
    ))
    plan.changes.append(ResourceChange(address="same", actions=[NOOP], workgroup_id="WID-2", before={}, after={}))
    plan.drift.append(Drift("upd", "AnnouncementText", recorded=value, live=value + "?"))
    plan.conflicts.append(Conflict("other", f"a workgroup named {value!r} already exists"))
    plan.errors.append(value)
    plan.kept.append(value)
    return plan


def test_hostile_values_cannot_break_the_comment() -> None:
    md = render_markdown(_plan(HOSTILE, 3))
    assert_safe(md)
    benign = render_markdown(_plan("plain value", 3))
    # Newlines in values never add lines: the hostile comment has the layout of a benign one.
    assert len(md.splitlines()) == len(benign.splitlines())
    assert "&lt;script&gt;" in md  # the value is still there, escaped, for the reviewer to see
    assert "Shortened" not in md


def test_escaped_values_render_back_to_the_original_text() -> None:
    import html

    md = render_markdown(_plan(HOSTILE, 1))
    item = next(line for line in md.splitlines() if line.startswith("- <code>") and "workgroup named" in line)
    inner = item[len("- <code>"):-len("</code>")]
    assert html.unescape(inner.replace("<br>", "\n")) == f"other: a workgroup named {HOSTILE!r} already exists"


def test_huge_plan_stays_under_the_github_limit_with_a_note() -> None:
    plan = _plan("x" * 300 + HOSTILE, 5000)
    plan.kept += [f"old-{i} (WID-{i})" for i in range(3000)]
    plan.drift += [Drift(f"wg-{i}", "AnnouncementText", "a" * 400, "b" * 400) for i in range(3000)]
    md = render_markdown(plan)
    assert len(md) < GITHUB_COMMENT_LIMIT
    assert len(md) > GITHUB_COMMENT_LIMIT * 0.8  # the room is used, not thrown away
    assert_safe(md)
    assert "Shortened to fit a pull-request comment" in md
    assert re.search(r"\d+ list entries, \d+ details and \d+ changed workgroups in the call-flow diagram not shown", md)
    assert "| &#43; create | 5000 |" in md or "| + create | 5000 |" in md  # totals are never cut
    assert "and 4990 more" in md


def test_one_giant_value_is_cut_not_the_whole_comment() -> None:
    plan = _plan("ok", 3)
    plan.errors.append("<" * 200_000)
    md = render_markdown(plan)
    assert len(md) < GITHUB_COMMENT_LIMIT
    assert_safe(md)
    assert md.count("<details>") == 4  # all the details still fit


def test_small_limit_is_respected() -> None:
    md = render_markdown(_plan(HOSTILE, 50), limit=5000)
    assert len(md) < 5000
    assert "Shortened" in md
    assert SHORTENED_NOTE.split("{")[0].strip() in md


def test_hostile_values_through_the_cli(sandbox: SandboxServer, tmp_path: Path) -> None:
    """End to end: hostile Name/AnnouncementText in YAML, a conflict and drift from the account."""
    env = cli_env(sandbox)
    single_line = HOSTILE.replace("\n", " ")
    config = tmp_path / "wg.yaml"
    config.write_text(yaml.safe_dump({"workgroups": {
        "hostile": {"Name": "Evil | `name` <b>", "Type": "simultaneous", "AnnouncementText": HOSTILE},
        "clash": {"Name": single_line[:60], "Type": "simultaneous"},
    }}))
    create_direct(sandbox, {"Name": single_line[:60], "Type": "simultaneous"})
    result = run(env, "plan", "--state", state_path(tmp_path), "--format", "markdown", config)
    assert result.exit_code == 1  # the clash is a conflict
    md = result.stdout
    assert "Conflicts" in md and "hostile" in md
    assert_safe(md)


def test_drift_with_hostile_values_through_the_cli(sandbox: SandboxServer, tmp_path: Path) -> None:

    env = cli_env(sandbox)
    config = tmp_path / "wg.yaml"
    config.write_text(yaml.safe_dump({"workgroups": {
        "desk": {"Name": "Desk", "Type": "simultaneous", "AnnouncementText": "Hello"},
    }}))
    assert run(env, "apply", "--state", state_path(tmp_path), "--auto-approve", config).exit_code == 0
    import json

    wid = json.loads(state_path(tmp_path).read_text())["workgroups"]["desk"]["id"]
    with console(sandbox, env["TELEGENT_ACCOUNT_KEY"], env["TELEGENT_ACCOUNT_SECRET"]) as client:
        client.update_workgroup(wid, {"AnnouncementText": HOSTILE})
    result = run(env, "plan", "--state", state_path(tmp_path), "--format", "markdown", "--refresh", "full", config)
    assert result.exit_code == 0, result.output
    assert "Drift" in result.stdout
    assert_safe(result.stdout)


def test_huge_plan_through_the_cli(sandbox: SandboxServer, tmp_path: Path) -> None:
    n = 2000
    config = tmp_path / "wg.yaml"
    config.write_text(yaml.safe_dump({"workgroups": {
        f"wg-{i:04d}": {"Name": f"Group {i:04d}", "Type": "simultaneous",
                        "AnnouncementText": f"Welcome to group {i}, <press> | 1 | for `help`."}
        for i in range(n)
    }}))
    result = run(cli_env(sandbox), "plan", "--state", state_path(tmp_path), "--format", "markdown", config)
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert len(md) < GITHUB_COMMENT_LIMIT
    assert f"**Plan: {n} to add, 0 to change, 0 to destroy.**" in md
    assert "Shortened to fit a pull-request comment" in md
    assert_safe(md)
