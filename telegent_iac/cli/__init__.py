"""The command line: the only composition root. Flags become Settings (flags.py), commands call
the use cases in ops/ and print what they return (output.py); root.py is the group itself and
loads each command's module only when it runs."""

from telegent_iac.cli.root import main

__all__ = ["main"]
