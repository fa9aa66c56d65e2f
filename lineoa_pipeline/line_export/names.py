"""Chat names: from an export's file name, and the key tags and manifests are matched on."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from lineoa_pipeline.line_export.formats import NAME_BRACKETS

_INDEX = re.compile(r"^\d+_")
_RANGE = re.compile(r"^\d{8}_\d{8}_")
_REPEAT = re.compile(r" \(\d+\)$")
# White space and the brackets LINE strips from names in file names, after NFKC.
_STRIPPED = re.compile(r"[\s" + re.escape(NAME_BRACKETS) + "]+")


def chat_name_from_path(path: str) -> str:
    """The chat name an export's file name carries: `[NNNNN_][YYYYMMDD_YYYYMMDD_]<chat name>.csv`."""
    stem = PurePosixPath(path.replace("\\", "/")).name
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
