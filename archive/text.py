"""Text from outside (page titles, sidecars, options) made safe to store, print and show.

Sources may send C0/C1 control characters: terminal escape sequences in a page title
(`ESC]0;…BEL` retitles a terminal, `ESC[2J` clears it), NUL bytes, carriage returns that hide
what comes before them. `clean_text` removes whole escape sequences (so that no `[2J` is left
behind as text) and every other control character.
"""

from __future__ import annotations

import re

# Escape sequences (ECMA-48), in their 7-bit (ESC …) and 8-bit (C1) forms:
_SEQUENCES = re.compile(
    # strings (OSC, DCS, SOS, PM, APC) up to their terminator (BEL or ST), or to the end
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    # control sequences (CSI): parameters, intermediates, a final byte
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    # any other escape: intermediates and a final byte
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")


def clean_text(text: str, *, one_line: bool = True) -> str:
    """`text` without escape sequences and C0/C1 control characters.

    Newline and tab are kept when `one_line` is False. A one-line field (a title, a name, a URL)
    has every run of white space, line breaks included, collapsed to one space, and is stripped.
    """
    text = _CONTROLS.sub("", _SEQUENCES.sub("", text))
    if one_line:
        return _SPACES.sub(" ", text).strip()
    return text
