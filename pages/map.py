"""Map page: the UMAP (or PCA) projection, every point drawn (WebGL, pages/scatter), coloured by a class, cluster,
score, the current subset or the curator's decisions; box / lasso / click / cluster-label selection to pin, tag or
inspect. The browser gets float32 x/y and one colour code a point; the text of a point is fetched when the pointer
rests on it."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import streamlit as st

from curation.core.rows import RowIndex
from curation.core.keys import key_name
from curation.diagnostics.audit import slice_defs
from pages import formatting as fm, saved, state, widgets
from pages.scatter import scatter
from pages.scatter.geometry import categorical_codes, integer_codes, numeric_codes, selection_positions

ws = widgets.header("Map", "Each point is one example, placed by its embedding (similar examples sit together). Drag a "
               "box or a lasso to select, click a cluster name to select the cluster, scroll to zoom, shift-drag "
               "(or Pan) to move.")
P = str(ws.path)
S = state.stamp(ws)

proj = ws.projection_defs()
if proj.empty:
    st.info("No map yet — run **Analyze** on the Data page (it builds the neighbour graph, clusters and the "
            "UMAP map), or `python -m curation analyze`. While the demo workspace is being built this page fills "
            "in by itself once the map step has finished.", icon=":material/map:")
    widgets.link("pages/data.py", "Go to Data", icon=":material/database:")
    st.stop()

keys = proj["key"].tolist()
latest = state.latest_projection_key(ws) or keys[-1]
defs = state.load_score_defs(P, S)
score_keys = defs["key"].tolist() if not defs.empty else []
cluster_key = state.score_key_of(defs, "cluster")


# ------------------------------------------------------------------------------------------------ cached base data
@st.cache_resource(show_spinner=False, max_entries=4)
def map_base(path: str, data_stamp: str, key: str) -> dict:
    """row ids (int64) and float32 x/y of one projection, in the order the browser draws them, plus a position
    index. Cached as a resource (read-only arrays, not copied per rerun)."""
    row_ids, xy = state.workspace().projection(key)
    index = RowIndex(row_ids)
    xy = np.ascontiguousarray(xy, dtype=np.float32)
    return {"row_ids": index.row_ids, "xy": xy, "index": index,
            "data_id": hashlib.sha1(f"{path}|{data_stamp}|{key}".encode()).hexdigest()[:16]}


def positions_of(base: dict, rows: np.ndarray) -> np.ndarray:
    """Positions (in drawing order) of the given row ids; ids not on the map are dropped."""
    return base["index"].positions(rows)


def score_aligned(path: str, base: dict, key: str) -> np.ndarray:
    """One score's values in drawing order (NaN where a row has none)."""
    rows, vals = state.workspace().score_column(key)
    return base["index"].align(rows, np.asarray(vals, dtype=np.float64))


def column_aligned(path: str, base: dict, column: str) -> np.ndarray:
    """An examples column (label, dataset, kind) in drawing order (None where absent)."""
    d = state.workspace().examples(["row_id", column])
    return base["index"].align(d["row_id"].to_numpy(), d[column].to_numpy(object), fill=None)


@st.cache_resource(show_spinner=False, max_entries=4)
def cluster_info(path: str, data_stamp: str, pkey: str, ckey: str) -> dict | None:
    """Cluster id per position (-1: none), names, and label anchors (the median position of each cluster)."""
    base = map_base(path, data_stamp, pkey)
    cl = score_aligned(path, base, ckey)
    cid = np.where(np.isfinite(cl), cl, -1).astype(np.int64)
    names = state.load_cluster_labels(path, data_stamp, ckey)
    lab = dict(zip(names["cluster"].astype(int), names["label"])) if names is not None else {}
    ok = cid >= 0
    anchors = []
    if ok.any():
        d = pd.DataFrame({"c": cid[ok], "x": base["xy"][ok, 0], "y": base["xy"][ok, 1]})
        g = d.groupby("c")
        med = g[["x", "y"]].median()
        size = g.size()
        for c in size.sort_values(ascending=False).index:
            anchors.append({"id": int(c), "x": float(med.loc[c, "x"]), "y": float(med.loc[c, "y"]),
                            "text": str(lab.get(int(c), f"cluster {int(c)}")), "size": int(size.loc[c])})
    return {"cid": cid, "names": lab, "anchors": anchors}


# ------------------------------------------------------------------------------------------------ colourings
@dataclass
class Colouring:
    """One way of colouring the map: a uint8 code per point, a 256-colour palette and a legend (categorical), or
    a score range (numeric). ``codes_id`` changes exactly when the codes do."""
    codes: np.ndarray
    palette: list[str]
    legend: list[dict] = field(default_factory=list)
    numeric: dict | None = None
    codes_id: str = ""
    note: str | None = None


def _cat(values: np.ndarray, codes_id: str, **kw: object) -> Colouring:
    codes, palette, legend = categorical_codes(values, **kw)
    return Colouring(codes, palette, legend, codes_id=codes_id)


@st.cache_resource(show_spinner=False, max_entries=16)
def _static_colouring(path: str, data_stamp: str, pkey: str, what: str) -> Colouring:
    """Colourings that change only with the data: a meta column, the clusters or a score."""
    base = map_base(path, data_stamp, pkey)
    cid = f"{data_stamp}|{pkey}|{what}"
    if what in ("label", "dataset", "kind"):
        return _cat(column_aligned(path, base, what), cid)
    if what == "cluster":
        ck = state.score_key_of(state.load_score_defs(path, data_stamp), "cluster")
        info = cluster_info(path, data_stamp, pkey, ck)
        codes, palette, legend = integer_codes(info["cid"], info["names"])
        return Colouring(codes, palette, legend, codes_id=cid)
    vals = score_aligned(path, base, what)
    codes, palette, rng = numeric_codes(vals)
    d = state.load_score_defs(path, data_stamp).set_index("key").loc[what]
    numeric = {"name": what, "lo": fm.fmt_num(rng["lo_v"]), "hi": fm.fmt_num(rng["hi_v"]), **rng}
    note = (f"{fm.md_escape(d.get('description') or '')} "
            f"({fm.direction_text(d.get('higher_is_better'))})")
    return Colouring(codes, palette, numeric=numeric, codes_id=cid, note=note)


def _decisions(base: dict) -> Colouring:
    pins = state.pins_frame(ws)
    vals = np.full(len(base["row_ids"]), "none", dtype=object)
    for pin in ("include", "exclude"):
        vals[positions_of(base, pins.loc[pins["pin"] == pin, "row_id"].to_numpy())] = pin
    h = hashlib.sha1(pins[["row_id", "pin"]].to_numpy().tobytes() if len(pins) else b"").hexdigest()[:12]
    return _cat(vals, f"decisions|{base['data_id']}|{h}", order=["include", "exclude", "none"])


def _current_subset(base: dict) -> Colouring:
    got = state.current_subset(ws) if st.session_state.get(state.K_RANKING) else None
    vals = np.full(len(base["row_ids"]), "pool", dtype=object)
    if got is None:
        c = _cat(vals, f"subset|{base['data_id']}|none")
        c.note = "No current subset: choose a method and a budget on the Select page first."
        return c
    ranking, chosen = got
    vals[:] = "dropped"
    vals[positions_of(base, chosen)] = "selected"
    h = hashlib.sha1(np.asarray(chosen, dtype=np.int64).tobytes()).hexdigest()[:12]
    c = _cat(vals, f"subset|{base['data_id']}|{h}", order=["selected", "dropped"])
    c.note = f"Subset of {fm.fmt_int(len(chosen))} from `{fm.md_escape(ranking.method)}`."
    return c


SEL_COLOUR = "selection (current subset)"
DEC_COLOUR = "decision (pins)"
# Colourings computed fresh on every run (they depend on decisions or view state), by name. A feature that adds one
# (e.g. a saved subset) adds an entry here: a function of the map base returning a Colouring.
COLOURINGS: dict[str, Callable[[dict], Colouring]] = {
    DEC_COLOUR: _decisions,
    SEL_COLOUR: _current_subset,
}
SAVED_PREFIX = "saved subset: "


def _saved_subset(ref: str) -> Callable[[dict], Colouring]:
    """Colour by membership of a saved subset version (:func:`pages.saved.membership_mask`)."""
    def fn(base: dict) -> Colouring:
        mask = saved.membership_mask(ws, ref, base["row_ids"])
        vals = np.where(mask, "selected", "dropped").astype(object)
        c = _cat(vals, f"saved|{base['data_id']}|{ref}", order=["selected", "dropped"])
        c.note = f"Saved subset {fm.md_escape(ref)}: {fm.fmt_int(int(mask.sum()))} rows selected."
        return c
    return fn


for _ref in saved.refs(ws):
    COLOURINGS[SAVED_PREFIX + _ref] = _saved_subset(_ref)

SLICE_PREFIX = "slice: "


def _slice_colouring(name: str) -> Callable[[dict], Colouring]:
    """Colour by a slice column's categories as the bias audit reads them (a risk score: flagged / not flagged at
    its threshold; a group column: its code names; a flag: yes / no)."""
    def fn(base: dict) -> Colouring:
        actx = state.load_audit_context(P, S)
        sl = next((x for x in actx.slices if x.key == name), None)
        if sl is None:
            return _cat(np.full(len(base["row_ids"]), "(n/a)", dtype=object), f"slice|{base['data_id']}|none")
        vals = np.asarray(sl.categories, dtype=object)[sl.codes[actx.positions(base["row_ids"])]]
        c = _cat(vals, f"slice|{base['data_id']}|{name}", order=list(sl.categories))
        c.note = f"Slice {fm.md_escape(name)} ({sl.form}), as the bias audit on the Balance page reads it."
        return c
    return fn


def _search_highlight(name: str | None) -> Callable[[dict], Colouring]:
    """Highlight the rows of a saved search (``name``) or of the Search page's current hits (None): "match" in
    colour, every other point greyed for context."""
    def fn(base: dict) -> Colouring:
        if name is None:
            rows = np.asarray(st.session_state.get("search:hits") or [], dtype=np.int64)
        else:
            r, v = ws.score_column(f"search:{name}")
            rows = r[v == 1]
        vals = np.full(len(base["row_ids"]), "other", dtype=object)
        vals[positions_of(base, rows)] = "match"
        h = hashlib.sha1(rows.tobytes()).hexdigest()[:12]
        c = _cat(vals, f"search|{base['data_id']}|{name}|{h}", order=["match", "other"],
                 colours={"match": "#E4572E", "other": "#DDDDDD"})
        what = f"Saved search {fm.md_escape(name)}" if name else "The Search page's current results"
        c.note = f"{what}: {fm.fmt_int(int((vals == 'match').sum()))} rows match (the rest greyed)."
        return c
    return fn


for _d in slice_defs(defs):
    COLOURINGS[SLICE_PREFIX + _d["key"]] = _slice_colouring(_d["key"])
for _name in ws.saved_search_specs():
    COLOURINGS["search: " + _name] = _search_highlight(_name)
if st.session_state.get("search:hits"):
    COLOURINGS["search: current results"] = _search_highlight(None)

colour_opts = ((["cluster"] if cluster_key else []) + ["label", "dataset", "kind"] + list(COLOURINGS)
               + [k for k in score_keys if key_name(k) != "cluster"])
c1, c2 = st.columns([2, 2])
pkey = c1.selectbox("Projection", keys, index=keys.index(latest), key="map:projection",
                    help="UMAP (built on the neighbour graph) is preferred; PCA is a quick first look.")
colour = c2.selectbox("Colour by", colour_opts, key="map:colour",
                      help="A class, cluster or dataset, your pins, the current subset from the Select page, or a "
                           "stored score.")
base = map_base(P, S, pkey)
cinfo = cluster_info(P, S, pkey, cluster_key) if cluster_key else None


def colouring(name: str) -> Colouring:
    fn = COLOURINGS.get(name)
    return fn(base) if fn is not None else _static_colouring(P, S, pkey, name)


# ------------------------------------------------------------------------------------------------ the map + actions
def _handle_event() -> None:
    """Apply the browser's last event (once): a selection replaces the map selection; a hover asks for text."""
    ev = st.session_state.get("map:scatter")
    if not isinstance(ev, dict) or ev.get("dataId") != base["data_id"]:
        return
    seq = ev.get("seq")
    if seq is None or seq == st.session_state.get("map:seq"):
        return
    st.session_state["map:seq"] = seq
    if ev.get("kind") == "hover":
        st.session_state["map:hover"] = int(ev.get("pos", -1))
        return
    try:
        pos = selection_positions(ev, base["xy"], cinfo["cid"] if cinfo else None)
    except (KeyError, TypeError, ValueError):  # an event shape we do not know: keep the old selection
        return
    if pos is not None:
        st.session_state[state.K_MAP_SELECTION] = np.sort(base["row_ids"][pos]).tolist()


def _hover_text() -> dict | None:
    pos = st.session_state.get("map:hover")
    if pos is None or not 0 <= pos < len(base["row_ids"]):
        return None
    row = int(base["row_ids"][pos])
    ex = ws.excerpts([row], max_chars=300)
    text = " ".join(str(ex["excerpt"].iloc[0]).split()) if len(ex) else ""
    return {"pos": int(pos), "head": f"row {row}", "text": text or "(empty)"}  # shown with textContent: never HTML


@st.fragment
def map_view() -> None:
    """The map and what acts on its selection. A fragment: selecting, hovering and pinning rerun only this. Its
    reads share one database connection (opening a 1M-row workspace costs tens of ms each time)."""
    with ws.connect():
        _map_view()


def _map_view() -> None:
    _handle_event()
    col = colouring(colour)
    st.caption(col.note or " ")  # always one element here: the map keeps its place (and its zoom) across reruns
    selected_ids = np.asarray(st.session_state.get(state.K_MAP_SELECTION) or [], dtype=np.int64)
    sel_pos = positions_of(base, selected_ids)
    sel_id = hashlib.sha1(selected_ids.tobytes()).hexdigest()[:12] + base["data_id"]
    labels = []
    if cinfo:
        code_of = {int(e["name"].split(" ·")[0]): e["code"] for e in col.legend
                   if colour == "cluster" and e["name"][:1].isdigit()}
        for a in cinfo["anchors"][:60]:
            lab = {k: a[k] for k in ("id", "x", "y", "text")}
            code = code_of.get(a["id"])
            if code is not None:
                lab["code"] = code
            labels.append(lab)
    scatter(xy=base["xy"], codes=col.codes, palette=col.palette, legend=col.legend, numeric=col.numeric,
            data_id=base["data_id"], codes_id=col.codes_id, selected=sel_pos, sel_id=sel_id, labels=labels,
            hover=_hover_text(), key="map:scatter")
    actions(selected_ids)


def _decide(action: str) -> None:
    """Button callback: record ``action`` for every selected example (one transaction)."""
    rows = np.asarray(st.session_state.get(state.K_MAP_SELECTION) or [], dtype=np.int64)
    if not len(rows):
        return
    ids = ws.examples(["example_id"], row_ids=rows)["example_id"].tolist()
    why = (st.session_state.get("map:why") or "").strip()
    tag = (st.session_state.get("map:tag") or "").strip()
    if action == "tag":
        if not tag:
            return
        n = len(ws.add_decisions(ids, "tag", who=state.curator(), value=tag, why=why or None))
        msg = f"Tagged {n:,} examples with '{fm.md_escape(tag)}'."
    else:
        n = len(ws.add_decisions(ids, action, who=state.curator(), why=why or "map selection"))
        msg = {"include": f"Pinned {n:,} examples to always include.",
               "exclude": f"Pinned {n:,} examples to never include.", "unpin": f"Unpinned {n:,} examples."}[action]
    st.session_state["map:feedback"] = msg


def actions(selected_ids: np.ndarray) -> None:
    """Pin / tag / inspect the map selection in one step."""
    st.subheader(f"Selected on the map: {fm.fmt_int(len(selected_ids))}")
    if not len(selected_ids):
        st.caption("Nothing selected. Drag a box or lasso around points, click a point, or click a cluster name "
                   "to pin, tag or inspect them.")
        return
    a = st.columns([1, 1, 1, 1, 2], vertical_alignment="bottom")
    a[4].text_input("Why (optional, saved with the decision)", key="map:why")
    # callbacks: the decision is written before the page reruns (the click lands in the workspace at once)
    a[0].button("Pin include", key="map:include", icon=":material/add_circle:", type="primary",
                on_click=_decide, args=("include",))
    a[1].button("Pin exclude", key="map:exclude", icon=":material/remove_circle:", on_click=_decide,
                args=("exclude",))
    a[2].button("Unpin", key="map:unpin", icon=":material/undo:", on_click=_decide, args=("unpin",))
    a[3].button("Clear selection", key="map:clear", on_click=lambda: st.session_state.update(
        {state.K_MAP_SELECTION: []}))
    t1, t2, t3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    tag = t1.text_input("Tag", key="map:tag", placeholder="e.g. off-topic")
    t2.button("Tag selected", key="map:tag_btn", disabled=not tag.strip(), on_click=_decide, args=("tag",))
    if t3.button("Open in Inspect", key="map:inspect", icon=":material/search:",
                 help="Opens the first selected example; the others stay selected here."):
        st.session_state[state.K_INSPECT] = int(selected_ids[0])
        widgets.go_to("pages/inspector.py")
    feedback = st.session_state.pop("map:feedback", None)
    if feedback:
        st.success(feedback, icon=":material/check:")
    shown = selected_ids[:1000]
    meta = ws.examples(["row_id", "example_id", "label", "dataset"], row_ids=shown)
    meta["excerpt"] = meta["row_id"].map(ws.excerpts(shown, max_chars=160).set_index("row_id")["excerpt"])
    pins = state.pins_frame(ws)
    pin_of = pd.Series(pins["pin"].to_numpy(), index=pins["row_id"].to_numpy(), dtype=object)
    meta["decision"] = meta["row_id"].map(pin_of).astype(object).fillna("none")
    if len(selected_ids) > len(shown):
        st.caption(f"The first {len(shown):,} of {len(selected_ids):,} selected rows:")
    st.dataframe(meta, hide_index=True, width="stretch",
                 column_config={"excerpt": st.column_config.TextColumn(width="large")})


map_view()
