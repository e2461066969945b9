"""Benchmark: time to recompute the diagnostics report card for a new budget, at 10k and 100k rows.

Synthetic, precomputed embeddings (384-d, L2-normalised; 8 classes with different covariance spectra and skewed
sizes), three score columns and preference features on 20% of the rows. A ranking's prefixes are reported in a
slider-like sequence of budgets.

Measured side by side in the same run:

* **warm**: ``ReportContext.report`` for a new budget after the previous one (the dashboard's budget slider);
* **cold**: the same with the subset statistics forgotten (an arbitrary new subset; context still cached);
* **naive**: :func:`curation.diagnostics.reference.reference_report`, everything recomputed from rows with no
  cache (scikit-learn Ledoit–Wolf per class for pool and subset, brute-force coverage over the same pool sample,
  the k-NN probe, quantiles by sorting). The ratio column is naive / warm.

Run: ``.venv/bin/python benchmarks/bench_diagnostics.py`` (``--quick`` for 10k only). Writes its section of
benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402
from curation.diagnostics import ReportContext, ReportParams  # noqa: E402
from curation.diagnostics.reference import reference_report  # noqa: E402

D = 384
N_CLASSES = 8
TARGET_MS = 150.0


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, pd.DataFrame]:
    """(X (n, 384) float32 unit rows, labels (n,), scores (n, 3), pref (chosen, rejected, type))."""
    rng = np.random.default_rng(seed)
    shares = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03])
    labels = rng.choice([f"class_{i}" for i in range(N_CLASSES)], n, p=shares)
    codes = np.array([int(s.rsplit("_", 1)[1]) for s in labels])
    X = np.empty((n, D), dtype=np.float32)
    for c in range(N_CLASSES):
        rows = np.flatnonzero(codes == c)
        decay = 0.3 + 0.15 * c  # power-law spectra with class-specific decay
        scale = (np.arange(1, D + 1) ** -decay).astype(np.float32)
        basis = np.linalg.qr(rng.standard_normal((D, D)))[0].astype(np.float32)
        center = rng.standard_normal(D).astype(np.float32) * 0.08
        for a in range(0, len(rows), 20000):
            r = rows[a:a + 20000]
            X[r] = center + (rng.standard_normal((len(r), D)).astype(np.float32) * scale) @ basis.T * 0.5
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    scores = pd.DataFrame({"quality": rng.random(n), "length": rng.integers(5, 2000, n).astype(float),
                           "reward": np.where(rng.random(n) < 0.3, np.nan, rng.standard_normal(n))})
    is_pair = rng.random(n) < 0.2
    words = ["the", "answer", "is", "here", "sure", "ok", "help", "with", "that"]
    chosen = np.array([None] * n, dtype=object)
    rejected = np.array([None] * n, dtype=object)
    for i in np.flatnonzero(is_pair):
        chosen[i] = " ".join(rng.choice(words, rng.integers(3, 40)))
        rejected[i] = ("I'm sorry, I can't help with that." if rng.random() < 0.1 else
                       " ".join(rng.choice(words, rng.integers(3, 30))))
    types = np.where(rng.random(n) < 0.5, "helpful-base", "harmless-base")
    pref = pd.DataFrame({"chosen": chosen, "rejected": rejected, "type": types})
    return X, labels, scores, pref


CPU_MS: list[float] = []


def timed(fn) -> tuple[float, object]:
    """Wall-clock ms of fn() (and its process CPU ms appended to CPU_MS: on a shared machine wall time includes
    waiting for a core, CPU time does not)."""
    c = time.process_time()
    t = time.perf_counter()
    out = fn()
    CPU_MS.append((time.process_time() - c) * 1000.0)
    return (time.perf_counter() - t) * 1000.0, out


def bench(n: int, *, naive_reps: int) -> dict:
    X, labels, scores, pref = synthetic(n)
    rng = np.random.default_rng(1)
    ranking = rng.permutation(n)
    params = ReportParams()
    build_ms, ctx = timed(lambda: ReportContext.from_arrays(X, labels, scores=scores, pref=pref, params=params))
    ctx.report(ranking[: n // 10])  # the first report after building (loads lazy imports)
    # a slider: small steps, a jump, steps down
    fracs = [0.10, 0.11, 0.12, 0.14, 0.17, 0.20, 0.25, 0.30, 0.40, 0.50, 0.45, 0.40, 0.35, 0.05, 0.06, 0.02, 0.01]
    warm, warm_parts = [], []
    CPU_MS.clear()
    for f in fracs:
        ms, card = timed(lambda f=f: ctx.report(ranking[: int(f * n)]))
        warm.append(ms)
        warm_parts.append(card.timings_ms)
    warm_cpu = list(CPU_MS)
    typical = warm_parts[int(np.argsort(warm)[len(warm) // 2])]  # the sections of the median warm report
    cold = {}
    for f in (0.01, 0.10, 0.50):
        ts = []
        for _ in range(3):
            ctx._state = None
            ms, card = timed(lambda f=f: ctx.report(ranking[: int(f * n)]))
            ts.append(ms)
        cold[f] = float(np.median(ts))
    # a subset that drops a whole class (the coverage fall-back path): half the pool without class_2
    sel = ranking[: n // 2]
    sel = sel[labels[sel] != "class_2"]
    ctx._state = None
    drop_ms, card = timed(lambda: ctx.report(sel))
    naive = []
    for _ in range(naive_reps):
        ms, _ = timed(lambda: reference_report(X, labels, ranking[: n // 10], scores=scores,
                                               coverage_rows=ctx.coverage_index.rows, params=params))
        naive.append(ms)
    return {"n": n, "build_ms": build_ms, "build_parts": ctx.build_timings_ms, "warm": warm,
            "warm_median": float(np.median(warm)), "warm_p90": float(np.quantile(warm, 0.9)),
            "warm_max": float(np.max(warm)), "warm_cpu_median": float(np.median(warm_cpu)), "cold": cold,
            "drop_class_ms": drop_ms,
            "naive_median": float(np.median(naive)), "parts": typical, "alerts": card.alerts}


def markdown(results: list[dict]) -> str:
    lines = [
        "| rows | context build (once) | warm: new budget, median / p90 / max | warm CPU time, median | "
        "cold 1% / 10% / 50% | drop-a-class 50% (cold) | naive, no cache (10%) | naive / warm |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c = r["cold"]
        lines.append(
            f"| {r['n']:,} | {r['build_ms'] / 1000:.1f} s | {r['warm_median']:.0f} / {r['warm_p90']:.0f} / "
            f"{r['warm_max']:.0f} ms | {r['warm_cpu_median']:.0f} ms | {c[0.01]:.0f} / {c[0.1]:.0f} / "
            f"{c[0.5]:.0f} ms | {r['drop_class_ms']:.0f} ms | "
            f"{r['naive_median'] / 1000:.2f} s | {r['naive_median'] / r['warm_median']:.0f}× |")
    return "\n".join(lines)


def write_results(table: str, results: list[dict], quick: bool) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    parts = "; ".join(f"{r['n']:,} rows: " + ", ".join(f"{k} {v:.0f} ms" for k, v in r["parts"].items())
                      for r in results)
    builds = "; ".join(f"{r['n']:,} rows: " + ", ".join(f"{k} {v / 1000:.2f} s" for k, v in r["build_parts"].items())
                       for r in results)
    body = f"""Time to recompute the full report card (class balance, per-class spectra of 8 classes + all, coverage,
Vendi, 3 quality scores, preference pairs) for a new budget of a ranking, synthetic 384-d embeddings. Target:
under {TARGET_MS:.0f} ms at 100k rows. **warm** = the dashboard case, the previous budget's statistics are
reused (17 slider positions: small steps, jumps up and down); **cold** = an arbitrary subset with nothing
reused except the context; **naive** = `reference_report`, everything recomputed from rows with no cache
(scikit-learn Ledoit–Wolf per class, brute-force coverage over the same 1,024-row pool sample, the k-NN probe,
quantiles by sorting). CPU time is the process time of the warm reports (all threads): on this shared machine
wall time also counts waiting for a core, so on an idle machine a report's wall time should be near its CPU time
(lower where the eigensolves run in parallel); that was not measured here.

{table}

Per-section wall time of the median warm report: {parts}.
Context build (once per workspace state, model and label column): {builds}.

Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs (1-min load average at the end
{load:.1f}); Python {platform.python_version()}, numpy {np.__version__}. BLAS runs single-threaded inside a
report; the eigensolves run in a thread pool."""
    write_section("bench_diagnostics", f"Diagnostics report card (bench_diagnostics.py{' --quick' if quick else ''})",
                  body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k rows only, one naive run")
    args = ap.parse_args(argv)
    sizes = [10_000] if args.quick else [10_000, 100_000]
    results = []
    for n in sizes:
        print(f"benchmarking {n:,} rows ...", file=sys.stderr)
        results.append(bench(n, naive_reps=1 if args.quick or n > 50_000 else 2))
    table = markdown(results)
    print(table)
    for r in results:
        print(f"\n{r['n']:,} rows, warm per budget (ms): " + " ".join(f"{x:.0f}" for x in r["warm"]))
        print("parts of one warm report (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in r["parts"].items()))
        print("build (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in r["build_parts"].items()))
    write_results(table, results, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
