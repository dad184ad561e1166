"""`${env.NAME}` and `${var.NAME}` in string values; `$${` is a literal `${`."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from telegent_iac.config.yamlfile import INTERPOLATION, NAMESPACES, REFERENCE
from telegent_iac.safety.secrets import is_secret_name

# The tool's own credentials: never in a field, whatever flag is given.
OWN_CREDENTIALS = "TELEGENT_ACCOUNT_"

VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Interpolation:
    """Substitutes references in one run, remembering which ones it used (for the input hash)."""

    def __init__(self, env: Mapping[str, str], variables: Mapping[str, Any],
                 allow_secret_vars: Collection[str] = ()) -> None:
        self.env = env
        self.variables = variables
        self.allow_secret_vars = set(allow_secret_vars)
        self.used_env: dict[str, str] = {}
        self.used_vars: set[str] = set()

    def __call__(self, text: str) -> tuple[str, list[str]]:
        errors: list[str] = []

        def replace(match: re.Match[str]) -> str:
            token = match.group(0)
            if token == "$${":
                return "${"
            inner = match.group(1)
            if inner is None:
                errors.append(f"unterminated interpolation '${{' in '{text}' (write $${{ for a literal ${{)")
                return token
            ref = REFERENCE.match(inner.strip())
            if ref is None or inner != inner.strip():
                errors.append(f"invalid interpolation '{token}': write ${{env.NAME}} or ${{var.NAME}}")
                return token
            namespace, name = ref.groups()
            if namespace not in NAMESPACES:
                errors.append(
                    f"unknown interpolation namespace '{namespace}' in '{token}' (use ${{env.NAME}} or ${{var.NAME}})"
                )
                return token
            refused = self._refused(namespace, name, token)
            if refused:
                errors.append(refused)
                return token
            if namespace == "env":
                value = self.env.get(name)
                if value is None:
                    errors.append(f"environment variable '{name}' is not set (used as '{token}')")
                    return token
                self.used_env[name] = value
                return value
            if name not in self.variables:
                errors.append(f"variable '{name}' is not defined in any --var-file (used as '{token}')")
                return token
            self.used_vars.add(name)
            return scalar_text(self.variables[name])

        result = INTERPOLATION.sub(replace, text)
        return result, errors

    def _refused(self, namespace: str, name: str, token: str) -> str | None:
        """Why `token` may not be interpolated: a field's value goes to the API, the plan, the
        pull-request comment, the state and the audit log, so a credential must never be one."""
        if namespace == "env" and name.upper().startswith(OWN_CREDENTIALS):
            return f"'{token}' would put telegent-iac's own credential into a field (and the plan, state and logs)"
        if is_secret_name(name) and name not in self.allow_secret_vars:
            return (f"'{token}': the name '{name}' says it holds a secret, which would be shown in the plan "
                    f"and kept in the state; add --allow-secret-var {name} if it is not one")
        return None


def scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
