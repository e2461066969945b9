"""Bias audit of a new budget (curation/diagnostics/audit.py) at 100k rows: cold and warm, against a plain
pandas + scipy recomputation of the same tables.

A workspace of ``--rows`` synthetic rows (4 datasets, 12 labels) gets the slice columns a real workspace has after
``analyze`` and the slice scorers: 30 k-means clusters (group), language (group, 8 codes), length bucket (group,
5 codes), refusal (0/1 score), PII (flag), 7 identity-group flags, a harmful-request risk score with its threshold,
and pref_head_default (quality, for the language x quality cross-slice); a ranking is stored. Measured:

* context build (once per workspace state): every slice column read and coded;
* cold: the first audit of a budget after the build (pool counts included);
* warm: the audit of a new budget (the Balance page's case), slider positions across the ranking, median / p90 /
  max; also with the spec resolution in front (``resolve`` with the ranking, labels and pins preloaded, as the
  pages call it);
* peer: the same counts from the subset's rows with pandas ``value_counts`` per slice, scipy's
  ``chi2_contingency`` per category and per slice, and ``false_discovery_control`` (equal p-values on every
  tested category, asserted).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_audit.py [--rows 100000] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from benchmarks._results import write_section

IDENTITY = ("gender", "religion", "race", "nationality", "age", "disability", "sexual_orientation")


def build_workspace(path: Path, n: int, seed: int = 0):
    from curation.core.ranking import Ranking
    from curation.ingest.run import ingest_file
    from curation.store import Workspace

    rng = np.random.default_rng(seed)
    ws = Workspace(path)
    per = n // 4
    tmp = path.parent
    for d in range(4):
        f = tmp / f"ds{d}.jsonl"
        lab = rng.integers(0, 12, per)
        f.write_text("".join(json.dumps({"prompt": f"q {d} {i}", "response": f"a {i}", "label": f"L{lab[i]}"}) + "\n"
                             for i in range(per)), encoding="utf-8")
        ingest_file(ws, f, name=f"dataset{d}")
    ex = ws.examples(["row_id", "example_id", "dataset"])
    eid = ex["example_id"].tolist()
    m = len(eid)
    ws.put_scores("cluster(k=30)", eid, rng.integers(0, 30, m).astype(float), name="cluster", kind="group")
    ws.put_scores("language", eid, rng.choice(8, m, p=[.72, .06, .05, .05, .04, .03, .03, .02]).astype(float),
                  kind="group")
    ws.put_artifact("labels:language", {"key": "language", "clusters": [
        {"cluster": i, "label": c, "size": 0} for i, c in enumerate(["en", "de", "fr", "es", "zh", "ru", "ja", "pt"])]})
    ws.put_scores("length_bucket", eid, rng.integers(0, 5, m).astype(float), kind="group")
    ws.put_scores("refusal", eid, (rng.random(m) < 0.08).astype(float), higher_is_better=False)
    ws.put_scores("pii", eid, (rng.random(m) < 0.02).astype(float), kind="flag")
    for g in IDENTITY:
        ws.put_scores(f"identity(group={g})", eid, (rng.random(m) < 0.04).astype(float), name="identity",
                      kind="flag")
    ws.put_scores("harmful_request(part=prompt)", eid, rng.beta(1, 6, m), name="harmful_request",
                  higher_is_better=False, params={"threshold": 0.4})
    ws.put_scores("pref_head_default", eid, rng.normal(size=m), higher_is_better=True)
    order = rng.permutation(ex["row_id"].to_numpy(np.int64))
    ws.put_ranking(Ranking(order=order, gains=np.zeros(m), method="bench(order=random)"))
    return ws, order


def peer_audit(frame: pd.DataFrame, slices: list[str], sub_ids: np.ndarray, pool_ids: np.ndarray) -> np.ndarray:
    """The per-category p-values with pandas + scipy, one table at a time (no codes kept between budgets)."""
    from scipy import stats

    sub = frame.loc[sub_ids]
    pool = frame.loc[pool_ids]
    ps = []
    k, n = len(sub_ids), len(pool_ids)
    for c in slices:
        pc = pool[c].value_counts()
        sc = sub[c].value_counts().reindex(pc.index, fill_value=0)
        for cat in pc.index:
            x1, x = int(sc[cat]), int(pc[cat])
            t = np.array([[x1, k - x1], [x - x1, (n - k) - (x - x1)]])
            ps.append(stats.chi2_contingency(t, correction=False).pvalue if t.sum(0).all() and t.sum(1).all()
                      else 1.0)
        tab = np.array([sc.to_numpy(), (pc - sc).to_numpy()])
        tab = tab[:, tab.sum(0) > 0]
        if tab.shape[1] > 1:
            stats.chi2_contingency(tab, correction=False)
    p = np.asarray(ps)
    stats.false_discovery_control(p)
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="10k rows, no RESULTS.md update")
    args = ap.parse_args()
    n = 10_000 if args.quick else args.rows
    from curation.diagnostics.audit import AuditContext
    from curation.subsets.spec import SubsetSpec, pin_arrays, resolve

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        ws, order = build_workspace(Path(d) / "ws.duckdb", n)
        t_ws = time.perf_counter() - t0
        import scipy.special  # noqa: F401  (imported once per process; not part of an audit)

        t0 = time.perf_counter()
        ctx = AuditContext.build(ws)
        t_build = time.perf_counter() - t0
        n_cats = sum(s.n_categories for s in ctx.slices)
        n_tests = int(sum(s.tested.sum() for s in ctx.slices))
        budgets = [int(n * f) for f in (0.10, 0.11, 0.12, 0.15, 0.2, 0.05, 0.01, 0.3, 0.5, 0.45, 0.25, 0.1, 0.09,
                                        0.08, 0.6, 0.75, 0.9)]
        t0 = time.perf_counter()
        ctx.audit(order[: budgets[0]], pool=order)
        t_cold = time.perf_counter() - t0
        warm, warm_resolve = [], []
        ranking = ws.ranking("bench(order=random)")
        pins = pin_arrays(ws)
        for b in budgets[1:]:
            t0 = time.perf_counter()
            a = ctx.audit(order[:b], pool=order)
            warm.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            sub = resolve(ws, SubsetSpec(ranking=ranking.method, budget=b), ranking=ranking, pins=pins)
            ctx.audit(sub.row_ids, pool=sub.pool)
            warm_resolve.append(time.perf_counter() - t0)
        # the peer: pandas + scipy on the same columns, one budget (10%)
        frame = pd.DataFrame({s.name: pd.Categorical.from_codes(s.codes, s.categories) for s in ctx.slices
                              if s.form != "cross"}, index=ctx.row_ids)
        # cross-slices as string columns so the peer tests the same tables
        for s in ctx.slices:
            if s.form == "cross":
                frame[s.name] = pd.Categorical.from_codes(s.codes, s.categories)
        names = [s.name for s in ctx.slices]
        t0 = time.perf_counter()
        p_peer = peer_audit(frame, names, order[: budgets[0]], order)
        t_peer = time.perf_counter() - t0
        a = ctx.audit(order[: budgets[0]], pool=order)
        assert len(p_peer) == len(a.table), (len(p_peer), len(a.table))
        t = a.table.set_index(["slice", "category"])
        i = 0
        for s in ctx.slices:   # the peer's p of every tested category equals the audit's
            vc = frame[s.name].value_counts()
            for cat in vc.index:
                if t.loc[(s.name, cat), "tested"]:
                    assert abs(t.loc[(s.name, cat), "p"] - p_peer[i]) <= 1e-9 + 1e-6 * p_peer[i], (s.name, cat)
                i += 1

    def ms(x: float) -> str:
        return f"{1000 * x:.0f} ms" if x >= 0.01 else f"{1000 * x:.1f} ms"

    wq = np.quantile(warm, [0.5, 0.9])
    rq = np.quantile(warm_resolve, [0.5, 0.9])
    load = os.getloadavg()[0]
    table = ("| rows | slices (incl. cross) / categories / tests | context build (once) | cold: first audit | "
             "warm: new budget, median / p90 / max | warm incl. resolve, median / p90 | pandas + scipy, one budget "
             "| scipy / warm |\n|---|---|---|---|---|---|---|---|\n"
             f"| {n:,} | {len(ctx.slices)} / {n_cats} / {n_tests} | {t_build:.2f} s | {ms(t_cold)} | "
             f"{ms(wq[0])} / {ms(wq[1])} / {ms(max(warm))} | {ms(rq[0])} / {ms(rq[1])} | {ms(t_peer)} | "
             f"{t_peer / wq[0]:.0f}x |")
    print(table)
    if args.quick:
        return
    body = f"""Audit of a new budget of a ranking over every slice column (curation/diagnostics/audit.py), in a DuckDB
workspace of {n:,} synthetic rows holding the slice columns a real one has after `analyze` and the slice scorers
(4 datasets, 12 labels, 30 clusters, language, length bucket, refusal, PII, 7 identity-group flags, a
harmful-request risk score with its threshold, pref_head_default for language x quality; cross-slices harm x each
identity group, refusal x dataset, language x quality tercile). Target: <= 150 ms warm at 100k rows.
**warm** = a new budget with the context built (one gather and one bincount per slice, vectorised z tests, BH);
**incl. resolve** = the spec resolved first (ranking, labels and pins preloaded, as the pages call it);
**pandas + scipy** = the same tables counted with `value_counts` from the subset's rows and tested one at a
time with `scipy.stats.chi2_contingency` plus `false_discovery_control` (the peer; no codes kept between budgets).
Workspace built in {t_ws:.1f} s (not part of the audit).

{table}

Machine: {platform.machine()}, 2 cores shared with other engineers' jobs (1-min load average at the end {load:.1f}),
so the wall times above include waiting for a core; the ratio is from the same run. Python
{platform.python_version()}, numpy {np.__version__}."""
    write_section("bench_audit", "Bias audit of a new budget (bench_audit.py)", body)


if __name__ == "__main__":
    main()
