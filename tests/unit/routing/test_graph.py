"""`telegent-iac graph` and the diagram in the pull-request comment."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from telegent_iac.cli import main
from telegent_iac.config import load
from telegent_iac.model.workgroups import Member, Workgroup
from telegent_iac.plan.changes import CREATE, NOOP, UPDATE, MemberChange, Plan, ResourceChange
from telegent_iac.render.markdown import call_flow, render_markdown
from telegent_iac.routing import diagram, flow
from tests.support import EXAMPLE

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(("fmt", "golden"), [("mermaid", "example.mmd"), ("dot", "example.dot")])
def test_the_example_graph_matches_the_golden_file(fmt: str, golden: str) -> None:
    # Regenerate after an intended change:
    #   telegent-iac graph examples/workgroups.yaml --format FMT > tests/unit/routing/golden/FILE
    result = CliRunner(env={"NO_COLOR": "1"}).invoke(main, ["graph", str(EXAMPLE), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / golden).read_text(encoding="utf-8")


def test_the_graph_shows_numbers_digits_routes_with_their_schedule_and_members() -> None:
    the_flow = flow.build(load([EXAMPLE], {}).workgroups)
    kinds = {(e.source, e.target, e.kind, e.label) for e in the_flow.edges}
    assert ("number:+14155550100", "workgroup:main-menu", flow.DIALS, "") in kinds
    assert ("workgroup:main-menu", "workgroup:sales", flow.DIGIT, "press 1") in kinds
    assert ("workgroup:sales", "user:USER-alice-001", flow.RINGS, "") in kinds
    assert ("workgroup:support", "user:USER-carol-003", flow.RINGS, "turn 1") in kinds
    off = [e for e in the_flow.edges if e.kind == flow.OFF_HOURS]
    assert [(e.source, e.target) for e in off] == [("workgroup:main-menu", "workgroup:after-hours")]
    assert off[0].label.startswith("off hours (")


def test_labels_cannot_break_the_diagram() -> None:
    hostile = 'A"]) --> x\n<script>`|#;'
    the_flow = flow.build({"a": Workgroup("a", {"Name": hostile, "Type": "IVR", "TelegentPhone": "+14155550100"})})
    text = diagram.mermaid(the_flow)
    assert '"]) -->' not in text and "<" not in text and "`" not in text and "\n x" not in text
    assert "A#34;#93;) --#62; x#10;#60;script#62;#96;#124;#35;#59; (IVR)" in text
    dot = diagram.dot(the_flow)
    assert 'label="a: A\\"]) --> x\\n<script>`|#; (IVR)"' in dot


def _change(address: str, actions: list[str], fields: dict[str, object], members: list[Member] = ()) -> ResourceChange:
    return ResourceChange(address=address, actions=actions, after=dict(fields),
                          members=[MemberChange(m.key, [CREATE if actions == [CREATE] else NOOP],
                                                after=dict(m.fields)) for m in members])


def test_the_comment_draws_changed_workgroups_and_neighbours_only() -> None:
    member = Member("workgroup:sales", {"Type": "Workgroup", "ReferenceWorkgroupId": "sales", "DigitOrder": 1})
    plan = Plan(changes=[
        _change("menu", [NOOP], {"Name": "Menu", "Type": "IVR", "TelegentPhone": "+14155550100"}, [member]),
        _change("sales", [UPDATE], {"Name": "Sales", "Type": "simultaneous"}),
        _change("far", [NOOP], {"Name": "Far away", "Type": "simultaneous", "TelegentPhone": "+14155550101"}),
        _change("new", [CREATE], {"Name": "New", "Type": "simultaneous", "TelegentPhone": "+14155550102"}),
    ])
    md = render_markdown(plan)
    block = md.split("```mermaid\n")[1].split("```")[0]
    assert "sales: Sales (simultaneous) (changed)" in block
    assert "new: New (simultaneous) (new)" in block
    assert "menu: Menu (IVR)\"]" in block  # the neighbour, unmarked
    assert "Far away" not in block
    assert "class " in block and " changed" in block


def test_a_big_plan_draws_part_of_the_flow_and_says_so() -> None:
    changes = [_change(f"wg-{i}", [CREATE], {"Name": f"G{i}", "Type": "simultaneous",
                                            "TelegentPhone": f"+1415555{i:04d}"}) for i in range(200)]
    text, left_out = call_flow(Plan(changes=changes), budget=100_000)
    assert 0 < left_out < 200
    assert text.count("(new)") == 200 - left_out
    md = render_markdown(Plan(changes=changes))
    assert f"{left_out} changed workgroups in the call-flow diagram not shown" in md
