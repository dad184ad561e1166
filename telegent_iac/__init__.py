"""telegent-iac: Telegent call-routing workgroups as code."""

import sys

__version__ = "0.1.0"

# The state lock relies on POSIX file locks (fcntl) and rename semantics. Say so at start
# instead of failing later with an import error (README "Platforms").
if sys.platform == "win32":
    raise SystemExit(
        "telegent-iac runs on POSIX systems (Linux, macOS; on Windows use WSL): "
        "its state lock needs POSIX file locks."
    )
