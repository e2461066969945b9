"""Scores page: what each stored score means, its distribution, and a sortable, filterable table of per-example
scores with thresholds (the rows past a threshold can be pinned out in one click)."""
from __future__ import annotations

import json
import re

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from curation.core.errors import CurationError
from curation.core.keys import key_name
from curation.scorers.run import REJECTED_SUFFIX
from curation.scorers.validity import label, near_chance, no_better_than_length, validity
from curation.search.engine import FILTER_TEXT_COLUMNS, filter_rows
from curation.store import filter_frame
from pages import formatting as fm, jobs, state, widgets
from pages import judge_panel
from pages import quality_path

ws = widgets.header("Scores", "Per-example signals: quality heuristics, model scores, density, duplicates. NaN means "
               "the score does not apply to that example.")
P = str(ws.path)
S = state.stamp(ws)
defs = state.load_score_defs(P, S)
if defs.empty:
    st.info("No scores yet — run **Score** (and **Analyze**) on the Data page, or `python -m curation score "
            "heuristics`.", icon=":material/leaderboard:")
    st.stop()


all_keys = defs["key"].tolist()
table = state.load_scores(P, S, tuple(all_keys))
# one entry per score: the rejected reply's value of a preference pair (``<key>@rejected``) is shown beside its score
keys = [k for k in all_keys if not k.endswith(REJECTED_SUFFIX)] or all_keys
REJ = {k: k + REJECTED_SUFFIX for k in keys if k + REJECTED_SUFFIX in all_keys}
directed = [r.key for r in defs.itertuples() if r.key in keys and fm.direction(r.higher_is_better) is not None]
varied = [k for k in directed if table[k].nunique() > 1] or directed


def _vlabel(k: str) -> str:
    v = VALID.get(k)
    return f"{k}  —  validity {label(v)}" if v else k


VALID = {r.key: validity(str(r.name), r.params) for r in defs.itertuples()}
key = st.selectbox("Score", keys, key="scores:key", index=keys.index(varied[0]) if varied else 0,
                   format_func=_vlabel,
                   help="Validity = share of human preference pairs (HH-RLHF) where the score prefers the reply people "
                        "chose, with pairs and a 95% interval; 50% is chance. Learned scorers show their own "
                        "cross-validated accuracy.\n\n"
                        + "\n".join(f"- **{r.key}** ({fm.direction_text(r.higher_is_better)}): {r.description or ''}"
                                    for r in defs.itertuples() if r.key in keys))
d = defs.set_index("key").loc[key]
st.caption(f"{fm.direction_text(d['higher_is_better']).capitalize()}. {d['description'] or 'No description.'}")
_v = VALID.get(key)
if _v:
    _txt = f"Validity: prefers the human-preferred reply in {label(_v)} ({_v['source']})."
    if "length_rule" in _v:
        _txt += f" On the same pairs \"{_v['length_rule'][0]}\" gets {fm.fmt_pct(_v['length_rule'][1])}."
    if near_chance(_v):
        st.warning(_txt + " That is near chance: use it as a defect flag, not to rank by quality.",
                   icon=":material/warning:")
    elif no_better_than_length(_v):
        st.warning(_txt + " The head adds nothing over the reply length here: ranking by it is ranking by length.",
                   icon=":material/warning:")
    else:
        st.caption(_txt)
elif '"validity"' in str(d["params"] or ""):     # risk slices (harm_prompt, harm_reply): measured AUC, threshold
    _rp = json.loads(d["params"])
    st.caption(f"Validity: {_rp['validity']}. The audit reads value >= {float(_rp['threshold']):.2f} as flagged.")


@st.cache_data(show_spinner=False, max_entries=32)
def _length_check(path: str, stamp: object, k: str) -> dict | None:
    from curation.scorers.validity import workspace_length_check

    return workspace_length_check(ws, k)


quality_path.length_validity(_v, _length_check(P, S, key) if key in REJ else None)
if key in REJ:
    _c, _r = table[key].to_numpy(np.float64), table[REJ[key]].to_numpy(np.float64)
    _ok = np.isfinite(_c) & np.isfinite(_r)
    if _ok.any():
        _dd = (_c - _r)[_ok] * (1 if fm.direction(d["higher_is_better"]) is not False else -1)
        st.caption(f"On this workspace's {int(_ok.sum()):,} preference pairs it scores the chosen reply higher in "
                   f"{fm.fmt_pct(float((_dd > 0).mean() + 0.5 * (_dd == 0).mean()))} (ties half)"
                   + (": the pairs it was trained on, so optimistic; the cross-validated validity above is the "
                      "figure to trust." if key.startswith("pref_head(") else "."))

PROPOSALS = "ui:curator_proposals"
TRAIN_JOBS = {"ui:train_pref": "Training pref_head", "ui:train_curator": "Training curator_model"}


def _train(prog: jobs.JobProgress, name: str) -> str:
    """Background job: train (or reuse) a learned scorer, then score every row with it; returns the stored key.
    The curator model's proposals (rows it is least sure about) are kept as a workspace artifact for the page."""
    from curation.scorers import get_scorer, run_scorer
    from curation.scorers.learned import proposals

    prog.stage = f"{name}: embedding new texts and training (grouped cross-validation)"
    prog(0, 1)
    sc = get_scorer(name)
    key = run_scorer(ws, sc, progress=prog.for_stage(f"{name}: scoring rows"))
    if name == "curator_model":
        prop = proposals(ws, sc, 20)
        ws.put_artifact(PROPOSALS, {"key": key, "rows": prop.to_dict(orient="records")})
    return key


def _proposals() -> None:
    import pandas as pd

    got = ws.artifact(PROPOSALS)
    if not got or not got.get("rows"):
        return
    st.write("Judge these next (the curator model is least sure about them; picked spread out, so no two are "
             "near-copies), then train again:")
    st.dataframe(pd.DataFrame(got["rows"]), hide_index=True)


quality_path.recommend(ws)
with st.expander("Learned scorers: train on your pairs and pins", icon=":material/model_training:",
                 expanded=any(jobs.job_running(ws, k) for k in TRAIN_JOBS)):
    st.write("**pref_head** learns from this workspace's preference pairs; **curator_model** learns from your "
             "include / exclude pins (P(keep) per row) and proposes rows to judge next (least sure, spread out). "
             "Both retrain only when their training data changed and run in the background (embedding new texts "
             "first can take minutes); the page stays usable meanwhile.")
    b1, b2 = st.columns(2)
    if b1.button("Train preference head", key="scores:train_pref", disabled=jobs.job_running(ws, "ui:train_pref")):
        jobs.start_job(ws, "ui:train_pref", "train", lambda prog: _train(prog, "pref_head"))
    if b2.button("Train curator model and propose rows", key="scores:train_curator",
                 disabled=jobs.job_running(ws, "ui:train_curator")):
        jobs.start_job(ws, "ui:train_curator", "train", lambda prog: _train(prog, "curator_model"))

    @st.fragment(run_every=1.0 if any(jobs.job_running(ws, k) for k in TRAIN_JOBS) else None)
    def _train_jobs() -> None:
        was = st.session_state.setdefault("scores:train_running", {})
        for jk, label in TRAIN_JOBS.items():
            status = jobs.render_job(ws, jk, label)
            if status == "done":
                st.caption(f"Stored {jobs.job_result(ws, jk)}.")
                if jk == "ui:train_curator":
                    _proposals()
            if status != "running" and was.get(jk):
                was[jk] = False
                st.rerun()                     # the new score appears in the list above
            was[jk] = status == "running"

    _train_jobs()

judge_panel.render(ws)

meta = state.load_meta(P, S)
vals = table[key].to_numpy(np.float64)
finite = vals[np.isfinite(vals)]
c = st.columns(5)
c[0].metric("Examples with a value", fm.fmt_int(len(finite)), help=f"of {len(vals):,}")
c[1].metric("Mean", fm.fmt_num(float(finite.mean()) if len(finite) else None))
c[2].metric("Median", fm.fmt_num(float(np.median(finite)) if len(finite) else None))
c[3].metric("Min", fm.fmt_num(float(finite.min()) if len(finite) else None))
c[4].metric("Max", fm.fmt_num(float(finite.max()) if len(finite) else None))

if len(finite) == 0:
    st.info("This score has no value for any example (not applicable to this data).")
    st.stop()

# ------------------------------------------------------------------------------------------------ threshold
lo, hi = float(finite.min()), float(finite.max())
constant = lo == hi
if constant:
    st.info(f"Every example with a value has {fm.fmt_num(lo)}: nothing to threshold on this data.",
            icon=":material/info:")
    hi = lo + 1.0
hib = fm.direction(d["higher_is_better"])
default = float(np.quantile(finite, 0.05 if hib is True else 0.95)) if hib in (True, False) else lo
t1, t2 = st.columns([3, 1])
if constant:
    thr, side = lo - 1.0, "below"
else:
    thr = t1.slider("Threshold", lo, hi, float(np.clip(default, lo, hi)), (hi - lo) / 200 or 0.01,
                    key=f"scores:thr:{key}", format="%.4g",
                    help="Examples on the bad side of the threshold are counted below; you can pin them out.")
    side = t2.radio("Flag values", ["below", "above"], index=0 if hib is not False else 1,
                    key=f"scores:side:{key}", horizontal=True)
flag = (vals < thr) if side == "below" else (vals > thr)
flag &= np.isfinite(vals)

fig = go.Figure(go.Histogram(x=finite, nbinsx=60, marker_color="#4C78A8"))
fig.add_vline(x=thr, line_color="#E45756", line_dash="dash",
              annotation_text=f"{int(flag.sum()):,} flagged ({fm.fmt_pct(flag.sum() / len(vals))})")
fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=key, yaxis_title="examples",
                  bargap=0.02)
if not constant:
    st.plotly_chart(fig, key="scores:hist")

# ------------------------------------------------------------------------------------------------ table
st.subheader("Examples")
frame = table.merge(meta[["row_id", "dataset", "label", "kind", "n_tokens"]], on="row_id", how="left")
cond = st.text_input("Filter (SQL condition over the columns below and the text)", key=state.K_SCORE_FILTER,
                     placeholder="label = 'coding' and n_tokens < 300  ·  response ilike '%as an ai%'",
                     help="One condition, evaluated in a sandbox that cannot touch the workspace. Besides the "
                          "columns below it can name the text: " + ", ".join(FILTER_TEXT_COLUMNS) + " (the "
                          "Search page's filter mode). Column names with brackets, commas or '/' need double quotes, "
                          "e.g. \"uniqueness(k=30,model=...)\" > 0.3")


@st.cache_data(show_spinner="Filtering the text…", max_entries=8)
def _text_filter_rows(path: str, data_stamp: str, where: str) -> np.ndarray:
    """Row ids where a condition that names text columns holds (read once per condition and data version)."""
    return filter_rows(state.workspace_at(path), where)


def _mask(frame, where: str) -> np.ndarray:
    """The rows of the table where ``where`` holds: over the table itself, or (when it names a text column, which
    the table does not hold) over the workspace's columns, read only for the columns it names."""
    if any(re.search(rf"\b{c}\b", where) for c in FILTER_TEXT_COLUMNS):
        return frame["row_id"].isin(_text_filter_rows(P, S, where.strip())).to_numpy()
    return filter_frame(frame, where)


try:
    mask = _mask(frame, cond or "")
except CurationError as exc:
    st.error(str(exc))
    mask = np.ones(len(frame), dtype=bool)
only_flag = st.toggle("Only flagged examples", key="scores:only_flag")
if only_flag:
    mask &= flag
shown = frame[mask]
asc = hib is not False
shown = shown.sort_values(key, ascending=asc, na_position="last")
exc_s = state.load_excerpts(P, S)
view = shown.head(2000).copy()
view.insert(2, "excerpt", view["row_id"].map(exc_s))
st.caption(f"{len(shown):,} examples match; showing the first {len(view):,} sorted by {key} (worst first). "
           "Click a column header to sort; select a row to inspect it.")
show_rej = bool(REJ) and st.toggle(
    "Show the rejected replies' scores", key="scores:show_rejected",
    help="Preference rows (prompt, chosen, rejected) carry each per-reply score twice: the chosen reply's value in "
         "the score's column and the rejected reply's in the column marked 'rejected reply' next to it. Every "
         "other row kind has no rejected reply (empty).")


def _with_rej(ks: list[str]) -> list[str]:
    return [c for k in ks for c in ([k, REJ[k]] if show_rej and k in REJ else [k])]


other = [k for k in keys if k != key]
# the score first, under its short name (the full key is its help): at 1280 px a long key after the excerpt was
# pushed out of view with its values
cols = ["row_id", "example_id"] + _with_rej([key]) + ["excerpt", "dataset", "label", "n_tokens"] + _with_rej(other)
ccfg = {"excerpt": st.column_config.TextColumn(width="large")}
ccfg.update({k: st.column_config.NumberColumn(key_name(k), help=k) for k in [key, *other]})
ccfg.update({REJ[k]: st.column_config.NumberColumn(f"{key_name(k)} · rejected reply",
                                                   help=f"{k} of the pair's rejected reply") for k in REJ if show_rej})
ev = st.dataframe(view[cols], hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                  key="scores:table", column_config=ccfg)
rows = ev.selection.rows if ev is not None and hasattr(ev, "selection") else []
if rows:
    rid = int(view.iloc[rows[0]]["row_id"])
    st.session_state[state.K_INSPECT] = rid
    widgets.link("pages/inspector.py", f"Inspect row {rid}", icon=":material/search:")

with st.expander(f"Pin the {int(flag.sum()):,} flagged examples out", icon=":material/remove_circle:"):
    st.write("Adds an **exclude** pin for every example on the flagged side of the threshold (undoable from "
             "Inspect or the decision log).")
    if st.button("Pin flagged as exclude", key="scores:pin_out", disabled=not flag.any()):
        ids = table.loc[flag, "example_id"].tolist()
        ws.add_decisions(ids, "exclude", who=state.curator(), why=f"{key} {'<' if side == 'below' else '>'} {thr:.4g}")
        st.success(f"Pinned {len(ids):,} examples as exclude.")
