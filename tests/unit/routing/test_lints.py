"""Routing lints: each rule fires where it should, stays quiet where it should not, and one
workgroup can accept it with `lint_ignore:`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from telegent_iac.cli import main
from telegent_iac.routing.lints import RULES
from tests.support import EXAMPLE
from tests.support.config import load_text, problems, warnings, write

# A small, clean call flow; each test below breaks one thing in it.
CLEAN = """\
schedules:
  office:
    Name: Office
    MondayStartTime: "9:00 AM"
    MondayEndTime: "5:00 PM"
workgroups:
  menu:
    Name: Menu
    Type: IVR
    TelegentPhone: "+14155550100"
    TimeZone: America/New_York
    ScheduleId: office
    OffHoursType: Workgroup
    OffHoursId: night
    members:
      - {Type: Workgroup, ReferenceWorkgroupId: sales, DigitOrder: 1}
  sales:
    Name: Sales
    Type: simultaneous
    members:
      - {Type: User, ReferenceUserId: USER-1}
  night:
    Name: Night
    Type: round-robin
    members:
      - {Type: User, PhoneNumber: "+14155550199"}
"""


def test_the_clean_flow_has_no_finding(tmp_path: Path) -> None:
    desired = load_text(tmp_path, CLEAN)
    assert desired.warnings == ()


def test_same_number_on_two_workgroups_is_an_error(tmp_path: Path) -> None:
    text = CLEAN.replace("    Type: simultaneous\n", '    Type: simultaneous\n    TelegentPhone: "+14155550100"\n')
    assert problems(tmp_path, text) == [
        "20:20: error [duplicate-phone]: +14155550100 is also the TelegentPhone of 'menu' (at 10:20); a call to "
        "it can reach only one workgroup"
    ]
    # a toll-free number equal to another workgroup's number is the same mistake
    text = CLEAN.replace("    Type: simultaneous\n", '    Type: simultaneous\n    TollFreeNumber: "+14155550100"\n')
    assert [p.split(": ")[1] for p in problems(tmp_path, text)] == ["error [duplicate-phone]"]


def test_an_invalid_number_for_its_country_is_an_error(tmp_path: Path) -> None:
    text = CLEAN.replace('"+14155550100"', '"+15551234567"').replace('"+14155550199"', '"+442071838750"')
    assert problems(tmp_path, text) == [
        "10:20: error [invalid-phone]: TelegentPhone +15551234567 is not a valid number for +1 (US, AG, AI, ...)"
    ]
    text = CLEAN.replace('"+14155550199"', '"+4420718"')
    assert problems(tmp_path, text) == [
        "26:9: error [invalid-phone]: member PhoneNumber +4420718 is not a valid number for +44 (GB, GG, IM, ...)"
    ]


def test_an_ivr_with_no_options_is_a_warning(tmp_path: Path) -> None:
    text = CLEAN.replace("    members:\n      - {Type: Workgroup, ReferenceWorkgroupId: sales, DigitOrder: 1}\n",
                         "    members: []\n")
    found = warnings(tmp_path, text)
    assert "7:3: warning [ivr-no-options]: IVR menu 'menu' has no members: every digit leads nowhere" in found


def test_a_digit_to_an_empty_group_is_a_warning(tmp_path: Path) -> None:
    text = CLEAN.replace("    members:\n      - {Type: User, ReferenceUserId: USER-1}\n", "    members: []\n")
    assert warnings(tmp_path, text) == [
        "16:9: warning [empty-target]: digit 1 leads to 'sales', which has no members",
        "17:3: warning [empty-hunt-group]: simultaneous group 'sales' has no members: a call to it rings nobody",
    ]
    # the menu accepts its finding; the empty group's own finding stays
    text = text.replace("    Name: Menu\n", "    Name: Menu\n    lint_ignore: [empty-target]\n")
    assert warnings(tmp_path, text) == [
        "18:3: warning [empty-hunt-group]: simultaneous group 'sales' has no members: a call to it rings nobody"
    ]


def test_an_off_hours_route_to_an_empty_group_is_a_warning(tmp_path: Path) -> None:
    text = CLEAN.replace('    members:\n      - {Type: User, PhoneNumber: "+14155550199"}\n', "    members: []\n")
    assert warnings(tmp_path, text)[0] == (
        "14:17: warning [empty-target]: the off-hours route leads to 'night', which has no members"
    )


def test_a_group_with_an_on_hours_route_is_not_empty(tmp_path: Path) -> None:
    text = CLEAN.replace("    members:\n      - {Type: User, ReferenceUserId: USER-1}\n", "    members: []\n").replace(
        "    Type: simultaneous\n", "    Type: simultaneous\n    OnHoursType: User\n    OnHoursId: USER-9\n"
    )
    assert problems(tmp_path, text) == []
    assert warnings(tmp_path, text) == []


def test_a_workgroup_nothing_reaches_is_a_warning(tmp_path: Path) -> None:
    text = CLEAN + "  orphan:\n    Name: Orphan\n    Type: simultaneous\n    members:\n" \
        "      - {Type: User, ReferenceUserId: USER-2}\n"
    assert warnings(tmp_path, text) == [
        "27:3: warning [unreachable]: no number reaches 'orphan': it has no TelegentPhone or TollFreeNumber, "
        "and no route or member leads to it from a workgroup that has one"
    ]
    # reached only from another unreachable workgroup: still unreachable
    text += "  orphan-2:\n    Name: Orphan 2\n    Type: simultaneous\n    members:\n" \
        "      - {Type: Workgroup, ReferenceWorkgroupId: orphan}\n"
    assert [w.split(" [")[1].split("]")[0] for w in warnings(tmp_path, text)] == ["unreachable", "unreachable"]
    accepted = text.replace("    Name: Orphan\n", "    Name: Orphan\n    lint_ignore: [unreachable]\n")
    assert len(warnings(tmp_path, accepted)) == 1


def test_off_hours_routing_without_a_schedule_is_a_warning(tmp_path: Path) -> None:
    text = CLEAN.replace("    ScheduleId: office\n", "")
    assert warnings(tmp_path, text) == [
        "12:19: warning [off-hours-without-schedule]: 'menu' routes off hours but has no ScheduleId: without a "
        "schedule it is never off hours, so the route is never used"
    ]


def test_a_routing_loop_with_no_way_out_is_named_so(tmp_path: Path) -> None:
    looped = """\
    workgroups:
      a:
        Name: A
        Type: simultaneous
        TelegentPhone: "+14155550100"
        members: [{Type: Workgroup, ReferenceWorkgroupId: b}]
      b:
        Name: B
        Type: simultaneous
        members: [{Type: Workgroup, ReferenceWorkgroupId: a}]
    """
    assert problems(tmp_path, looped) == [
        "2:3: reference cycle: a -> b -> a [routing-loop]: a call that enters it goes round with no one to ring "
        "and no way out"
    ]
    # with someone to ring inside it, it is still a cycle apply cannot order, but not a trap
    with_exit = looped.replace("members: [{Type: Workgroup, ReferenceWorkgroupId: a}]",
                               "members: [{Type: Workgroup, ReferenceWorkgroupId: a}, {Type: User, "
                               "ReferenceUserId: U}]")
    assert problems(tmp_path, with_exit) == ["2:3: reference cycle: a -> b -> a"]


def test_lint_ignore_accepts_only_for_its_own_workgroup_and_is_not_sent(tmp_path: Path) -> None:
    text = CLEAN.replace("    Type: simultaneous\n", '    Type: simultaneous\n    TelegentPhone: "+14155550100"\n')
    # the finding is reported on `sales`: the menu's lint_ignore does not accept it
    on_menu = text.replace("    Name: Menu\n", "    Name: Menu\n    lint_ignore: [duplicate-phone]\n")
    assert len(problems(tmp_path, on_menu)) == 1
    on_sales = text.replace("    Name: Sales\n", "    Name: Sales\n    lint_ignore: [duplicate-phone]\n")
    desired = load_text(tmp_path, on_sales)
    assert desired.workgroups["sales"].lint_ignore == {"duplicate-phone"}
    assert "lint_ignore" not in desired.workgroups["sales"].fields  # fields are what the API gets


def test_an_unknown_rule_in_lint_ignore_is_refused(tmp_path: Path) -> None:
    text = CLEAN.replace("    Name: Menu\n", "    Name: Menu\n    lint_ignore: [duplicate-phones]\n")
    (problem,) = problems(tmp_path, text)
    assert problem.startswith("9:19: item 1 of lint_ignore must be one of ")
    assert "(did you mean 'duplicate-phone'?)" in problem


def test_time_zones_come_from_tzdata(tmp_path: Path) -> None:
    text = CLEAN.replace("America/New_York", "America/New_Yrok")
    assert problems(tmp_path, text) == [
        "11:15: unknown time zone 'America/New_Yrok' (did you mean 'America/New_York'?); use an IANA name such as "
        "America/New_York"
    ]


def test_every_rule_is_documented() -> None:
    doc = (EXAMPLE.parents[1] / "docs" / "routing.md").read_text(encoding="utf-8")
    for rule in [*RULES, "routing-loop"]:
        assert f"`{rule}`" in doc, rule


def test_validate_fails_on_errors_and_prints_warnings_without_failing(tmp_path: Path) -> None:
    runner = CliRunner(env={"NO_COLOR": "1"})
    warned = write(tmp_path, CLEAN.replace("    ScheduleId: office\n", ""), "warned.yaml")
    result = runner.invoke(main, ["validate", str(warned)])
    assert result.exit_code == 0, result.output
    assert "warning [off-hours-without-schedule]" in result.stderr
    broken = write(tmp_path, CLEAN.replace('"+14155550100"', '"+15551234567"'), "broken.yaml")
    result = runner.invoke(main, ["validate", str(broken)])
    assert result.exit_code == 1
    assert "error [invalid-phone]" in result.stderr


def test_schedule_id_is_an_address_when_written_and_an_id_when_interpolated(tmp_path: Path) -> None:
    text = CLEAN.replace("    ScheduleId: office\n", "    ScheduleId: ofice\n")
    assert problems(tmp_path, text) == ["12:17: unknown schedule address 'ofice' (did you mean 'office'?)"]
    path = write(tmp_path, CLEAN.replace("    ScheduleId: office\n", "    ScheduleId: ${env.SCHEDULE}\n"))
    from telegent_iac.config import load

    desired = load([path], {"SCHEDULE": "sid-made-by-hand"})
    assert desired.workgroups["menu"].fields["ScheduleId"] == "sid-made-by-hand"
    assert load([path], {"SCHEDULE": "office"}).workgroups["menu"].fields["ScheduleId"] == "office"


def test_the_fast_number_check_agrees_with_phonenumbers() -> None:
    """numbers.is_valid takes a shorter way for valid numbers; it must give the library's
    answer. A seeded sample over every country code (the seed is fixed: a failure replays)."""
    import random

    import phonenumbers

    from telegent_iac.routing.numbers import is_valid

    rng = random.Random(20261201)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    valid = 0
    for _ in range(5000):
        number = f"+{rng.choice(codes)}" + "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 12)))
        try:
            expected = phonenumbers.is_valid_number(phonenumbers.parse(number, None))
        except phonenumbers.NumberParseException:
            expected = False
        valid += expected
        assert is_valid(number) == expected, number
    assert valid > 100  # the sample holds valid numbers too, not only rejects
    assert all(is_valid(n) for n in ("+14155550100", "+442071838750", "+4915123456789", "+390612345678"))


def test_the_number_check_falls_back_to_the_library_without_its_private_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shortcut uses a private phonenumbers helper; where a release lacks it (the shortcut
    answers None), the library's own check decides."""
    from telegent_iac.routing import numbers

    monkeypatch.setattr(numbers, "_valid_in", lambda national, metadata: None)
    numbers.is_valid.cache_clear()
    try:
        assert numbers.is_valid("+14155550100")
        assert numbers.is_valid("+442071838750")
        assert not numbers.is_valid("+1415555")
    finally:
        numbers.is_valid.cache_clear()
