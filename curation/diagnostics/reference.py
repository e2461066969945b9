"""Plain reference implementation of the report card: everything recomputed from rows, with library routines
(scipy's Jensen–Shannon and chi-square, scikit-learn's Ledoit–Wolf, brute-force nearest neighbours).

It is the yardstick the fast :class:`~curation.diagnostics.report.ReportContext` is tested against, and the
"naive recompute (no cache)" of ``benchmarks/bench_diagnostics.py``. Cost per call: O((n + k)·d²) for the
spectra, O(m·k·d) for coverage over m pool rows, plus the probe: seconds at 100k rows. Not for interactive use.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from curation.diagnostics import spectral as sp
from curation.diagnostics.classes import encode_labels
from curation.diagnostics.probe import knn_probe
from curation.diagnostics.report import ReportParams


def _metrics_rows(Xc: np.ndarray, P: ReportParams) -> dict[str, float]:
    from sklearn.covariance import empirical_covariance, ledoit_wolf

    n = len(Xc)
    if n < P.spectral_min_rows:
        return dict(sp.NAN_METRICS)
    Xc = Xc.astype(np.float64)
    C = ledoit_wolf(Xc)[0] if P.shrinkage == "ledoit-wolf" else empirical_covariance(Xc)
    with sp.single_blas_thread():
        lam = np.clip(np.linalg.eigvalsh(C)[::-1], 0.0, None)
    return sp.spectrum_metrics(lam, n_rows=n, top_k=P.top_k, fit_k=P.fit_k)


def reference_report(X: np.ndarray, labels: np.ndarray, selected: np.ndarray, *,
                     scores: pd.DataFrame | None = None, coverage_rows: np.ndarray | None = None,
                     params: ReportParams | None = None, with_probe: bool = True) -> dict:
    """The report of positions ``selected`` (into X) computed from scratch.

    X: (n, d), normalised here. labels: (n,). scores: n rows, one numeric column per key. coverage_rows: pool
    positions to measure coverage on (default: all). Returns a dict with keys classes, js_divergence, chi2,
    chi2_p, spectral (DataFrame label → pool_* / subset_* metrics for every class with enough pool rows, plus
    "(all)"), vendi_subset, vendi_pool, coverage (dict), quality (DataFrame) and probe (when ``with_probe``).
    """
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chisquare

    P = params or ReportParams()
    X = np.asarray(X, dtype=np.float32)
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    n = len(X)
    sel = np.unique(np.asarray(selected, dtype=np.int64))
    mask = np.zeros(n, dtype=bool)
    mask[sel] = True
    codes, names = encode_labels(np.asarray(labels, dtype=object), max_classes=P.max_classes)
    lab = pd.Series(np.asarray(names, dtype=object)[codes])
    pool_counts = lab.value_counts().reindex(names, fill_value=0)
    sub_counts = lab[mask].value_counts().reindex(names, fill_value=0)
    classes = pd.DataFrame({"label": names, "pool_count": pool_counts.to_numpy(),
                            "subset_count": sub_counts.to_numpy()})
    classes["pool_share"] = classes["pool_count"] / n
    classes["subset_share"] = classes["subset_count"] / max(len(sel), 1)
    classes["retention"] = classes["subset_count"] / classes["pool_count"]
    out: dict = {"classes": classes}
    if len(sel):
        js = jensenshannon(pool_counts.to_numpy(float), sub_counts.to_numpy(float), base=2)
        out["js_divergence"] = float(js ** 2)
        exp = len(sel) * pool_counts.to_numpy(float) / n
        r = chisquare(sub_counts.to_numpy(float), exp)
        out["chi2"], out["chi2_p"] = float(r.statistic), float(r.pvalue)
    else:
        out["js_divergence"] = out["chi2"] = out["chi2_p"] = float("nan")

    rows = []
    spec = [i for i, c in enumerate(names) if pool_counts.iloc[i] >= P.spectral_min_rows][: P.max_spectral_classes]
    for i in spec:
        in_c = codes == i
        pm = _metrics_rows(X[in_c], P)
        smt = _metrics_rows(X[in_c & mask], P)
        rows.append({"label": names[i], "pool_n": int(in_c.sum()), "subset_n": int((in_c & mask).sum()),
                     **{f"pool_{k}": v for k, v in pm.items()}, **{f"subset_{k}": v for k, v in smt.items()}})
    pm, smt = _metrics_rows(X, P), _metrics_rows(X[mask], P)
    rows.append({"label": "(all)", "pool_n": n, "subset_n": int(mask.sum()),
                 **{f"pool_{k}": v for k, v in pm.items()}, **{f"subset_{k}": v for k, v in smt.items()}})
    out["spectral"] = pd.DataFrame(rows)

    def vendi(Xs: np.ndarray) -> float:
        k = len(Xs)
        if k == 0:
            return float("nan")
        Xs = Xs.astype(np.float64)
        K = (Xs @ Xs.T) / k if k <= 400 else (Xs.T @ Xs) / k  # same nonzero eigenvalues (the k×k one is slow)
        with sp.single_blas_thread():
            lam = np.clip(np.linalg.eigvalsh(K), 0.0, None)
        return sp.effective_rank(lam)

    out["vendi_subset"], out["vendi_pool"] = vendi(X[mask]), vendi(X)

    rows_c = np.arange(n) if coverage_rows is None else np.asarray(coverage_rows, dtype=np.int64)
    if len(sel):
        best = np.full(len(rows_c), -np.inf, dtype=np.float32)
        for a in range(0, len(sel), 16384):
            best = np.maximum(best, (X[rows_c] @ X[sel[a:a + 16384]].T).max(axis=1))
        dist = 1.0 - best.astype(np.float64)
        out["coverage"] = {"mean_distance": float(dist.mean()), "p95_distance": float(np.quantile(dist, 0.95)),
                           "max_distance": float(dist.max()),
                           "facility_location": float(best.astype(np.float64).mean())}
    else:
        out["coverage"] = {"mean_distance": float("nan"), "p95_distance": float("nan"),
                           "max_distance": float("nan"), "facility_location": float("nan")}

    q = []
    if scores is not None:
        for key in scores.columns:
            v = scores[key].to_numpy(np.float64)
            row = {"key": key}
            for name, vals in (("pool", v), ("subset", v[mask])):
                vals = vals[np.isfinite(vals)]
                row[f"{name}_n"] = len(vals)
                row[f"{name}_mean"] = float(vals.mean()) if len(vals) else float("nan")
                qs = np.quantile(vals, [0.1, 0.25, 0.5, 0.75, 0.9]) if len(vals) else [float("nan")] * 5
                for qn, qv in zip(("q10", "q25", "median", "q75", "q90"), qs):
                    row[f"{name}_{qn}"] = float(qv)
            q.append(row)
    out["quality"] = pd.DataFrame(q)
    if with_probe:
        out["probe"] = knn_probe(X, codes, names, k=P.probe_k, sample=P.probe_sample, seed=P.seed)
    return out
