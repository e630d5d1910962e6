"""HTML/SVG renderings for the explorer (pure functions returning markup, tested without a browser):
displaCy-style entity spans, alignment links drawn between two token rows (hover a line or a
token for its link), and the alignment matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from core.data.types import Span

COLORS = {
    "PER": "#aa9cfc",
    "ORG": "#7aecec",
    "LOC": "#feca74",
    "DATE": "#bfe1d9",
    "MISC": "#e4e7d2",
}
DEFAULT_COLOR = "#ddd"
LINK_COLOR = "#9aa0a6"
CHAR_W = 8.4  # px per character of 14 px monospace: token boxes are laid out without a browser
PAD = 14
GAP = 8


def color(label: str) -> str:
    return COLORS.get(label, DEFAULT_COLOR)


def _label_at(spans: Sequence[Span]) -> dict[int, Span]:
    return {i: s for s in spans for i in s.indices()}


def spans_html(
    tokens: Sequence[str],
    spans: Sequence[Span],
    *,
    selected: Sequence[int] = (),
    show_index: bool = True,
    element_id: str = "",
) -> str:
    """Tokens with entity spans highlighted like displaCy; token index as a subscript."""
    by_start = {s.start: s for s in spans}
    chosen = set(selected)
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        span = by_start.get(i)
        if span is None:
            parts.append(_token(i, tokens[i], chosen, show_index))
            i += 1
            continue
        inner = " ".join(_token(k, tokens[k], chosen, show_index) for k in span.indices())
        parts.append(
            f'<mark class="xner-ent" data-label="{escape(span.label)}" '
            f'title="{escape(span.label)}: tokens {span.start}-{span.end - 1}" '
            f'style="background:{color(span.label)};padding:0.2em 0.35em;margin:0 0.15em;'
            f'line-height:2.2;border-radius:0.35em">{inner}'
            f'<span style="font-size:0.7em;font-weight:bold;margin-left:0.4em;'
            f'text-transform:uppercase">{escape(span.label)}</span></mark>'
        )
        i = span.end
    attr = f' id="{escape(element_id)}"' if element_id else ""
    return f'<div class="xner-spans"{attr} style="line-height:2.4;font-size:1.05em">{" ".join(parts)}</div>'


def _token(i: int, token: str, chosen: set[int], show_index: bool) -> str:
    style = "outline:2px solid #e8590c;border-radius:3px;" if i in chosen else ""
    sub = f'<sub style="color:#888;font-size:0.65em">{i}</sub>' if show_index else ""
    return f'<span class="xner-tok" data-i="{i}" style="{style}">{escape(token)}{sub}</span>'


def _layout(tokens: Sequence[str]) -> list[tuple[float, float]]:
    """(x, width) of each token box in a row."""
    x = 4.0
    out = []
    for token in tokens:
        width = max(len(token), 1) * CHAR_W + PAD
        out.append((x, width))
        x += width + GAP
    return out


def links_svg(
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    links: Sequence[tuple[int, int]],
    source_spans: Sequence[Span] = (),
    target_spans: Sequence[Span] = (),
    entity_links: Mapping[tuple[int, int], str] | None = None,
    *,
    height: int = 150,
) -> str:
    """Two token rows with a line per alignment link; lines that carried an entity take its colour.

    Every line and token has a <title>, so hovering shows e.g. `Lisbon (6) ↔ Lisboa (6)`."""
    entity_links = entity_links or {}
    top, bottom = _layout(source_tokens), _layout(target_tokens)
    width = (
        max(
            (top[-1][0] + top[-1][1]) if top else 0,
            (bottom[-1][0] + bottom[-1][1]) if bottom else 0,
        )
        + 8
    )
    y_top, y_bottom, box_h = 6, height - 30, 24
    src_label, tgt_label = _label_at(source_spans), _label_at(target_spans)
    out = [
        f'<svg class="xner-links" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height}" style="font-family:monospace;font-size:14px">',
        "<style>.xner-links line{stroke-width:1.6}.xner-links line:hover{stroke-width:5;"
        "stroke:#e8590c}.xner-links g.tok:hover rect{stroke:#e8590c;stroke-width:2}</style>",
    ]
    for i, j in sorted(links):
        if i >= len(top) or j >= len(bottom):
            continue
        x1 = top[i][0] + top[i][1] / 2
        x2 = bottom[j][0] + bottom[j][1] / 2
        label = entity_links.get((i, j))
        stroke = color(label) if label else LINK_COLOR
        dash = "" if label else ' stroke-dasharray="3 2"'
        tip = f"{source_tokens[i]} ({i}) ↔ {target_tokens[j]} ({j})" + (
            f" — carried {label}" if label else ""
        )
        out.append(
            f'<line class="xner-link" data-link="{i}-{j}" x1="{x1:.1f}" y1="{y_top + box_h}" '
            f'x2="{x2:.1f}" y2="{y_bottom}" stroke="{stroke}"{dash}>'
            f"<title>{escape(tip)}</title></line>"
        )
    for row, tokens, boxes, y, labels, side in (
        (0, source_tokens, top, y_top, src_label, "source"),
        (1, target_tokens, bottom, y_bottom, tgt_label, "target"),
    ):
        for k, (token, (x, w)) in enumerate(zip(tokens, boxes)):
            span = labels.get(k)
            fill = color(span.label) if span else "#f6f6f6"
            linked = [b if row == 0 else a for a, b in links if (a if row == 0 else b) == k]
            tip = f"{side} token {k}: {token}" + (f" [{span.label}]" if span else "")
            tip += f"; linked to {', '.join(map(str, sorted(linked)))}" if linked else "; unaligned"
            out.append(
                f'<g class="tok" data-side="{side}" data-i="{k}"><title>{escape(tip)}</title>'
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{box_h}" rx="4" fill="{fill}" '
                f'stroke="{"#555" if span else "#ccc"}"/>'
                f'<text x="{x + w / 2:.1f}" y="{y + 17}" text-anchor="middle">{escape(token)}</text></g>'
            )
    out.append("</svg>")
    return f'<div style="overflow-x:auto">{"".join(out)}</div>'


def matrix_html(
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    grid: Sequence[Sequence[int]],
    entity_links: Mapping[tuple[int, int], str] | None = None,
) -> str:
    """Source tokens as rows, target tokens as columns, a filled cell per link (hover: the pair)."""
    entity_links = entity_links or {}
    head = "".join(
        f'<th title="{j}: {escape(t)}" style="writing-mode:vertical-rl;transform:rotate(180deg);'
        f'font-weight:normal;padding:2px">{escape(t)}</th>'
        for j, t in enumerate(target_tokens)
    )
    rows = []
    for i, s in enumerate(source_tokens):
        cells = []
        for j, t in enumerate(target_tokens):
            linked = bool(grid[i][j]) if i < len(grid) and j < len(grid[i]) else False
            label = entity_links.get((i, j))
            bg = color(label) if label else ("#555" if linked else "#fafafa")
            mark = "linked" if linked else "not linked"
            cells.append(
                f'<td class="{"xner-cell on" if linked else "xner-cell"}" '
                f'title="{escape(s)} ({i}) × {escape(t)} ({j}): {mark}" '
                f'style="width:18px;height:18px;background:{bg};border:1px solid #eee"></td>'
            )
        rows.append(
            f'<tr><th style="text-align:right;font-weight:normal;padding-right:6px">{escape(s)}</th>{"".join(cells)}</tr>'
        )
    return (
        '<div style="overflow-x:auto"><table class="xner-matrix" style="border-collapse:collapse;'
        f'font-size:0.85em"><tr><th></th>{head}</tr>{"".join(rows)}</table></div>'
    )


def legend_html(labels: Sequence[str]) -> str:
    items = "".join(
        f'<span style="background:{color(label)};padding:0.1em 0.5em;margin-right:0.4em;'
        f'border-radius:0.3em;font-size:0.85em">{escape(label)}</span>'
        for label in labels
    )
    return f'<div class="xner-legend">{items}</div>'


# ---------------------------------------------------------------------- the keyboard annotator

ANNOTATOR_DIR = Path(__file__).resolve().parent / "annotator"
_annotator = None


def keys_html(keys: Mapping[str, str]) -> str:
    """The key bindings as a line of <kbd> hints (escaped: shown inside the component)."""
    return " · ".join(f"<kbd>{escape(k)}</kbd> {escape(v)}" for k, v in keys.items())


def annotator(
    *,
    sid: str,
    version: int,
    tokens: Sequence[str],
    tags: Sequence[str],
    labels: Sequence[str],
    state: str,
    progress: str,
    decisions: Sequence[tuple[int, int, str, str]] = (),
    reasons: Sequence[Mapping] = (),
    message: Mapping | None = None,
    offer: Mapping | None = None,
    keys: Mapping[str, str] | None = None,
    focus: bool = False,
    key: str = "annotator",
) -> dict | None:
    """The target sentence as a keyboard-driven editor (app/annotator/index.html, plain JS).

    Returns the last action event the person triggered (see core.workbench.review), or None."""
    global _annotator
    if _annotator is None:
        import streamlit.components.v1 as components

        _annotator = components.declare_component("xner_annotator", path=str(ANNOTATOR_DIR))
    return _annotator(
        sid=sid,
        version=version,
        tokens=list(tokens),
        tags=list(tags),
        labels=list(labels),
        colors={label: color(label) for label in labels},
        state=state,
        progress=progress,
        decisions=[list(d) for d in decisions],
        reasons=list(reasons),
        message=dict(message) if message else None,
        offer=dict(offer) if offer else None,
        keys=keys_html(keys or {}),
        focus=focus,
        key=key,
        default=None,
    )
