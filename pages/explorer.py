"""Projection explorer: a review queue of projected sentences, why each is flagged, keyboard
correction, alignment links, two views side by side."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd
import streamlit as st

from app.components import annotator, legend_html, links_svg, matrix_html, spans_html
from app.state import project_picker, user_name
from app.text import plain
from core.data.tags import tags_to_spans
from core.data.types import Span
from core.runs import RunManager
from core.runs.store import runs_home
from core.workbench.corrections import REMOVE, describe_span
from core.workbench.explorer import (
    COMBINE,
    GOLD_FILTERS,
    ORDERS,
    TEACHER_EXPLANATION,
    TEACHER_SIGNAL,
    Row,
    TeacherScore,
    Thresholds,
    alignment_matrix,
    alignment_windows,
    all_labels,
    compare,
    flag_counts,
    flag_explanation,
    flag_names,
    focus_window,
    gold_filter,
    gold_scores,
    ordered,
    projection_of_links,
    reasons,
    score_range,
    sentence_rows,
)
from core.workbench.review import (
    KEYS,
    TEACHER_CACHE,
    Queue,
    Shown,
    Teacher,
    find_teacher,
    handle,
    model_fingerprint,
    progress,
    teacher_scores,
)
from core.workbench.workspace import Project

REVIEW_FILTERS = {
    "all": "all sentences",
    "unreviewed": "not reviewed yet",
    "reviewed": "reviewed",
    "skipped": "skipped",
}


# Derived views, cached by content (view files by modification time, a model by its files), so
# a rerun that changes none of it (navigation, a filter flip back) does not recompute them.
def _view_key(key: str) -> tuple[str, float]:
    path = project.path / "views" / project.view(key).file
    return str(path), path.stat().st_mtime


@st.cache_data(ttl=20, show_spinner=False)
def _teacher(project_path: str, lang: str, retrained: int) -> Teacher | None:
    if not (runs_home() / "runs.sqlite").is_file():  # no run yet: create no registry by looking
        return None
    runs = RunManager().list(statuses=["succeeded"], kind="train")
    return find_teacher(Project(project_path), runs)


@st.cache_data(max_entries=8, show_spinner="Scoring the sentences with the trained tagger…")
def _scores(model: str, model_key: str, view: tuple[str, float]) -> dict[str, TeacherScore]:
    scored = Project(Path(view[0]).parents[1])  # the project of the view file
    return teacher_scores(model, scored.sentences(), scored.path / TEACHER_CACHE)


@st.cache_data(max_entries=32, show_spinner=False)
def _rows(view_a, view_b, teacher_key, query, flags, combine, corrected, only, th,
          _a, _b, _teacher) -> list[Row]:  # fmt: skip
    return sentence_rows(_a, _b, query=query, flags=flags, combine=combine, corrected=set(corrected),
                         only_corrected=only, th=th, teacher=_teacher)  # fmt: skip


@st.cache_data(max_entries=16, show_spinner=False)
def _counts(view_a, view_b, teacher_key, th, _a, _b, _teacher) -> dict[str, int]:
    return flag_counts(_a, _b, th, _teacher)


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
a = project.projections(view_a)
b = project.projections(view_b) if view_b != "(none)" else None
query = side.text_input("Search (words or sentence id)", key="query")
retrain_path = project.path / "retrain.json"
teacher = _teacher(
    str(project.path),
    str(project.meta.get("target_lang") or ""),
    retrain_path.stat().st_mtime_ns if retrain_path.is_file() else 0,
)
scores: dict[str, TeacherScore] = {}
teacher_key = None
if teacher is not None:
    try:
        model_key = model_fingerprint(teacher.path)
        scores = _scores(teacher.path, model_key, _view_key(keys[0]))
        teacher_key = (model_key, _view_key(keys[0]))
    except Exception as exc:  # a model that cannot be read: the queue works without it
        side.warning(f"{TEACHER_SIGNAL} unavailable: {plain(exc)}")
    else:
        side.caption(f"**{TEACHER_SIGNAL}** from {plain(teacher.describe())}")
names = flag_names(teacher=bool(scores))
flags = side.multiselect(
    "Show only sentences flagged",
    names,
    key="flags",
    help="\n".join(f"- **{name}**: {flag_explanation(name)}" for name in names),
)
combine = side.radio(
    "Combine the chosen flags with",
    list(COMBINE),
    format_func=COMBINE.get,
    key="combine",
    horizontal=True,
)
review_filter = side.selectbox(
    "Review state", list(REVIEW_FILTERS), format_func=REVIEW_FILTERS.get, key="review_filter"
)
order = side.radio("Order", list(ORDERS), format_func=ORDERS.get, key="order", horizontal=True)
only_corrected = side.checkbox("Only corrected sentences", key="only_corrected")
gold = project.gold()
gold_per, gold_total = gold_scores(a, gold) if gold else ({}, None)
gold_only = (
    side.selectbox(
        "Against the gold labels", list(GOLD_FILTERS), format_func=GOLD_FILTERS.get, key="gold"
    )
    if gold
    else "all"
)
low, high = score_range(a)
with side.expander("Thresholds"):
    ratio = st.slider("Length ratio", 1.1, 4.0, 1.5, 0.1, key="th_ratio")
    top = max(1.0, round(high + 0.05, 2))
    min_score = st.slider(
        "Minimum score",
        0.0,
        top,
        min(0.5, top),
        0.01,
        key="th_score",
        help=f"Scores in this view range from {low:.2f} to {high:.2f} (coverage can exceed 1).",
    )
    max_uncertainty = (
        st.slider(
            f"Maximum {TEACHER_SIGNAL}",
            0.0,
            1.0,
            0.5,
            0.05,
            key="th_uncertainty",
            help="Flag a sentence when the trained tagger's highest token entropy (0 sure, 1 "
            "uniform) reaches this, or when it tags the sentence differently from the projection.",
        )
        if scores
        else 0.5
    )
th = Thresholds(ratio, min_score, max_uncertainty)

store = project.corrections
corrected = store.corrected_ids()
review_states = store.reviews()
rows = _rows(
    _view_key(view_a),
    _view_key(view_b) if b is not None else None,
    teacher_key,
    query,
    tuple(flags),
    combine,
    frozenset(corrected),
    only_corrected,
    th,
    _a=a,
    _b=b,
    _teacher=scores,
)
if review_filter != "all":
    rows = [r for r in rows if review_states.get(r.id, "unreviewed") == review_filter]
if gold_only != "all":
    rows = [r for r in rows if gold_filter(gold_per.get(r.id), gold_only)]
rows = ordered(rows, order)
queue = Queue([r.id for r in rows], flagged={r.id for r in rows if r.flags})
by_id = {p.pair.id: n for n, p in enumerate(a)}


def _shown(sid: str, version: int | None = None) -> Shown:
    p = a[by_id[sid]]
    return Shown(sid, p.pair.target.tokens, p.target_tags(), view_a, version)


def _act(sid: str, event: dict, version: int | None = None) -> None:
    """Apply one action (from a key in the annotator or a button) and remember what it said;
    an action that moves on or changes the queue asks for a rerun of the whole page."""
    outcome = handle(store, _shown(sid, version), event, user=user_name(), queue=queue)
    st.session_state["review_message"] = {"kind": outcome.kind, "text": outcome.message}
    st.session_state["review_offer"] = outcome.offer
    if outcome.goto:
        st.session_state["sentence"] = outcome.goto
        st.session_state["review_offer"] = None
    if outcome.goto or outcome.requeue:
        st.session_state["rerun_page"] = True


if "sentence" not in st.session_state and st.query_params.get("sentence") in by_id:
    st.session_state["sentence"] = st.query_params["sentence"]  # a shared link or a reload

st.caption(
    f"{plain(project.title)} · {len(a)} sentence pairs · "
    f"{plain(project.meta.get('source_lang', '?'))} → {plain(project.meta.get('target_lang', '?'))}"
    f" · **{progress([p.pair.id for p in a], review_states)}**"
)
counts = _counts(
    _view_key(view_a),
    _view_key(view_b) if b is not None else None,
    teacher_key,
    th,
    _a=a,
    _b=b,
    _teacher=scores,
)
cols = st.columns(len(counts) + 1)
cols[0].metric("Listed", f"{len(rows)} / {len(a)}")
for col, (name, count) in zip(cols[1:], counts.items()):
    col.metric(name, count, help=flag_explanation(name))
if gold_total is not None:
    g1, g2, g3, g4 = st.columns(4)
    g1.metric(f"Precision vs gold ({view_a})", f"{gold_total.precision:.3f}")
    g2.metric("Recall vs gold", f"{gold_total.recall:.3f}")
    g3.metric("F1 vs gold", f"{gold_total.f1:.3f}")
    g4.metric(
        "False positives / misses",
        f"{len(gold_total.false_positives)} / {len(gold_total.misses)}",
        help="Exact spans (start, end and label), micro-averaged over the project's "
        f"{len(gold_per)} sentences with gold labels.",
    )

if not rows:
    how = " AND ".join(flags) if combine == "all" else " OR ".join(flags)
    st.warning(
        "No sentence matches the search and filters"
        + (f" (flags combined: {how})" if len(flags) > 1 else "")
        + "."
    )
    st.stop()

table = pd.DataFrame(
    {
        "id": [r.id for r in rows],
        "flags": [", ".join(r.flags) for r in rows],
        "suspicion": [round(r.suspicion, 2) for r in rows],
        "review": [review_states.get(r.id, "unreviewed") for r in rows],
        **({TEACHER_SIGNAL: [r.uncertainty for r in rows]} if scores else {}),
        "target": [r.target for r in rows],
        "source": [r.source for r in rows],
        "entities": [r.entities for r in rows],
        "projected": [r.projected for r in rows],
        "corrected": [r.corrected for r in rows],
        **(
            {
                "F1 vs gold": [
                    round(gold_per[r.id].f1, 3) if r.id in gold_per else None for r in rows
                ]
            }
            if gold
            else {}
        ),
    }
)
st.dataframe(
    table,
    hide_index=True,
    height=min(38 + 35 * len(rows), 260),
    width="stretch",
    column_config={
        "flags": st.column_config.TextColumn(width="medium"),
        TEACHER_SIGNAL: st.column_config.NumberColumn(format="%.2f", help=TEACHER_EXPLANATION),
    },
)

ids = [r.id for r in rows]
# Fixed option texts: streamlit 1.67 sends a selectbox's choice back as its formatted text, so a
# text that changes (say, a mark once the sentence is corrected) would lose the selection.
labels_by_id = {r.id: f"#{r.id}  {r.source[:70]}" for r in rows}
if st.session_state.get("sentence") not in ids:
    st.session_state["sentence"] = ids[0]
sid = st.selectbox("Sentence", ids, format_func=labels_by_id.get, key="sentence")
st.query_params["sentence"] = sid
pa = a[by_id[sid]]
pb = b[by_id[sid]] if b is not None else None
pair = pa.pair
src_lang = plain(project.meta.get("source_lang", "source"))  # typed by a user: no Markdown
tgt_lang = plain(project.meta.get("target_lang", "target"))
labels = all_labels(a)
why = reasons(pa, pb, th, scores.get(sid) if scores else None)

# --------------------------------------------------------------------------- the review editor


@st.fragment
def review_editor(sid: str) -> None:
    """The sentence's editor. A key press, a click or a label edit reruns only this part of the
    page (the list, the counts and the drawings below stay as they are); an action that moves
    to another sentence or changes its review state reruns the whole page."""
    event = st.session_state.get("annotator")
    focus = False
    if isinstance(event, dict) and event.get("seq") != st.session_state.get("annotator_seq"):
        st.session_state["annotator_seq"] = event.get("seq")
        if event.get("sid") in by_id:
            _act(str(event["sid"]), event, event.get("version"))
            focus = True
    # When the whole page reruns next, its run shows the outcome: keep it until then.
    rerun_page = st.session_state.pop("rerun_page", False)
    take = st.session_state.get if rerun_page else st.session_state.pop

    version = store.version(sid)
    current = store.current(sid)
    tags = current if current is not None else pa.target_tags()
    st.session_state.setdefault("seen", {})[sid] = version
    decisions = store.decisions(sid)
    states = store.reviews()
    state = states.get(sid, "unreviewed")
    edited = f"corrected (version {version})" if current is not None else f"projected by {view_a}"

    st.subheader(f"Sentence {sid}")
    annotator(
        sid=sid,
        version=version,
        tokens=pair.target.tokens,
        tags=tags,
        labels=labels[:9],
        state=f"{state} · {edited}",
        progress=progress(ids, states) + " in this list",
        decisions=[(s.start, s.end, s.label, d) for s, d in decisions.items()],
        reasons=[
            {
                "flag": r.flag,
                "text": r.text,
                "start": r.target.start if r.target else None,
                "end": r.target.end if r.target else None,
            }
            for r in why
        ],
        message=st.session_state.get("review_message"),
        offer=take("review_offer", None),
        keys=KEYS,
        focus=focus,
    )
    feedback = st.empty()  # the last action's outcome, also for readers without the component
    message = take("review_message", None)  # shown once, here and above
    if message:
        getattr(feedback, message["kind"])(plain(message["text"]))

    st.html(legend_html(labels))
    st.markdown(f"**Source ({src_lang})**")
    st.html(spans_html(pair.source.tokens, pair.source.spans, element_id="source-spans"))
    st.markdown(f"**Target ({tgt_lang})** — {edited} — review: {state}")
    st.html(
        spans_html(
            pair.target.tokens,
            tags_to_spans(tags),
            selected=st.session_state.get(f"sel_{sid}") or [],
            element_id="target-spans",
        )
    )
    if gold and sid in gold:
        score = gold_per[sid]
        st.markdown(f"**Gold ({tgt_lang})** — projection by {view_a}: {score.describe()}")
        st.html(spans_html(pair.target.tokens, tags_to_spans(gold[sid]), element_id="gold-spans"))

        def _listed(spans: list) -> str:
            return ", ".join(describe_span(span, pair.target.tokens) for span in spans) or "none"

        st.html(
            '<ul id="gold-diff" style="margin:0">'
            f'<li data-kind="false-positives"><b>false positives</b>: {escape(_listed(score.false_positives))}</li>'
            f'<li data-kind="misses"><b>misses</b>: {escape(_listed(score.misses))}</li></ul>'
        )
    if why:
        st.html(
            '<ul id="flag-reasons" style="margin:0;color:#8a1c1c">'
            + "".join(
                f'<li data-flag="{escape(r.flag)}"><b>{escape(r.flag)}</b>: {escape(r.text)}</li>'
                for r in why
            )
            + "</ul>"
        )
    else:
        st.caption("No flag on this sentence.")

    c1, c2, c3, c4 = st.columns(4)
    c1.button(
        "Accept all remaining (Enter)",
        on_click=_act,
        args=(sid, {"action": "accept_rest"}),
        key="btn_accept_rest",
        type="primary",
    )
    c2.button("Skip (S)", on_click=_act, args=(sid, {"action": "skip"}), key="btn_skip")
    c3.button(
        "◀ Previous flagged (P)", on_click=_act, args=(sid, {"action": "prev"}), key="btn_prev"
    )
    c4.button("Next flagged (N) ▶", on_click=_act, args=(sid, {"action": "next"}), key="btn_next")

    with st.container(border=True):
        st.markdown("**Edit with the mouse** (or focus the sentence above and use the keys)")
        st.pills(
            "Target tokens (click to select a span)",
            list(range(len(pair.target.tokens))),
            selection_mode="multi",
            format_func=lambda j: f"{pair.target.tokens[j]} ·{j}",
            key=f"sel_{sid}",
        )
        # A radio group: the arrow keys move the choice itself, so the label a person sees
        # chosen is the one "Set label" saves.
        if st.session_state.get("label") not in labels:
            st.session_state["label"] = labels[0]
        label = st.radio("Label", labels, key="label", horizontal=True)
        m1, m2, m3, m4 = st.columns(4)
        m1.button(
            f"Set label ({label})",
            on_click=_apply,
            args=(sid, None),
            type="primary",
            key="btn_set",
        )
        m2.button("Remove label", on_click=_apply, args=(sid, REMOVE), key="btn_remove")
        m3.button("Undo", on_click=_act, args=(sid, {"action": "undo"}), key="btn_undo")
        m4.button("Redo", on_click=_act, args=(sid, {"action": "redo"}), key="btn_redo")

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
    if rerun_page:
        # Only now, with every element of the editor drawn again: a fragment run that stopped
        # before drawing them would remove them, and the annotator would load afresh.
        st.rerun(scope="app")


def _apply(sid: str, label: str | None) -> None:
    # Runs before the next rerun, with the sentence that was on screen when clicked; None: the
    # label chosen in the radio group at the moment of the click.
    label = label or st.session_state.get("label") or labels[0]
    selection = sorted(st.session_state.get(f"sel_{sid}") or [])
    if selection and selection != list(range(selection[0], selection[-1] + 1)):
        st.session_state["review_message"] = {
            "kind": "warning",
            "text": "Select adjacent tokens: an entity is one contiguous span.",
        }
        return
    event = {"action": "remove" if label == REMOVE else "label", "label": label}
    if selection:
        event.update(start=selection[0], end=selection[-1] + 1)
    _act(sid, event, st.session_state.get("seen", {}).get(sid))
    st.session_state[f"sel_{sid}"] = []


review_editor(sid)


def _draw(p, focus: Span | None, height: int = 150, prefix: str = "links") -> None:
    """The links of one view, in pieces when the sentence is long; the focus's piece first."""
    links = sorted(p.pair.alignment.links) if p.pair.alignment else []
    windows = alignment_windows(len(p.pair.source.tokens), len(p.pair.target.tokens), links)
    first = focus_window(windows, focus)
    for n in [first] + [k for k in range(len(windows)) if k != first]:
        src_range, tgt_range = windows[n] if len(windows) > 1 else (None, None)
        st.markdown(
            links_svg(
                p.pair.source.tokens,
                p.pair.target.tokens,
                links,
                p.pair.source.spans,
                [s.span for s in p.spans],
                projection_of_links(p),
                height=height,
                source_range=src_range,
                target_range=tgt_range,
                focus=focus,
                element_id=f"{prefix}-{n}",
            ),
            unsafe_allow_html=True,  # st.html strips SVG; app.components builds it, escaped
        )


entities = pair.source.spans
focus_index = st.selectbox(
    "Focus on a source entity (its links bold, the rest dimmed)",
    [None, *range(len(entities))],
    format_func=lambda k: "(none)" if k is None else describe_span(entities[k], pair.source.tokens),
    key=f"focus_{sid}",
)
focus = entities[focus_index] if focus_index is not None else None
pieces = len(
    alignment_windows(
        len(pair.source.tokens),
        len(pair.target.tokens),
        sorted(pair.alignment.links) if pair.alignment else [],
    )
)
st.markdown(
    f"**Alignment links — {view_a}** (hover a line or a token)"
    + (f" · a long sentence, drawn in {pieces} pieces" if pieces > 1 else "")
)
_draw(pa, focus)

if pb is not None:
    st.markdown(f"**Side by side: {view_a} vs {view_b}**")
    for key, p in ((view_a, pa), (view_b, pb)):
        st.caption(key)  # one above the other: each drawing gets the page's full width
        st.html(spans_html(p.pair.target.tokens, [s.span for s in p.spans], show_index=False))
        _draw(p, focus, height=120, prefix=f"side-{'a' if p is pa else 'b'}")
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
            pair.source.tokens,
            pair.target.tokens,
            alignment_matrix(pa),
            projection_of_links(pa),
            focus=focus,
        ),
        unsafe_allow_html=True,
    )
