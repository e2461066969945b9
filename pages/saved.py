"""Saved subsets in the dashboard: open / save / save as on Select, pickers for Map, Balance, Inspect and Export,
and cached reads.

* Session state holds only which saved subset is open (:data:`pages.state.K_OPEN_SUBSET`, ``"NAME@VERSION"``);
  the subset itself lives in the workspace, so every session, a restarted server and the CLI see the same ones.
* A saved version never changes (its pins are frozen), so its spec is cached by (workspace, name, version) and its
  rows by (workspace, data stamp, name, version): opening one costs nothing after the first time. The list of saved
  names is read fresh (one small query), so a save in another session shows at the next rerun.
* Saving is explicit (a button); nothing here runs when the budget slider moves except :func:`draft_status`, which
  compares two in-memory specs.
* Names and notes are the curators' own text: they are shown through ``md_escape`` or in tables, never as HTML.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from curation.subsets import saved as ss
from curation.core.errors import CurationError
from curation.subsets.saved import SavedSubset, SubsetDiff
from curation.store import Workspace
from curation.subsets.spec import SubsetSpec
from pages import formatting as fm, state

DRAFT = "draft (the budget on Select, unsaved)"
DRAFT_OPT = "\x00draft"  # the draft's option value in selectboxes (None would show as an empty selection)
_SELECT_WIDGETS = ("select:ranking_w", "select:unit_w", "select:budget:rows", "select:budget:pct",
                   "select:budget:tokens", "select:quota_w", "select:quota_table")
_FLASH = "saved:flash"


# ---------------------------------------------------------------------------------------------- cached reads
@st.cache_data(show_spinner=False, max_entries=256)
def load_version(path: str, name: str, version: int) -> SavedSubset:
    """One saved version (immutable, so cached for the life of the server)."""
    return ss.load(state.workspace_at(path), (name, int(version)))


def load_ref(ws: Workspace, ref: str) -> SavedSubset:
    """A saved version from ``NAME@VERSION`` (cached) or ``NAME`` (its newest version, read fresh)."""
    name, version = ss.parse_ref(ref)
    if version is None:
        return ss.load(ws, name)
    return load_version(str(ws.path), name, version)


@st.cache_data(show_spinner=False, max_entries=64)
def saved_rows(path: str, data_stamp: str, ref: str) -> np.ndarray:
    """Row ids of a saved version (its pins are frozen, so only the data stamp can change them)."""
    ws = state.workspace_at(path)
    return state.resolve_spec(ws, load_ref(ws, ref).spec).row_ids


@st.cache_data(show_spinner=False, max_entries=32)
def saved_diff(path: str, data_stamp: str, ref_a: str, ref_b: str) -> SubsetDiff:
    """:func:`curation.subsets.saved.diff` of two saved versions (cached: both are immutable)."""
    ws = state.workspace_at(path)
    return ss.diff(ws, load_ref(ws, ref_a), load_ref(ws, ref_b))


@st.cache_data(show_spinner=False, max_entries=64)
def saved_drift(path: str, data_stamp: str, ref: str) -> str | None:
    """:func:`curation.subsets.saved.drift` of a saved version (None: it still gives the rows it was saved with)."""
    ws = state.workspace_at(path)
    v = load_ref(ws, ref)
    return ss.drift(ws, v, state.resolve_spec(ws, v.spec))


def refs(ws: Workspace) -> list[str]:
    """Every visible saved version, ``NAME@VERSION``, newest version first within a name (read fresh)."""
    return ss.all_refs(ws)


def open_ref() -> str | None:
    v = st.session_state.get(state.K_OPEN_SUBSET)
    return str(v) if v else None


def membership_mask(ws: Workspace, ref: str, row_ids: np.ndarray | pd.Series) -> np.ndarray:
    """(len(row_ids),) bool: which rows are in the saved version ``ref`` (the Map's colour option)."""
    rows = saved_rows(str(ws.path), state.stamp(ws), ref)
    return np.isin(np.asarray(row_ids, dtype=np.int64), rows)


def _label(choice: str | None) -> str:
    return DRAFT if choice is None or choice == DRAFT_OPT else choice


# ---------------------------------------------------------------------------------------------- pickers
def pick(ws: Workspace, label: str, key: str, *, allow_draft: bool = True, exclude: str | None = None,
         help: str | None = None, container: object = st) -> str | None:  # Streamlit's name
    """A selectbox of the draft (None) and every saved version; defaults to the subset open on Select."""
    opts = ([DRAFT_OPT] if allow_draft else []) + [r for r in refs(ws) if r != exclude]
    if not opts:
        return None
    cur = st.session_state.get(key, "__unset__")
    if cur != "__unset__" and cur not in opts:
        st.session_state.pop(key, None)
    o = open_ref()
    index = opts.index(o) if o in opts else 0
    got = container.selectbox(label, opts, index=index, key=key, format_func=_label, help=help)
    return None if got == DRAFT_OPT else got


def rows_of(ws: Workspace, choice: str | None) -> tuple[str, str | None, np.ndarray] | None:
    """(title, ranking key, row ids) of the draft (None) or a saved version; None when there is no draft yet."""
    if choice is None:
        sub = state.current_subset(ws)
        if sub is None:
            return None
        return "draft", sub[0].method, sub[1]
    saved = load_ref(ws, choice)
    return choice, saved.spec.ranking, saved_rows(str(ws.path), state.stamp(ws), choice)


def draft_spec(ws: Workspace) -> SubsetSpec | None:
    """The Select page's draft as a spec; when a saved version is open, its dataset restriction and class column
    (which the Select page does not edit) are kept."""
    spec = state.current_spec(ws)
    o = open_ref()
    if spec is None or o is None:
        return spec
    try:
        s = load_ref(ws, o).spec
    except CurationError:
        return spec
    return spec.replace(datasets=s.datasets, label_column=s.label_column)


def diff_with_draft(ws: Workspace, a: str | None, b: str | None) -> SubsetDiff:
    """The diff of two choices (None = the draft, frozen at the current decision)."""
    if a is not None and b is not None:
        return saved_diff(str(ws.path), state.stamp(ws), a, b)
    side_a = load_ref(ws, a) if a is not None else draft_spec(ws)
    side_b = load_ref(ws, b) if b is not None else draft_spec(ws)
    if side_a is None or side_b is None:
        raise CurationError("no draft yet: choose a ranking and a budget on the Select page")
    return ss.diff(ws, side_a, side_b, label_a=None if a else "draft", label_b=None if b else "draft")


# ---------------------------------------------------------------------------------------------- Select page
def load_into_draft(saved: SavedSubset) -> None:
    """Put a saved version's ranking, budget and quota into the Select page's view state (widgets re-created)."""
    st.session_state[state.K_OPEN_SUBSET] = saved.ref
    sp = saved.spec
    st.session_state[state.K_RANKING] = sp.ranking
    st.session_state[state.K_BUDGET_UNIT] = sp.unit
    st.session_state[state.K_BUDGET_VALUE] = float(sp.budget) if sp.budget is not None else 100.0
    if sp.budget is None:
        st.session_state[state.K_BUDGET_UNIT] = "%"
    st.session_state[state.K_QUOTA] = sp.quota
    for k in _SELECT_WIDGETS:
        st.session_state.pop(k, None)


def _on_open(ws: Workspace) -> None:
    choice = st.session_state.get("saved:open_w")
    if choice is None or choice == DRAFT_OPT:
        st.session_state[state.K_OPEN_SUBSET] = None
        return
    try:
        load_into_draft(load_ref(ws, choice))
    except CurationError as exc:
        st.session_state[_FLASH] = ("error", str(exc))


def _save(ws: Workspace, name: str, spec: SubsetSpec | None, note: str | None) -> None:
    if spec is None:
        st.session_state[_FLASH] = ("error", "nothing to save yet: choose a ranking and a budget first")
        return
    try:
        v = ss.save(ws, name, spec, who=state.curator(), note=note)
    except CurationError as exc:
        st.session_state[_FLASH] = ("error", str(exc))
        return
    load_into_draft(v)
    st.session_state[_FLASH] = ("success", f"Saved {v.ref}: {v.n_rows:,} rows, {v.n_tokens:,} tokens.")


def _on_save(ws: Workspace) -> None:
    o = open_ref()
    if o is None:
        st.session_state[_FLASH] = ("error", "no saved subset is open: use Save as… to name this one")
        return
    _save(ws, ss.parse_ref(o)[0], draft_spec(ws), st.session_state.get("saved:note") or None)


def _on_save_as(ws: Workspace) -> None:
    name = st.session_state.get("saved:new_name") or ""
    spec = state.current_spec(ws)
    _save(ws, name, spec, st.session_state.get("saved:new_note") or None)
    if st.session_state.get(_FLASH, ("",))[0] == "success":
        st.session_state["saved:new_name"] = ""
        st.session_state["saved:new_note"] = ""


def _on_resave(ws: Workspace, ref: str) -> None:
    saved = load_ref(ws, ref)
    _save(ws, saved.name, saved.spec.replace(pins_as_of=None), f"{ref} with the decisions made since")


def select_panel(ws: Workspace) -> None:
    """Open / Save / Save as… above the budget, and what the open version is (call before the ranking picker)."""
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        (st.success if flash[0] == "success" else st.error)(fm.md_escape(flash[1]))
    all_refs = refs(ws)
    o = open_ref()
    if o is not None and o not in all_refs:
        try:  # a hidden version, or one saved a moment ago by another session
            load_ref(ws, o)
            all_refs = [o, *all_refs]
        except CurationError:
            st.session_state[state.K_OPEN_SUBSET] = o = None
    opts = [DRAFT_OPT, *all_refs]
    if st.session_state.get("saved:open_w", "__unset__") != (o or DRAFT_OPT):
        st.session_state["saved:open_w"] = o or DRAFT_OPT  # the widget follows the open subset
    c1, c2, c3 = st.columns([3, 1.2, 1], vertical_alignment="bottom")
    c1.selectbox("Saved subset", opts, key="saved:open_w",
                 format_func=_label, on_change=_on_open, args=(ws,),
                 help="Open a saved version (its ranking, budget and quota fill the controls below), or keep "
                      "working on the unsaved draft. Saved subsets are shared by every session and the CLI; the "
                      "Saved subsets page lists them all.")
    nxt = None
    if o is not None:
        name = ss.parse_ref(o)[0]
        have = [int(r.rsplit("@", 1)[1]) for r in all_refs if r.rsplit("@", 1)[0] == name]
        nxt = max(have + [ss.parse_ref(o)[1] or 0]) + 1
    c2.button(f"Save version {nxt}" if nxt else "Save", key="saved:save", disabled=o is None, on_click=_on_save,
              args=(ws,), icon=":material/save:", width="stretch",
              help="Save the controls below as the next version of the open subset (older versions never change)")
    with c3.popover("Save as…", icon=":material/save_as:", width="stretch"):
        st.text_input("Name", key="saved:new_name", max_chars=ss.NAME_MAX,
                      help=f"At most {ss.NAME_MAX} characters, without '/', '\\' or '@'")
        st.text_input("Note (optional)", key="saved:new_note")
        st.button("Save", key="saved:save_as", type="primary", on_click=_on_save_as, args=(ws,))
    if o is None:
        st.caption("Unsaved draft: the controls below are kept in this browser tab only. Save it to share it and "
                   "to keep it across restarts (the **Saved subsets** page lists every saved one).")
        return
    try:
        saved = load_ref(ws, o)
    except CurationError as exc:
        st.error(fm.md_escape(str(exc)))
        return
    note = f" — {fm.md_escape(saved.note)}" if saved.note else ""
    st.caption(f"Open: **{fm.md_escape(saved.ref)}** — saved by {fm.md_escape(saved.who)} at "
               f"{saved.at:%Y-%m-%d %H:%M}, {saved.n_rows or 0:,} rows{note}. Its pins are frozen at decision "
               f"#{saved.decision_pos}; the figures below use the current pins.")
    dr = saved_drift(str(ws.path), state.stamp(ws), saved.ref)
    if dr:
        st.warning(fm.md_escape(dr), icon=":material/sync_problem:")
    newer = ss.newer_decisions(ws, saved)
    if newer:
        w1, w2 = st.columns([3, 1.4], vertical_alignment="center")
        w1.warning(f"{newer:,} pin decision(s) were made after {fm.md_escape(saved.ref)} was saved; it does "
                   "not include them.", icon=":material/update:")
        w2.button("Save as new version with current decisions", key="saved:resave", on_click=_on_resave,
                  args=(ws, saved.ref), icon=":material/update:")


def draft_status(ws: Workspace, spec: SubsetSpec) -> None:
    """One caption inside the budget fragment: does the draft still match the open version? (in-memory only)"""
    o = open_ref()
    if o is None:
        return
    try:
        saved = load_ref(ws, o)
    except CurationError:
        return
    a = saved.spec.replace(pins_as_of=None)
    b = spec.replace(datasets=a.datasets, label_column=a.label_column)
    if a == b:
        st.caption(f"Same ranking, budget and quota as {fm.md_escape(o)}.")
        return
    changed = [w for w, x, y in (("ranking", a.ranking, b.ranking), ("budget", (a.budget, a.unit), (b.budget, b.unit)),
                                 ("quota", a.quota, b.quota)) if x != y]
    st.caption(f"Changed since {fm.md_escape(o)}: {', '.join(changed)}. **Save** keeps it as a new version.")


# ---------------------------------------------------------------------------------------------- diff display
def diff_frames(d: SubsetDiff, *, max_rows: int = 500) -> pd.DataFrame:
    """Added and removed rows in one table (change, example_id, label, reason, detail), first ``max_rows``."""
    parts = []
    for what, df in (("added", d.added), ("removed", d.removed)):
        if len(df):
            x = df.head(max_rows)[["example_id", "label", "n_tokens", "reason", "detail"]].copy()
            x.insert(0, "change", what)
            parts.append(x)
    if not parts:
        return pd.DataFrame(columns=["change", "example_id", "label", "n_tokens", "reason", "detail"])
    return pd.concat(parts, ignore_index=True)


def compare_section(card_a: object, card_b: object, d: SubsetDiff, title_a: str, title_b: str) -> None:
    """Two report cards side by side (Balance page): headline numbers, every figure with the differences
    highlighted, the class shares of both, and the rows added and removed with their reasons."""
    import plotly.graph_objects as go

    from curation.diagnostics.compare import compare_cards

    ta, tb = fm.md_escape(title_a), fm.md_escape(title_b)
    st.subheader(f"{ta} → {tb}", anchor=False)
    m = st.columns(5)
    m[0].metric(f"Rows in {ta}", fm.fmt_int(d.n_a))
    m[1].metric(f"Rows in {tb}", fm.fmt_int(d.n_b), delta=f"{d.n_b - d.n_a:+,}")
    m[2].metric("Added", fm.fmt_int(len(d.added)), help=f"in {tb}, not in {ta}")
    m[3].metric("Removed", fm.fmt_int(len(d.removed)), help=f"in {ta}, not in {tb}")
    m[4].metric("Tokens", fm.fmt_int(d.tokens["b"]), delta=f"{d.tokens['change']:+,}")
    if d.steps:
        st.caption("What differs in the spec: " + fm.md_escape("; ".join(ss.step_text(s) for s in d.steps)))
    a1, a2 = st.columns(2)
    for col, card, t in ((a1, card_a, ta), (a2, card_b, tb)):
        with col:
            st.markdown(f"**Alerts — {t}**")
            if card.alerts:
                for x in card.alerts[:4]:
                    st.warning(fm.md_escape(x), icon=":material/warning:")
            else:
                st.success("No alert.", icon=":material/check_circle:")
    cmp = compare_cards(card_a, card_b)
    n_diff = int(cmp["differs"].sum())
    st.markdown(f"**Report cards side by side** — {n_diff} of {len(cmp)} figures differ (highlighted)")
    col_a, col_b = f"A · {title_a}", f"B · {title_b}"

    def fmt(section: str, v: float, *, sign: bool = False) -> str:
        if not np.isfinite(v):
            return "—"
        if sign and v == 0:
            return "0"
        if section == "class share":
            return f"{100 * v:+.1f} pts" if sign else f"{100 * v:.1f}%"
        if section == "size":
            return f"{int(v):+,}" if sign else f"{int(v):,}"
        return f"{v:+.4g}" if sign else f"{v:.4g}"

    shown = pd.DataFrame({
        "section": cmp["section"], "figure": cmp["figure"],
        col_a: [fmt(s_, v) for s_, v in zip(cmp["section"], cmp["a"])],
        col_b: [fmt(s_, v) for s_, v in zip(cmp["section"], cmp["b"])],
        "change": [fmt(s_, v, sign=True) for s_, v in zip(cmp["section"], cmp["change"])],
        "differs": cmp["differs"]})
    styled = shown.style.apply(
        lambda r: ["background-color: #fff3cd; font-weight: 600" if r["differs"] else "" for _ in r], axis=1)
    st.dataframe(styled, hide_index=True, width="stretch", key="saved:cmp_table", height=min(36 * (len(cmp) + 1), 720),
                 column_config={"differs": st.column_config.CheckboxColumn("differs")})
    ca = card_a.classes.set_index("label")["subset_share"] if len(card_a.classes) else pd.Series(dtype=float)
    cb = card_b.classes.set_index("label")["subset_share"] if len(card_b.classes) else pd.Series(dtype=float)
    labs = list(dict.fromkeys([*ca.index.tolist(), *cb.index.tolist()]))
    if labs:
        x = [fm.escape_hover(v) for v in labs]
        fig = go.Figure([go.Bar(name=fm.escape_hover(title_a), x=x, y=[ca.get(v, 0.0) for v in labs]),
                         go.Bar(name=fm.escape_hover(title_b), x=x, y=[cb.get(v, 0.0) for v in labs])])
        fig.update_layout(barmode="group", height=300, margin=dict(l=10, r=10, t=10, b=10),
                          yaxis=dict(tickformat=".0%", title="class share"))
        st.plotly_chart(fig, key="saved:cmp_classes")
    st.markdown(f"**Rows added and removed** ({len(d.added):,} added, {len(d.removed):,} removed)")
    rc = d.reason_counts()
    if rc["added"] or rc["removed"]:
        st.caption("Reasons: " + "; ".join(
            f"{what} — " + ", ".join(f"{n:,} {ss.REASONS.get(k, k)}" for k, n in c.items())
            for what, c in rc.items() if c))
    st.dataframe(diff_frames(d), hide_index=True, width="stretch", key="saved:cmp_rows")


_SIDE_REASON = {"include_pin": "kept by an include pin", "selected": "selected by the ranking within the budget",
                "exclude_pin": "left out by an exclude pin", "budget": "ranked below the budget (or over its quota)",
                "not_in_pool": "not in its pool (another dataset, or not in its ranking)"}


def why_between_versions(ws: Workspace, row_id: int) -> None:
    """Inspect page: is this row in saved version A and in B, and why it is in one and not the other."""
    all_refs = refs(ws)
    st.subheader("In saved subsets", anchor=False)
    if not all_refs:
        st.caption("No saved subset yet — save one on the Select page (or `python -m curation subset save`).")
        return
    o = open_ref()
    name = ss.parse_ref(o)[0] if o else ss.parse_ref(all_refs[0])[0]
    same = [r for r in all_refs if r.rsplit("@", 1)[0] == name]  # newest first
    default_b = o if o in all_refs else same[0]
    default_a = next((r for r in same if r != default_b), default_b)
    c1, c2 = st.columns(2)
    for key, default in (("inspect:saved_a", default_a), ("inspect:saved_b", default_b)):
        if st.session_state.get(key) not in all_refs:
            st.session_state[key] = default
    a = c1.selectbox("Version A", all_refs, key="inspect:saved_a")
    b = c2.selectbox("Version B", all_refs, key="inspect:saved_b")
    P, S = str(ws.path), state.stamp(ws)
    try:
        in_a = bool(np.isin(row_id, saved_rows(P, S, a)))
        in_b = bool(np.isin(row_id, saved_rows(P, S, b)))
        d = saved_diff(P, S, a, b) if a != b else None
    except CurationError as exc:
        st.error(fm.md_escape(str(exc)))
        return
    ea, eb = fm.md_escape(a), fm.md_escape(b)
    word = {True: "in", False: "not in"}
    if d is not None and in_a != in_b:
        df = d.removed if in_a else d.added
        hit = df[df["row_id"] == row_id]
        r = hit.iloc[0] if len(hit) else None
        reason = ss.REASONS.get(r["reason"], r["reason"]) if r is not None else "?"
        msg = (f"This row is **{word[in_a]}** {ea} and **{word[in_b]}** {eb}: {reason} — "
               f"{fm.md_escape(r['detail']) if r is not None else ''}")
        (st.success if in_b else st.warning)(msg, icon=":material/difference:")
        return
    sides = []
    for ref, inside in ((a, in_a), (b, in_b)):
        sub = state.resolve_spec(ws, load_ref(ws, ref).spec)
        sides.append(f"{fm.md_escape(ref)}: {_SIDE_REASON.get(sub.reasons([row_id])[0], '?')}")
    both = "in both" if in_a else "in neither"
    st.info(f"This row is **{both}** ({'; '.join(sides)}).", icon=":material/difference:")
