"""Meaning search at 100k and 1M rows: the scan as shipped (``curation.search.meaning.scan``: one BLAS product
``X @ q`` over float32, then argpartition for a top k or a comparison for a threshold) side by side with faiss:
IndexFlatIP (shipped before; range_search for the threshold) and the 16-bit IndexScalarQuantizer QT_fp16 (half the
memory; its range_search, and a threshold asked as a top k widened x8 until its last row falls below), one query at a
time, on one thread and on two; plus the engine as
shipped at 100k rows (a real DuckDB workspace: ``curation.search.meaning.nearest``, freshness check included) and
the query's embedding with MiniLM.

Vectors: 384-d, L2-normalised, drawn around 200 cluster centres with cosine ~0.85 to their centre (like sentence
embeddings of a topical dataset); queries: 8 of them, each a stored vector plus noise, so that a threshold of 0.5
matches the query's cluster (~0.5% of the rows), as a real query does. Times: the median of the 8 warm queries.
``recall@50``: the share of the exact top 50 that the method returns in its top 50; ``max |cos err|``: the largest
difference between the cosines it returns and the exact ones. ``index MB``: the memory the index holds.

Usage: .venv/bin/python benchmarks/bench_meaning.py [--sizes 100000 1000000] [--no-write]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

D = 384


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((200, D), dtype=np.float32)
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    X = np.empty((n, D), np.float32)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        X[s:s + m] = C[rng.integers(0, 200, m)] + 0.03 * rng.standard_normal((m, D), dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X


def queries(X: np.ndarray, k: int = 8) -> np.ndarray:
    rng = np.random.default_rng(1)
    Q = X[rng.integers(0, len(X), k)] + 0.03 * rng.standard_normal((k, D), dtype=np.float32)
    return (Q / np.linalg.norm(Q, axis=1, keepdims=True)).astype(np.float32)


def median_ms(fn, Q: np.ndarray) -> float:
    fn(Q[0])
    ts = []
    for q in Q:
        t = time.perf_counter()
        fn(q)
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)) * 1000


def run_size(n: int) -> list[dict]:
    import faiss

    from curation.search.meaning import scan

    X = vectors(n)
    Q = queries(X)
    exact = [np.argsort(-(X @ q))[:50] for q in Q]
    flat = faiss.IndexFlatIP(D)
    flat.add(X)
    fp16 = faiss.IndexScalarQuantizer(D, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    fp16.add(X)

    def widening(q):
        k = 1024
        while True:
            Dv, _ = fp16.search(q[None], k)
            if k >= n or Dv[0, -1] < 0.5:
                return
            k = min(n, k * 8)

    out = []
    hits = int(np.median([(X @ q >= 0.5).sum() for q in Q]))
    methods = (("**BLAS scan X @ q (shipped)**", n * D * 4 / 2**20, lambda q: scan(X, q, 50),
                lambda q: scan(X, q, 0, 0.5)),
               ("faiss IndexFlatIP float32 (shipped before)", n * D * 4 / 2**20,
                lambda q: flat.search(q[None], 50), lambda q: flat.range_search(q[None], 0.5)),
               ("faiss fp16 codes, range_search", n * D * 2 / 2**20, lambda q: fp16.search(q[None], 50),
                lambda q: fp16.range_search(q[None], 0.5)),
               ("faiss fp16 codes, threshold as a widening top k", n * D * 2 / 2**20,
                lambda q: fp16.search(q[None], 50), widening))
    for name, mb, top50, by_threshold in methods:
        rec, err = [], 0.0
        for q, ex in zip(Q, exact):
            got = top50(q)
            Dv, I = (got[0][0], got[1][0]) if isinstance(got, tuple) and np.ndim(got[0]) == 2 else got
            rec.append(len(set(np.asarray(I).tolist()) & set(ex.tolist())) / 50)
            err = max(err, float(np.abs(np.asarray(Dv) - X[np.asarray(I)] @ q).max()))
        row = {"n": n, "method": name, "index_mb": mb, "recall": float(np.mean(rec)), "err": err, "hits": hits}
        for th in (1, 2):
            from threadpoolctl import threadpool_limits

            faiss.omp_set_num_threads(th)
            with threadpool_limits(th):
                row[f"top50_t{th}"] = median_ms(top50, Q)
                row[f"range_t{th}"] = median_ms(by_threshold, Q)
        out.append(row)
    return out


def engine_ms(n: int) -> dict:
    """The engine at ``n`` rows: a DuckDB workspace with n short rows and their vectors stored under MiniLM's key;
    warm ``nearest`` (the freshness check included) and the first call (reading the vectors, building the index)."""
    from curation.core.keys import DEFAULT_MODEL, model_key
    from curation.embedding.embed import encode_texts
    from curation.ingest.run import ingest_file
    from curation.search.meaning import nearest, vector_index
    from curation.store import Workspace

    d = Path(tempfile.mkdtemp(prefix="bench-meaning-"))
    src = d / "rows.jsonl"
    with open(src, "w") as f:
        for i in range(n):
            f.write(json.dumps({"prompt": f"question {i}", "response": f"answer {i}"}) + "\n")
    ws = Workspace(d / "w.duckdb")
    ingest_file(ws, src, name="rows")
    X = vectors(n, seed=2)
    hashes = ws.examples(["text_hash"])["text_hash"].tolist()
    mk = model_key(DEFAULT_MODEL)
    for s in range(0, n, 100_000):
        ws.put_embeddings(mk, hashes[s:s + 100_000], X[s:s + 100_000])
    t = time.perf_counter()
    vector_index(ws, DEFAULT_MODEL)
    first = time.perf_counter() - t
    Q = queries(X)
    warm = median_ms(lambda q: nearest(ws, q, limit=50), Q)
    texts = ["how do I brew green tea without it turning bitter", "python list comprehension with a condition",
             "what to pack for a week of hiking", "explain the refund rules for income tax"]
    encode_texts(texts[:1])
    ts = []
    for q in texts * 2:
        t = time.perf_counter()
        encode_texts([q])
        ts.append(time.perf_counter() - t)
    return {"n": n, "first_s": first, "warm_ms": warm, "embed_ms": float(np.median(ts)) * 1000}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--engine-size", type=int, default=100_000)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        for r in run_size(n):
            print(json.dumps(r), flush=True)
            rows.append(r)
    eng = engine_ms(args.engine_size)
    print(json.dumps(eng), flush=True)
    lines = ["| rows | method | top 50, 1 thread ms | top 50, 2 threads ms | cosine >= 0.5, 1 thread ms | "
             "cosine >= 0.5, 2 threads ms | index MB | recall@50 | max abs cos err |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['method']} | {r['top50_t1']:.0f} | {r['top50_t2']:.0f} | {r['range_t1']:.0f} "
                     f"| {r['range_t2']:.0f} | {r['index_mb']:,.0f} | {r['recall']:.3f} | {r['err']:.1e} |")
    load = os.getloadavg()[0]
    body = "\n".join(lines) + (
        f"\n\nThe engine as shipped at {eng['n']:,} rows (a DuckDB workspace on disk; `curation.search.meaning."
        f"nearest`, top 50, the freshness check included): {eng['warm_ms']:.0f} ms warm; the first query of a "
        f"process reads the vectors and builds the index in {eng['first_s']:.1f} s. Embedding the query with MiniLM: "
        f"{eng['embed_ms']:.0f} ms. A meaning query in the browser is the embedding plus the scan plus the page's "
        "rerun; at 1M rows the scan is the 1M row above.\n\n"
        "Reading: the shipped BLAS scan is exact and costs the same for a top 50 and for a threshold (the "
        f"Search page's default, min cosine 0.5, which matched a median {rows[-1]['hits']:,} rows per query at "
        f"{rows[-1]['n']:,} rows); with both cores it is the fastest of all. faiss's "
        "flat scan uses one core for a single query. Its fp16 codes halve the memory and give the fastest top 50 "
        "on one core, but a threshold over them is either its range_search (no fast path) or repeated top-k scans "
        "(one per widening), so they were not shipped. "
        "Machine: the project's 2-core VM, load average "
        f"{load:.1f} at the end of the run." + (f" {args.note}" if args.note else ""))
    if not args.no_write:
        from benchmarks._results import write_section
        write_section("bench_meaning", "Meaning search: the shipped fp16 scan against an exact float32 scan and "
                      "numpy, at 100k and 1M rows (bench_meaning.py)", body)
    print(body)


if __name__ == "__main__":
    main()
