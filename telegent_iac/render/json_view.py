"""The machine-readable plan (`plan --json`, `show FILE --json`); format in docs/json-format.md.

`format_version` follows Terraform's rule: a minor bump only adds keys, a major bump breaks.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from telegent_iac.plan.changes import Plan


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": plan.format_version,
        "has_changes": plan.has_changes,
        "has_destroys": plan.has_destroys,
        "applyable": plan.ok,
        "summary": {
            "add": plan.to_add,
            "change": plan.to_change,
            "destroy": plan.to_destroy,
            "import": plan.to_import,
        },
        "state": {"lineage": plan.lineage, "serial": plan.serial},
        "input_hash": plan.input_hash,
        "refresh": plan.refresh,
        "verified": list(plan.verified),
        "not_verified": list(plan.not_verified),
        "resource_changes": [
            {
                "address": c.address,
                "workgroup_id": c.workgroup_id,
                "actions": list(c.actions),
                "reason": c.reason,
                "before": c.before,
                "after": c.after,
                "changed_fields": list(c.changed),
                "import_id": c.import_id,
                "members": [
                    {
                        "key": m.key,
                        "member_id": m.member_id,
                        "actions": list(m.actions),
                        "reason": m.reason,
                        "before": m.before,
                        "after": m.after,
                    }
                    for m in c.members
                ],
            }
            for c in plan.changes
        ],
        "schedule_changes": [
            {
                "address": s.address,
                "schedule_id": s.schedule_id,
                "actions": list(s.actions),
                "reason": s.reason,
                "before": s.before,
                "after": s.after,
                "changed_fields": list(s.changed),
                "import_id": s.import_id,
            }
            for s in plan.schedules
        ],
        "drift": [asdict(d) for d in plan.drift],
        "kept": list(plan.kept),
        "moves": list(plan.moves),
        "prevent_destroy": dict(sorted(plan.protect.items())),
        "resolved_pending": list(plan.resolved),
        "unchecked": list(plan.unchecked),
        "conflicts": [asdict(c) for c in plan.conflicts],
        "errors": list(plan.errors),
        "warnings": list(plan.warnings),
        "targets": list(plan.targets),
    }


def render_json(plan: Plan) -> str:
    return json.dumps(plan_json(plan), indent=2, ensure_ascii=False) + "\n"
