"""Apply progress as the user sees it: a line per event on stderr, or the `apply --json`
protocol (one JSON object per line, docs/json-format.md), and the closing summary."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from telegent_iac import __version__
from telegent_iac.apply.events import ApplyResult, Event, EventKind
from telegent_iac.plan.changes import Plan

UI_FORMAT = "1.0"


def event_line(event: Event) -> str:
    """One progress line, e.g. "[3/10] sales: create complete after 0.2s [id=...]"."""
    what = event.address + (f" member {event.member}" if event.member else "")
    progress = f"[{event.completed}/{event.total}] " if event.total else ""
    if event.kind == EventKind.START:
        return f"{progress}{what}: {event.step}..."
    if event.kind == EventKind.DONE:
        ident = f" [id={event.resource_id}]" if event.resource_id else ""
        return f"{progress}{what}: {event.step} complete after {event.seconds:.1f}s{ident}"
    if event.kind == EventKind.ERROR:
        return f"{progress}{what}: {event.step} FAILED: {event.message}"
    return f"{what}: {event.message}"


def summary(result: ApplyResult) -> str:
    return (f"Resources: {result.added} added, {result.changed} changed, {result.destroyed} destroyed"
            + (f", {result.imported} imported" if result.imported else "") + ".")


def closing_lines(result: ApplyResult) -> list[str]:
    """What an apply that did not complete says at the end (empty when it completed)."""
    if result.interrupted:
        return [f"Apply interrupted. {summary(result)} Every completed call is recorded in the state."]
    if result.errors:
        recorded = ("Completed calls are recorded in the state" if not result.unrecorded else
                    f"{result.unrecorded} call(s) that succeeded could not be recorded in the state (see above)")
        return [*(f"Error: {message}" for message in result.errors),
                f"Apply failed. {summary(result)} {recorded}; nothing new was started."]
    return []


class JsonStream:
    """`apply --json`: one JSON object per line, through `write` (thread-safe)."""

    def __init__(self, write: Callable[[dict[str, Any]], None]) -> None:
        self._lock = threading.Lock()
        self._out = write
        self.write({"type": "version", "telegent_iac": __version__, "ui_format": UI_FORMAT})

    def write(self, obj: dict[str, Any]) -> None:
        with self._lock:
            self._out(obj)

    def planned(self, the_plan: Plan) -> None:
        from telegent_iac.render.json_view import plan_json

        body = plan_json(the_plan)
        for change in body["resource_changes"]:
            if change["actions"] != ["no-op"] or any(m["actions"] != ["no-op"] for m in change["members"]):
                self.write({"type": "planned_change", "change": change})
        self.write({"type": "plan_summary", "summary": body["summary"], "has_changes": body["has_changes"]})

    def event(self, event: Event) -> None:
        kind = {EventKind.START: "apply_start", EventKind.DONE: "apply_complete",
                EventKind.ERROR: "apply_errored"}.get(event.kind, "note")
        obj: dict[str, Any] = {"type": kind, "address": event.address, "action": event.step}
        if event.member:
            obj["member"] = event.member
        if event.resource_id:
            obj["id"] = event.resource_id
        if event.kind == EventKind.DONE:
            obj["elapsed_seconds"] = round(event.seconds, 3)
        if event.message:
            obj["message"] = event.message
        self.write(obj)

    def summary(self, result: ApplyResult) -> None:
        self.write({
            "type": "change_summary",
            "added": result.added, "changed": result.changed, "destroyed": result.destroyed,
            "imported": result.imported, "errors": result.errors, "interrupted": result.interrupted,
        })
