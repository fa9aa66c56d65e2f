"""Fonts for the notebooks' plots: chat and account names in Japanese, Chinese and Thai.

Matplotlib's default font has no CJK or Thai glyphs (a name draws as empty boxes). The analyst's
dependencies (the project's dev group) install Noto Sans CJK (one collection: Japanese, traditional and
simplified Chinese, Korean) and Noto Sans Thai from PyPI; `use_name_fonts` registers them and lists them
after the default font, which matplotlib falls back through glyph by glyph.
"""

from __future__ import annotations

import fontpkg_noto_sans_thai
import matplotlib as mpl
import noto_cjk_sans_otc
from matplotlib import font_manager

_FONTS = (
    (str(noto_cjk_sans_otc.FONT_PATH), "Noto Sans CJK JP"),  # a collection: matplotlib reads its first face
    (str(next(fontpkg_noto_sans_thai.ROOT.joinpath("files").glob("*.ttf"))), fontpkg_noto_sans_thai.FAMILY),
)


def use_name_fonts() -> list[str]:
    """Register the fonts and make matplotlib fall back to them; returns the font families in order."""
    for path, _ in _FONTS:
        font_manager.fontManager.addfont(path)
    families = ["DejaVu Sans", *(family for _, family in _FONTS)]
    mpl.rcParams["font.family"] = families
    return families
