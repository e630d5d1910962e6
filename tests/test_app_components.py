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
