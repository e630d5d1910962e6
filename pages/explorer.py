"""Projection explorer: find suspicious sentences, inspect links, compare two views, correct labels."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.components import legend_html, links_svg, matrix_html, spans_html
from app.state import project_picker, user_name
from app.text import plain
from core.data.tags import tags_to_spans
from core.workbench.corrections import REMOVE, ConflictError
from core.workbench.explorer import (
    Thresholds,
    alignment_matrix,
    compare,
    flag_counts,
    flag_names,
    flag_title,
    projection_of_links,
    sentence_rows,
)

DEFAULT_LABELS = ["PER", "ORG", "LOC", "DATE", "MISC"]
SHORT_FLAG = {
    "unprojected": "Not projected",
    "length": "Length mismatch",
    "unaligned": "Unaligned words",
    "low_score": "Low score",
    "disagree": "Views disagree",
}

project = project_picker()
st.title("Projection explorer")
if project is None:
    st.info("No project yet: load data on the *Load data* page.")
    st.stop()

keys = project.view_keys
side = st.sidebar
view_a = side.selectbox("View", keys, key="view_a")
others = ["(none)"] + [k for k in keys if k != view_a]
view_b = side.selectbox("Compare with", others, index=1 if len(others) > 1 else 0, key="view_b")
query = side.text_input("Search (words or sentence id)", key="query")
flags = side.multiselect(
    "Show only sentences with", flag_names(), format_func=flag_title, key="flags"
)
only_corrected = side.checkbox("Only corrected sentences", key="only_corrected")
with side.expander("Thresholds"):
    ratio = st.slider("Length ratio", 1.1, 4.0, 1.5, 0.1, key="th_ratio")
    min_score = st.slider("Minimum score", 0.0, 1.0, 0.5, 0.05, key="th_score")
th = Thresholds(ratio, min_score)

a = project.projections(view_a)
b = project.projections(view_b) if view_b != "(none)" else None
store = project.corrections
corrected = store.corrected_ids()
rows = sentence_rows(
    a, b, query=query, flags=flags, corrected=corrected, only_corrected=only_corrected, th=th
)

st.caption(
    f"{project.title} · {len(a)} sentence pairs · "
    f"{project.meta.get('source_lang', '?')} → {project.meta.get('target_lang', '?')}"
)
counts = flag_counts(a, b, th)
cols = st.columns(len(counts) + 1)
cols[0].metric("Listed", f"{len(rows)} / {len(a)}")
for col, (name, count) in zip(cols[1:], counts.items()):
    col.metric(SHORT_FLAG[name], count, help=flag_title(name).capitalize(), delta=None)

if not rows:
    st.warning("No sentence matches the search and filters.")
    st.stop()

table = pd.DataFrame(
    {
        "id": [r.id for r in rows],
        "source": [r.source for r in rows],
        "target": [r.target for r in rows],
        "entities": [r.entities for r in rows],
        "projected": [r.projected for r in rows],
        "flags": [", ".join(r.flags) for r in rows],
        "corrected": [r.corrected for r in rows],
    }
)
st.dataframe(table, hide_index=True, height=min(38 + 35 * len(rows), 260), width="stretch")

ids = [r.id for r in rows]
labels_by_id = {r.id: f"#{r.id}  {r.source[:70]}" + ("  ✏️" if r.corrected else "") for r in rows}
if st.session_state.get("sentence") not in ids:
    st.session_state["sentence"] = ids[0]
sid = st.selectbox("Sentence", ids, format_func=labels_by_id.get, key="sentence")
index = next(r.index for r in rows if r.id == sid)
pa = a[index]
pair = pa.pair
src_lang = plain(project.meta.get("source_lang", "source"))  # typed by a user: no Markdown
tgt_lang = plain(project.meta.get("target_lang", "target"))

# --------------------------------------------------------------------------- correction actions


def _message(kind: str, text: str) -> None:
    st.session_state["correction_message"] = (kind, text)


def _apply(sid: str, projected: list[str], method: str, label: str) -> None:
    # Runs before the next rerun, with the sentence that was on screen when clicked.
    selection = sorted(st.session_state.get(f"sel_{sid}") or [])
    if not selection:
        _message("warning", "Select one or more adjacent target tokens first.")
        return
    if selection != list(range(selection[0], selection[-1] + 1)):
        _message("warning", "Select adjacent tokens: an entity is one contiguous span.")
        return
    try:
        edit = store.set_label(
            sid,
            selection[0],
            selection[-1] + 1,
            label,
            projected=projected,
            user=user_name(),
            method=method,
            expected_version=st.session_state.get("seen", {}).get(sid),
        )
    except ConflictError as exc:
        _message("error", str(exc))
        return
    except ValueError as exc:
        _message("error", f"Not saved: {exc}")
        return
    note = " (merged with a newer change made elsewhere)" if edit.merged else ""
    _message("success", f"Saved: {edit.describe()} — version {edit.version}{note}.")
    st.session_state[f"sel_{sid}"] = []


def _undo(sid: str) -> None:
    try:
        edit = store.undo(
            sid, user=user_name(), expected_version=st.session_state.get("seen", {}).get(sid)
        )
    except ConflictError as exc:
        _message("error", str(exc))
        return
    if edit is None:
        _message("info", "Nothing to undo for this sentence.")
    else:
        _message("success", f"Undone: edit #{edit.undoes} — version {edit.version}.")


# --------------------------------------------------------------------------- the sentence

version = store.version(sid)
current = store.current(sid)
tags = current if current is not None else pa.target_tags()
st.session_state.setdefault("seen", {})[sid] = version

st.subheader(f"Sentence {sid}")
seen_labels = {s.label for p in a for s in p.pair.source.spans}
all_labels = DEFAULT_LABELS + sorted(seen_labels - set(DEFAULT_LABELS))
st.html(legend_html(all_labels))
st.markdown(f"**Source ({src_lang})**")
st.html(spans_html(pair.source.tokens, pair.source.spans, element_id="source-spans"))
state = f"corrected (version {version})" if current is not None else f"projected by {view_a}"
st.markdown(f"**Target ({tgt_lang})** — {state}")
st.html(
    spans_html(
        pair.target.tokens,
        tags_to_spans(tags),
        selected=st.session_state.get(f"sel_{sid}") or [],
        element_id="target-spans",
    )
)

with st.container(border=True):
    st.markdown("**Correct the target labels**")
    st.pills(
        "Target tokens (click to select a span)",
        list(range(len(pair.target.tokens))),
        selection_mode="multi",
        format_func=lambda j: f"{pair.target.tokens[j]} ·{j}",
        key=f"sel_{sid}",
    )
    label = st.segmented_control("Label", all_labels, default=all_labels[0], key="label")
    c1, c2, c3 = st.columns(3)
    context = (sid, pa.target_tags(), view_a)
    c1.button(
        "Set label",
        on_click=_apply,
        args=(*context, label or all_labels[0]),
        type="primary",
        key="btn_set",
    )
    c2.button("Remove label", on_click=_apply, args=(*context, REMOVE), key="btn_remove")
    c3.button("Undo last change", on_click=_undo, args=(sid,), key="btn_undo")
    message = st.session_state.pop("correction_message", None)
    if message:
        getattr(st, message[0])(message[1])

st.markdown(f"**Alignment links — {view_a}** (hover a line or a token)")
st.markdown(
    links_svg(
        pair.source.tokens,
        pair.target.tokens,
        sorted(pair.alignment.links) if pair.alignment else [],
        pair.source.spans,
        [s.span for s in pa.spans],
        projection_of_links(pa),
    ),
    unsafe_allow_html=True,  # st.html strips SVG; this markup is built by app.components, escaped
)

if b is not None:
    pb = b[index]
    st.markdown(f"**Side by side: {view_a} vs {view_b}**")
    left, right = st.columns(2)
    for col, key, p in ((left, view_a, pa), (right, view_b, pb)):
        col.caption(key)
        col.html(spans_html(p.pair.target.tokens, [s.span for s in p.spans], show_index=False))
        col.markdown(
            links_svg(
                p.pair.source.tokens,
                p.pair.target.tokens,
                sorted(p.pair.alignment.links) if p.pair.alignment else [],
                p.pair.source.spans,
                [s.span for s in p.spans],
                projection_of_links(p),
                height=120,
            ),
            unsafe_allow_html=True,
        )
    diff = compare(pa, pb)
    st.dataframe(
        pd.DataFrame(
            {
                "source entity": [f"{c.source_text} [{c.source.label}]" for c in diff],
                view_a: [c.a_text or "—" for c in diff],
                f"score ({view_a})": [c.a_score for c in diff],
                view_b: [c.b_text or "—" for c in diff],
                f"score ({view_b})": [c.b_score for c in diff],
                "agree": [c.agree for c in diff],
            }
        ),
        hide_index=True,
        width="stretch",
    )

with st.expander("Alignment matrix"):
    st.markdown(
        matrix_html(
            pair.source.tokens, pair.target.tokens, alignment_matrix(pa), projection_of_links(pa)
        ),
        unsafe_allow_html=True,
    )

history = store.history(sid, limit=20)
if history:
    with st.expander(f"History of this sentence ({len(history)} edits)"):
        st.dataframe(
            pd.DataFrame(
                {
                    "version": [e.version for e in history],
                    "change": [e.describe() for e in history],
                    "who": [e.user for e in history],
                    "when (UTC)": [e.at for e in history],
                    "over projection": [e.method for e in history],
                    "undone": [e.undone for e in history],
                }
            ),
            hide_index=True,
            width="stretch",
        )
