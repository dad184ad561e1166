"""safety.terminal: control characters, ANSI escapes, bidi overrides and zero-width characters
are shown escaped; printable text, tabs and newlines stay as they are."""

from __future__ import annotations

import pytest

from telegent_iac.safety.terminal import escape_text


@pytest.mark.parametrize(("text", "shown"), [
    ("\x1b[31m", "\\x1b[31m"), ("a\u200bb", "a\\u200bb"), ("\u202eabc", "\\u202eabc"),
    ("\x00\x7f\x85", "\\x00\\x7f\\x85"),
    ("tab\tnew\nline", "tab\tnew\nline"), ("é ü 中文 emoji 🙂", "é ü 中文 emoji 🙂"), ("\U000e0041", "\\U000e0041"),
])
def test_the_escaping_function(text: str, shown: str) -> None:
    assert escape_text(text) == shown
    assert escape_text("x\ny", keep="") == "x\\x0ay"
