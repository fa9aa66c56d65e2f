"""Text from the data, made safe to print on a terminal: an export's `ESC]0;…BEL`, `ESC[2J` or OSC 8 link
must never retitle, clear or rewrite the operator's terminal, nor a bidirectional override reorder a line."""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates.
CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every control character shown escaped (`\\x1b`, `\\u202e`) instead of acted upon."""
    return CONTROLS.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable_lines(text: str) -> str:
    """`printable` line by line: the line breaks of a text we laid out stay line breaks."""
    return "\n".join(printable(line) for line in text.split("\n"))
