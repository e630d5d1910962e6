"""The explorer's HTML/SVG renderings: content, hover titles, and escaping of untrusted tokens."""

from __future__ import annotations

import re

from app.components import color, links_svg, matrix_html, spans_html
from core.data.types import Span

SRC = ["Ana", "visited", "Lisbon"]
TGT = ["Ana", "visitou", "<script>alert(1)</script>"]


def test_spans_mark_entities_with_labels_and_indices():
    markup = spans_html(SRC, [Span(0, 1, "PER"), Span(2, 3, "LOC")], selected=[1])
    assert markup.count('class="xner-ent"') == 2
    assert 'data-label="LOC" title="LOC: tokens 2-2"' in markup
    assert f"background:{color('PER')}" in markup
    assert "outline:2px solid" in markup  # the selected token
    assert "<sub" in markup and "<sub" not in spans_html(SRC, [], show_index=False)


def test_links_draw_one_line_per_link_with_hover_titles():
    svg = links_svg(
        SRC,
        TGT,
        [(0, 0), (1, 1), (2, 2), (9, 9)],
        [Span(0, 1, "PER")],
        [Span(0, 1, "PER")],
        {(0, 0): "PER"},
    )
    assert svg.count("<line") == 3  # the out-of-range link is dropped
    assert "<title>Ana (0) ↔ Ana (0) — carried PER</title>" in svg
    assert "<title>visited (1) ↔ visitou (1)</title>" in svg
    assert "stroke-dasharray" in svg  # links that carried no entity are dashed
    assert "source token 0: Ana [PER]; linked to 0" in svg
    assert "target token 2" in svg and "unaligned" not in svg


def test_untrusted_tokens_are_escaped_everywhere():
    for markup in (
        spans_html(TGT, [Span(2, 3, "LOC")]),
        links_svg(SRC, TGT, [(2, 2)]),
        matrix_html(SRC, TGT, [[0, 0, 0], [0, 0, 0], [0, 0, 1]]),
    ):
        assert "<script>" not in markup and "&lt;script&gt;" in markup


def test_matrix_cells_and_titles():
    html = matrix_html(SRC, TGT[:2], [[1, 0], [0, 1], [0, 0]], {(0, 0): "PER"})
    assert len(re.findall(r'class="xner-cell on"', html)) == 2
    assert html.count("<td") == 6
    assert 'title="Lisbon (2) × visitou (1): not linked"' in html
    assert f"background:{color('PER')}" in html


def test_combining_marks_take_no_width_of_their_own():
    from app.components import CHAR_W, text_width

    assert text_width("ale") == 3 * CHAR_W
    assert text_width("alẹ́") == text_width("ale")  # e + dot below + acute: one letter wide
    import unicodedata

    assert text_width(unicodedata.normalize("NFD", "Àìkú")) == 4 * CHAR_W


def test_a_long_sentence_is_drawn_in_pieces_with_the_focus_bold():
    from app.components import links_svg
    from core.data.types import Span
    from core.workbench.explorer import alignment_windows, focus_window

    n = 60
    source = [f"w{i}" for i in range(n)]
    target = [f"t{i}" for i in range(n)]
    links = [(i, i) for i in range(n)]
    windows = alignment_windows(n, n, links, size=14)
    assert len(windows) == 5 and windows[0] == ((0, 14), (0, 14)) and windows[-1][0] == (56, 60)
    focus = Span(30, 32, "PER")
    assert focus_window(windows, focus) == 2
    svg = links_svg(
        source, target, links, [focus], source_range=(28, 42), target_range=(28, 42), focus=focus
    )
    assert 'data-link="30-30"' in svg and 'data-link="10-10"' not in svg
    assert 'data-link="30-30" x1' in svg and 'stroke-width="4"' in svg
    assert svg.count('class="dim"') > 10  # everything but the focus is dimmed
    assert "source 28-41 · target 28-41" in svg
    short = alignment_windows(5, 6, [(0, 0)])
    assert short == [((0, 5), (0, 6))]


def test_a_far_reordering_does_not_stretch_a_piece():
    from core.workbench.explorer import alignment_windows

    links = [(i, i) for i in range(40)] + [(0, 39)]
    first = alignment_windows(40, 40, links, size=10)[0]
    assert first == ((0, 10), (0, 10))


def test_the_matrix_keeps_its_headers_in_view():
    from app.components import matrix_html

    html = matrix_html(["a", "b"], ["x", "y"], [[1, 0], [0, 1]])
    assert "position:sticky;top:0" in html and "position:sticky;left:0" in html
    assert "max-height:520px" in html
