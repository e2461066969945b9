"""Benchmark the neighbour graph and what hangs off it, side by side with the peer libraries, in one run.

1. Recall@15 of the approximate graphs (faiss HNSW, pynndescent) against exact search on REAL embeddings
   (all-MiniLM-L6-v2 over alpaca-9k + dolly-3k from ../shared/datasets, cached in benchmarks/out/).
2. Graph build time at 10k / 50k / 100k synthetic clustered 384-d vectors: ours (method="auto" and each method)
   vs scikit-learn ``NearestNeighbors(algorithm="brute", metric="cosine")``, whose result also gives the recall.
3. UMAP: umap-learn fed our precomputed neighbours vs umap-learn computing its own (same data, seed, epochs).
4. The LSH density sketch at 1M rows of synthetic 384-d vectors, and peak memory (RSS of a fresh process) of the
   sketch at 1M rows and of the graph build at 100k rows (with a linear extrapolation to 1M).

Run: ``.venv/bin/python benchmarks/bench_graph.py [--quick]``. Prints a markdown table and replaces the
``bench_graph`` block of benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "out"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SHARED = ROOT.parent / "shared" / "datasets"
K = 15


def synthetic(n: int, d: int = 384, centres: int = 200, seed: int = 0) -> np.ndarray:
    """(n, d) float32 L2-normalised vectors in ``centres`` clusters of varying spread (a sentence-embedding-like
    mix of tight and loose topics). Built in chunks, O(n·d) memory."""
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((centres, d)).astype(np.float32)
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    spread = rng.uniform(0.6, 1.4, centres).astype(np.float32)
    X = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 100_000):
        m = min(n, s + 100_000) - s
        lab = rng.integers(0, centres, m)
        B = C[lab] + spread[lab, None] * rng.standard_normal((m, d), dtype=np.float32) / np.sqrt(d)
        X[s:s + m] = B / np.linalg.norm(B, axis=1, keepdims=True)
    return X


def real_texts(limit: int | None = None) -> list[str]:
    texts = []
    for f in ("alpaca-9k-random/alpaca_random_9k.jsonl.gz", "dolly-3k-alpagasus/dolly_3k.jsonl.gz"):
        with gzip.open(SHARED / f, "rt") as fh:
            for line in fh:
                r = json.loads(line)
                texts.append("\n".join(x for x in (r.get("instruction"), r.get("input"), r.get("output")) if x))
    return texts[:limit] if limit else texts


def real_embeddings(limit: int | None = None) -> np.ndarray | None:
    """MiniLM embeddings of alpaca-9k + dolly-3k (cached in benchmarks/out/real_minilm.npy); None without data."""
    cache = OUT / "real_minilm.npy"
    if cache.exists():
        X = np.load(cache)
        return X[:limit] if limit else X
    if not SHARED.is_dir():
        return None
    import torch

    from curation.embedding.embed import encode_texts

    torch.set_num_threads(2)
    X = np.asarray(encode_texts(real_texts()), dtype=np.float32)
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(cache, X)
    return X[:limit] if limit else X


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed_mem(fn):
    """(result, seconds, peak extra RSS in MB above the RSS before the call), sampled every 5 ms."""
    import threading

    before = rss_mb()
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.005)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        out, secs = timed(fn)
    finally:
        stop.set()
        th.join()
    return out, secs, max(peak[0], rss_mb()) - before


def sklearn_brute(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute", metric="cosine", n_jobs=-1).fit(X)
    dist, idx = nn.kneighbors(X)
    from curation.neighbours.graph import _drop_self

    return _drop_self(idx.astype(np.int64), (1 - dist).astype(np.float32), k)


# ---------------------------------------------------------------------------------------------- children (memory)
def child(kind: str, n: int) -> None:
    """Run one measured job in this fresh process and print JSON with its seconds and peak RSS."""
    from curation.neighbours.density import lsh_density

    X = synthetic(n)
    _, secs, extra = timed_mem(lambda: lsh_density(X))
    print(json.dumps({"seconds": secs, "extra_mb": extra, "rss_mb": rss_mb(), "data_mb": X.nbytes / 2**20,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run_child(kind: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(n)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------- sections
def bench_recall(rows: list[list[str]], quick: bool) -> dict:
    from curation.neighbours.graph import knn, recall_at_k

    X = real_embeddings(3000 if quick else None)
    if X is None:
        rows.append(["recall@15, real MiniLM embeddings", "skipped: ../shared/datasets absent", "", ""])
        return {}
    (ei, es), t_exact = timed(lambda: knn(X, K, method="exact"))
    res = {}
    rows.append([f"exact graph, real MiniLM, n={len(X)}", f"{t_exact:.2f} s", "recall 1.000", ""])
    (si, ss), t_sk = timed(lambda: sklearn_brute(X, K))
    rows.append([f"sklearn brute, real MiniLM, n={len(X)}", f"{t_sk:.2f} s",
                 f"recall {recall_at_k(si, ei, es, ss):.4f}", f"ours exact {t_sk / t_exact:.1f}x faster"])
    for m in ("nndescent", "faiss-hnsw"):
        knn(X[:200], K, method=m)  # warm-up: numba compiles pynndescent once per process
        (ai, asim), t = timed(lambda: knn(X, K, method=m, seed=0))
        r = recall_at_k(ai, ei, es, asim)
        res[m] = r
        rows.append([f"{m}, real MiniLM, n={len(X)}", f"{t:.2f} s", f"**recall@15 {r:.4f}**",
                     f"vs sklearn brute {t_sk / t:.1f}x"])
    return res


def bench_build(rows: list[list[str]], quick: bool) -> dict:
    from curation.neighbours.graph import knn, recall_at_k, resolve_method

    sizes = (2_000, 5_000) if quick else (10_000, 50_000, 100_000)
    mem = {}
    knn(synthetic(500, seed=1), K, method="nndescent")  # warm-up: numba compiles pynndescent once per process
    for n in sizes:
        X = synthetic(n, seed=n)
        (si, ss), t_sk = timed(lambda: sklearn_brute(X, K))
        rows.append([f"sklearn brute (peer), synthetic n={n:,}", f"{t_sk:.1f} s", "recall 1.000", "1.0x"])
        methods = ["exact", "nndescent", "faiss-hnsw"] if n <= 10_000 else ["nndescent", "faiss-hnsw"]
        for m in methods:
            (ai, asim), t, extra = timed_mem(lambda: knn(X, K, method=m, seed=0))
            auto = " (= auto)" if resolve_method(n) == m else ""
            rows.append([f"ours {m}{auto}, synthetic n={n:,}", f"{t:.1f} s",
                         f"recall {recall_at_k(ai, si, ss, asim):.4f}; +{extra:.0f} MB RSS",
                         f"{t_sk / t:.1f}x faster"])
            mem[(m, n)] = (t, extra, X.nbytes / 2**20)
    return mem
def bench_umap(rows: list[list[str]], quick: bool) -> None:
    import umap

    from curation.neighbours.graph import knn
    from curation.neighbours.projection import umap_layout

    n = 3_000 if quick else 20_000
    X = real_embeddings(n)
    src = "real MiniLM"
    if X is None or len(X) < n:
        X, src = synthetic(n, seed=7), "synthetic"
    n = len(X)
    epochs = 200
    # warm-up both paths on a small sample (numba compilation is not part of either's steady state)
    wi, ws_ = knn(X[:600], K, method="exact")
    umap_layout(X[:600], wi, ws_, n_neighbors=15, n_epochs=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        umap.UMAP(n_neighbors=15, metric="cosine", random_state=0, n_epochs=20).fit_transform(X[:600])
    (gi, gs), t_graph = timed(lambda: knn(X, K, method="auto"))
    _, t_pre = timed(lambda: umap_layout(X, gi, gs, n_neighbors=15, seed=0, n_epochs=epochs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, t_own = timed(lambda: umap.UMAP(n_neighbors=15, metric="cosine", random_state=0,
                                           n_epochs=epochs).fit_transform(X))
    rows.append([f"umap-learn computing its own k-NN (peer), {src} n={n:,}", f"{t_own:.1f} s", "", "1.0x"])
    rows.append([f"umap-learn fed our stored graph, {src} n={n:,}", f"{t_pre:.1f} s",
                 f"(graph built once: {t_graph:.1f} s)", f"{t_own / t_pre:.2f}x faster"])


def bench_density(rows: list[list[str]], quick: bool, mem: dict) -> None:
    from curation.neighbours.graph import APPROX_DEFAULT

    n = 100_000 if quick else 1_000_000
    d = run_child("density", n)
    rows.append([f"LSH density sketch (64 rows x 4 hashes), synthetic 384-d n={n:,}", f"{d['seconds']:.1f} s",
                 f"+{d['extra_mb']:.0f} MB over the {d['data_mb']:.0f} MB of vectors; process peak "
                 f"{d['maxrss_mb']:.0f} MB", f"{n / d['seconds'] / 1e3:.0f}k rows/s"])
    big = max((nn for (m, nn) in mem if m == APPROX_DEFAULT), default=None)
    if big:
        t, extra, data_mb = mem[(APPROX_DEFAULT, big)]
        scale = 1_000_000 / big
        rows.append([f"graph build at 1M rows ({APPROX_DEFAULT}), extrapolated from n={big:,}",
                     f"≈ {t * scale * 1.2 / 60:.0f} min (n log n)",
                     f"≈ {data_mb * scale + extra * scale:.0f} MB peak = {data_mb * scale:.0f} MB vectors + "
                     f"{extra * scale:.0f} MB index", "estimate, not measured"])
def write_results(table: str, header: str) -> None:
    start, end = "<!-- bench_graph:start -->", "<!-- bench_graph:end -->"
    block = f"{start}\n{header}\n\n{table}\n{end}"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--only", nargs="*", choices=["recall", "build", "umap", "density"], help="run only these")
    args = ap.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    rows: list[list[str]] = []
    t0 = time.time()
    parts = args.only or ["recall", "build", "umap", "density"]
    recall = {}
    if "recall" in parts:
        recall = bench_recall(rows, args.quick)
    mem: dict = {}
    if "build" in parts:
        mem = bench_build(rows, args.quick)
    if "umap" in parts:
        bench_umap(rows, args.quick)
    if "density" in parts:
        bench_density(rows, args.quick, mem)
    table = "| what | time | quality / memory | ratio |\n|---|---|---|---|\n" + "\n".join(
        "| " + " | ".join(r) + " |" for r in rows)
    import faiss
    import pynndescent  # noqa: F401

    from curation.neighbours.graph import APPROX_DEFAULT, EXACT_MAX_ROWS
    import sklearn
    import umap

    header = (f"## k-NN graph, UMAP, density (`bench_graph.py{' --quick' if args.quick else ''}`)\n\n"
              f"{os.cpu_count()} CPU cores ({platform.machine()}), shared with other jobs; k={K}; faiss "
              f"{faiss.__version__}, scikit-learn {sklearn.__version__}, umap-learn {umap.__version__}. "
              f"Total {time.time() - t0:.0f} s. Synthetic = 200 Gaussian clusters on the 384-d sphere. Recall = "
              "fraction of the exact 15 neighbours found (ties at the 15th similarity count as found)."
              + (f" Default approximate method (`auto` above {EXACT_MAX_ROWS:,} rows): {APPROX_DEFAULT}; "
                 "recall@15 on real "
                 f"embeddings: nndescent {recall.get('nndescent', float('nan')):.4f}, faiss-hnsw "
                 f"{recall.get('faiss-hnsw', float('nan')):.4f}." if recall else ""))
    print(header + "\n\n" + table)
    write_results(table, header)


if __name__ == "__main__":
    main()
