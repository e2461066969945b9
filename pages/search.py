"""Search page: find examples by words (BM25, phrases, AND / OR / NOT), pattern (substring or regular expression) or
meaning (embedding cosine; more like the map selection or the pinned rows), see every hit with the match
highlighted (dataset text escaped; only the highlight is markup), act on all N hits at once (pin exclude / include,
unpin, tag) with a preview and a one-step undo, save the search as a column (a slice every page can use) and step
through the hits in Inspect."""
from __future__ import annotations

import html

import numpy as np
import streamlit as st

from curation.core.errors import CurationError
from curation.search import SearchSpec, actions, save_search, saved_searches, search
from curation.search.highlight import match_spans, snippet_html
from curation.store.search import SEARCH_FIELDS
from pages import formatting as fm, state, widgets

K_HITS = "search:hits"            # list[int]: every row id of the current search (Map colour, Inspect stepping)
K_LAST = "search:last_batch"      # list[int]: decision ids of the last bulk action from this page

ws = widgets.header("Search", "Find examples by what they say: words (ranked, \"phrases\", a AND NOT b), a pattern "
                    "(text or regular expression) or meaning. Act on every hit at once, save the search as a column "
                    "for the Map, Select, Balance, the audit and Export, or step through the hits in Inspect.")
P = str(ws.path)
S = state.stamp(ws)
if state.by_file_token(P, "n_examples", ws.n_examples) == 0:   # no 1M-row metadata copy on every query
    widgets.require_examples(P, S)                              # the empty state (stops the page)

# ------------------------------------------------------------------------------------------------ the query
c1, c2, c3 = st.columns([4, 1.3, 1.3], vertical_alignment="bottom")
query = c1.text_input("Query", key="search:q", placeholder='e.g. "as an ai language model"  ·  recipe AND NOT '
                      'chicken  ·  medication dose')
mode = c2.selectbox("Mode", ["words", "pattern", "meaning", "filter"], key="search:mode",
                    help="words: ranked full-text search; pattern: substring or regular expression; meaning: "
                         "closest by embedding; filter: a SQL condition over the text, dataset, label, n_tokens "
                         "and every score or slice column (quote keys: \"search:NAME\" = 1)")
field = c3.selectbox("Field", ["any", "prompt", "response", "chosen", "rejected"], key="search:field",
                     help="response = the reply kept for training (an SFT response, a pair's chosen reply); "
                          "meaning search always uses the embedded text", disabled=mode == "meaning")
o1, o2, o3, o4 = st.columns(4, vertical_alignment="bottom")
regex = o1.checkbox("Regular expression", key="search:regex", disabled=mode != "pattern", help="RE2 syntax")
case = o2.checkbox("Match case", key="search:case", disabled=mode != "pattern")
threshold = o3.number_input("Min cosine (meaning)", min_value=-1.0, max_value=1.0, value=0.5, step=0.05,
                            key="search:thr", disabled=mode != "meaning",
                            help="a row matches when its cosine to the query is at least this")
limit = int(o4.number_input("Rows shown", min_value=10, max_value=1000, value=50, step=10, key="search:limit"))

like_src = st.radio("More like this", ["off", "the map selection", "pinned include", "pinned exclude"],
                    horizontal=True, key="search:like",
                    help="Rank every row by closeness in meaning to the mean of these rows (they are left out).")


@st.cache_data(show_spinner=False, max_entries=32)
def run_search(path: str, data_stamp: str, spec: dict, seeds: tuple[int, ...]) -> dict:
    """Every hit of one search (row ids best first, scores, count), cached per data version."""
    w = state.workspace()
    if seeds:
        from curation.search.meaning import more_like_this

        rows, sc, n = more_like_this(w, list(seeds), threshold=spec["threshold"], limit=None)
        return {"rows": rows, "scores": sc, "n": n}
    res = search(w, SearchSpec.from_dict(spec), limit=None)
    return {"rows": res.row_ids, "scores": res.scores, "n": res.n_matches}


seeds: tuple[int, ...] = ()
if like_src == "the map selection":
    seeds = tuple(int(r) for r in (st.session_state.get(state.K_MAP_SELECTION) or []))
elif like_src.startswith("pinned"):
    pins = state.pins_frame(ws)
    seeds = tuple(int(r) for r in pins.loc[pins["pin"] == like_src.split()[1], "row_id"])
if like_src != "off" and not seeds:
    st.info(f"Nothing to start from: {like_src} is empty.", icon=":material/info:")
    st.stop()
if not seeds and not (query or "").strip():
    st.caption("Type a query to search. Saved searches:")
else:
    spec = SearchSpec(query=query if not seeds else "(more like this)", mode="meaning" if seeds else mode,
                      field=field, regex=regex, case_sensitive=case,
                      threshold=float(threshold) if (mode == "meaning" or seeds) else None)
    try:
        with st.spinner("Searching…"):
            got = run_search(P, S, spec.as_dict(), seeds)
    except CurationError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    hits = np.asarray(got["rows"], dtype=np.int64)
    st.session_state[K_HITS] = hits.tolist()
    st.subheader(f"{fm.fmt_int(got['n'])} matching rows")
    if not len(hits):
        st.caption("No row matches. Try fewer words, OR between words, or pattern mode.")
    else:
        # ---------------------------------------------------------------------------------------- results
        shown = hits[:limit]
        cols = list(SEARCH_FIELDS[spec.field])
        tx = ws.field_texts(shown, cols)
        pins = state.pins_frame(ws)
        pin_of = dict(zip(pins["row_id"].astype(int), pins["pin"]))
        body = []
        for i, r in enumerate(tx.itertuples(index=False)):
            where, spans, text = None, [], ""
            for c in cols:
                t = getattr(r, c)
                if isinstance(t, str) and t:
                    sp = match_spans(t, spec.query, mode=spec.mode, regex=spec.regex,
                                     case_sensitive=spec.case_sensitive)
                    if where is None or sp:
                        where, spans, text = c, sp, t
                    if sp:
                        break
            body.append(
                f"<tr><td>{i + 1}</td><td>{int(r.row_id)}</td><td>{html.escape(str(r.dataset))}</td>"
                f"<td>{float(got['scores'][i]):.3f}</td><td>{html.escape(str(where or ''))}</td>"
                f"<td>{html.escape(pin_of.get(int(r.row_id), ''))}</td>"
                f"<td class='snip'>{snippet_html(text, spans)}</td></tr>")
        st.html(
            "<style>.srch{border-collapse:collapse;width:100%;font-size:0.85rem}.srch td,.srch th{border-bottom:1px "
            "solid #e6e6e6;padding:4px 6px;text-align:left;vertical-align:top}.srch mark{background:#ffe08a;"
            "padding:0 1px}.srch .snip{white-space:normal}</style><div style='max-height:520px;overflow:auto'>"
            "<table class='srch'><thead><tr><th>#</th><th>row</th><th>dataset</th><th>score</th><th>field</th>"
            f"<th>pin</th><th>match</th></tr></thead><tbody>{''.join(body)}</tbody></table></div>")
        if len(hits) > len(shown):
            st.caption(f"Showing the first {len(shown):,} of {len(hits):,} (best first). Bulk actions act on all "
                       f"{len(hits):,}.")

        # ---------------------------------------------------------------------------------------- act on all N
        st.subheader(f"Act on all {fm.fmt_int(len(hits))} hits")
        a1, a2, a3 = st.columns([1.4, 1.4, 3], vertical_alignment="bottom")
        labels = {"exclude": "Pin exclude", "include": "Pin include", "unpin": "Unpin", "tag": "Tag"}
        act = a1.selectbox("Action", list(labels), format_func=labels.get, key="search:act")
        tag = a2.text_input("Tag", key="search:tag", disabled=act != "tag", placeholder="e.g. disclaimer")
        why = a3.text_input("Why (saved with each decision)", key="search:why",
                            value=f"search: {spec.query}"[:120])
        if act == "tag" and not tag.strip():
            st.caption("Type a tag to tag all hits.")
        else:
            pv = actions.preview(ws, hits, act, value=tag.strip() or None, pins=pins,
                                 tags=state.by_file_token(P, "tags", ws.tags) if act == "tag" else None)
            detail = ""
            if "from_include" in pv and pv["change"]:
                detail = (f"; of those, {fm.fmt_int(pv['from_none'])} are unpinned, {fm.fmt_int(pv['from_include'])} "
                          f"pinned include and {fm.fmt_int(pv['from_exclude'])} pinned exclude now")
            st.markdown(f"**Preview:** {labels[act].lower()} changes **{fm.fmt_int(pv['change'])}** of "
                        f"{fm.fmt_int(pv['rows'])} rows ({fm.fmt_int(pv['unchanged'])} already so){detail}.")
            if st.button(f"{labels[act]} {fm.fmt_int(pv['change'])} rows", key="search:apply", type="primary",
                         disabled=pv["change"] == 0, icon=":material/done_all:"):
                new = actions.apply(ws, hits, act, who=state.curator(), why=why.strip() or None,
                                    value=tag.strip() or None)
                st.session_state[K_LAST] = new
                st.session_state["search:feedback"] = f"Recorded {len(new):,} {act} decisions. Undo takes them back."
                st.rerun()
        last = st.session_state.get(K_LAST) or []
        u1, u2 = st.columns([1, 3], vertical_alignment="bottom")
        if u1.button(f"Undo last bulk action ({len(last):,})", key="search:undo", disabled=not last,
                     icon=":material/undo:"):
            n = len(actions.undo(ws, last, who=state.curator()))
            st.session_state[K_LAST] = []
            st.session_state["search:feedback"] = f"Undone: {n:,} decisions reverted in one step."
            st.rerun()
        fb = st.session_state.pop("search:feedback", None)
        if fb:
            u2.success(fb, icon=":material/check:")

    # -------------------------------------------------------------------------------------------- step / save
    s1, s2, s3 = st.columns([1.2, 2, 1.2], vertical_alignment="bottom")
    if s1.button("Step through in Inspect", key="search:inspect", icon=":material/search:", disabled=not len(hits)):
        st.session_state["inspect:hits"] = hits.tolist()
        st.session_state[state.K_INSPECT] = int(hits[0])
        widgets.go_to("pages/inspector.py")
    name = s2.text_input("Save as (a column: Map colour, Select quota, Balance, audit, Export filter)",
                         key="search:name", placeholder="e.g. disclaimer")
    if s3.button("Save search", key="search:save", disabled=bool(seeds) or not name.strip(),
                 icon=":material/bookmark_add:", help="More-like-this results cannot be saved; save a query instead."):
        try:
            with st.spinner("Saving…"):
                out = save_search(ws, name.strip(), spec)
            st.success(f"Saved **{fm.md_escape(out['name'])}**: {out['n_matches']:,} rows flagged in column "
                       f"`{out['key']}`; it re-runs when data is added.", icon=":material/bookmark:")
        except CurationError as exc:
            st.error(str(exc))

    # -------------------------------------------------------------------------------------------- concept
    with st.expander("Concept: teach the curator model this idea from these hits"):
        from curation.search import concepts as C

        st.caption("Tag hits as positive or negative examples of a concept, train the curator model on them, review "
                   "the rows it is least sure about in Inspect (tag them concept:NAME or concept:NAME:not there) "
                   "and retrain. P(concept) is kept as a column with its cross-validated accuracy.")
        k1, k2, k3, k4 = st.columns([1.6, 1.2, 1.2, 1], vertical_alignment="bottom")
        cname = k1.text_input("Concept name", key="search:concept", placeholder="e.g. dosage")
        try:
            if k2.button(f"Add {len(hits):,} hits as positives", key="search:c_pos",
                         disabled=not cname.strip() or not len(hits)):
                st.session_state[K_LAST] = C.add_rows(ws, cname.strip(), hits, positive=True, who=state.curator())
            if k3.button(f"Add {len(hits):,} hits as negatives", key="search:c_neg",
                         disabled=not cname.strip() or not len(hits)):
                st.session_state[K_LAST] = C.add_rows(ws, cname.strip(), hits, positive=False, who=state.curator())
            if k4.button("Train", key="search:c_train", disabled=not cname.strip(), type="primary"):
                with st.spinner("Training the curator model on the concept…"):
                    out = C.train_concept(ws, cname.strip())
                st.success(f"Concept **{fm.md_escape(cname.strip())}**: CV accuracy "
                           f"{fm.fmt_num(out['cv_accuracy'])}, ROC AUC {fm.fmt_num(out['cv_auc'])} on "
                           f"{out['n_train']} tagged rows; column `{out['key']}`.")
            if st.button("Review the least sure rows in Inspect", key="search:c_review", disabled=not cname.strip()):
                prop = C.proposals(ws, cname.strip(), 20)
                st.session_state["inspect:hits"] = prop["row_id"].astype(int).tolist()
                st.session_state[state.K_INSPECT] = int(prop["row_id"].iloc[0])
                widgets.go_to("pages/inspector.py")
        except CurationError as exc:
            st.error(str(exc))
        cdf = state.by_file_token(P, "concepts", lambda: C.concepts(ws))
        if len(cdf):
            st.dataframe(cdf, hide_index=True, width="stretch")

saved = state.by_file_token(P, "saved_searches", lambda: saved_searches(ws))
if not saved.empty:
    st.subheader("Saved searches")
    st.dataframe(saved[["name", "n_matches", "mode", "field", "query", "key"]], hide_index=True, width="stretch",
                 column_config={"n_matches": st.column_config.NumberColumn("rows flagged")})
    d1, d2 = st.columns([2, 1], vertical_alignment="bottom")
    gone = d1.selectbox("Delete a saved search", ["—"] + saved["name"].tolist(), key="search:del")
    if d2.button("Delete", key="search:del_btn", disabled=gone == "—"):
        ws.delete_saved_search(gone)
        st.rerun()
elif not (query or "").strip() and not seeds:
    st.caption("None yet.")
