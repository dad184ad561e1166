"""`telegent-iac ...` commands quoted in shell (CI recipes, hooks) and in the docs, found and
walked through the real click command tree, so a renamed flag or command fails the check."""

from __future__ import annotations

import re
import shlex

import click

from telegent_iac.cli import main

# `telegent-iac` where a shell command starts: line start, after an operator, or a keyword.
COMMAND_START = re.compile(r"(?:^|[;&|(!]|\$\(|\b(?:then|do|else|if|time|exec))\s*(telegent-iac\s.*)$")
SHELL_STOP = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "2>&1", "&", ")", "then", "do"}


def command_lines(text: str) -> list[list[str]]:
    """The argv of each telegent-iac command in a piece of shell (continuations joined)."""
    text = text.replace("\\\n", " ")
    text = re.sub(r"\$\{\{.*?\}\}", "EXPR", text)  # GitHub expressions may contain spaces
    out = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0]
        match = COMMAND_START.search(line)
        if not match:
            continue
        argv = []
        lexer = shlex.shlex(match.group(1), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        for token in lexer:
            if token in SHELL_STOP or set(token) <= set("();<>|&"):
                break
            argv.append(token)
        out.append(argv)
    return out


def check_argv(argv: list[str], complete: bool = True) -> str:
    """Walk argv through the click tree; returns the subcommand path, fails on anything unknown.
    `complete=False` is for a command named in prose (`telegent-iac plan --json`): its required
    arguments may be left out."""
    assert argv[0] == "telegent-iac"
    command: click.Command = main
    path: list[str] = []
    i = 1
    positional = 0
    while i < len(argv):
        token = argv[i]
        if isinstance(command, click.Group) and not token.startswith("-"):
            ctx = click.Context(command)
            sub = command.get_command(ctx, token)  # loads a lazily registered command
            assert sub is not None, f"{' '.join(argv)}: no subcommand {token!r} (have {command.list_commands(ctx)})"
            command, path = sub, [*path, token]
            i += 1
            continue
        if token.startswith("-") and token != "-":
            name = token.split("=", 1)[0]
            option = next((p for p in command.params if isinstance(p, click.Option)
                           and name in (*p.opts, *p.secondary_opts)), None)
            if option is None and name in ("-h", "--help"):
                i += 1
                continue
            assert option is not None, f"{' '.join(argv)}: {' '.join(path) or 'telegent-iac'} has no option {name}"
            takes_value = not option.is_flag and not option.count
            if takes_value and "=" not in token:
                assert i + 1 < len(argv), f"{' '.join(argv)}: {name} needs a value"
                value = argv[i + 1]
                if isinstance(option.type, click.Choice):
                    assert value in option.type.choices, f"{' '.join(argv)}: {name} {value!r} not in choices"
                i += 2
            else:
                i += 1
            continue
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        assert arguments, f"{' '.join(argv)}: {' '.join(path)} takes no argument {token!r}"
        positional += 1
        i += 1
    if not complete:
        return " ".join(path)
    assert not isinstance(command, click.Group), f"{' '.join(argv)}: no subcommand given"
    for p in command.params:
        if isinstance(p, click.Argument) and p.required:
            assert positional >= 1, f"{' '.join(argv)}: {' '.join(path)} needs {p.name.upper() if p.name else ''}"
    return " ".join(path)
