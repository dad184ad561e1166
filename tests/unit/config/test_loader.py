"""config.load: the model it returns, positions, interpolation, references, imports and moves."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from telegent_iac.config import load
from telegent_iac.errors import Position, UserError
from tests.support import EXAMPLE, REPO
from tests.support.config import write

ENVIRONMENTS = REPO / "examples" / "environments"

HEAD = "workgroups:\n"


def problems_of(paths: list[str], env: dict[str, str] | None = None, var_files: list[str] | None = None) -> list[str]:
    with pytest.raises(UserError) as caught:
        load(paths, env or {}, var_files or [])
    return [str(problem) for problem in caught.value.problems]


def test_example_loads_into_the_model() -> None:
    desired = load([str(EXAMPLE)], {})
    assert list(desired.workgroups) == ["main-menu", "sales", "support", "billing", "after-hours"]
    menu = desired.workgroups["main-menu"]
    assert menu.fields["Type"] == "IVR"
    assert menu.fields["OffHoursId"] == "after-hours"  # still an address
    assert menu.prevent_destroy is True and menu.allow_replace is False
    assert [m.key for m in menu.members] == ["workgroup:sales", "workgroup:support", "workgroup:billing"]
    assert menu.members[0].fields == {"DigitOrder": 1, "ReferenceWorkgroupId": "sales", "Type": "Workgroup"}
    assert menu.position == Position(str(EXAMPLE), 9, 3)
    sales = desired.workgroups["sales"]
    assert [m.key for m in sales.members][-1] == "sales-mobile"
    assert "key" not in sales.members[-1].fields
    assert menu.references() == {"after-hours", "sales", "support", "billing"}
    assert len(desired.input_hash) == 64


def test_values_are_canonical(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "  a:\n    Name: A\n    Type: simultaneous\n    CallOrder: 1\n    WaitBetween: 30\n")
    desired = load([path], {})
    expected = {"CallOrder": "1", "Name": "A", "Type": "simultaneous", "WaitBetween": "30"}
    assert desired.workgroups["a"].fields == expected


def test_every_problem_of_every_file_is_reported_sorted(tmp_path: Path) -> None:
    first = write(tmp_path, HEAD + "  a:\n    Nmae: A\n    Type: IVR\n", "a.yaml")
    second = write(tmp_path, HEAD + "  b:\n    Name: B\n    Type: ring\n    RecordCalls: maybe\n", "b.yaml")
    found = problems_of([second, first])
    assert found == [
        f"{first}:2:3: missing required field 'Name'",
        f"{first}:3:5: unknown field 'Nmae' (did you mean 'Name'?)",
        f"{second}:4:11: Type must be one of IVR, simultaneous, round-robin, got 'ring'",
        f"{second}:5:18: RecordCalls must be true or false, got 'maybe'",
    ]


def test_directory_loads_sorted_yaml_files_and_skips_var_files(tmp_path: Path) -> None:
    write(tmp_path, HEAD + "  b:\n    Name: B\n    Type: IVR\n", "b.yml")
    write(tmp_path, HEAD + "  a:\n    Name: A\n    Type: IVR\n", "a.yaml")
    write(tmp_path, "X: 1\n", "prod.vars.yaml")
    write(tmp_path, "not yaml", "notes.txt")
    desired = load([str(tmp_path)], {})
    assert list(desired.workgroups) == ["a", "b"]
    assert desired.workgroups["b"].position == Position(str(tmp_path / "b.yml"), 2, 3)


def test_same_file_twice_is_loaded_once(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "  a:\n    Name: A\n    Type: IVR\n")
    assert list(load([path, str(tmp_path)], {}).workgroups) == ["a"]


def test_missing_file_and_unreadable_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    assert problems_of([missing]) == [f"{missing}:1:1: no such file or directory"]


def test_utf8_bom_is_accepted_silently(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(codecs.BOM_UTF8 + (HEAD + "  a:\n    Name: Café\n    Type: IVR\n").encode())
    desired = load([str(path)], {})
    assert desired.workgroups["a"].fields["Name"] == "Café"
    assert desired.workgroups["a"].position == Position(str(path), 2, 3)


def test_anchors_merge_keys_and_extension_keys(tmp_path: Path) -> None:
    text = (
        "x-defaults: &defaults\n  Type: simultaneous\n  RecordCalls: true\n  TimeZone: America/Chicago\n"
        + HEAD
        + "  a:\n    <<: *defaults\n    Name: A\n    RecordCalls: false\n"
        + "  b:\n    <<: [*defaults]\n    Name: B\n    members: &people\n"
        + "      - Type: User\n        ReferenceUserId: U1\n"
        + "  c:\n    <<: *defaults\n    Name: C\n    members: *people\n"
    )
    desired = load([write(tmp_path, text)], {})
    a, b, c = desired.workgroups["a"], desired.workgroups["b"], desired.workgroups["c"]
    assert a.fields["RecordCalls"] is False and a.fields["TimeZone"] == "America/Chicago"
    assert b.fields["RecordCalls"] is True
    assert [m.key for m in c.members] == ["user:U1"]


def test_merged_value_problem_points_at_its_definition(tmp_path: Path) -> None:
    text = "x-base: &base\n  Type: nope\n" + HEAD + "  a:\n    <<: *base\n    Name: A\n"
    path = write(tmp_path, text)
    assert problems_of([path]) == [f"{path}:2:9: Type must be one of IVR, simultaneous, round-robin, got 'nope'"]


# --- interpolation ---------------------------------------------------------------------------


def test_env_interpolation_whole_embedded_and_escaped(tmp_path: Path) -> None:
    text = (
        HEAD + "  a:\n    Name: ${env.PREFIX}Sales\n    Type: IVR\n    ScheduleId: ${env.SCHEDULE}\n"
        "    AnnouncementText: \"Costs $${env.NOT_THIS} ${env.PRICE} dollars\"\n"
    )
    desired = load([write(tmp_path, text)], {"PREFIX": "[s] ", "SCHEDULE": "SID-1", "PRICE": "5", "NOT_THIS": "x"})
    fields = desired.workgroups["a"].fields
    assert fields["Name"] == "[s] Sales"
    assert fields["ScheduleId"] == "SID-1"
    assert fields["AnnouncementText"] == "Costs ${env.NOT_THIS} 5 dollars"


def test_interpolated_values_are_typed_and_validated_after_substitution(tmp_path: Path) -> None:
    text = (
        HEAD + "  a:\n    Name: A\n    Type: ${var.KIND}\n    RecordCalls: ${env.REC}\n"
        "    members:\n      - Type: User\n        ReferenceUserId: U1\n        DigitOrder: ${var.DIGIT}\n"
    )
    path = write(tmp_path, text)
    var_file = write(tmp_path, "KIND: IVR\nDIGIT: 4\n", "v.yaml")
    desired = load([path], {"REC": "True"}, [var_file])
    wg = desired.workgroups["a"]
    assert wg.fields["RecordCalls"] is True
    assert wg.members[0].fields["DigitOrder"] == 4
    found = problems_of([path], {"REC": "sometimes"}, [var_file])
    assert found == [f"{path}:5:18: RecordCalls must be true or false, got 'sometimes'"]


def test_later_var_file_wins_and_var_file_problems_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "  a:\n    Name: ${var.NAME}\n    Type: IVR\n")
    one = write(tmp_path, "NAME: One\n", "one.vars.yaml")
    two = write(tmp_path, "NAME: Two\n", "two.vars.yaml")
    assert load([path], {}, [one, two]).workgroups["a"].name == "Two"
    bad = write(tmp_path, "NAME: [a, b]\nbad-name: 1\nNAME2: x\nNAME2: y\n", "bad.vars.yaml")
    found = problems_of([path], {}, [bad])
    assert f"{bad}:1:7: variable 'NAME' must be a string, number or boolean" in found
    assert f"{bad}:2:1: invalid variable name 'bad-name' (letters, digits and '_')" in found
    assert any(item.startswith(f"{bad}:4:1: duplicate key 'NAME2'") for item in found)
    assert any("variable 'NAME' is not defined" in item for item in found)


def test_input_hash_covers_files_var_files_and_used_env(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "  a:\n    Name: A\n    Type: IVR\n    ScheduleId: ${env.S}\n")
    var_file = write(tmp_path, "X: 1\n", "v.yaml")
    base = load([path], {"S": "1", "UNUSED": "a"}, [var_file]).input_hash
    assert load([path], {"S": "1", "UNUSED": "b"}, [var_file]).input_hash == base
    assert load([path], {"S": "2"}, [var_file]).input_hash != base
    Path(var_file).write_text("X: 2\n")
    assert load([path], {"S": "1"}, [var_file]).input_hash != base
    Path(var_file).write_text("X: 1\n")
    Path(path).write_text(Path(path).read_text() + "# a comment\n")
    assert load([path], {"S": "1"}, [var_file]).input_hash != base


# --- references, cycles, members --------------------------------------------------------------


def test_reference_cycle_across_members_and_routing(tmp_path: Path) -> None:
    text = HEAD + (
        "  a:\n    Name: A\n    Type: IVR\n    members:\n      - Type: Workgroup\n        ReferenceWorkgroupId: b\n"
        "        DigitOrder: 1\n"
        "  b:\n    Name: B\n    Type: simultaneous\n    OnHoursType: WORKGROUP\n    OnHoursId: c\n"
        "  c:\n    Name: C\n    Type: simultaneous\n    OffHoursType: Workgroup\n    OffHoursId: a\n"
        "  d:\n    Name: D\n    Type: simultaneous\n    OffHoursType: Workgroup\n    OffHoursId: a\n"
    )
    path = write(tmp_path, text)
    assert problems_of([path]) == [
        f"{path}:2:3: reference cycle: a -> b -> c -> a [routing-loop]: a call that enters it goes round with no one "
        "to ring and no way out"
    ]


def test_non_workgroup_routing_ids_are_not_addresses(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "  a:\n    Name: A\n    Type: IVR\n    OffHoursType: User\n    OffHoursId: USER-9\n")
    assert load([path], {}).workgroups["a"].references() == set()


def test_members_reordered_keep_their_keys(tmp_path: Path) -> None:
    members = [
        "      - Type: User\n        ReferenceUserId: U1\n",
        "      - Type: User\n        PhoneNumber: \"+14155550100\"\n",
        "      - Type: Workgroup\n        ReferenceWorkgroupId: b\n",
    ]
    tail = "  b:\n    Name: B\n    Type: simultaneous\n"
    one = load([write(tmp_path, HEAD + "  a:\n    Name: A\n    Type: simultaneous\n    members:\n"
                      + "".join(members) + tail, "one.yaml")], {})
    two = load([write(tmp_path, HEAD + "  a:\n    Name: A\n    Type: simultaneous\n    members:\n"
                      + "".join(reversed(members)) + tail, "two.yaml")], {})
    keys_one = {m.key: m.fields for m in one.workgroups["a"].members}
    keys_two = {m.key: m.fields for m in two.workgroups["a"].members}
    assert keys_one == keys_two
    assert set(keys_one) == {"user:U1", "phone:+14155550100", "workgroup:b"}


def test_imports_and_moves(tmp_path: Path) -> None:
    text = HEAD + (
        "  legacy:\n    Name: Legacy\n    Type: IVR\n  support-team:\n    Name: Support\n    Type: IVR\n"
        "import:\n  - address: legacy\n    id: WID-1234\nmoved:\n  - from: support\n    to: support-team\n"
    )
    path = write(tmp_path, text)
    desired = load([path], {})
    assert [(i.address, i.workgroup_id, i.position) for i in desired.imports] == [
        ("legacy", "WID-1234", Position(str(path), 9, 5))
    ]
    assert [(m.old, m.new) for m in desired.moved] == [("support", "support-team")]


def test_empty_workgroups_is_allowed(tmp_path: Path) -> None:
    assert load([write(tmp_path, "workgroups:\n")], {}).workgroups == {}
    assert load([write(tmp_path, "workgroups: {}\nimport: []\nmoved:\n", "b.yaml")], {}).workgroups == {}


def test_ten_thousand_workgroups_load(tmp_path: Path) -> None:
    lines = [HEAD]
    for index in range(10_000):
        lines.append(
            f"  wg-{index}:\n    Name: Group {index}\n    Type: round-robin\n"
            f"    TelegentPhone: \"+1415555{index:04d}\"\n    RecordCalls: true\n    TimeZone: Europe/Paris\n"
            f"    CallOrder: '1'\n    OffHoursType: Workgroup\n    OffHoursId: wg-{(index + 1) % 10_000 or 1}\n"
        )
    lines[-1] = lines[-1].replace("OffHoursType: Workgroup", "OffHoursType: User")
    desired = load([write(tmp_path, "".join(lines))], {})
    assert len(desired.workgroups) == 10_000
    assert desired.workgroups["wg-9999"].fields["TelegentPhone"] == "+14155559999"
