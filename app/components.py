"""HTML/SVG renderings for the explorer (pure functions returning markup, tested without a browser):
displaCy-style entity spans, alignment links drawn between two token rows (hover a line or a
token for its link), and the alignment matrix."""

from __future__ import annotations

import unicodedata
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
CHAR_W = 8.4  # px per letter of the 14 px drawing font (an estimate: laid out without a browser)
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


def text_width(token: str) -> float:
    """Estimated width of a token in the drawing's 14 px sans-serif font: combining marks (the
    tone marks of Yoruba, say) sit on their letter and take no room of their own."""
    return sum(0 if unicodedata.combining(c) else CHAR_W for c in token)


def _layout(tokens: Sequence[str]) -> list[tuple[float, float]]:
    """(x, width) of each token box in a row."""
    x = 4.0
    out = []
    for token in tokens:
        width = max(text_width(token), CHAR_W) + PAD
        out.append((x, width))
        x += width + GAP
    return out


FONT = 'system-ui, "Noto Sans", "DejaVu Sans", sans-serif'  # keeps combining marks on letters


def links_svg(
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    links: Sequence[tuple[int, int]],
    source_spans: Sequence[Span] = (),
    target_spans: Sequence[Span] = (),
    entity_links: Mapping[tuple[int, int], str] | None = None,
    *,
    height: int = 150,
    source_range: tuple[int, int] | None = None,
    target_range: tuple[int, int] | None = None,
    focus: Span | None = None,
    element_id: str = "",
) -> str:
    """Two token rows with a line per alignment link; lines that carried an entity take its colour.

    Every line and token has a <title>, so hovering shows e.g. `Lisbon (6) ↔ Lisboa (6)`.
    `source_range`/`target_range` draw one window of a long sentence (indices stay the
    sentence's); links leaving the window are counted under it. With a `focus` source entity,
    its links are drawn bold and everything else is dimmed."""
    entity_links = entity_links or {}
    s0, s1 = source_range or (0, len(source_tokens))
    t0, t1 = target_range or (0, len(target_tokens))
    top = dict(zip(range(s0, s1), _layout(source_tokens[s0:s1])))
    bottom = dict(zip(range(t0, t1), _layout(target_tokens[t0:t1])))
    width = max([x + w for x, w in [*top.values(), *bottom.values()]] or [0]) + 8
    y_top, y_bottom, box_h = 6, height - 30, 24
    src_label, tgt_label = _label_at(source_spans), _label_at(target_spans)
    focused = set(focus.indices()) if focus else set()
    focus_targets = {j for i, j in links if i in focused}
    out = [
        f'<svg class="xner-links" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height}" style="font-family:{escape(FONT)};font-size:14px">',
        "<style>.xner-links line{stroke-width:1.6}.xner-links line:hover{stroke-width:5;"
        "stroke:#e8590c}.xner-links g.tok:hover rect{stroke:#e8590c;stroke-width:2}"
        ".xner-links .dim{opacity:0.25}</style>",
    ]
    outside = 0
    for i, j in sorted(links):
        if i not in top or j not in bottom:
            outside += (i in top) != (j in bottom)
            continue
        x1 = top[i][0] + top[i][1] / 2
        x2 = bottom[j][0] + bottom[j][1] / 2
        label = entity_links.get((i, j))
        stroke = color(label) if label else LINK_COLOR
        dash = "" if label else ' stroke-dasharray="3 2"'
        emphasis = ""
        if focus is not None:
            emphasis = ' stroke-width="4"' if i in focused else ' class="dim"'
        tip = f"{source_tokens[i]} ({i}) ↔ {target_tokens[j]} ({j})" + (
            f" — carried {label}" if label else ""
        )
        out.append(
            f'<line class="xner-link" data-link="{i}-{j}" x1="{x1:.1f}" y1="{y_top + box_h}" '
            f'x2="{x2:.1f}" y2="{y_bottom}" stroke="{stroke}"{dash}{emphasis}>'
            f"<title>{escape(tip)}</title></line>"
        )
    for row, tokens, boxes, y, labels, side in (
        (0, source_tokens, top, y_top, src_label, "source"),
        (1, target_tokens, bottom, y_bottom, tgt_label, "target"),
    ):
        for k, (x, w) in boxes.items():
            token = tokens[k]
            span = labels.get(k)
            fill = color(span.label) if span else "#f6f6f6"
            linked = [b if row == 0 else a for a, b in links if (a if row == 0 else b) == k]
            tip = f"{side} token {k}: {token}" + (f" [{span.label}]" if span else "")
            tip += f"; linked to {', '.join(map(str, sorted(linked)))}" if linked else "; unaligned"
            in_focus = (k in focused) if row == 0 else (k in focus_targets)
            dim = ' class="dim"' if focus is not None and not in_focus else ""
            out.append(
                f'<g class="tok" data-side="{side}" data-i="{k}"><title>{escape(tip)}</title>'
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{box_h}" rx="4" fill="{fill}" '
                f'stroke="{"#e8590c" if in_focus and focus is not None else "#555" if span else "#ccc"}"'
                f"{dim}/>"
                f'<text x="{x + w / 2:.1f}" y="{y + 17}" text-anchor="middle"{dim}>'
                f"{escape(token)}</text></g>"
            )
    out.append("</svg>")
    note = (
        f'<div style="font-size:0.8em;color:#666">source {s0}-{s1 - 1} · target {t0}-{t1 - 1}'
        + (f" · {outside} links to tokens outside this piece" if outside else "")
        + "</div>"
        if source_range or target_range
        else ""
    )
    attr = f' id="{escape(element_id)}"' if element_id else ""
    return f'<div{attr} style="overflow-x:auto;max-width:100%">{"".join(out)}{note}</div>'


def matrix_html(
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    grid: Sequence[Sequence[int]],
    entity_links: Mapping[tuple[int, int], str] | None = None,
    focus: Span | None = None,
    max_height: int = 520,
) -> str:
    """Source tokens as rows, target tokens as columns, a filled cell per link (hover: the pair).

    The header row and column stay in view while the matrix scrolls (sticky), so a long
    sentence's matrix reads at any scroll position; the focused entity's rows are marked."""
    entity_links = entity_links or {}
    focused = set(focus.indices()) if focus else set()
    sticky_top = "position:sticky;top:0;background:#fff;z-index:2;"
    sticky_left = "position:sticky;left:0;background:#fff;z-index:1;"
    head = "".join(
        f'<th title="{j}: {escape(t)}" style="{sticky_top}writing-mode:vertical-rl;'
        f'transform:rotate(180deg);font-weight:normal;padding:2px">{escape(t)}</th>'
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
                f'style="width:18px;min-width:18px;height:18px;background:{bg};'
                f'border:1px solid #eee"></td>'
            )
        weight = "bold" if i in focused else "normal"
        rows.append(
            f'<tr><th style="{sticky_left}text-align:right;font-weight:{weight};'
            f'padding-right:6px;white-space:nowrap">{escape(s)}</th>{"".join(cells)}</tr>'
        )
    corner = f'<th style="{sticky_top}{sticky_left}z-index:3"></th>'
    return (
        f'<div class="xner-matrix-box" style="overflow:auto;max-height:{max_height}px">'
        f'<table class="xner-matrix" style="border-collapse:separate;border-spacing:0;'
        f'font-family:{escape(FONT)};font-size:0.85em"><tr>{corner}{head}</tr>'
        f"{''.join(rows)}</table></div>"
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
