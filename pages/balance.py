"""Balance page: the report card of the current subset against its pool — class mix, spectral balance per class,
coverage, quality and preference figures — with plain-language alerts first."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from curation.diagnostics import ReportContext
from curation.core.errors import CurationError
from pages import formatting as fm, saved, state, widgets

ws = widgets.header("Balance", "Is the subset still representative of the pool? Class balance, spectral balance "
               "(how much of each class's variety survives), coverage and quality, for the budget chosen on Select.")
P = str(ws.path)
S = state.stamp(ws)
MODEL = state.MODEL

if ws.summary()["embedding_models"].get(MODEL, 0) == 0:
    st.info("Nothing embedded yet — run **Embed** on the Data page.", icon=":material/info:")
    st.stop()

defs = state.load_score_defs(P, S)
cluster_key = state.score_key_of(defs, "cluster")
label_opts = ["label", "dataset"] + ([cluster_key] if cluster_key else [])
c1, c2, c3 = st.columns([1, 2, 2])
label_column = c1.selectbox("Classes from", label_opts, key="balance:label",
                            help="The label column set at ingest, the dataset, or the k-means cluster of the map.")
choice = saved.pick(ws, "Subset", "balance:subset", container=c2,
                    help="The draft on the Select page, or any saved subset version")
NOTHING = "(nothing)"
compare_opts = [NOTHING, *([saved.DRAFT] if choice is not None else []), *[r for r in saved.refs(ws) if r != choice]]
if st.session_state.get("balance:compare", NOTHING) not in compare_opts:
    st.session_state.pop("balance:compare", None)
compare = c3.selectbox("Compare with", compare_opts, key="balance:compare",
                       help="A second subset: both report cards side by side, differences highlighted, and the rows "
                            "added and removed with the reason")
got = saved.rows_of(ws, choice)
if got is None:
    widgets.require_subset(ws)  # the empty state (stops the page)
title, ranking_key, chosen = got
_rk = state.load_rankings(P, S)
_short = dict(zip(_rk["key"], _rk["short_id"])) if len(_rk) else {}
_rname = str(_short.get(ranking_key) or ranking_key or "ingest order").replace("`", "")  # shown as a code span
st.caption(f"Subset **{fm.md_escape(title)}**: {len(chosen):,} rows from ranking `{_rname}` (change the draft on "
           "the Select page).", help=None if not ranking_key else f"Ranking key: {ranking_key}")


@st.cache_resource(show_spinner="Preparing the pool statistics (once per workspace state)…", max_entries=4)
def _context(path: str, data_stamp: str, label_column: str) -> object:
    return ReportContext.build(state.workspace_at(path), model=MODEL, label_column=label_column)


try:
    ctx = _context(P, S, label_column)
    card = ctx.report(chosen)
except CurationError as exc:
    st.error(str(exc))
    st.stop()

if compare != NOTHING:
    compare = None if compare == saved.DRAFT else compare
    other = saved.rows_of(ws, compare)
    if other is None:
        st.info("No draft yet: choose a ranking and a budget on the Select page.", icon=":material/info:")
        st.stop()
    try:
        card_other = ctx.report(other[2])
        d = saved.diff_with_draft(ws, compare, choice)  # from the one compared with to the subset shown
    except CurationError as exc:
        st.error(fm.md_escape(str(exc)))
        st.stop()
    saved.compare_section(card_other, card, d, other[0], title)
    st.stop()

# ------------------------------------------------------------------------------------------------ alerts
if card.alerts:
    for a in card.alerts[:4]:  # most important first
        st.warning(fm.md_escape(a), icon=":material/warning:")
    if len(card.alerts) > 4:
        with st.expander(f"{len(card.alerts) - 4} more alerts", icon=":material/warning:"):
            for a in card.alerts[4:]:
                st.warning(fm.md_escape(a))
else:
    st.success("No alert: the subset keeps the pool's class mix, spread and coverage within the thresholds (class "
               f"mix: Jensen-Shannon divergence below {ctx.params.js_alert:g} and chi-square p at least "
               f"{ctx.params.chi2_alpha:g}).", icon=":material/check_circle:")

cov = card.coverage or {}
m = st.columns(5)
m[0].metric("Subset rows", f"{card.n_subset:,}", help=f"of {card.n_pool:,} in the pool "  # fits a 1280 px column
            f"({card.n_subset / max(card.n_pool, 1):.1%})")
m[1].metric("Class drift (JS)", fm.fmt_num(card.js_divergence), help="Jensen–Shannon divergence of the class mix, "
            "base 2, in [0, 1]; 0 = same mix as the pool")
m[2].metric("χ² p-value", fm.fmt_num(card.chi2_p), help="Goodness of fit of subset counts to pool shares; small = "
            "the mix differs beyond chance")
m[3].metric("Coverage distance", fm.fmt_num(cov.get("mean_distance")),
            delta=None if cov.get("random_mean_distance") is None else
            f"{cov.get('mean_distance', np.nan) - cov.get('random_mean_distance', np.nan):+.3f} vs random",
            delta_color="inverse", help="Mean cosine distance from each pool example to its nearest selected one "
            "(lower is better), compared with a random subset of the same size")
m[4].metric("Vendi (subset / pool)", f"{fm.fmt_num(cov.get('vendi_subset'))} / {fm.fmt_num(cov.get('vendi_pool'))}",
            help="Effective number of distinct examples (Vendi score) — diversity")

tabs = st.tabs(["Classes", "Spectral balance", "Quality", "Preference", "Notes"])
with tabs[0]:
    cl = card.classes.copy()
    if len(cl):
        fig = go.Figure([go.Bar(name="pool", x=cl["label"].map(fm.escape_hover), y=cl["pool_share"]),
                         go.Bar(name="subset", x=cl["label"].map(fm.escape_hover), y=cl["subset_share"])])
        fig.update_layout(barmode="group", height=320, margin=dict(l=10, r=10, t=10, b=10),
                          yaxis=dict(tickformat=".0%", title="share"))
        st.plotly_chart(fig, key="balance:classes")
        st.dataframe(cl, hide_index=True, width="stretch", column_config={
            "pool_share": st.column_config.NumberColumn(format="percent"),
            "subset_share": st.column_config.NumberColumn(format="percent"),
            "retention": st.column_config.NumberColumn(format="percent")})
with tabs[1]:
    st.caption("Per class: effective rank of the embedding covariance (how many directions of variety), pool vs "
               "subset; a big drop means the subset keeps a narrow slice of that class.")
    if isinstance(card.spectral, pd.DataFrame) and len(card.spectral):
        st.dataframe(card.spectral, hide_index=True, width="stretch")
    spread = card.spectral_spread or {}
    if spread:
        st.caption(f"Spread of {spread.get('metric', 'effective rank')} across classes (max/min ratio, CV): "
                   f"pool {spread.get('pool')}, subset {spread.get('subset')}")
with tabs[2]:
    if isinstance(card.quality, pd.DataFrame) and len(card.quality):
        st.dataframe(card.quality, hide_index=True, width="stretch")
    else:
        st.caption("No quality scores stored yet.")
with tabs[3]:
    if card.preference:
        summ = card.preference.get("summary")
        if isinstance(summ, pd.DataFrame):
            st.dataframe(summ, hide_index=True, width="stretch")
        elif summ:
            st.dataframe(pd.DataFrame([summ]) if isinstance(summ, dict) else summ, hide_index=True)
        types = card.preference.get("types")
        if isinstance(types, pd.DataFrame) and len(types):
            st.dataframe(types, hide_index=True, width="stretch")
    else:
        st.caption("No preference pairs in the pool.")
with tabs[4]:
    for n in card.notes:
        st.text(n)
    st.caption(f"Probe: {card.probe}")
    st.caption("Timings (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in (card.timings_ms or {}).items()))
