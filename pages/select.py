"""Select page: compute a ranking (method + parameters), then choose the budget (rows, % or tokens) and class quotas.
A ranking is an order, so the budget slider only takes a prefix: the fragment below reruns alone, in milliseconds."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from curation.core.errors import CurationError
from curation.diagnostics.classes import js_divergence
from curation.diagnostics.quality import mean_shift
from curation.select import SELECTORS, advisor, run_selection
from curation.select.advisor import AdvisorResult
from curation.select.run import selection_score_keys
from curation.diagnostics.audit import slice_defs
from curation.subsets.spec import FLAGGED, SubsetSpec
from pages import formatting as fm, jobs, saved, state, widgets

ws = widgets.header("Select", "A selection method ranks every example once; the budget then keeps the best prefix "
               "(your pins always win: include pins are kept, exclude pins never are).")
P = str(ws.path)
S = state.stamp(ws)
MODEL = state.MODEL

meta = widgets.require_examples(P, S)

defs = state.load_score_defs(P, S)
score_keys = defs["key"].tolist() if not defs.empty else []

# ------------------------------------------------------------------------------------------------ compute a ranking
with st.expander("Compute a ranking", expanded=ws.rankings().empty, icon=":material/calculate:"):
    names = list(SELECTORS)
    method = st.selectbox(
        "Method", names, index=names.index("facility") if "facility" in names else 0, key="select:method",
        format_func=lambda n: f"{n} — {SELECTORS[n].description}",
        help="\n".join(f"- **{n}**: {c.description}. Gains: {c.gains_meaning}." for n, c in SELECTORS.items()))
    cls = SELECTORS[method]
    st.caption(f"{cls.description}. Needs: {', '.join(cls.needs) or 'nothing'}. Gains: {cls.gains_meaning}.")
    params = widgets.describe_param_widgets(cls, f"select:p:{method}", score_keys=selection_score_keys(defs))
    try:
        from curation.select.run import selection_warnings

        for _w in selection_warnings(ws, method, dict(params)):
            st.warning(_w, icon=":material/warning:")
    except CurationError:
        pass                                   # invalid parameters are reported when the ranking runs
    c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
    seed = int(c1.number_input("Seed", value=0, step=1, key="select:seed", help="All randomness of the method"))
    running = jobs.job_running(ws, "ui:select")
    if c2.button("Compute ranking", key="select:run", type="primary", disabled=running):
        def _job(prog: jobs.JobProgress, method: str = method, params: dict = dict(params), seed: int = seed) -> str:
            prog.stage = method
            return run_selection(ws, method, params, seed=seed, model=MODEL, progress=prog).method
        jobs.start_job(ws, "ui:select", "select", _job)

    @st.fragment(run_every=1.0 if running else None)
    def _select_job() -> None:
        status = jobs.render_job(ws, "ui:select", "Ranking")
        if status in ("done", "failed") and st.session_state.get("select:was_running"):
            st.session_state["select:was_running"] = False
            res = jobs.job_result(ws, "ui:select")
            if res:
                st.session_state[state.K_RANKING] = str(res)
            st.rerun()
        st.session_state["select:was_running"] = status == "running"

    _select_job()

rankings = state.load_rankings(P, S)
if rankings.empty:
    st.info("No ranking yet. Compute one above (e.g. **random** as a baseline, **facility** for coverage), or run "
            "`python -m curation select facility`.", icon=":material/info:")
    st.stop()

saved.select_panel(ws)
rkeys = rankings["key"].tolist()
cur = st.session_state.get(state.K_RANKING)
short = dict(zip(rankings["key"], rankings["short_id"].fillna(rankings["method"])))
if cur not in rkeys:  # a short id (a spec saved by the CLI as `--ranking facility-1`), else the newest
    cur = {s_: k for k, s_ in short.items()}.get(cur, rkeys[-1])
widgets.show_in_browser("select:ranking_w", cur, rkeys)
rk = st.selectbox("Ranking", rkeys, index=rkeys.index(cur), key="select:ranking_w",
                  format_func=lambda k: f"{short.get(k, k)}  ·  {k}",
                  help="Every stored ranking of this workspace: its short id (what the CLI takes, e.g. "
                       "`report --ranking facility-1`), then the key naming the method, its parameters and seed.")
st.session_state[state.K_RANKING] = rk
ranking = state.load_ranking(P, S, rk)
n_pool = len(ranking.order)
labels, toks = state.label_token_series(P, S)
has_labels = labels.notna().any()
scores_all = state.load_scores(P, S, tuple(score_keys)) if score_keys else None
pool_ids = np.asarray(ranking.order, dtype=np.int64)


def _class_counts(ids: np.ndarray, classes: list[str], by: pd.Series | None = None) -> np.ndarray:
    lab = (labels if by is None else by).reindex(ids).fillna("(none)").astype(str)
    vc = lab.value_counts()
    return np.array([int(vc.get(c, 0)) for c in classes], dtype=np.float64)


pool_lab = labels.reindex(pool_ids).fillna("(none)").astype(str)
classes = pool_lab.value_counts().index.tolist()
pool_counts = _class_counts(pool_ids, classes)
total_tokens = int(toks.reindex(pool_ids).fillna(0).sum())


@st.cache_data(show_spinner=False, max_entries=8)
def _advisor(path: str, data_stamp: str, key: str) -> dict:
    """The budget advisor's coverage curve and plateau fit for one ranking (cached)."""
    g = state.load_graph(path, data_stamp, MODEL)
    if g is None:
        return {"error": "no neighbour graph — run Analyze on the Data page"}
    try:
        return advisor(state.load_ranking(path, data_stamp, key), graph=g).to_dict()
    except CurationError as exc:
        return {"error": str(exc)}


def downstream_panel(key: str, n: int, current: int, coverage_budget: int | None) -> None:
    """The downstream curve stored by ``python -m curation prove`` for ranking ``key`` (reward heads trained on its
    prefixes, scored on held-out prompts), the random baseline's band (mean ± sd over seeds), the pool, and the
    plateau fitted to it with the budget it recommends beside the coverage curve's."""
    from curation.workflows.prove import downstream_fit, stored

    st.markdown("**Downstream: does a prefix train as well as the pool?**")
    res = stored(ws, key)
    if res is None:
        st.caption(f"Not measured for this ranking. `python -m curation prove --ranking {short.get(key, key)}` "
                   "trains a reward head on its prefixes, on random subsets and on the pool (preference pairs; CPU, "
                   "minutes) and stores the curve shown here.")
        return
    t = res.table()
    pool_acc = float(t["pool_accuracy"].iloc[0]) if len(t) else float("nan")
    xb = t["budget"].to_numpy(float) * n
    lo = (t["random_accuracy"] - t["random_accuracy_sd"].fillna(0)).to_numpy(float)
    hi = (t["random_accuracy"] + t["random_accuracy_sd"].fillna(0)).to_numpy(float)
    fig = go.Figure([
        go.Scatter(x=np.r_[xb, xb[::-1]], y=np.r_[hi, lo[::-1]], fill="toself", fillcolor="rgba(150,150,150,0.3)",
                   mode="lines", line=dict(width=0), name="random (mean ± sd over seeds)", hoverinfo="skip"),
        go.Scatter(x=xb, y=t["random_accuracy"], mode="lines+markers", line=dict(color="gray", dash="dot"),
                   name="random (mean)"),
        go.Scatter(x=xb, y=t["accuracy"], mode="lines+markers", line=dict(color="#1F77B4"), name="this ranking"),
    ])
    fig.add_hline(y=pool_acc, line_color="#2CA02C", annotation_text=f"pool: {pool_acc:.1%}")
    fit = None
    try:
        fit = downstream_fit(res, n)
        xf = np.linspace(0.0, float(n), 200)
        fig.add_trace(go.Scatter(x=xf, y=fit.predict(xf), mode="lines", line=dict(color="#1F77B4", width=1),
                                 opacity=0.5, name="fitted plateau curve"))
        fig.add_vline(x=fit.plateau_budget, line_dash="dash", line_color="#E45756",
                      annotation_text=f"downstream: {fit.plateau_budget:,} rows")
    except CurationError as exc:
        st.caption(f"No plateau fit: {exc}")
    if coverage_budget is not None:
        fig.add_vline(x=coverage_budget, line_dash="dot", line_color="#9467BD",
                      annotation_text=f"coverage: {coverage_budget:,} rows", annotation_position="bottom left")
    fig.add_vline(x=current, line_color="#1F77B4", annotation_text="current budget",
                  annotation_position="bottom right")
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="rows (budget share × pool)",
                      yaxis=dict(title="held-out accuracy", tickformat=".0%"))
    st.plotly_chart(fig, key="select:downstream")
    rec = (f"the downstream curve levels off at about **{fit.plateau_budget:,}** rows "
           f"({fm.fmt_pct(fit.plateau_budget / max(n, 1))})" if fit is not None and fit.b > 0
           else "the downstream curve does not rise with the budget: the measure cannot tell budgets apart")
    cov = (f"; coverage recommends **{coverage_budget:,}** rows ({fm.fmt_pct(coverage_budget / max(n, 1))})"
           if coverage_budget is not None else "")
    st.caption(f"Reward heads trained on this ranking's prefixes, scored on {res.n_held:,} held-out pairs "
               f"(prompts never trained on); {res.n_train:,} training pairs; measured {res.created_at}. "
               f"Budget advice: {rec}{cov}.")
    st.markdown(res.sentence(budget=current / max(n, 1)))


# quotas over any slice column (dataset, language, safety bucket, identity group, clusters, flags)
KEEP_SHARE = "keep pool share"
QUOTA_MODES = (*state.QUOTA_MODES, KEEP_SHARE)
_slice_defs = slice_defs(defs)
QUOTA_COLUMNS = list(dict.fromkeys((["label"] if has_labels else []) + ["dataset"] + [d["key"] for d in _slice_defs]))
HARM_KEYS = [d["key"] for d in _slice_defs if d["form"] == "risk" and "harm" in d["key"].lower()]


def _keep_harm(key: str) -> None:
    """One click: keep at least the pool's share of harmful-request prompts (a minimum-share constraint)."""
    st.session_state["select:quota_col_w"] = key
    st.session_state["select:quota_w"] = KEEP_SHARE
    st.session_state["select:minshare_w"] = [FLAGGED]
    st.session_state[state.K_QUOTA_COLUMN] = key
    st.session_state[state.K_QUOTA] = {"min_share": {FLAGGED: "pool"}}


@st.fragment
def budget_panel() -> None:
    """Budget, quotas and everything that depends on them. Reruns alone when the slider moves."""
    b = state.budget_state()
    qcol = b["quota_column"] if b["quota_column"] in QUOTA_COLUMNS else QUOTA_COLUMNS[0]
    if st.session_state.get("select:quota_col_w") not in (None, *QUOTA_COLUMNS):
        st.session_state.pop("select:quota_col_w")
    c1, c2, c3, c4 = st.columns([1.3, 2.4, 1.3, 1.3])
    unit0 = b["unit"] if b["unit"] in state.BUDGET_UNITS else "%"
    widgets.show_in_browser("select:unit_w", unit0, state.BUDGET_UNITS)
    unit = c1.segmented_control("Budget in", state.BUDGET_UNITS, default=unit0, key="select:unit_w", required=True)
    unit = unit or "%"
    if unit == "rows":
        hi, step = n_pool, 1
        v = int(np.clip(b["value"] if b["unit"] == "rows" else round(n_pool * 0.1), 0, hi))
        widgets.show_in_browser("select:budget:rows", v)
        value = c2.slider("Budget (rows)", 0, hi, v, step, key="select:budget:rows")
    elif unit == "%":
        v = float(np.clip(b["value"] if b["unit"] == "%" else 10.0, 0.0, 100.0))
        widgets.show_in_browser("select:budget:pct", v)
        value = c2.slider("Budget (% of the pool)", 0.0, 100.0, v, 0.5, key="select:budget:pct", format="%.1f%%")
    else:
        hi = max(total_tokens, 1)
        step = max(1, hi // 1000)
        v = int(np.clip(b["value"] if b["unit"] == "tokens" else hi // 10, 0, hi))
        widgets.show_in_browser("select:budget:tokens", v)
        value = c2.slider("Budget (tokens)", 0, hi, v, step, key="select:budget:tokens")
    qmode = b["quota"] if isinstance(b["quota"], str) else (
        (KEEP_SHARE if b["quota"].get("min_share") else "custom") if isinstance(b["quota"], dict) else "none")
    qcol = c4.selectbox("Quota over", QUOTA_COLUMNS, index=QUOTA_COLUMNS.index(qcol), key="select:quota_col_w",
                        help="The column the quota counts classes in: the label column, the dataset, or any slice "
                             "column (clusters, language, flags such as refusal or an identity group, a risk score "
                             "split at its threshold into flagged / not flagged).")
    qlabels = labels if qcol == "label" else state.column_labels(P, S, qcol)
    classes = qlabels.reindex(pool_ids).fillna("(none)").astype(str).value_counts().index.tolist()
    pool_counts = _class_counts(pool_ids, classes, qlabels)
    has_classes = bool(qlabels.notna().any())
    widgets.show_in_browser("select:quota_w", qmode, QUOTA_MODES)
    quota_mode = c3.selectbox("Class quotas", QUOTA_MODES, index=QUOTA_MODES.index(qmode),
                              key="select:quota_w", disabled=not has_classes,
                              help="proportional: each class keeps its pool share; balanced: equal shares (a "
                                   "small class gives its leftover to the others); custom: min/max rows per class; "
                                   "keep pool share: the classes chosen keep at least their share of the pool."
                                   + ("" if has_classes else f" (no values in {qcol})"))
    quota: str | dict | None = None if quota_mode == "none" else quota_mode
    if HARM_KEYS:
        st.button("Keep at least the pool's share of harmful-request prompts", key="select:keep_harm",
                  on_click=_keep_harm, args=(HARM_KEYS[0],), icon=":material/shield:",
                  help=f"A minimum-share constraint over {HARM_KEYS[0]} (flagged = at or above its threshold)")
    if quota_mode == KEEP_SHARE:
        prev = b["quota"].get("min_share", {}) if isinstance(b["quota"], dict) else {}
        keep = st.multiselect("Keep at least the pool's share of", classes, key="select:minshare_w",
                              default=[c for c in prev if c in classes])
        quota = {"min_share": {c: "pool" for c in keep}} if keep else None
    elif quota_mode == "custom":
        prev = b["quota"] if isinstance(b["quota"], dict) else {}
        table = pd.DataFrame({"class": classes, "pool": pool_counts.astype(int),
                              "min rows": [int(prev.get("min", {}).get(c, 0)) for c in classes],
                              "max rows": [int(prev.get("max", {}).get(c, n)) for c, n in
                                           zip(classes, pool_counts.astype(int))]})
        edited = st.data_editor(table, hide_index=True, disabled=["class", "pool"], key="select:quota_table",
                                width="stretch")
        quota = {"min": {r["class"]: int(r["min rows"]) for _, r in edited.iterrows() if r["min rows"] > 0},
                 "max": {r["class"]: int(r["max rows"]) for _, r in edited.iterrows() if r["max rows"] < r["pool"]}}
    st.session_state[state.K_BUDGET_UNIT] = unit
    st.session_state[state.K_BUDGET_VALUE] = float(value)
    st.session_state[state.K_QUOTA] = quota
    st.session_state[state.K_QUOTA_COLUMN] = qcol

    try:
        spec = SubsetSpec(ranking=rk, budget=float(value), unit=unit, quota=quota,
                          label_column=qcol if quota is not None else "label")
        sub = state.resolve_spec(ws, spec)
    except CurationError as e:
        st.error(str(e))
        return
    chosen, inc, exc = sub.row_ids, sub.include, sub.exclude
    st.session_state[state.K_BUDGET] = len(chosen)
    saved.draft_status(ws, spec)

    sub_counts = _class_counts(chosen, classes, qlabels)
    n_tok = int(toks.reindex(chosen).fillna(0).sum())
    m = st.columns(5)
    m[0].metric("Selected", fm.fmt_int(len(chosen)), help="Rows in the subset (include pins count)")
    m[1].metric("Share of pool", fm.fmt_pct(len(chosen) / max(n_pool, 1)))
    m[2].metric("Tokens", fm.fmt_int(n_tok), help=f"of {total_tokens:,} in the pool")
    m[3].metric("Pins in / out", f"{len(inc):,} / {len(exc):,}", help="Include pins (always kept) / exclude pins "
                                                                     "(never kept)")
    js = None
    if len(chosen) and has_classes:
        js = js_divergence(pool_counts, sub_counts)
    m[4].metric("Class drift (JS)", fm.fmt_num(js), help="Jensen–Shannon divergence of the class mix, subset vs "
                "pool, in [0, 1]; 0 = same mix. The Balance page has the full report card.")

    # only the open tab is computed: a budget step reruns this fragment, and the closed tabs then cost nothing
    tab_mix, tab_q, tab_adv, tab_cmp, tab_rows = st.tabs(["Class mix", "Quality", "Budget advisor",
                                                          "Compare rankings", "Subset rows"],
                                                         key="select:tab", on_change="rerun")
    if tab_mix.open:
        with tab_mix:
            if not has_classes:
                st.caption("No label column: class quotas and the class mix need one (set it at ingest, or "
                           "choose another column under Quota over).")
            else:
                shares = pd.DataFrame({"class": classes, "pool": pool_counts / max(pool_counts.sum(), 1),
                                       "subset": sub_counts / max(sub_counts.sum(), 1)})
                x = shares["class"].map(fm.escape_hover)
                fig = go.Figure([go.Bar(name="pool", x=x, y=shares["pool"]),
                                 go.Bar(name="subset", x=x, y=shares["subset"])])
                fig.update_layout(barmode="group", height=300, margin=dict(l=10, r=10, t=10, b=10),
                                  yaxis=dict(tickformat=".0%", title="share"))
                st.plotly_chart(fig, key="select:mix")
    if tab_q.open:
        with tab_q:
            if scores_all is None:
                st.caption("No scores yet — run scorers on the Data page.")
            else:
                directions = {r.key: fm.direction(r.higher_is_better) for r in defs.itertuples()}
                shift = mean_shift(scores_all, directions, pool_ids, chosen)
                if len(shift):
                    shift.insert(1, "direction", shift.pop("higher_is_better").map(fm.direction_text))
                    st.dataframe(shift, hide_index=True, width="stretch",
                                 column_config={c: st.column_config.NumberColumn(format="%.4g")
                                                for c in ("pool mean", "subset mean", "change")})
                else:
                    st.caption("No directional score stored yet.")
    if tab_adv.open:
        with tab_adv:
            st.caption("Coverage of the pool (mean similarity to the nearest selected example) along this ranking, "
                       "with an exponential plateau fit (Khera et al.): past the marked budget, extra rows add little.")
            adv = _advisor(P, S, rk)
            if "error" in adv:
                st.info(adv["error"])
            else:
                fit = AdvisorResult(**{k: (np.asarray(v) if k in ("budgets", "values") else v) for k, v in adv.items()})
                xb = np.asarray(adv["budgets"], dtype=float)
                xf = np.linspace(0.0, float(xb.max()), 200)  # the fitted curve drawn smoothly over the measured points
                fig = go.Figure([go.Scatter(x=xb, y=adv["values"], mode="markers", name=f"{adv['metric']} (measured)"),
                                 go.Scatter(x=xf, y=fit.predict(xf), mode="lines", name="fitted plateau curve")])
                fig.add_vline(x=adv["plateau_budget"], line_dash="dash", line_color="#E45756",
                              annotation_text=f"{int(adv['fraction'] * 100)}% of the rise: "
                                              f"{adv['plateau_budget']:,} rows")
                fig.add_vline(x=len(chosen), line_color="#1F77B4", annotation_text="current budget",
                              annotation_position="bottom right")
                fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="rows",
                                  yaxis_title=adv["metric"])
                st.plotly_chart(fig, key="select:advisor")
                st.caption(f"Suggested budget: about **{adv['plateau_budget']:,}** rows "
                           f"({fm.fmt_pct(adv['plateau_budget'] / max(n_pool, 1))} of the pool).")
                st.markdown("\n".join(f"- {line}" for line in fit.describe(budget=len(chosen))))
            downstream_panel(rk, n_pool, len(chosen), None if "error" in adv else int(adv["plateau_budget"]))
    if tab_cmp.open:
        with tab_cmp:
            others = [k for k in rkeys if k != rk]
            if not others:
                st.caption("Only one ranking stored: compute another one to compare.")
            else:
                other = st.selectbox("Compare with", others, key="select:cmp")
                chosen2 = state.resolve_spec(ws, spec.replace(ranking=other)).row_ids
                a_set, b_set = set(chosen.tolist()), set(np.asarray(chosen2).tolist())
                both = len(a_set & b_set)
                cc = st.columns(4)
                cc[0].metric("Overlap", fm.fmt_int(both))
                cc[1].metric("Jaccard", fm.fmt_num(both / max(len(a_set | b_set), 1)))
                cc[2].metric("Only this ranking", fm.fmt_int(len(a_set - b_set)))
                cc[3].metric("Only the other", fm.fmt_int(len(b_set - a_set)))
                for title, ids in (("Kept here, dropped by the other", sorted(a_set - b_set)),
                                   ("Kept by the other, dropped here", sorted(b_set - a_set))):
                    st.caption(f"{title} (first 200)")
                    d = meta.set_index("row_id").reindex(ids[:200])[["example_id", "label"]].reset_index()
                    exc_s = ws.excerpts(ids[:200], max_chars=160).set_index("row_id")["excerpt"]
                    d["excerpt"] = d["row_id"].map(exc_s)
                    st.dataframe(d, hide_index=True, width="stretch")
    if tab_rows.open:
        with tab_rows:
            d = meta.set_index("row_id").reindex(chosen[:1000])[["example_id", "dataset", "label", "n_tokens"]]
            d = d.reset_index()
            d.insert(0, "rank", np.arange(1, len(d) + 1))
            exc_s = ws.excerpts(chosen[:1000], max_chars=160).set_index("row_id")["excerpt"]
            d["excerpt"] = d["row_id"].map(exc_s)
            st.caption(f"The first {min(1000, len(chosen)):,} rows of the subset, in order (select one to inspect).")
            ev = st.dataframe(d, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                              key="select:rows")
            picked = (ev.selection.rows if ev is not None and hasattr(ev, "selection") else [])
            if picked:
                st.session_state[state.K_INSPECT] = int(d.iloc[picked[0]]["row_id"])
                widgets.link("pages/inspector.py", f"Inspect row {int(d.iloc[picked[0]]['row_id'])}",
                             icon=":material/search:")


budget_panel()
