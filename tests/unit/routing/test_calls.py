"""The routing model of docs/routing.md, rule by rule (the numbers are the table's)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from telegent_iac.model.workgroups import Desired
from telegent_iac.routing import schedule as hours
from telegent_iac.routing.calls import Outcome, route
from tests.support.config import load_text

NY = hours.zone("America/New_York")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=NY)  # a Monday
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=NY)
MONDAY_17 = datetime(2026, 3, 2, 17, 0, tzinfo=NY)
MONDAY_22 = datetime(2026, 3, 2, 22, 0, tzinfo=NY)
SUNDAY_10 = datetime(2026, 3, 1, 10, 0, tzinfo=NY)

FLOW = """\
schedules:
  office:
    Name: Office
    MondayStartTime: "9:00 AM"
    MondayEndTime: "5:00 PM"
    SundayStartTime: ""
    SundayEndTime: ""
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
      - {Type: Workgroup, ReferenceWorkgroupId: queue, DigitOrder: 2}
      - {Type: User, ReferenceUserId: USER-op, DigitOrder: 0}
      - {Type: Workgroup, ReferenceWorkgroupId: submenu, DigitOrder: 9}
  submenu:
    Name: Submenu
    Type: IVR
    members:
      - {Type: User, PhoneNumber: "+14155550177", DigitOrder: 1}
  sales:
    Name: Sales
    Type: simultaneous
    members:
      - {Type: User, ReferenceUserId: USER-a}
      - {Type: User, PhoneNumber: "+14155550123"}
      - {Type: Workgroup, ReferenceWorkgroupId: queue}
  queue:
    Name: Queue
    Type: round-robin
    members:
      - {Type: User, ReferenceUserId: USER-3, DigitOrder: 3}
      - {Type: User, ReferenceUserId: USER-1, DigitOrder: 1}
      - {Type: User, ReferenceUserId: USER-2, DigitOrder: 2}
  night:
    Name: Night
    Type: simultaneous
    TelegentPhone: "+14155550101"
    OnHoursType: User
    OnHoursId: USER-oncall
  utc:
    Name: UTC desk
    Type: simultaneous
    TelegentPhone: "+14155550102"
    ScheduleId: office
    members:
      - {Type: User, ReferenceUserId: USER-utc}
  elsewhere:
    Name: Elsewhere
    Type: simultaneous
    TelegentPhone: "+14155550103"
    ScheduleId: SID-made-by-hand
    members:
      - {Type: User, ReferenceUserId: USER-x}
  closed-nowhere:
    Name: Closed, no route
    Type: simultaneous
    TelegentPhone: "+14155550104"
    TimeZone: America/New_York
    ScheduleId: office
    members:
      - {Type: User, ReferenceUserId: USER-y}
"""


@pytest.fixture(scope="module")
def desired(tmp_path_factory: pytest.TempPathFactory) -> Desired:
    return load_text(tmp_path_factory.mktemp("flow"), FLOW)


def call(desired: Desired, number: str, at: datetime, digits: str = "") -> Outcome:
    return route(desired, number, at, digits)


def test_rule_1_a_number_reaches_its_workgroup_and_an_unknown_number_nobody(desired: Desired) -> None:
    assert call(desired, "+14155550100", MONDAY_10, "1").reached == "sales"
    out = call(desired, "+14155550999", MONDAY_10)
    assert out.nobody and out.reached is None
    assert out.path[-1] == "no workgroup has this number: nobody"


def test_rules_2_and_4_hours_are_read_in_the_workgroup_zone_start_inside_end_outside(desired: Desired) -> None:
    assert call(desired, "+14155550100", MONDAY_9, "1").reached == "sales"  # 9:00 AM: open
    assert call(desired, "+14155550100", MONDAY_17, "1").reached == "night"  # 5:00 PM: closed
    # the same instant written in UTC is the same call
    assert call(desired, "+14155550100", MONDAY_10.astimezone(hours.zone("UTC")), "1").reached == "sales"
    assert "Mon 10:00 America/New_York: on hours (office)" in call(desired, "+14155550100", MONDAY_10, "1").path


def test_rule_3_a_day_without_times_is_closed(desired: Desired) -> None:
    assert call(desired, "+14155550100", SUNDAY_10, "1").reached == "night"
    tuesday = datetime(2026, 3, 3, 10, 0, tzinfo=NY)  # not declared at all
    assert call(desired, "+14155550100", tuesday, "1").reached == "night"


def test_rule_5_no_schedule_is_always_on_hours(desired: Desired) -> None:
    out = call(desired, "+14155550101", MONDAY_22)  # night has no schedule: on hours at 22:00
    assert out.rings == ["USER-oncall"]


def test_rule_6_no_time_zone_reads_the_schedule_in_utc(desired: Desired) -> None:
    # 10:00 in New York is 15:00 UTC: open; 13:00 in New York is 18:00 UTC: closed
    assert call(desired, "+14155550102", MONDAY_10).rings == ["USER-utc"]
    assert call(desired, "+14155550102", datetime(2026, 3, 2, 13, 0, tzinfo=NY)).nobody


def test_rule_7_an_undeclared_schedule_is_unknown_not_open(desired: Desired) -> None:
    out = call(desired, "+14155550103", MONDAY_10)
    assert out.unknown.startswith("elsewhere uses schedule SID-made-by-hand, which is not declared")
    assert not out.nobody and out.rings == []


def test_rule_8_off_hours_follows_the_route_or_rings_nobody(desired: Desired) -> None:
    out = call(desired, "+14155550100", MONDAY_22, "1")
    assert out.reached == "night" and out.rings == ["USER-oncall"]
    assert "off hours: to workgroup night" in out.path
    closed = call(desired, "+14155550104", MONDAY_22)
    assert closed.nobody and closed.path[-1] == "off hours, and no off-hours route: nobody"


def test_rule_9_an_on_hours_route_takes_the_call(desired: Desired) -> None:
    out = call(desired, "+14155550101", MONDAY_10)
    assert out.reached == "night" and out.rings == ["USER-oncall"]
    assert "on hours: to user USER-oncall" in out.path


def test_rule_10_a_menu_takes_one_digit(desired: Desired) -> None:
    assert call(desired, "+14155550100", MONDAY_10, "2").reached == "queue"
    assert call(desired, "+14155550100", MONDAY_10).path[-1] == "menu: no digit pressed: nobody"
    wrong = call(desired, "+14155550100", MONDAY_10, "7")
    assert wrong.nobody and wrong.path[-1] == "press 7: no such option: nobody"


def test_rule_11_user_options_ring_the_user_and_workgroup_options_pass_the_call(desired: Desired) -> None:
    operator = call(desired, "+14155550100", MONDAY_10, "0")
    assert operator.reached == "menu" and operator.rings == ["USER-op"]


def test_rule_12_simultaneous_rings_everyone(desired: Desired) -> None:
    out = call(desired, "+14155550100", MONDAY_10, "1")
    assert set(out.rings) == {"USER-a", "+14155550123", "USER-1", "USER-2", "USER-3"}


def test_rule_13_round_robin_rings_in_digit_order(desired: Desired) -> None:
    out = call(desired, "+14155550100", MONDAY_10, "2")
    assert out.rings == ["USER-1", "USER-2", "USER-3"]
    assert out.path[-1] == "ring one at a time: USER-1, USER-2, USER-3"


def test_rule_14_a_nested_group_rings_its_members(desired: Desired) -> None:
    out = call(desired, "+14155550100", MONDAY_10, "1")
    assert out.reached == "sales"
    assert any(step.startswith("ring group queue: queue (round-robin)") for step in out.path)


def test_rule_15_digits_are_used_one_per_menu(desired: Desired) -> None:
    out = call(desired, "+14155550100", MONDAY_10, "91")
    assert out.reached == "submenu" and out.rings == ["+14155550177"]


def test_daylight_saving_comes_from_tzdata(tmp_path: Path) -> None:
    # 2026-03-08 02:00 New York clocks go forward: 13:30 UTC is 9:30 EDT on Monday the 9th,
    # but would be 8:30 with the winter offset (closed).
    desired = load_text(tmp_path, FLOW)
    at = datetime.fromisoformat("2026-03-09T13:30:00+00:00")
    assert call(desired, "+14155550100", at, "1").reached == "sales"
