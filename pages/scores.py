"""Scores page: what each stored score means, its distribution, and a sortable, filterable table of per-example
scores with thresholds (the rows past a threshold can be pinned out in one click)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from curation.errors import CurationError
from curation.store import filter_frame
from pages import formatting as fm, state, widgets

ws = widgets.header("Scores", "Per-example signals: quality heuristics, model scores, density, duplicates. NaN means "
               "the score does not apply to that example.")
P = str(ws.path)
S = state.stamp(ws)
defs = state.load_score_defs(P, S)
if defs.empty:
    st.info("No scores yet — run **Score** (and **Analyze**) on the Data page, or `python -m curation score "
            "heuristics`.", icon=":material/leaderboard:")
    st.stop()


keys = defs["key"].tolist()
table = state.load_scores(P, S, tuple(keys))
directed = [r.key for r in defs.itertuples() if fm.direction(r.higher_is_better) is not None]
varied = [k for k in directed if table[k].nunique() > 1] or directed


def _validity(r) -> dict | None:  # a score_defs row
    import json

    from curation.scorers.validity import validity

    try:
        params = json.loads(r.params) if isinstance(r.params, str) else dict(r.params or {})
    except (TypeError, ValueError):
        params = {}
    return validity(str(r.name), params)


def _vlabel(k: str) -> str:
    from curation.scorers.validity import label

    v = VALID.get(k)
    return f"{k}  —  validity {label(v)}" if v else k


VALID = {r.key: _validity(r) for r in defs.itertuples()}
key = st.selectbox("Score", keys, key="scores:key", index=keys.index(varied[0]) if varied else 0,
                   format_func=_vlabel,
                   help="Validity = share of human preference pairs (HH-RLHF) where the score prefers the reply people "
                        "chose, with pairs and a 95% interval; 50% is chance. Learned scorers show their own "
                        "cross-validated accuracy.\n\n"
                        + "\n".join(f"- **{r.key}** ({fm.direction_text(r.higher_is_better)}): {r.description or ''}"
                                    for r in defs.itertuples()))
d = defs.set_index("key").loc[key]
st.caption(f"{fm.direction_text(d['higher_is_better']).capitalize()}. {d['description'] or 'No description.'}")
_v = VALID.get(key)
if _v:
    from curation.scorers.validity import label, near_chance

    _txt = f"Validity: prefers the human-preferred reply in {label(_v)} ({_v['source']})."
    if near_chance(_v):
        st.warning(_txt + " That is near chance: use it as a defect flag, not to rank by quality.",
                   icon=":material/warning:")
    else:
        st.caption(_txt)
if key + "@rejected" in keys:
    _c, _r = table[key].to_numpy(np.float64), table[key + "@rejected"].to_numpy(np.float64)
    _ok = np.isfinite(_c) & np.isfinite(_r)
    if _ok.any():
        _dd = (_c - _r)[_ok] * (1 if fm.direction(d["higher_is_better"]) is not False else -1)
        st.caption(f"On this workspace's {int(_ok.sum()):,} preference pairs it scores the chosen reply higher in "
                   f"{fm.fmt_pct(float((_dd > 0).mean() + 0.5 * (_dd == 0).mean()))} (ties half).")

with st.expander("Learned scorers: train on your pairs and pins", icon=":material/model_training:"):
    st.write("**pref_head** learns from this workspace's preference pairs; **curator_model** learns from your "
             "include / exclude pins (P(keep) per row) and proposes the rows it is least sure about. Both retrain "
             "only when their training data changed (seconds once the texts are embedded).")
    b1, b2 = st.columns(2)
    if b1.button("Train preference head", key="scores:train_pref"):
        from curation.scorers import run_scorer

        try:
            with st.spinner("training on the workspace's pairs..."):
                k = run_scorer(ws, "pref_head")
            st.success(f"Stored {k}.")
        except CurationError as exc:
            st.error(str(exc))
    if b2.button("Train curator model and propose rows", key="scores:train_curator"):
        from curation.scorers import run_scorer
        from curation.scorers.learned import propose_rows

        try:
            with st.spinner("training on your pins..."):
                k = run_scorer(ws, "curator_model")
                prop = propose_rows(ws, 20)
            st.success(f"Stored {k}. Judge these next (least sure first), then train again:")
            st.dataframe(prop, hide_index=True)
        except CurationError as exc:
            st.error(str(exc))

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
cond = st.text_input("Filter (SQL condition over the columns below)", key=state.K_SCORE_FILTER,
                     placeholder="label = 'coding' and n_tokens < 300",
                     help="One condition, evaluated in a sandbox that cannot touch the workspace. Column names "
                          "with ':' or '/' need double quotes, e.g. \"uniqueness:sentence-transformers/...\" > 0.3")
try:
    mask = filter_frame(frame, cond or "")
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
other = [k for k in keys if k != key]
cols = ["row_id", "example_id", "excerpt", key, "dataset", "label", "n_tokens"] + other
ev = st.dataframe(view[cols], hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                  key="scores:table", column_config={"excerpt": st.column_config.TextColumn(width="large")})
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
