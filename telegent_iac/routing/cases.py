"""Routing tests (`routing_tests:`): calls and what must happen to them, checked offline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from telegent_iac.model.workgroups import Desired, RoutingTest
from telegent_iac.routing.calls import Outcome, route


@dataclass
class CaseResult:
    test: RoutingTest
    outcome: Outcome
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        t = self.test
        return {
            "name": t.name,
            "position": str(t.position) if t.position else None,
            "passed": self.passed,
            "call": {"number": t.number, "at": t.at.isoformat(), "digits": t.digits},
            "reached": self.outcome.reached,
            "rings": list(self.outcome.rings),
            "unknown": self.outcome.unknown or None,
            "path": list(self.outcome.path),
            "failures": list(self.failures),
        }


def check(desired: Desired, test: RoutingTest) -> CaseResult:
    outcome = route(desired, test.number, test.at, test.digits)
    result = CaseResult(test, outcome)
    if outcome.unknown:
        result.failures.append(f"cannot be decided offline: {outcome.unknown}")
        return result
    if test.nobody and not outcome.nobody:
        result.failures.append(f"expected nobody to ring, but {', '.join(outcome.rings)} ring")
    if test.workgroup is not None and test.workgroup not in desired.workgroups:
        result.failures.append(f"expected workgroup {test.workgroup}, which is not declared")
    elif test.workgroup is not None and outcome.reached != test.workgroup:
        result.failures.append(f"expected workgroup {test.workgroup}, reached {outcome.reached or 'none'}")
    if test.rings is not None and sorted(set(test.rings)) != sorted(set(outcome.rings)):
        result.failures.append(
            f"expected {', '.join(test.rings) or 'nobody'} to ring, got {', '.join(outcome.rings) or 'nobody'}"
        )
    return result


def run(desired: Desired, tests: Sequence[RoutingTest] | None = None) -> list[CaseResult]:
    return [check(desired, t) for t in (desired.routing_tests if tests is None else tests)]
