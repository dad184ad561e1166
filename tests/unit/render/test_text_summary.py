"""The text plan's per-action summary counts what the total line counts, schedules included."""

from __future__ import annotations

import re

from telegent_iac.plan.planner import make_plan
from telegent_iac.render.text import render_text
from telegent_iac.state.records import State
from tests.support.models import desired, workgroup


def test_the_summary_by_action_counts_schedules_like_the_total_line() -> None:
    config = desired(workgroup("menu", ScheduleId="office"), workgroup("sales"), schedules=("office",))
    plan = make_plan(config, State.new(), [])
    text = render_text(plan)
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in text
    row = re.search(r"^\s+\+ create\s+(\d+)\s+(.*)$", text, re.MULTILINE)
    assert row is not None, text
    assert int(row.group(1)) == plan.to_add == 3
    assert "schedule.office" in row.group(2)
