"""The Telegent sandbox: a local emulator of the workgroup API, built from Telegent's public
docs (it is not Telegent). See docs/sandbox.md.

    from telegent_iac.sandbox import SandboxOptions, SandboxServer
    with SandboxServer(SandboxOptions(rate_limit=0)) as server:
        ...  # server.url, server.control
"""

from telegent_iac.sandbox.control import SandboxControl
from telegent_iac.sandbox.options import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxOptions
from telegent_iac.sandbox.server import SandboxServer

__all__ = [
    "DEMO_ACCOUNT_KEY",
    "DEMO_ACCOUNT_SECRET",
    "SandboxControl",
    "SandboxOptions",
    "SandboxServer",
]
