"""Generated addresses are always valid and unique; a rename carries references along."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from telegent_iac.model.addresses import is_address, slugify, unique_address
from telegent_iac.state.edits import rename_address
from telegent_iac.state.records import MemberState, State, WorkgroupState


@given(st.text(max_size=200))
def test_slugify_always_gives_a_valid_address(name: str) -> None:
    assert is_address(slugify(name))


@given(st.lists(st.text(max_size=80), max_size=30))
def test_unique_addresses_stay_valid_and_distinct(names: list[str]) -> None:
    taken: set[str] = set()
    for name in names:
        address = unique_address(slugify(name), taken)
        assert is_address(address) and address not in taken
        taken.add(address)


def test_readable_slugs() -> None:
    assert slugify("Main Menu (EU)") == "main-menu-eu"
    assert slugify("Ventes & Après-vente!") == "ventes-apres-vente"
    assert slugify("!!!") == "workgroup"
    assert unique_address("sales", {"sales", "sales-2"}) == "sales-3"
    assert unique_address("x" * 63, {"x" * 63}) == "x" * 61 + "-2"


def test_rename_carries_references_and_derived_keys() -> None:
    state = State.new()
    state.workgroups["support"] = WorkgroupState(id="W1", fields={"Name": "Support", "Type": "simultaneous"})
    state.workgroups["menu"] = WorkgroupState(
        id="W2",
        fields={"Name": "Menu", "Type": "IVR", "OnHoursType": "Workgroup", "OnHoursId": "support"},
        members={
            "workgroup:support": MemberState("A1", {"Type": "Workgroup", "ReferenceWorkgroupId": "support"}),
            "overflow": MemberState("A2", {"Type": "Workgroup", "ReferenceWorkgroupId": "support"}),
            "user:U1": MemberState("A3", {"Type": "User", "ReferenceUserId": "U1"}),
        },
    )
    rename_address(state, "support", "helpdesk")
    menu = state.workgroups["menu"]
    assert set(state.workgroups) == {"helpdesk", "menu"}
    assert menu.fields["OnHoursId"] == "helpdesk"
    assert set(menu.members) == {"workgroup:helpdesk", "overflow", "user:U1"}  # explicit key kept
    assert menu.members["workgroup:helpdesk"].id == "A1"
    assert menu.members["overflow"].fields["ReferenceWorkgroupId"] == "helpdesk"
