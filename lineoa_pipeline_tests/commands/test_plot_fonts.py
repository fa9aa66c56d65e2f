"""The notebooks' plots draw Japanese, Chinese and Thai names: no glyph is missing from the fonts."""

from __future__ import annotations

import warnings

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lineoa_pipeline.commands.plot_fonts import use_name_fonts

LABELS = (
    "みどり歯科クリニック 予約する",  # Japanese: kana and kanji
    "晴天咖啡 台中 林小華 店長 阿德",  # traditional Chinese
    "ร้านกาแฟริมน้ำ นภา สุขใจ",  # Thai, with its vowel and tone marks
    "Bayside Yoga 2026-03",
)


def _missing_glyphs() -> list[str]:
    fig = Figure()
    canvas = FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.set_title(LABELS[0])
    ax.set_xticks(range(len(LABELS)), LABELS)
    ax.bar(range(len(LABELS)), [1, 2, 3, 4], label=LABELS[2])
    ax.legend()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        canvas.draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_names_in_every_script_draw_without_a_missing_glyph() -> None:
    with matplotlib.rc_context():
        assert _missing_glyphs(), "the default font should lack these glyphs (else this test proves nothing)"
    with matplotlib.rc_context():
        use_name_fonts()
        assert _missing_glyphs() == []
