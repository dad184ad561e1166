"""`telegent-iac fmt`: one canonical layout (spec field order, quoted phones and times), comments
kept, the data unchanged, and running it twice changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telegent_iac import spec
from telegent_iac.config.fmt import FormatError, format_text
from tests.support import REPO, cli

WORKGROUP_ORDER = [*spec.workgroup_fields(), "members", "prevent_destroy", "allow_replace"]
MEMBER_ORDER = [*spec.member_fields(), "key"]


def run(*args: str | Path) -> tuple[int, str, str]:
    result = cli.run({}, *args)
    return result.exit_code, result.stdout, result.stderr


def test_fields_in_spec_order_comments_and_quotes_kept() -> None:
    text = """\
# yaml-language-server: $schema=../schema/telegent-iac.schema.json
workgroups:
  # the menu callers reach first
  main-menu:
    Type: IVR        # the type
    Name: Main menu
    # the number callers dial
    TelegentPhone: '+14155550100'
    prevent_destroy: true   # keep
    members:
      - DigitOrder: 1
        # ring sales
        ReferenceWorkgroupId: sales
        Type: Workgroup
  sales:
    Type: simultaneous
    Name: Sales   # trailing
    AnnouncementText: >-
      Hello # not a comment,
      and welcome.
    RecordCalls: true
# the end
"""
    assert format_text(text) == """\
# yaml-language-server: $schema=../schema/telegent-iac.schema.json
workgroups:
  # the menu callers reach first
  main-menu:
    Name: Main menu
    # the number callers dial
    TelegentPhone: "+14155550100"
    Type: IVR        # the type
    members:
      - Type: Workgroup
        DigitOrder: 1
        # ring sales
        ReferenceWorkgroupId: sales
    prevent_destroy: true   # keep
  sales:
    Name: Sales   # trailing
    Type: simultaneous
    AnnouncementText: >-
      Hello # not a comment,
      and welcome.
    RecordCalls: true
# the end
"""


def test_sections_keep_their_order_merges_stay_first_and_trailing_comments_stay_put() -> None:
    text = """\
moved:
  - to: b
    from: a
x-defaults: &defaults
  RecordCalls: true
schedules:
  office:
    MondayEndTime: "6:00 PM"
    Name: Office
    MondayStartTime: "8:00 AM"
    # ... Tuesday to Friday, weekends closed

workgroups:
  b:
    <<: *defaults
    Type: round-robin
    Name: B
"""
    assert format_text(text) == """\
moved:
  - from: a
    to: b
x-defaults: &defaults
  RecordCalls: true
schedules:
  office:
    Name: Office
    MondayStartTime: "8:00 AM"
    MondayEndTime: "6:00 PM"
    # ... Tuesday to Friday, weekends closed

workgroups:
  b:
    <<: *defaults
    Name: B
    Type: round-robin
"""


def test_times_and_interpolated_phones_are_double_quoted() -> None:
    text = "schedules:\n  office:\n    MondayStartTime: '09:00'\n    MondayEndTime: \"17:00\"\n" \
           "workgroups:\n  a:\n    Name: A\n    Type: IVR\n    TelegentPhone: ${env.MAIN}\n"
    out = format_text(text)
    assert "MondayStartTime: \"09:00\"" in out and "TelegentPhone: \"${env.MAIN}\"" in out


def test_a_phone_that_is_a_number_is_left_for_validate_to_report() -> None:
    text = "workgroups:\n  a:\n    Name: A\n    TelegentPhone: 14155550100\n    Type: IVR\n"
    assert format_text(text) == text


def test_invalid_yaml_is_reported_with_its_position() -> None:
    with pytest.raises(FormatError) as exc:
        format_text("workgroups:\n  a: [\n", "bad.yaml")
    assert str(exc.value).startswith("bad.yaml:")


def test_a_reorder_that_would_change_the_data_is_refused() -> None:
    # Canonical order would put the alias (Name) above its anchor (CallerIdName).
    text = "workgroups:\n  a:\n    CallerIdName: &n Acme\n    Type: IVR\n    Name: *n\n"
    with pytest.raises(FormatError, match="left unchanged"):
        format_text(text, "a.yaml")


# --- property: idempotent, same data, every comment kept, canonical order -----------------------

phones = st.sampled_from(['"+14155550100"', "'+14155550101'", "+14155550102", '"${env.PHONE}"'])
scalars = {
    "Name": st.sampled_from(["Main menu", "Sales", "'Quoted name'"]),
    "Type": st.sampled_from(["IVR", "simultaneous", "round-robin"]),
    "TelegentPhone": phones,
    "AnnouncementText": st.sampled_from(["Hello # there", "'Press # to repeat'", ">-\n      Two\n      lines"]),
    "RecordCalls": st.sampled_from(["true", "false"]),
    "TimeZone": st.just("America/New_York"),
    "WaitBetween": st.sampled_from(["5", '"5"']),
    "prevent_destroy": st.just("true"),
}
member_scalars = {
    "Type": st.sampled_from(["User", "Workgroup"]),
    "DigitOrder": st.integers(0, 9).map(str),
    "PhoneNumber": phones,
    "key": st.sampled_from(["alice", "bob"]),
}


@st.composite
def mapping_lines(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[str]], indent: str,
                  comments: list[int], first_prefix: str | None = None) -> list[str]:
    names = draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, unique=True))
    lines: list[str] = []
    for i, name in enumerate(names):
        if draw(st.booleans()):
            comments.append(len(comments))
            lines.append(f"{indent}# c{comments[-1]}\n")
        if draw(st.integers(0, 5)) == 0:
            lines.append("\n")
        value = draw(fields[name])
        eol = ""
        if draw(st.booleans()) and not value.startswith(">"):
            comments.append(len(comments))
            eol = f"  # c{comments[-1]}"
        prefix = first_prefix if (i == 0 and first_prefix is not None) else indent
        if i == 0 and first_prefix is not None and lines:
            lines = [line.replace(indent, first_prefix[:-2], 1) if line.strip() else line for line in lines]
        lines.append(f"{prefix}{name}: {value}{eol}\n")
    return lines


@st.composite
def configs(draw: st.DrawFn) -> tuple[str, int]:
    comments: list[int] = []
    lines = ["workgroups:\n"]
    for address in draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, unique=True)):
        lines.append(f"  {address}:\n")
        lines += draw(mapping_lines(scalars, "    ", comments))
        if draw(st.booleans()):
            lines.append("    members:\n")
            for _ in range(draw(st.integers(1, 2))):
                lines += draw(mapping_lines(member_scalars, "        ", comments, first_prefix="      - "))
    if draw(st.booleans()):
        comments.append(len(comments))
        lines.append(f"# c{comments[-1]}\n")
    return "".join(lines), len(comments)


def keys_in_order(data: object) -> None:
    """Every workgroup's and member's fields are in canonical order."""
    assert isinstance(data, dict)
    for workgroup in (data.get("workgroups") or {}).values():
        assert list(workgroup) == sorted(workgroup, key=WORKGROUP_ORDER.index)
        for member in workgroup.get("members") or []:
            assert list(member) == sorted(member, key=MEMBER_ORDER.index)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_fmt_is_idempotent_keeps_data_and_comments(case: tuple[str, int]) -> None:
    text, comment_count = case
    once = format_text(text)
    assert format_text(once) == once
    assert yaml.safe_load(once) == yaml.safe_load(text)
    found = sorted(int(n) for n in re.findall(r"# c(\d+)", once))
    assert found == list(range(comment_count))
    keys_in_order(yaml.safe_load(once))
    for line in once.splitlines():
        if re.match(r"\s*-?\s*(TelegentPhone|PhoneNumber): ['\"]", line):
            assert re.match(r"\s*-?\s*(TelegentPhone|PhoneNumber): \"", line), line


# --- the command -------------------------------------------------------------------------------


def test_fmt_check_lists_files_then_fmt_rewrites_them(tmp_path: Path) -> None:
    config = tmp_path / "telegent"
    config.mkdir()
    messy = config / "a.yaml"
    messy.write_text("workgroups:\n  a:\n    Type: IVR  # t\n    Name: A\n")
    tidy = config / "b.yaml"
    tidy.write_text("workgroups:\n  b:\n    Name: B\n    Type: IVR\n")
    (config / "prod.vars.yaml").write_text("Z: 1\nA: 2\n")  # var files are not configs
    before = messy.read_text()

    code, out, err = run("fmt", "--check", config)
    assert code == 1
    assert out.splitlines() == [str(messy)]
    assert "not in the canonical layout" in err
    assert messy.read_text() == before  # --check changes nothing

    code, out, _ = run("fmt", config)
    assert code == 0 and out.splitlines() == [str(messy)]
    assert messy.read_text() == "workgroups:\n  a:\n    Name: A\n    Type: IVR  # t\n"
    assert run("fmt", "--check", config)[0] == 0
    assert run("fmt", config)[1] == ""  # nothing left to change


def test_fmt_reports_a_file_it_cannot_read_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("workgroups:\n  a: [\n")
    code, _, err = run("fmt", bad)
    assert code == 1 and f"{bad}:" in err and "could not be formatted" in err
    code, _, err = run("fmt", tmp_path / "missing.yaml")
    assert code == 1 and "no such file" in err


def test_the_examples_are_in_the_canonical_layout(tmp_path: Path) -> None:
    code, out, err = run("fmt", "--check", REPO / "examples" / "workgroups.yaml", REPO / "examples" / "environments")
    assert code == 0, out + err


def test_fmt_keeps_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("workgroups:\n  a:\n    Type: IVR\n    Name: A\n")
    path.chmod(0o640)
    code, out, _ = run("fmt", path)
    assert code == 0 and out.strip() == str(path)
    assert path.stat().st_mode & 0o777 == 0o640
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_deeper_comment_after_a_value_moves_with_that_value() -> None:
    text = ("workgroups:\n  a:\n    members:\n      - Type: User\n        PhoneNumber: \"+14155550100\"\n"
            "      # more members to come\n    Type: IVR\n    Name: A\n")
    assert format_text(text) == ("workgroups:\n  a:\n    Name: A\n    Type: IVR\n    members:\n      - Type: User\n"
                                 "        PhoneNumber: \"+14155550100\"\n      # more members to come\n")
