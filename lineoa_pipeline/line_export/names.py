"""Chat names: from an export's file name, and the key tags and manifests are matched on; file names as text."""

from __future__ import annotations

import os
import re
import unicodedata

from lineoa_pipeline.line_export.formats import NAME_BRACKETS

_INDEX = re.compile(r"^\d+_")
_RANGE = re.compile(r"^\d{8}_\d{8}_")
_REPEAT = re.compile(r" \(\d+\)$")
# White space and the brackets LINE strips from names in file names, after NFKC.
_STRIPPED = re.compile(r"[\s" + re.escape(NAME_BRACKETS) + "]+")


def chat_name_from_path(path: str) -> str:
    """The chat name an export's file name carries: `[NNNNN_][YYYYMMDD_YYYYMMDD_]<chat name>.csv`."""
    stem = path.replace("\\", "/").rpartition("/")[2]
    if stem.lower().endswith(".csv"):
        stem = stem[:-4]
    stem = _REPEAT.sub("", stem)
    # A bulk zip's index comes first; an 8-digit date is not an index when a date range starts the name.
    name = stem if _RANGE.match(stem) else _INDEX.sub("", stem, count=1)
    name = _RANGE.sub("", name, count=1)
    return name or stem


def name_key(name: str) -> str:
    """The form two spellings of one chat name share: NFKC, without white space and brackets."""
    return _STRIPPED.sub("", unicodedata.normalize("NFKC", name))


def recorded_path(relative: str) -> str:
    """A path below a folder of the data directory as it is recorded and shown. Python reads a name whose
    bytes are not UTF-8 (a zip unpacked by a tool that writes Japanese names in cp932) into a string that no
    file or database can hold: each such part is read as cp932 where it is that, else its bad bytes are kept
    as `%NN` (a backslash would read as a folder)."""
    try:
        relative.encode("utf-8")
        return relative
    except UnicodeEncodeError:
        pass
    return "/".join(_name_part(os.fsencode(part)) for part in relative.split("/"))


def decoded_name(raw: bytes) -> str | None:
    """`raw` as a file name in UTF-8, else in cp932 (Japanese Windows); None when it is neither."""
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _name_part(raw: bytes) -> str:
    if (decoded := decoded_name(raw)) is not None:
        return decoded
    text = raw.decode("utf-8", "surrogateescape")  # a byte that is not UTF-8 becomes U+DC80-U+DCFF
    return "".join(f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff" else c for c in text)
