"""Terminal safety: the one function that makes untrusted text harmless on a terminal.

Config keys and values, file names, server messages and server IDs all reach human-facing
lines. A control character there could move the cursor, clear the screen or rewrite an
earlier line (ANSI escapes), and a bidi override or a zero-width character could make a line
read differently from what it says. Each is shown escaped instead: `\\x1b`, `\\u202e`,
`\\u200b`. JSON output is not passed through here (JSON escapes on its own), nor is the state.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL; soft hyphen; Arabic letter mark; Mongolian vowel separator;
# zero-width space/joiners and LRM/RLM; line and paragraph separators; the bidi embeddings,
# overrides and isolates; word joiner and invisible operators; BOM; interlinear annotations;
# the tag characters. (Unicode's format characters, Cf, less some rare script-specific ones.)
_UNSAFE = (
    "\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(keep: str) -> re.Pattern[str]:
    pattern = _PATTERNS.get(keep)
    if pattern is None:
        unsafe = re.compile(f"[{_UNSAFE}]")
        kept = "".join(re.escape(c) for c in keep)
        pattern = re.compile(f"(?![{kept}])[{_UNSAFE}]") if kept else unsafe
        _PATTERNS[keep] = pattern
    return pattern


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_text(text: str, keep: str = "\n\t") -> str:
    """`text` with every unsafe character escaped, except those in `keep` (by default the
    newlines and tabs that lay out a message; `keep=""` for a value that must stay on one line)."""
    if text.isascii() and text.isprintable():  # nearly every line: nothing to do, found in C
        return text
    return _pattern(keep).sub(_escaped, text)
