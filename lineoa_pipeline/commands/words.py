"""The command line's own words in the operator's language: argparse's (usage, options, its one-line errors),
from our catalogs while the command line is built and parsed, and a command's one-line failure.

argparse looks each of them up with the `gettext` and `ngettext` it imported, in gettext's global domain, which
no package may take for itself: `speaking` points those two names at one `Language` for the length of a block
and puts them back after it. The words below are argparse's own (Python 3.11+), listed for the catalogs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from lineoa_pipeline.settings.language import N_, Language, Told

ARGPARSE_WORDS = (
    N_("usage: "),
    N_("options"),
    N_("positional arguments"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"),
)


@contextmanager
def speaking(lang: Language) -> Iterator[None]:
    """argparse's words in `lang` inside the block (its own English outside it)."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = lang.catalog.gettext, lang.catalog.ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def failed(problem: BaseException | str, lang: Language, status: int) -> int:
    """Say `problem` in one line on stderr, in `lang` when it is a catalog message (`Told`); return `status`."""
    text = problem.told(lang) if isinstance(problem, Told) else str(problem)
    print(f"lineoa: {text}", file=sys.stderr)
    return status
