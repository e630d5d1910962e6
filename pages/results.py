"""Results: distillation vs direct vs model transfer, per language and entity type."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app.state import project_picker
from app.text import plain
from core.errors import InputError, XnerError
from core.fileerrors import describe_error
from core.workbench.paths import readable_path
from core.workbench.results import (
    delta_text,
    entity_types,
    load_rows,
    registry_rows,
    result_files,
    setup_differences,
    setup_families,
    setup_title,
    summarise,
    view_rows,
)

project_picker()
st.title("Results")
st.caption(
    "Finished runs (one row per evaluated training job) from `bench/results/*rows*.jsonl`, "
    "the data folder's results/ and the run registry. Runs are compared only within one "
    "setup (same data and content hashes, split, projection, tagger settings, epochs; mode "
    "and seed may differ); mean ± standard deviation over seeds where there are two or more."
)

REGISTRY = "(runs in the run registry)"
files = result_files()
names = {REGISTRY: REGISTRY} | {str(f): f.name for f in files}
extra = st.sidebar.text_input("Another results file (JSONL)", key="results_extra")
if extra.strip():
    try:  # only files in the data home and the configured data folders
        names[str(readable_path(extra))] = extra.strip()
    except XnerError as exc:
        st.sidebar.error(plain(exc))
try:
    registry = registry_rows()
except (XnerError, OSError) as exc:
    st.error(f"The run registry cannot be read: {plain(describe_error(exc))}")
    registry = []
default = [REGISTRY] if registry else list(names)[1:2]
chosen = st.sidebar.multiselect(
    "Result sources", list(names), default=default, format_func=names.get, key="results_files"
)
try:
    rows = load_rows([c for c in chosen if c != REGISTRY])
    if REGISTRY in chosen:
        rows += registry
except (InputError, OSError) as exc:
    st.error(f"Could not read the results: {plain(describe_error(exc))}")
    st.stop()
if not rows:
    st.info(
        "No finished runs in the chosen sources: pick a results file in the sidebar, or "
        "wait for runs to finish."
    )
    st.stop()

families = setup_families(rows)
titles = {f.family: setup_title(f) for f in families}
if st.session_state.get("results_setup") not in titles:  # the largest setup first
    st.session_state["results_setup"] = max(families, key=lambda f: f.rows).family
family = st.selectbox(
    "Setup", list(titles), format_func=titles.get, key="results_setup",
    help="Runs of other setups are never averaged together.",
)  # fmt: skip
if len(families) > 1:
    with st.expander(f"What differs between the {len(families)} setups"):
        differences = setup_differences(families)
        if differences:
            st.dataframe(pd.DataFrame(differences), hide_index=True, width="stretch")
        else:
            st.write("Their recorded settings agree; they come from different result sources.")
rows = view_rows(rows, family)

langs = sorted({r["lang"] for r in rows})
modes = sorted({r["mode"] for r in rows})
# Other sources or setups, other choices: start again from all of them, not a stale subset.
if st.session_state.get("results_choices") != (family, langs, modes):
    st.session_state["results_choices"] = (family, langs, modes)
    st.session_state["results_langs"], st.session_state["results_modes"] = langs, modes
c1, c2 = st.columns(2)
pick_langs = c1.multiselect("Languages", langs, key="results_langs")
pick_modes = c2.multiselect("Modes", modes, key="results_modes")
rows = [r for r in rows if r["lang"] in pick_langs and r["mode"] in pick_modes]
with st.expander(f"Runs included ({len(rows)})"):
    # Runs are picked by leaving some out, so a newly loaded file is compared in full.
    left_out = st.multiselect("Leave out runs", [r["name"] for r in rows], key="results_left_out")
    st.dataframe(
        pd.DataFrame(
            [
                {k: r.get(k) for k in ("name", "lang", "mode", "seed", "f1", "source")}
                for r in rows
                if r["name"] not in left_out
            ]
        ),
        hide_index=True,
        width="stretch",
    )
rows = [r for r in rows if r["name"] not in left_out]
if not rows:
    st.warning("No runs selected.")
    st.stop()

types = entity_types(rows)
summary, table_entries = summarise(rows, types)
# Within one setup a language has one data fingerprint; if its data changed between runs, the
# two fingerprints stay apart as two lines.
setups_of = {}
for e in table_entries:
    setups_of.setdefault(e["lang"], set()).add(e["setup_id"])


def line(lang: str, setup_id: str) -> str:
    return lang if len(setups_of.get(lang, ())) < 2 else f"{lang} [data {setup_id[:6]}]"


def cell(s) -> str:
    return s.text if s.text in ("n/a", "–") else f"{s.text} (n={s.n})"


main = [s for s in summary if s.type == "all"]
table = pd.DataFrame(
    [{"lang": line(s.lang, s.setup_id), "mode": s.mode, "F1": cell(s)}
     for s in main]
)  # fmt: skip
st.subheader("F1 per language (main types)")
st.dataframe(
    table.pivot(index="lang", columns="mode", values="F1").reset_index(),
    hide_index=True,
    width="stretch",
)
st.caption("One seed: the mean alone, no ±. n/a: a type the model cannot predict.")

frame = pd.DataFrame(
    [
        {
            "lang": line(s.lang, s.setup_id),
            "mode": s.mode,
            "type": s.type,
            "F1": s.mean,
            "low": s.mean - (s.std or 0.0),
            "high": s.mean + (s.std or 0.0),
            "n": s.n,
        }
        for s in summary
        if s.mean is not None
    ]
)


def bars(data: pd.DataFrame, column: str) -> alt.LayerChart:
    base = alt.Chart(data).encode(
        x=alt.X(f"{column}:N", title=None),
        xOffset="mode:N",
        color=alt.Color("mode:N", title="mode"),
    )
    return base.mark_bar().encode(
        y=alt.Y("F1:Q", scale=alt.Scale(domain=[0, 1]), title="F1 (mean ± std over seeds)"),
        tooltip=["lang", "mode", "type", "F1", "n"],
    ) + base.transform_filter("datum.n >= 2").mark_errorbar(color="black").encode(
        y=alt.Y("low:Q", title="F1 (mean ± std over seeds)"), y2="high:Q"
    )


st.altair_chart(bars(frame[frame["type"] == "all"], "lang"), width="stretch")

diff = [e for e in table_entries if "delta_vs_direct" in e]
if diff:
    st.subheader("Distillation − direct")
    st.dataframe(
        pd.DataFrame(
            {
                "lang": [line(e["lang"], e["setup_id"]) for e in diff],
                "distill − direct": [round(e["delta_vs_direct"], 4) for e in diff],
                "judged against the seed spread": [delta_text(e).split("(")[-1].rstrip(")")
                                                   for e in diff],
            }
        ),
        hide_index=True,
    )  # fmt: skip

if types:
    st.subheader("Per entity type")
    lang = st.selectbox("Language", sorted({r["lang"] for r in rows}), key="results_type_lang")
    per_type = frame[(frame["type"] != "all") & (frame["lang"].str.split(" ").str[0] == lang)]
    st.altair_chart(bars(per_type, "type"), width="stretch")
    st.dataframe(
        pd.DataFrame(
            [
                {"type": s.type, "mode": s.mode, "F1": cell(s)}
                for s in summary
                if s.type != "all" and s.lang == lang
            ]
        )
        .pivot_table(index="type", columns="mode", values="F1", aggfunc="first")
        .reset_index(),
        hide_index=True,
        width="stretch",
    )
