"""Loading a run's configuration: the validated Desired model, with routing warnings reported
(they never block). Kept apart from run.py so the offline commands (validate, graph, test)
load neither the planner nor the state."""

from __future__ import annotations

from telegent_iac import config
from telegent_iac.model.workgroups import Desired
from telegent_iac.ops.settings import Settings

# Beyond this many routing warnings, plan and apply print a count (validate prints them all).
WARNINGS_SHOWN = 10


def load_desired(settings: Settings, all_warnings: bool = False) -> Desired:
    """The validated config; routing lint warnings go to the progress stream (they never block)."""
    desired = config.load(settings.config_paths, settings.env, settings.var_files,
                          settings.allow_secret_vars)
    shown = desired.warnings if all_warnings else desired.warnings[:WARNINGS_SHOWN]
    for warning in shown:
        settings.progress(str(warning))
    if len(shown) < len(desired.warnings):
        settings.progress(f"... and {len(desired.warnings) - len(shown)} more routing warnings; "
                          "`telegent-iac validate` lists them all")
    return desired
