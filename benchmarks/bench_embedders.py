"""Benchmark the embedding options side by side in one run, on real texts (dolly-3k from ../shared/datasets).

1. The static first-look embedder (model2vec distillation of MiniLM) vs MiniLM, both through the pipeline
   (``embed_workspace``): texts/s, ratio, and neighbour agreement (share of each text's 10 exact cosine nearest
   neighbours under MiniLM that the static model also finds). Optionally (``--distill``) the one-off distillation.
2. The shared embedding cache: a second workspace over the same file (vectors copied from the cache) vs the first
   embed (model run).
3. Ray on this machine (``ray.init(num_cpus=2)``) vs the local path: embedding and heuristic scoring of the same
   rows, with Ray's start-up time shown apart (overhead, not a speed-up: this machine has 2 cores).
4. GPU: measured only when torch sees CUDA (CUDA vs CPU embedding throughput); otherwise the row says so.

Run: ``nice .venv/bin/python benchmarks/bench_embedders.py [--n 3000] [--ray-n 400] [--distill]``. Prints markdown
tables and replaces the ``bench_embedders`` block of benchmarks/RESULTS.md. Uses a private embedding cache file.
"""
from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "datasets"
K = 10

from benchmarks._results import write_section  # noqa: E402


def dolly_file(tmp: Path, n: int) -> Path:
    """The first ``n`` dolly-3k records as a JSONL file in ``tmp`` (records kept as they are, read-only source)."""
    out = tmp / "dolly.jsonl"
    with gzip.open(SHARED / "dolly-3k-alpagasus" / "dolly_3k.jsonl.gz", "rt") as fh, out.open("w") as w:
        for i, line in enumerate(fh):
            if i >= n:
                break
            w.write(line if line.endswith("\n") else line + "\n")
    return out


def knn_sets(X: np.ndarray, k: int = K) -> np.ndarray:
    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    return np.argpartition(-S, k, axis=1)[:, :k]


def agreement(A: np.ndarray, B: np.ndarray) -> float:
    a, b = knn_sets(A), knn_sets(B)
    return float(np.mean([len(set(x) & set(y)) / K for x, y in zip(a, b)]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000, help="dolly records for sections 1-2")
    ap.add_argument("--ray-n", type=int, default=400, help="records for the Ray section")
    ap.add_argument("--distill", action="store_true", help="also time a fresh distillation of the static model")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent: this benchmark needs the real datasets")
    tmp = Path(tempfile.mkdtemp(prefix="bench-embedders-"))
    os.environ["CURATION_EMBED_CACHE"] = str(tmp / "cache.duckdb")
    import torch

    torch.set_num_threads(2)
    from curation.embedding.embed import DEFAULT_MODEL, embed_workspace, load_model
    from curation.ingest.run import ingest_file
    from curation.scorers.run import run_scorers
    from curation.embedding.static import STATIC_MODEL, distill_static
    from curation.store import Workspace

    load_avg = os.getloadavg()
    src = dolly_file(tmp, args.n)
    rows: list[tuple[str, str, str]] = []

    # 1. static vs MiniLM (both loaded before timing; the pipeline times the embedding itself)
    distill_s = None
    if args.distill:
        t = time.perf_counter()
        distill_static(tmp / "static-model")
        distill_s = time.perf_counter() - t
    load_model(DEFAULT_MODEL, "cpu")
    load_model(STATIC_MODEL, "cpu")
    ws1 = Workspace(tmp / "one.duckdb")
    ingest_file(ws1, src)
    n = ws1.n_examples()
    r_mini = embed_workspace(ws1, DEFAULT_MODEL, device="cpu")
    r_static = embed_workspace(ws1, STATIC_MODEL, device="cpu")
    mini_rate = r_mini.n_embedded / r_mini.seconds
    static_rate = r_static.n_embedded / r_static.seconds
    _, X_mini = ws1.embeddings(DEFAULT_MODEL)
    _, X_static = ws1.embeddings(STATIC_MODEL)
    agree = agreement(X_mini, X_static)
    rows.append(("MiniLM (all-MiniLM-L6-v2), pipeline", f"{mini_rate:,.0f} texts/s", "1.00x"))
    rows.append(("static model2vec (PCA 256), pipeline", f"{static_rate:,.0f} texts/s",
                 f"{static_rate / mini_rate:,.0f}x"))
    rows.append((f"neighbour agreement with MiniLM (top-{K}, {n} texts)", f"{agree:.1%}", ""))
    if distill_s is not None:
        rows.append(("one-off distillation of the static model", f"{distill_s:.0f} s", ""))

    # 2. the shared embedding cache: a second workspace over the same file
    ws2 = Workspace(tmp / "two.duckdb")
    ingest_file(ws2, src)
    r_cache = embed_workspace(ws2, DEFAULT_MODEL, device="cpu")
    assert r_cache.n_embedded == 0 and r_cache.n_from_cache == r_mini.n_embedded
    rows.append(("second workspace, MiniLM vectors from the embedding cache",
                 f"{r_cache.n_from_cache / r_cache.seconds:,.0f} texts/s",
                 f"{(r_cache.n_from_cache / r_cache.seconds) / mini_rate:,.0f}x"))

    # 3. Ray on this machine vs the local path (same rows; a private cache each, so both run the model)
    import ray

    (tmp / "ray").mkdir()
    ray_src = dolly_file(tmp / "ray", args.ray_n)
    timings = {}
    for mode in ("local", "ray"):
        os.environ["CURATION_EMBED_CACHE"] = "off"
        ws = Workspace(tmp / f"{mode}.duckdb")
        ingest_file(ws, ray_src)
        start = 0.0
        if mode == "ray":
            t = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            start = time.perf_counter() - t
        t = time.perf_counter()
        embed_workspace(ws, DEFAULT_MODEL, device="cpu", ray="local" if mode == "ray" else None)
        emb = time.perf_counter() - t
        t = time.perf_counter()
        run_scorers(ws, ["heuristics"], ray="local" if mode == "ray" else None)
        sc = time.perf_counter() - t
        timings[mode] = (start, emb, sc, ws)
    ray.shutdown()
    (_, e_l, s_l, ws_l), (start, e_r, s_r, ws_r) = timings["local"], timings["ray"]
    same = np.allclose(ws_l.embeddings(DEFAULT_MODEL)[1], ws_r.embeddings(DEFAULT_MODEL)[1], atol=1e-6)
    rows.append(("Ray local (2 CPUs): start-up (ray.init)", f"{start:.1f} s", ""))
    rows.append((f"embed {args.ray_n} texts: local / Ray", f"{e_l:.1f} s / {e_r:.1f} s",
                 f"Ray {e_r / e_l:.2f}x the time" + ("" if same else " (vectors differ!)")))
    rows.append((f"score heuristics on {args.ray_n} rows: local / Ray", f"{s_l:.1f} s / {s_r:.1f} s",
                 f"Ray {s_r / s_l:.2f}x the time"))

    # 4. GPU
    if torch.cuda.is_available():
        ws = Workspace(tmp / "gpu.duckdb")
        ingest_file(ws, src)
        load_model(DEFAULT_MODEL, "cuda")
        r = embed_workspace(ws, DEFAULT_MODEL, device="cuda")
        rows.append((f"MiniLM on {torch.cuda.get_device_name(0)} (batch {r.batch_size})",
                     f"{r.n_embedded / r.seconds:,.0f} texts/s", f"{(r.n_embedded / r.seconds) / mini_rate:,.0f}x"))
    else:
        rows.append(("MiniLM on a GPU (CUDA vs CPU)", "not measured", "no GPU on the machine of this run"))

    table = "| measurement | value | ratio |\n|---|---|---|\n" + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    note = (f"{n} dolly-3k records (real, ../shared/datasets) for the first rows, {args.ray_n} for Ray; 2-core CPU "
            f"machine shared with other jobs, load average {load_avg[0]:.1f} / {load_avg[1]:.1f} at the start: "
            "absolute rates are low and noisy, ratios are measured side by side in the same run. On one 2-core "
            "machine Ray can only add overhead to the model's work (start-up, moving rows to worker processes and "
            "back): it pays on a cluster. The heuristics row compares whole pipelines, commit cadence included "
            "(the Ray driver commits every 3 s; the local path as configured on main at the time). Command: "
            f"`nice .venv/bin/python benchmarks/bench_embedders.py --n {args.n} --ray-n {args.ray_n}"
            f"{' --distill' if args.distill else ''}`.")
    print(table)
    print(note)
    write_section("bench_embedders", "Embedders: static first look vs MiniLM, shared cache, Ray overhead, GPU",
                  table + "\n\n" + note)


if __name__ == "__main__":
    main()
