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
from curation.subsets.spec import SubsetSpec
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


def _class_counts(ids: np.ndarray, classes: list[str]) -> np.ndarray:
    lab = labels.reindex(ids).fillna("(none)").astype(str)
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


@st.fragment
def budget_panel() -> None:
    """Budget, quotas and everything that depends on them. Reruns alone when the slider moves."""
    b = state.budget_state()
    c1, c2, c3 = st.columns([1.3, 2.7, 1.3])
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
    qmode = b["quota"] if isinstance(b["quota"], str) else ("custom" if isinstance(b["quota"], dict) else "none")
    widgets.show_in_browser("select:quota_w", qmode, state.QUOTA_MODES)
    quota_mode = c3.selectbox("Class quotas", state.QUOTA_MODES, index=state.QUOTA_MODES.index(qmode),
                              key="select:quota_w", disabled=not has_labels,
                              help="proportional: each class keeps its pool share; balanced: equal shares (a "
                                   "small class gives its leftover to the others); custom: min/max rows per class."
                                   + ("" if has_labels else " (no label column in this workspace)"))
    quota: str | dict | None = None if quota_mode == "none" else quota_mode
    if quota_mode == "custom":
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

    try:
        spec = SubsetSpec(ranking=rk, budget=float(value), unit=unit, quota=quota)
        sub = state.resolve_spec(ws, spec)
    except CurationError as e:
        st.error(str(e))
        return
    chosen, inc, exc = sub.row_ids, sub.include, sub.exclude
    st.session_state[state.K_BUDGET] = len(chosen)
    saved.draft_status(ws, spec)

    sub_counts = _class_counts(chosen, classes)
    n_tok = int(toks.reindex(chosen).fillna(0).sum())
    m = st.columns(5)
    m[0].metric("Selected", fm.fmt_int(len(chosen)), help="Rows in the subset (include pins count)")
    m[1].metric("Share of pool", fm.fmt_pct(len(chosen) / max(n_pool, 1)))
    m[2].metric("Tokens", fm.fmt_int(n_tok), help=f"of {total_tokens:,} in the pool")
    m[3].metric("Pins in / out", f"{len(inc):,} / {len(exc):,}", help="Include pins (always kept) / exclude pins "
                                                                     "(never kept)")
    js = None
    if len(chosen) and has_labels:
        js = js_divergence(pool_counts, sub_counts)
    m[4].metric("Class drift (JS)", fm.fmt_num(js), help="Jensen–Shannon divergence of the class mix, subset vs "
                "pool, in [0, 1]; 0 = same mix. The Balance page has the full report card.")

    # only the open tab is computed: a budget step reruns this fragment, and the closed tabs then cost nothing
    tab_mix, tab_q, tab_adv, tab_cmp, tab_rows = st.tabs(["Class mix", "Quality", "Budget advisor",
                                                          "Compare rankings", "Subset rows"],
                                                         key="select:tab", on_change="rerun")
    if tab_mix.open:
        with tab_mix:
            if not has_labels:
                st.caption("No label column: class quotas and the class mix need one (set it at ingest).")
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
