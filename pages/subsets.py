"""Saved subsets page: every saved name and version of the workspace (the CLI's ``subset list`` / ``subset show``),
what each one is (ranking, budget, quota, pins frozen at a decision), whether it still gives the rows it was saved
with, the difference between two versions, and Open on Select / Hide. The helpers live in pages/saved.py."""
from __future__ import annotations

import streamlit as st

from curation.core.errors import CurationError
from curation.subsets import saved as ss
from pages import formatting as fm, saved, state, widgets

ws = widgets.header("Saved subsets", "Named, versioned subsets kept in this workspace: shared by every session, "
                    "the CLI (`python -m curation subset list`) and exports. A version never changes; saving a "
                    "name again adds a version; hiding keeps the history.")
P = str(ws.path)

show_hidden = st.toggle("Show hidden names", key="subsets:hidden")
names = ss.listing(ws, include_hidden=show_hidden)
names["note"] = names["note"].fillna("")
if names.empty:
    st.info("No saved subset yet. Choose a ranking and a budget on the Select page and use **Save as…** there "
            "(or `python -m curation subset save NAME --ranking ... --budget-pct 10`).", icon=":material/info:")
    widgets.link("pages/select.py", "Go to Select", icon=":material/checklist:")
    st.stop()

st.dataframe(names, hide_index=True, width="stretch", key="subsets:names",
             column_config={"rows": st.column_config.NumberColumn(format="localized"),
                            "tokens": st.column_config.NumberColumn(format="localized"),
                            "at": st.column_config.DatetimeColumn("saved at", format="YYYY-MM-DD HH:mm"),
                            "note": st.column_config.TextColumn(width="large")})

refs = ss.all_refs(ws, include_hidden=show_hidden)
o = saved.open_ref()
if st.session_state.get("subsets:ref") not in refs:
    st.session_state["subsets:ref"] = o if o in refs else refs[0]
ref = st.selectbox("Version", refs, key="subsets:ref", help="NAME@VERSION, newest version first within a name")
try:
    v = saved.load_ref(ws, ref)
except CurationError as exc:
    st.error(fm.md_escape(str(exc)))
    st.stop()

sp = v.spec
m = st.columns(4)
m[0].metric("Rows", fm.fmt_int(v.n_rows), help="When it was saved")
m[1].metric("Tokens", fm.fmt_int(v.n_tokens))
m[2].metric("Pins frozen at", f"#{v.decision_pos:,}", help="Position in the decision log when it was saved")
m[3].metric("Newer pin decisions", fm.fmt_int(ss.newer_decisions(ws, v)), help="Pins made after it was saved "
            "(not in it; Save as new version on Select includes them)")
note = f" — {fm.md_escape(v.note)}" if v.note else ""
st.caption(f"**{fm.md_escape(v.ref)}** saved by {fm.md_escape(v.who)} at {v.at:%Y-%m-%d %H:%M}{note}"
           + (" (hidden)" if v.hidden else ""))
st.markdown(f"Budget **{fm.md_escape(ss._fmt_budget(sp))}** · class quota **{fm.md_escape(ss._fmt_quota(sp))}** · "
            f"class column **{fm.md_escape(sp.label_column)}** · datasets "
            f"**{fm.md_escape(', '.join(sp.datasets) if sp.datasets else 'all')}** · ranking:")
st.code(sp.ranking or "", language=None, wrap_lines=True)  # the full key, wrapped: it is long
try:
    dr = saved.saved_drift(P, state.stamp(ws), v.ref)
except CurationError as exc:
    dr = str(exc)
if dr:
    st.warning(fm.md_escape(dr), icon=":material/sync_problem:")
else:
    st.success("It still gives the rows it was saved with.", icon=":material/check_circle:")


def _open() -> None:
    saved.load_into_draft(v)


c1, c2, _ = st.columns([1.3, 1.3, 3])
if c1.button("Open on Select", key="subsets:open", type="primary", icon=":material/checklist:", on_click=_open):
    widgets.go_to("pages/select.py")
with c2.popover("Hide…", icon=":material/visibility_off:", disabled=v.hidden):
    st.caption(f"Hide **{fm.md_escape(v.name)}** (all its versions) from the lists. Nothing is deleted: "
               f"`{fm.md_escape(v.ref)}` still opens it.")
    if st.button("Hide", key="subsets:hide"):
        ss.hide(ws, v.name, who=state.curator())
        st.session_state.pop("subsets:ref", None)
        st.rerun()

# ------------------------------------------------------------------------------------------------ compare
st.subheader("Compare with another version", anchor=False)
others = [r for r in refs if r != v.ref]
if not others:
    st.caption("Only one saved version: save another one to compare.")
    st.stop()
same = [r for r in others if ss.parse_ref(r)[0] == v.name]
other = st.selectbox("Compare with", others, index=others.index(same[0]) if same else 0, key="subsets:other")
try:
    d = saved.saved_diff(P, state.stamp(ws), other, v.ref)
except CurationError as exc:
    st.error(fm.md_escape(str(exc)))
    st.stop()
c = st.columns(4)
c[0].metric(f"Rows in {other}", fm.fmt_int(d.n_a))
c[1].metric(f"Rows in {v.ref}", fm.fmt_int(d.n_b), delta=f"{d.n_b - d.n_a:+,}")
c[2].metric("Added", fm.fmt_int(len(d.added)))
c[3].metric("Removed", fm.fmt_int(len(d.removed)))
if d.steps:
    st.caption("What differs in the spec: " + fm.md_escape("; ".join(ss.step_text(s) for s in d.steps)))
st.dataframe(saved.diff_frames(d), hide_index=True, width="stretch", key="subsets:diff")
st.caption("The Balance page compares their report cards side by side.")
