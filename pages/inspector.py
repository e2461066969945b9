"""Inspect page: one example in full (prompt, response, or chosen/rejected side by side), its scores, nearest
neighbours, duplicate group and why the current selection keeps or drops it; pin, unpin, tag and note from here.
All dataset text is shown literally (never as HTML or markdown)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from curation.core.errors import CurationError
from curation.select import explain
from pages import formatting as fm, saved, state, widgets

ws = widgets.header("Inspect")
P = str(ws.path)
S = state.stamp(ws)
MODEL = state.MODEL
meta = widgets.require_examples(P, S)

row_ids = meta["row_id"].to_numpy()
cur = st.session_state.get(state.K_INSPECT)
if cur is None or int(cur) not in set(row_ids.tolist()):
    cur = int(row_ids[0])

# ------------------------------------------------------------------------------------------------ choose
def _find_example_id() -> None:
    """The example-id box: jump to that example and clear the box (so Previous/Next keep working)."""
    want = str(st.session_state.get("inspect:eid") or "").strip()
    if not want:
        return
    hit = meta.loc[meta["example_id"] == want, "row_id"]
    if hit.empty:
        st.session_state["inspect:not_found"] = want
    else:
        st.session_state[state.K_INSPECT] = int(hit.iloc[0])
        st.session_state.pop("inspect:not_found", None)
    st.session_state["inspect:eid"] = ""


c1, c2, c3, c4 = st.columns([2, 3, 1, 1], vertical_alignment="bottom")
rid = int(c1.number_input("Row id", min_value=int(row_ids.min()), max_value=int(row_ids.max()), value=int(cur),
                          step=1, key=f"inspect:row_w:{cur}"))
c2.text_input("…or example id", key="inspect:eid", placeholder="paste an example_id and press Enter",
              on_change=_find_example_id)
if st.session_state.get("inspect:not_found"):
    st.warning("No example with the id you typed.")
pos = int(np.searchsorted(row_ids, rid))
if c3.button("Previous", key="inspect:prev", icon=":material/chevron_left:", disabled=pos <= 0):
    st.session_state[state.K_INSPECT] = int(row_ids[max(pos - 1, 0)])
    st.rerun()
if c4.button("Next", key="inspect:next", icon=":material/chevron_right:", disabled=pos >= len(row_ids) - 1):
    st.session_state[state.K_INSPECT] = int(row_ids[min(pos + 1, len(row_ids) - 1)])
    st.rerun()
if rid != cur:
    st.session_state[state.K_INSPECT] = rid
    st.rerun()
_hits = st.session_state.get("inspect:hits") or []  # search hits sent from the Search page: step through them
if _hits:
    _at = _hits.index(rid) if rid in _hits else -1
    h1, h2, h3, h4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    h1.caption(f"Search hit {_at + 1:,} of {len(_hits):,}" if _at >= 0 else f"{len(_hits):,} search hits (this row "
               "is not one)")
    for col, label, step in ((h2, "Previous hit", -1), (h3, "Next hit", 1)):
        nxt = _hits[min(max(_at + step, 0), len(_hits) - 1)] if _at >= 0 else _hits[0]
        if col.button(label, key=f"inspect:hit{step}", disabled=_at >= 0 and nxt == rid):
            st.session_state[state.K_INSPECT] = int(nxt)
            st.rerun()
    if h4.button("Stop", key="inspect:hits_off"):
        st.session_state.pop("inspect:hits", None)
        st.rerun()
try:
    ex = ws.example(int(rid))
except CurationError as exc:
    st.error(str(exc))
    st.stop()

st.session_state[state.K_INSPECT] = int(rid)
example_id = str(ex["example_id"])
pins = ws.pins()
prow = pins[pins["example_id"] == example_id]
pin = str(prow.iloc[0]["pin"]) if len(prow) else "none"
tags = ws.tags()
my_tags = tags.loc[tags["example_id"] == example_id, "tag"].tolist()

m = st.columns(5)
m[0].metric("Row", fm.fmt_int(ex["row_id"]))
m[1].metric("Dataset", str(ex["dataset"]))
m[2].metric("Kind", str(ex["kind"]))
m[3].metric("Tokens", fm.fmt_int(ex.get("n_tokens")))
m[4].metric("Pin", pin, help="include = always in the subset; exclude = never; none = the ranking decides")
st.caption("Example id")
st.code(example_id, language=None)
st.caption("Label")
st.text(str(ex.get("label")) if ex.get("label") is not None and not pd.isna(ex.get("label")) else "(none)")
if my_tags:
    st.caption("Tags")
    st.text(", ".join(my_tags))

# ------------------------------------------------------------------------------------------------ the text
st.subheader("Content")
kind = ex["kind"]
if kind == "preference":
    widgets.show_text("Prompt", ex.get("prompt"))
    a, b = st.columns(2)
    with a:
        widgets.show_text("Chosen", ex.get("chosen"))
    with b:
        widgets.show_text("Rejected", ex.get("rejected"))
elif kind == "chat" and isinstance(ex.get("messages"), list):
    for i, msg in enumerate(ex["messages"]):
        role = msg.get("role", "?") if isinstance(msg, dict) else "?"
        content = msg.get("content", "") if isinstance(msg, dict) else msg
        widgets.show_text(f"{i + 1}. {role}", content)
else:
    widgets.show_text("Prompt", ex.get("prompt"))
    if kind != "prompt":
        widgets.show_text("Response", ex.get("response"))
with st.expander("Original record (JSON)"):
    st.code(json.dumps(ex.get("record"), indent=2, ensure_ascii=False), language="json", wrap_lines=True)

# ------------------------------------------------------------------------------------------------ decisions
st.subheader("Your decision")
why = st.text_input("Why (optional)", key="inspect:why", placeholder="e.g. truncated answer")
a = st.columns(3)
if a[0].button("Always include", key="inspect:include", icon=":material/add_circle:", type="primary",
               disabled=pin == "include"):
    ws.add_decisions([example_id], "include", who=state.curator(), why=why or None)
    st.rerun()
if a[1].button("Never include", key="inspect:exclude", icon=":material/remove_circle:", disabled=pin == "exclude"):
    ws.add_decisions([example_id], "exclude", who=state.curator(), why=why or None)
    st.rerun()
if a[2].button("Unpin", key="inspect:unpin", icon=":material/undo:", disabled=pin == "none"):
    ws.add_decisions([example_id], "unpin", who=state.curator(), why=why or None)
    st.rerun()
t = st.columns([2, 1, 2, 1], vertical_alignment="bottom")
new_tag = t[0].text_input("Add a tag", key="inspect:tag")
if t[1].button("Tag", key="inspect:tag_btn", disabled=not new_tag.strip()):
    ws.add_decisions([example_id], "tag", who=state.curator(), value=new_tag.strip(), why=why or None)
    st.rerun()
rm = t[2].selectbox("Remove a tag", my_tags or ["(no tags)"], key="inspect:untag", disabled=not my_tags)
if t[3].button("Untag", key="inspect:untag_btn", disabled=not my_tags):
    ws.add_decisions([example_id], "untag", who=state.curator(), value=rm)
    st.rerun()
note = st.text_area("Note", key="inspect:note", height=80)
if st.button("Save note", key="inspect:note_btn", disabled=not note.strip()):
    ws.add_decisions([example_id], "note", who=state.curator(), value=note.strip())
    st.rerun()
log = ws.decisions(example_id)
if len(log):
    st.caption("Decision log for this example (newest last)")
    st.dataframe(log[["id", "action", "value", "who", "why", "at", "undoes"]], hide_index=True, width="stretch")
    last = int(log.iloc[-1]["id"])
    if st.button(f"Undo decision #{last}", key="inspect:undo", icon=":material/undo:"):
        ws.undo_decision(last, who=state.curator())
        st.rerun()

# ------------------------------------------------------------------------------------------------ why in / out
st.subheader("Why selected or dropped")
sub = state.current_subset(ws)
if sub is None:
    st.caption("No ranking yet — compute one on the Select page.")
else:
    ranking, chosen = sub
    _, exc = state.pin_arrays(ws)
    try:
        e = explain(ws, ranking, chosen, int(rid), model=MODEL, pins_exclude=exc)
        (st.success if e["selected"] else st.warning)(
            f"{'Selected' if e['selected'] else 'Dropped'} by `{ranking.method}` at a budget of "
            f"{len(chosen):,}: {e['reason']}.")
        if e.get("gains_meaning") and e.get("gains_meaning") != "none":
            st.caption(f"Gain = {e['gains_meaning']}.")
        if e.get("nearest_selected") is not None and not e["selected"]:
            ns = int(e["nearest_selected"])
            st.caption(f"Nearest selected example: row {ns} (cosine {e['similarity']:.3f})")
            st.text(str(state.load_excerpts(P, S).get(ns, "")))
    except CurationError as exc_:
        st.info(str(exc_))

saved.why_between_versions(ws, int(rid))

# ------------------------------------------------------------------------------------------------ scores
st.subheader("Scores")
defs = state.load_score_defs(P, S)
if defs.empty:
    st.caption("No scores yet — run Score / Analyze on the Data page.")
else:
    tbl = state.load_scores(P, S, tuple(defs["key"]))
    r = tbl[tbl["row_id"] == rid]
    if len(r):
        vals = r.iloc[0]
        rows = []
        for d in defs.itertuples():
            v = vals.get(d.key)
            col = tbl[d.key].to_numpy(np.float64)
            pct = float(np.mean(col[np.isfinite(col)] <= v)) if v is not None and np.isfinite(v) else np.nan
            rows.append({"score": d.key, "value": v, "percentile": pct,
                         "direction": fm.direction_text(d.higher_is_better),
                         "meaning": d.description or ""})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"value": st.column_config.NumberColumn(format="%.4g"),
                                    "percentile": st.column_config.ProgressColumn(min_value=0, max_value=1,
                                                                                  format="percent")})

# ------------------------------------------------------------------------------------------------ neighbours
st.subheader("Nearest neighbours")
g = state.load_graph(P, S, MODEL)
if g is None:
    st.caption("No neighbour graph — run Analyze on the Data page.")
else:
    p = int(np.searchsorted(g.row_ids, rid))
    if p >= len(g.row_ids) or g.row_ids[p] != rid:
        st.caption("This example has no embedding yet.")
    else:
        nb = g.row_ids[g.idx[p]]
        exc_s = state.load_excerpts(P, S)
        pin_of = dict(zip(pins["row_id"], pins["pin"]))
        nd = pd.DataFrame({"row_id": nb, "similarity": g.sim[p].astype(float),
                           "pin": [pin_of.get(int(x), "") for x in nb],
                           "excerpt": [exc_s.get(int(x), "") for x in nb]})
        ev = st.dataframe(nd, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                          key="inspect:nbrs",
                          column_config={"similarity": st.column_config.NumberColumn(format="%.3f")})
        sel = ev.selection.rows if ev is not None and hasattr(ev, "selection") else []
        if sel:
            st.session_state[state.K_INSPECT] = int(nd.iloc[sel[0]]["row_id"])
            st.rerun()

# ------------------------------------------------------------------------------------------------ duplicates
st.subheader("Duplicate group")
groups = {what: state.load_duplicate_groups(P, S, exact) for exact, what in
          ((True, "exact duplicates (same content)"), (False, "near duplicates"))}
if all(g is None for g in groups.values()):
    st.caption("No duplicate detection yet — run Analyze on the Data page.")
else:
    shown = False
    for what, grp in groups.items():
        if grp is None:
            continue
        mine = grp.loc[grp["row_id"] == rid, "group"]
        if mine.empty:
            continue
        members = grp[grp["group"] == mine.iloc[0]]
        rep = members.loc[members["is_rep"] > 0, "row_id"]
        shown = True
        st.caption(f"{len(members)} {what}; the group's representative is row "
                   f"{int(rep.iloc[0]) if len(rep) else int(mine.iloc[0])}")
        exc_s = state.load_excerpts(P, S)
        st.dataframe(pd.DataFrame({"row_id": members["row_id"].to_numpy(),
                                   "representative": members["is_rep"].to_numpy() > 0,
                                   "excerpt": [exc_s.get(int(x), "") for x in members["row_id"]]}),
                     hide_index=True, width="stretch", key=f"inspect:dup:{what}")
    if not shown:
        st.caption("No duplicate of this example was found.")
