"""Config loading: YAML files -> validated Desired model, every problem with file:line:column.

Public API (the CLI and the planner call exactly these):
  load(paths, env, var_files=()) -> Desired     raises problems.UserError listing every problem
  json_schema() -> dict                         the editor JSON Schema (draft 2020-12)
See docs/config.md for the format.
"""

from __future__ import annotations

from telegent_iac.config.loader import VAR_FILE_SUFFIXES, YAML_SUFFIXES, load
from telegent_iac.config.schema import json_schema
from telegent_iac.config.yamlfile import MAX_ALIAS_NODES, MAX_FILE_BYTES

__all__ = ["MAX_ALIAS_NODES", "MAX_FILE_BYTES", "VAR_FILE_SUFFIXES", "YAML_SUFFIXES", "json_schema", "load"]
