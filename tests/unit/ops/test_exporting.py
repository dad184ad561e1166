"""ops.exporting: the account read back into a configuration, pure (no server)."""

from __future__ import annotations

from telegent_iac.model.workgroups import LiveSummary
from telegent_iac.ops.exporting import build_export


def test_export_cycle_is_skipped_with_the_cycle_named() -> None:
    live = [LiveSummary("WID-a", "A", "simultaneous"), LiveSummary("WID-b", "B", "simultaneous")]
    details = {
        "WID-a": {"Name": "A", "Type": "simultaneous", "OffHoursType": "Workgroup", "OffHoursId": "WID-b"},
        "WID-b": {"Name": "B", "Type": "simultaneous", "Activities": [
            {"WorkgroupActivityId": "WAID-1", "Type": "Workgroup", "ReferenceWorkgroupId": "WID-a"}]},
    }
    result = build_export(live, details)
    assert result.workgroups == {}
    reasons = " ".join(s.reason for s in result.skipped)
    assert "reference cycle: a -> b -> a" in reasons
