"""Neighbour graph at 1M rows: build time and peak memory, measured (not extrapolated).

Each measurement runs in a fresh child process so its peak RSS (getrusage of the child) is its own:
1. the vectors alone (1M x 384 float32, synthetic clustered unit vectors), as the baseline;
2. the vectors + `curation.neighbours.graph.knn(X, 15)` with the default approximate method (NN-descent).

Usage: .venv/bin/python benchmarks/bench_graph_1m.py [--n N]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402

CHILD = """
import json, sys, time
import numpy as np
sys.path.insert(0, {root!r})
n, d, mode = {n}, 384, {mode!r}
rng = np.random.default_rng(0)
centres = rng.normal(size=(200, d)).astype(np.float32)
X = np.empty((n, d), dtype=np.float32)
for s in range(0, n, 100_000):
    m = min(100_000, n - s)
    X[s:s + m] = centres[rng.integers(0, 200, m)] + 0.35 * rng.normal(size=(m, d)).astype(np.float32)
X /= np.linalg.norm(X, axis=1, keepdims=True)
out = {{"n": n}}
if mode == "graph":
    from curation.neighbours.graph import APPROX_DEFAULT, knn
    t = time.perf_counter()
    idx, sim = knn(X, 15, method="auto", seed=0)
    out.update(seconds=time.perf_counter() - t, method=APPROX_DEFAULT, shape=list(idx.shape),
               mean_sim=float(sim[:, 0].mean()))
print(json.dumps(out))
"""


def run_child(n: int, mode: str) -> tuple[dict, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    p = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), n=n, mode=mode)], capture_output=True,
                       text=True, env=dict(os.environ, NUMBA_NUM_THREADS=str(os.cpu_count() or 1)))
    if p.returncode != 0:
        raise SystemExit(p.stderr[-2000:])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if peak_mb <= before / 1024:  # ru_maxrss of children is the max over all children so far
        peak_mb = float("nan")
    return json.loads(p.stdout.strip().splitlines()[-1]), peak_mb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    _, base_mb = run_child(args.n, "vectors")
    res, graph_mb = run_child(args.n, "graph")
    vec_mb = args.n * 384 * 4 / 2**20
    table = "\n".join([
        f"{os.cpu_count()} CPU cores; synthetic clustered 384-d unit vectors; k=15; "
        f"total {time.perf_counter() - t0:.0f} s.",
        "",
        "| rows | method | build time | peak RSS, vectors only | peak RSS, vectors + graph build "
        "| graph build's own peak |",
        "|---|---|---|---|---|---|",
        f"| {args.n:,} | {res['method']} | {res['seconds']:.0f} s | {base_mb:,.0f} MB ({vec_mb:,.0f} MB of vectors) | "
        f"{graph_mb:,.0f} MB | {graph_mb - base_mb:,.0f} MB |",
    ])
    print(table)
    write_section("bench_graph_1m", "Neighbour graph at 1M rows (bench_graph_1m.py)", table)


if __name__ == "__main__":
    main()
