# ruff: noqa: E501
# Baseline for benchmarks/bench_browser.py: this page as it was before the WebGL map / lazy Select tabs (kept as it was).
"""Map page: the UMAP (or PCA) projection as a WebGL scatter, coloured by any score, class, cluster, the current
selection or the curator's decisions; box / lasso selection to pin, tag or inspect."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from curation.neighbours.projection import downsample
from pages import formatting, state, widgets

ws = widgets.header("Map", "Each point is one example, placed by its embedding (similar examples sit together). "
               "Use box or lasso select (top right of the chart) to act on a region.")
P = str(ws.path)
S = ws.data_stamp()
MAX_MAP_POINTS = 50_000  # beyond this many points the map is downsampled (pinned and selected points kept)

proj = ws.projection_defs()
if proj.empty:
    st.info("No map yet — run **Analyze** on the Data page (it builds the neighbour graph, clusters and the "
            "UMAP map), or `python -m curation analyze`.", icon=":material/map:")
    widgets.link("pages/data.py", "Go to Data", icon=":material/database:")
    st.stop()

keys = proj["key"].tolist()
latest = state.latest_projection_key(ws) or keys[-1]
defs = state.load_score_defs(P, S)
score_keys = defs["key"].tolist() if not defs.empty else []
cluster_key = state.score_key_of(defs, "cluster")
SEL_COLOUR = "selection (current subset)"
DEC_COLOUR = "decision (pins)"
colour_opts = (["cluster"] if cluster_key else []) + ["label", "dataset", "kind", DEC_COLOUR, SEL_COLOUR] + \
    [k for k in score_keys if not k.startswith("cluster")]

c1, c2, c3 = st.columns([2, 2, 1])
pkey = c1.selectbox("Projection", keys, index=keys.index(latest), key="map:projection",
                    help="UMAP (built on the neighbour graph) is preferred; PCA is a quick first look.")
colour = c2.selectbox("Colour by", colour_opts, key="map:colour",
                      help="A class, cluster or dataset, a stored score, the current subset from the Select page, "
                           "or your pins.")
show_labels = c3.toggle("Cluster names", value=bool(cluster_key), key="map:labels", disabled=not cluster_key)

xy = state.load_projection(P, S, pkey)
meta = state.load_meta(P, S)
df = xy.merge(meta[["row_id", "example_id", "label", "dataset", "kind"]], on="row_id", how="left")
pins = state.pins_frame(ws)
pin_of = pd.Series(pins["pin"].to_numpy(), index=pins["row_id"].to_numpy(), dtype=object)
df["decision"] = df["row_id"].map(pin_of).astype(object).fillna("none")
selected_ids = np.asarray(st.session_state.get(state.K_MAP_SELECTION) or [], dtype=np.int64)

# ------------------------------------------------------------------------------------------------ colour column
numeric = False
note = None
if colour == "cluster":
    cl = state.load_scores(P, S, (cluster_key,))[["row_id", cluster_key]]
    df = df.merge(cl, on="row_id", how="left")
    names = state.load_cluster_labels(P, S, cluster_key)
    lab = dict(zip(names["cluster"], names["label"])) if names is not None else {}
    df["colour"] = df[cluster_key].map(lambda v: "n/a" if pd.isna(v) else f"{int(v)} · {lab.get(int(v), '')}")
elif colour in ("label", "dataset", "kind"):
    df["colour"] = df[colour].fillna("(none)").astype(str)
elif colour == DEC_COLOUR:
    df["colour"] = df["decision"]
elif colour == SEL_COLOUR:
    sub = state.current_subset(ws) if st.session_state.get(state.K_RANKING) else None
    if sub is None:
        note = "No current subset: choose a method and a budget on the Select page first."
        df["colour"] = "pool"
    else:
        ranking, chosen = sub
        df["colour"] = np.where(df["row_id"].isin(chosen), "selected", "dropped")
        note = f"Subset of {formatting.fmt_int(len(chosen))} from `{ranking.method}`."
else:
    sc = state.load_scores(P, S, (colour,))[["row_id", colour]]
    df = df.merge(sc, on="row_id", how="left")
    df["colour"] = df[colour]
    numeric = True
    d = defs.set_index("key").loc[colour]
    note = f"{formatting.md_escape(d.get('description') or '')} ({formatting.direction_text(d.get('higher_is_better'))})"
if note:
    st.caption(note)

# ------------------------------------------------------------------------------------------------ downsample
keep = df["row_id"].isin(selected_ids).to_numpy() | (df["decision"] != "none").to_numpy()
strata = df["colour"].astype(str).to_numpy() if not numeric else np.zeros(len(df), dtype=np.int64)
pos = downsample(strata, max_points=MAX_MAP_POINTS, keep=keep)
if len(pos) < len(df):
    st.info(f"Showing {formatting.fmt_int(len(pos))} of {formatting.fmt_int(len(df))} points (a stratified sample; pinned and "
            "selected points are always shown). Statistics on the other pages use every example.",
            icon=":material/filter_alt:")
view = df.iloc[pos].reset_index(drop=True)
exc_series = state.load_excerpts(P, S)
view["hover"] = view["row_id"].map(state.load_hover(P, S)).fillna("")

# ------------------------------------------------------------------------------------------------ figure
PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D",
           "#BAB0AC", "#1F77B4", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22"]
FIXED = {"include": "#2CA02C", "exclude": "#D62728", "none": "#C7C7C7", "selected": "#1F77B4",
         "dropped": "#D0D0D0", "pool": "#4C78A8"}
HOVER = "%{hovertext}<extra>row %{customdata}</extra>"
fig = go.Figure()
trace_rows: list[list[int]] = []
size = 5 if len(view) < 5000 else 3
if numeric:
    vals = view["colour"].to_numpy(dtype=float)
    fig.add_trace(go.Scattergl(
        x=view["x"], y=view["y"], mode="markers", customdata=view["row_id"].astype(int).tolist(),
        hovertext=view["hover"],
        hovertemplate=HOVER, name="examples",
        marker=dict(size=size, color=np.where(np.isnan(vals), np.nanmin(vals) if np.isfinite(vals).any() else 0,
                                              vals), colorscale="Viridis", showscale=True,
                    colorbar=dict(title=dict(text=formatting.escape_hover(colour, max_chars=30)), thickness=12))))
    trace_rows.append(view["row_id"].tolist())
else:
    cats = view["colour"].astype(str)
    order = cats.value_counts().index.tolist()
    for i, cat in enumerate(order):
        sub = view[cats == cat]
        fig.add_trace(go.Scattergl(
            x=sub["x"], y=sub["y"], mode="markers", customdata=sub["row_id"].astype(int).tolist(),
            hovertext=sub["hover"], hovertemplate=HOVER, name=formatting.escape_hover(cat, max_chars=40),
            marker=dict(size=size, color=FIXED.get(cat, PALETTE[i % len(PALETTE)]), opacity=0.85)))
        trace_rows.append(sub["row_id"].tolist())
if len(selected_ids):
    sel = view[view["row_id"].isin(selected_ids)]
    fig.add_trace(go.Scattergl(
        x=sel["x"], y=sel["y"], mode="markers", customdata=sel["row_id"].astype(int).tolist(), hovertext=sel["hover"],
        hovertemplate=HOVER, name="map selection",
        marker=dict(size=size + 5, color="rgba(0,0,0,0)", line=dict(color="#111111", width=1.5))))
    trace_rows.append(sel["row_id"].tolist())
if show_labels and cluster_key:
    names = state.load_cluster_labels(P, S, cluster_key)
    cl = state.load_scores(P, S, (cluster_key,))[["row_id", cluster_key]].merge(xy, on="row_id")
    if names is not None and len(cl):
        cent = cl.groupby(cluster_key)[["x", "y"]].median()
        lab = dict(zip(names["cluster"], names["label"]))
        for cid, r in cent.iterrows():
            fig.add_annotation(x=r["x"], y=r["y"], text=formatting.escape_hover(lab.get(int(cid), f"cluster {int(cid)}"),
                                                                         max_chars=40, width=40),
                               showarrow=False, font=dict(size=11, color="#222"), bgcolor="rgba(255,255,255,0.7)")
fig.update_layout(height=620, margin=dict(l=10, r=10, t=10, b=10), dragmode="lasso",
                  legend=dict(itemsizing="constant", orientation="v"), xaxis=dict(visible=False),
                  yaxis=dict(visible=False), plot_bgcolor="white")
st.session_state["map:trace_rows"] = trace_rows


def _on_select() -> None:
    """Selection event → the row ids of the selected points, kept in session state (view state only)."""
    chart = st.session_state.get("map:chart")  # (named `state` on main before this copy: it shadowed pages.state)
    sel = (chart or {}).get("selection", {}) if isinstance(chart, dict) else getattr(chart, "selection", {})
    points = (sel or {}).get("points", []) if isinstance(sel, dict) else getattr(sel, "points", [])
    try:
        ids = widgets.selection_row_ids(list(points or []), st.session_state.get("map:trace_rows") or [])
    except (TypeError, ValueError, AttributeError):  # an event shape we do not know: keep the old selection
        return
    st.session_state[state.K_MAP_SELECTION] = ids


st.plotly_chart(fig, key="map:chart", on_select=_on_select, selection_mode=("points", "box", "lasso"),
                config={"displaylogo": False, "scrollZoom": True})

# ------------------------------------------------------------------------------------------------ actions
@st.fragment
def actions() -> None:
    """Pin / tag / inspect the map selection. A fragment: a pin reruns only this part (the figure is redrawn only
    when the colours show decisions)."""
    selected_ids = np.asarray(st.session_state.get(state.K_MAP_SELECTION) or [], dtype=np.int64)
    st.subheader(f"Selected on the map: {formatting.fmt_int(len(selected_ids))}")
    if not len(selected_ids):
        st.caption("Nothing selected. Drag a box or lasso around points (or click one) to pin, tag or inspect them.")
        return

    sel_meta = df[df["row_id"].isin(selected_ids)][["row_id", "example_id", "label", "dataset", "decision"]].copy()
    sel_meta["excerpt"] = sel_meta["row_id"].map(exc_series)
    a = st.columns([1, 1, 1, 1, 2], vertical_alignment="bottom")
    why = a[4].text_input("Why (optional, saved with the decision)", key="map:why")
    ids = sel_meta["example_id"].tolist()
    feedback = None
    if a[0].button("Pin include", key="map:include", icon=":material/add_circle:", type="primary"):
        ws.add_decisions(ids, "include", who=state.curator(), why=why or "map selection")
        feedback = f"Pinned {len(ids):,} examples to always include."
    if a[1].button("Pin exclude", key="map:exclude", icon=":material/remove_circle:"):
        ws.add_decisions(ids, "exclude", who=state.curator(), why=why or "map selection")
        feedback = f"Pinned {len(ids):,} examples to never include."
    if a[2].button("Unpin", key="map:unpin", icon=":material/undo:"):
        ws.add_decisions(ids, "unpin", who=state.curator(), why=why or "map selection")
        feedback = f"Unpinned {len(ids):,} examples."
    if a[3].button("Clear selection", key="map:clear"):
        st.session_state[state.K_MAP_SELECTION] = []
        st.rerun()
    t1, t2, t3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    tag = t1.text_input("Tag", key="map:tag", placeholder="e.g. off-topic")
    if t2.button("Tag selected", key="map:tag_btn", disabled=not tag.strip()):
        ws.add_decisions(ids, "tag", who=state.curator(), value=tag.strip(), why=why or None)
        feedback = f"Tagged {len(ids):,} examples with '{formatting.md_escape(tag.strip())}'."
    if t3.button("Open first in Inspect", key="map:inspect", icon=":material/search:"):
        st.session_state[state.K_INSPECT] = int(selected_ids[0])
        widgets.go_to("pages/inspector.py")
    if feedback and colour == DEC_COLOUR:  # the colours show decisions: redraw the figure too
        st.session_state["map:feedback"] = feedback
        st.rerun(scope="app")
    feedback = feedback or st.session_state.pop("map:feedback", None)
    if feedback:
        st.success(feedback, icon=":material/check:")
        pins = state.pins_frame(ws)
        pin_of = pd.Series(pins["pin"].to_numpy(), index=pins["row_id"].to_numpy(), dtype=object)
        sel_meta["decision"] = sel_meta["row_id"].map(pin_of).astype(object).fillna("none")
    st.dataframe(sel_meta.head(1000), hide_index=True, width="stretch",
                 column_config={"excerpt": st.column_config.TextColumn(width="large")})


actions()
