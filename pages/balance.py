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

# ------------------------------------------------------------------------------------------------ bias audit
# widths in pixels, so that the ten columns fit the main area at 1280 px (~820 px) without a sideways scroll
AUDIT_FORMAT = {"slice": st.column_config.TextColumn(width=200),
                "category": st.column_config.TextColumn(width=124),
                "ref_share": st.column_config.NumberColumn("reference", format="percent", width=74),
                "subset_share": st.column_config.NumberColumn("subset", format="percent", width=64),
                "diff": st.column_config.NumberColumn("Δ points", format="%+.1f", width=66,
                                                      help="subset share minus reference share, in points"),
                "ratio": st.column_config.NumberColumn(format="%.2f", width=52),
                "q": st.column_config.NumberColumn("q (BH)", format="%.2g", width=60),
                "p": st.column_config.NumberColumn(format="%.2g", width=60),
                "alert": st.column_config.CheckboxColumn(width=44),
                "ref_count": st.column_config.NumberColumn("n ref", format="%d", width=56,
                                                           help="rows of the category in the reference"),
                "subset_count": st.column_config.NumberColumn("n subset", format="%d", width=68,
                                                              help="rows of the category in the subset")}


def _spec_of(ref: str | None) -> object:
    return saved.draft_spec(ws) if ref is None else saved.load_ref(ws, ref).spec


def _fix(column: str, quota: object, source: str | None = None) -> None:
    """One-click fix: the Select page's draft gets this quota over this column. When a saved version ``source`` is
    the one shown, the draft starts from its ranking and budget (the version itself never changes) and the page
    switches to the draft, so what is shown is what was fixed."""
    if source is not None:
        saved.load_into_draft(saved.load_ref(ws, source))
        st.session_state["balance:subset"] = saved.DRAFT_OPT
    st.session_state[state.K_QUOTA_COLUMN] = column
    st.session_state[state.K_QUOTA] = quota


def audit_section(*, against: bool = False, reference: str | None = None) -> None:
    """Every slice's share in the subset against its pool, or (``against``) against the compared subset
    ``reference`` (None = the draft): alerts with their cause, the slice table by severity, bars, cross-slices,
    score fairness and the one-click fixes."""
    from curation.diagnostics.audit import AuditParams, attribute, ranking_score_keys, score_fairness
    from curation.select.run import selection_score_keys
    from curation.subsets.spec import resolve

    st.subheader("Bias audit: every slice", anchor="bias-audit")
    st.caption("Each slice column (dataset, label, clusters, flags such as refusal, risk scores above their "
               "threshold, language, identity groups, and their cross-slices) compared category by category: a "
               "two-proportion test against the rows the subset left out, Benjamini-Hochberg across all of them; "
               "an alert needs a significant **and** material shift.")
    d = AuditParams()
    with st.expander("Alert thresholds", icon=":material/tune:"):
        t = st.columns(4)
        alpha = t[0].number_input("FDR level (q <)", 0.0001, 0.5, d.alpha, 0.01, format="%.4f", key="audit:alpha")
        min_diff = t[1].number_input("Material shift (points)", 0.0, 50.0, 100 * d.min_diff, 0.5,
                                     key="audit:min_diff")
        lo = t[2].number_input("Ratio below", 0.05, 1.0, d.ratio_low, 0.05, key="audit:ratio_low")
        hi = t[3].number_input("Ratio above", 1.0, 20.0, d.ratio_high, 0.05, key="audit:ratio_high")
    try:
        params = AuditParams(alpha=float(alpha), min_diff=float(min_diff) / 100, ratio_low=float(lo),
                             ratio_high=float(hi))
        spec = _spec_of(choice)
        if spec is None:
            st.info("No draft yet: choose a ranking and a budget on the Select page.", icon=":material/info:")
            return
        full_key = ws.ranking_key(spec.ranking) if spec.ranking else None
        used = ranking_score_keys(ws, full_key)
        score_opts = selection_score_keys(defs)
        extra = st.multiselect("Score fairness for", score_opts, default=[k for k in used if k in score_opts],
                               key="audit:scores", help="Each score's distribution per slice and which slices its "
                               "lowest 10% is made of; the scores the subset's ranking uses are chosen first.")
        actx = state.load_audit_context(P, S, tuple(sorted(set(extra) | set(used))))
        sub = state.resolve_spec(ws, spec) if choice is None else resolve(ws, spec)
        if not against:
            audit = actx.audit(sub.row_ids, pool=np.union1d(sub.pool, sub.include), params=params,
                               labels=("pool", "subset"))
            ref_spec = None
        else:
            ref_spec = _spec_of(reference)
            other_sub = state.resolve_spec(ws, ref_spec) if reference is None else resolve(ws, ref_spec)
            audit = actx.audit(sub.row_ids, reference=other_sub.row_ids, params=params,
                               labels=(str(reference or "draft"), str(title)))
        for k in extra:
            score_fairness(actx, audit, k, pool=None if against else np.union1d(sub.pool, sub.include),
                           used_by_ranking=k in used)
        if audit.alerts:
            attribute(ws, actx, audit, sub.spec, reference=ref_spec)
    except CurationError as exc:
        st.error(fm.md_escape(str(exc)))
        return
    causes = {(a["slice"], a["category"]): a for a in audit.attribution}
    tab = audit.table
    m = st.columns(4)
    m[0].metric("Slices", f"{len(audit.slices):,}")
    m[1].metric("Tests", f"{int(tab['tested'].sum()):,}", help="Categories tested (binary slices: the flagged "
                "one); all corrected together (Benjamini-Hochberg)")
    m[2].metric("Alerts", f"{len(audit.alerts):,}")
    m[3].metric("Largest shift", f"{100 * float(tab.loc[tab['tested'], 'diff'].abs().max() or 0):.1f} points"
                if tab["tested"].any() else "n/a")
    if audit.alerts:
        for r in tab[tab["alert"]].head(8).itertuples():
            a = causes.get((r.slice, r.category))
            from curation.diagnostics.audit import alert_text

            st.warning(fm.md_escape(alert_text(r, audit)) + ("  \n**Cause:** " + fm.md_escape(a["cause"])
                                                               if a else ""), icon=":material/balance:")
    else:
        st.success(f"No slice moved both significantly (q < {params.alpha:g}) and materially (at least "
                   f"{100 * params.min_diff:g} points, or a ratio outside [{params.ratio_low:g}, "
                   f"{params.ratio_high:g}]).", icon=":material/check_circle:")
    for w in audit.warnings[:4]:
        st.warning(fm.md_escape(w), icon=":material/warning:")
    # one-click fixes for the alerted slice columns
    if audit.alerts and not against:
        keys = {s.name: s for s in actx.slices}
        fixable = []
        for r in tab[tab["alert"]].itertuples():
            s = keys.get(r.slice)
            if s is None or s.form == "cross" or r.slice in [f[0] for f in fixable]:
                continue
            fixable.append((r.slice, s))
        if fixable:
            st.caption("Fix it in the loop: set a quota on the Select page's draft, then come back here." if choice
                       is None else f"Fix it in the loop: a draft from {fm.md_escape(choice)}'s ranking and budget "
                       "with this quota (the saved version is not changed; save the draft as a new version if it "
                       "is better).")
            cols = st.columns(2)                  # two per row: the labels name the slice and stay readable
            i = 0
            for name, s in fixable[:2]:
                cols[i % len(cols)].button(f"Proportional quota by {name}", key=f"audit:fix:{name}",
                                           on_click=_fix, args=(s.key, "proportional", choice),
                                           help="Each category keeps its share of the pool")
                i += 1
                if s.form in ("risk", "binary"):
                    cls = "flagged" if s.form == "risk" else "1.0"
                    cols[i % len(cols)].button(f"Keep at least the pool's share of {name} = {s.categories[0]}",
                                               key=f"audit:keep:{name}", on_click=_fix,
                                               args=(s.key, {"min_share": {cls: "pool"}}, choice),
                                               help="A minimum-share constraint on the draft")
                    i += 1
    show = tab[tab["tested"]].copy()
    show["diff"] = 100 * show["diff"]
    view = ["slice", "category", "ref_share", "subset_share", "diff", "ratio", "q", "alert", "ref_count",
            "subset_count"]
    t1, t2, t3, t4, t5 = st.tabs(["Slices by severity", "Bars", "Cross-slices", "Score fairness", "Attribution"])
    with t1:
        st.dataframe(show[show["form"] != "cross"][view], hide_index=True, width="stretch",
                     column_config=AUDIT_FORMAT, key="audit:table")
        st.caption(f"Reference = {fm.md_escape(audit.ref_name)} ({audit.n_ref:,} rows); subset "
                   f"{audit.n_subset:,} rows. Whole-mix chi-square per slice:")
        st.dataframe(audit.slices[["slice", "form", "n_categories", "chi2", "dof", "p", "q", "max_abs_diff",
                                   "n_alerts"]], hide_index=True, width="stretch", key="audit:slices")
    with t2:
        names = [s.name for s in actx.slices]
        default = tab.iloc[0]["slice"] if len(tab) else names[0]
        pick = st.selectbox("Slice", names, index=names.index(default) if default in names else 0,
                            key="audit:bars")
        part = tab[tab["slice"] == pick]
        part = part.sort_values("ref_share", ascending=False).head(30)
        x = part["category"].map(fm.escape_hover)
        fig = go.Figure([go.Bar(name=audit.ref_name, x=x, y=part["ref_share"]),
                         go.Bar(name=audit.subset_name, x=x, y=part["subset_share"],
                                marker_color=np.where(part["alert"], "#E45756", "#4C78A8").tolist())])
        fig.update_layout(barmode="group", height=320, margin=dict(l=10, r=10, t=10, b=10),
                          yaxis=dict(tickformat=".0%", title="share"))
        st.plotly_chart(fig, key="audit:barsfig")
    with t3:
        cr = show[show["form"] == "cross"]
        if len(cr):
            st.dataframe(cr[view], hide_index=True, width="stretch", column_config=AUDIT_FORMAT, key="audit:cross")
        else:
            st.caption("No cross-slice yet: they need a harmful-request score and identity flags, refusal and "
                       "several datasets, or language and a quality score (`python -m curation slices`).")
    with t4:
        if not audit.fairness:
            st.caption("Choose a score above (the subset's ranking uses none).")
        for f in audit.fairness:
            st.markdown(f"**{fm.md_escape(f['score'])}**" + (" (used by this ranking)" if f["used_by_ranking"]
                                                             else "") + f": {fm.md_escape(f['summary'])}")
            ft = f["table"]
            if len(ft):
                st.dataframe(ft, hide_index=True, width="stretch", key=f"audit:fair:{f['score']}", column_config={
                    "pool_share": st.column_config.NumberColumn(format="percent"),
                    "bottom_share": st.column_config.NumberColumn(f"share of the lowest {f['bottom']:.0%}",
                                                                  format="percent")})
    with t5:
        if not audit.attribution:
            st.caption("Attribution explains alerts; there is none.")
        for a in audit.attribution:
            st.markdown(f"**{fm.md_escape(a['slice'])} = {fm.md_escape(a['category'])}**: "
                        f"{fm.md_escape(a['cause'])}")
            if a["steps"]:
                st.dataframe(pd.DataFrame(a["steps"]), hide_index=True, width="stretch",
                             key=f"audit:attr:{a['slice']}:{a['category']}", column_config={
                                 "share_before": st.column_config.NumberColumn(format="percent"),
                                 "share_after": st.column_config.NumberColumn(format="percent"),
                                 "change": st.column_config.NumberColumn(format="%+.3f")})


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
    audit_section(against=True, reference=compare)
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

audit_section()
