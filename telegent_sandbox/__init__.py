"""The Telegent sandbox: a local emulator of the workgroup API, built from Telegent's public
docs (it is not Telegent). See docs/sandbox.md.

    from telegent_sandbox import SandboxOptions, SandboxServer
    with SandboxServer(SandboxOptions(rate_limit=0)) as server:
        ...  # server.url, server.control
"""

from telegent_sandbox.control import SandboxControl
from telegent_sandbox.options import DEMO_ACCOUNT_KEY, DEMO_ACCOUNT_SECRET, SandboxOptions
from telegent_sandbox.server import SandboxServer

__all__ = [
    "DEMO_ACCOUNT_KEY",
    "DEMO_ACCOUNT_SECRET",
    "SandboxControl",
    "SandboxOptions",
    "SandboxServer",
]
