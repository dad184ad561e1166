"""CI recipes: each is valid YAML, and every `telegent-iac ...` command it
runs exists with those flags, checked against the real click command tree (not a list)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from telegent_iac.render.markdown import MARKER
from tests.support import REPO
from tests.support.commands import check_argv, command_lines

GITHUB = REPO / "examples" / "ci" / "github-actions.yml"
ACTION = REPO / "action.yml"
GITLAB = REPO / "examples" / "ci" / "gitlab-ci.yml"
PRE_COMMIT = REPO / ".pre-commit-hooks.yaml"

def shell_strings(node: Any, keys: tuple[str, ...], key: str | None = None) -> Iterator[str]:
    """Every string under one of `keys` (run:, script:, entry: ...) anywhere in a YAML tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from shell_strings(v, keys, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from shell_strings(v, keys, key)
    elif isinstance(node, str) and key in keys:
        yield node


def recipe_commands(path: Path, keys: tuple[str, ...]) -> list[list[str]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [argv for text in shell_strings(document, keys) for argv in command_lines(text)]


# --- the checker itself can fail ------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "telegent-iac plan telegent/ --outfile plan.json",
    "telegent-iac aply plan.json",
    "telegent-iac plan telegent/ --format html",
    "telegent-iac schema extra",
    "telegent-iac plan",
    "telegent-iac",
])
def test_checker_refuses_wrong_commands(line: str) -> None:
    with pytest.raises(AssertionError):
        for argv in command_lines(line) or [line.split()]:
            check_argv(argv)


def test_checker_reads_shell() -> None:
    assert command_lines('set +e; telegent-iac plan a/ --out p.json --format markdown > plan.md || code=$?') == [
        ["telegent-iac", "plan", "a/", "--out", "p.json", "--format", "markdown"]]
    assert command_lines("if ! telegent-iac validate \\\n  dir/; then exit 1; fi") == [
        ["telegent-iac", "validate", "dir/"]]
    assert command_lines('echo "<!-- telegent-iac plan -->"; pip install telegent-iac') == []
    assert check_argv(["telegent-iac", "apply", "p.json", "--json", "--state=s.json"]) == "apply"


# --- the recipes -------------------------------------------------------------------------------------


def action_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))["runs"]["steps"]
    return steps


def test_the_action_validates_tests_plans_comments_and_applies() -> None:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    commands = recipe_commands(ACTION, ("run",))
    used = [check_argv(argv) for argv in commands]
    assert used == ["validate", "test", "plan", "apply"]  # the routing tests gate the plan
    plan = next(a for a in commands if a[1] == "plan")
    assert {"--out", "--format", "markdown", "--detailed-exitcode", "--lock-timeout"} <= set(plan)
    install = next(s["run"] for s in action_steps() if "pip install" in s.get("run", ""))
    # The tool comes from the action's own checkout, i.e. this repository at the ref in `uses:`.
    assert "${GITHUB_ACTION_PATH}" in install and "==" not in install
    script = next(s["with"]["script"] for s in action_steps() if s.get("uses", "").startswith("actions/github-script"))
    assert MARKER in script  # finds its own comment by the marker render/markdown.py writes
    assert "updateComment" in script and "createComment" in script and "paginate" in script
    for step in action_steps():  # inputs reach shell through env, never pasted into the script
        assert "${{" not in step.get("run", ""), step["run"]


def test_github_actions_workflow_uses_the_action() -> None:
    workflow = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    plan_step = next(s for s in jobs["plan"]["steps"] if s.get("uses", "").endswith("/telegent-iac@v0.1.0"))
    apply_step = next(s for s in jobs["apply"]["steps"] if s.get("uses", "").endswith("/telegent-iac@v0.1.0"))
    assert plan_step["with"].get("command", "plan") == "plan" and apply_step["with"]["command"] == "apply"
    assert apply_step["with"]["plan-file"] == plan_step["with"]["plan-file"]  # applies the saved plan
    assert "pip install" not in GITHUB.read_text(encoding="utf-8")  # never an unpublished index entry
    drift_install = next(s for s in jobs["drift"]["steps"] if s.get("uses", "").endswith("/telegent-iac@v0.1.0"))
    assert drift_install["with"]["command"] == "install"
    assert jobs["plan"]["permissions"]["pull-requests"] == "write"
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in jobs["plan"]["steps"])
    assert "push" in jobs["apply"]["if"] and jobs["apply"]["needs"] == "plan"
    assert any(s.get("uses", "").startswith("actions/download-artifact") for s in jobs["apply"]["steps"])
    # Plans and applies never share a concurrency group; every job has a time limit.
    assert "concurrency" not in workflow
    groups = {name: job["concurrency"]["group"] for name, job in jobs.items()}
    assert len(set(groups.values())) == len(groups)
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False
    assert all(isinstance(job["timeout-minutes"], int) for job in jobs.values())


def test_github_script_is_valid_javascript(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node not installed")
    script = next(s["with"]["script"] for s in action_steps() if s.get("uses", "").startswith("actions/github-script"))
    # github-script runs the body inside an async function.
    source = tmp_path / "script.js"
    source.write_text(f"(async function () {{\n{script}\n}});\n")
    subprocess.run(["node", "--check", str(source)], check=True)


def test_gitlab_ci() -> None:
    pipeline = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    assert pipeline["stages"] == ["validate", "plan", "apply"]
    commands = recipe_commands(GITLAB, ("script", "before_script"))
    used = [check_argv(argv) for argv in commands]
    assert set(used) == {"validate", "test", "plan", "apply"}
    assert used.index("test") < used.index("plan")
    plan_script = "\n".join(pipeline["plan"]["script"])
    assert MARKER in plan_script and "PUT" in plan_script and "POST" in plan_script
    assert "plan.json" in pipeline["plan"]["artifacts"]["paths"]
    assert pipeline["apply"]["rules"][0]["when"] == "manual"
    assert pipeline["apply"]["needs"] == ["plan"]
    install = "\n".join(pipeline["default"]["before_script"])
    assert "TELEGENT_IAC_SOURCE" in install and pipeline["variables"]["TELEGENT_IAC_SOURCE"].startswith("git+")
    assert "==" not in install  # never an unpublished index entry
    jobs = {name: job for name, job in pipeline.items() if isinstance(job, dict) and "script" in job}
    assert set(jobs) == {"validate", "plan", "apply", "drift"}
    assert all("timeout" in job for job in jobs.values())
    assert pipeline["plan"].get("resource_group") != pipeline["apply"]["resource_group"]


def test_shell_in_recipes_parses() -> None:
    """bash -n every run:/script: block; compile the Python the GitLab note step runs."""
    for path, keys in ((GITHUB, ("run",)), (ACTION, ("run",)), (GITLAB, ("script", "before_script"))):
        for text in shell_strings(yaml.safe_load(path.read_text(encoding="utf-8")), keys):
            text = re.sub(r"\$\{\{.*?\}\}", "EXPR", text)
            subprocess.run(["bash", "-n"], input=text, text=True, check=True)
            for heredoc in re.findall(r"<<'PY'\n(.*?)\nPY", text, re.S):
                compile(heredoc, f"{path.name} heredoc", "exec")


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load(PRE_COMMIT.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    commands = {}
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook)
        argv = shlex.split(hook["entry"]) + list(hook.get("args", []))
        commands[hook["id"]] = check_argv(argv)
        assert "--pre-commit" in argv  # a missing path names the args: to set
        assert hook["pass_filenames"] is False  # the args name the config paths, not every YAML file
    assert commands == {"telegent-iac-validate": "validate", "telegent-iac-fmt": "fmt",
                        "telegent-iac-test": "test"}



def test_recipes_have_a_scheduled_drift_job_that_samples() -> None:
    """The drift job runs only on schedule, reads a sample within the rate limit (each run
    the workgroups verified longest ago) and fails on changes; the others never run then."""
    github = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    triggers = github.get("on", github.get(True))
    assert triggers["schedule"][0]["cron"]
    jobs = github["jobs"]
    assert "schedule" in jobs["drift"]["if"] and "schedule" not in jobs["plan"]["if"]
    assert "push" in jobs["apply"]["if"]
    gitlab = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    assert gitlab["drift"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    for job in ("validate", "plan"):
        assert gitlab[job]["rules"] == [{"if": '$CI_PIPELINE_SOURCE != "schedule"'}]
    assert "schedule" in gitlab["apply"]["rules"][0]["if"]
    drift_scripts = [
        "\n".join(s["run"] for s in jobs["drift"]["steps"] if "run" in s),
        "\n".join(gitlab["drift"]["script"]),
    ]
    for script in drift_scripts:
        argv = next(a for a in command_lines(script) if a[1] == "plan")
        check_argv(argv)
        assert "--refresh" in argv and argv[argv.index("--refresh") + 1].startswith("sample=")
        assert {"--json", "--detailed-exitcode", "--parallelism"} <= set(argv)
        assert "exit $code" in script
