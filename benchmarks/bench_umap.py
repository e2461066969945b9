"""The UMAP map at scale: the previous settings (spectral start, UMAP's default epochs) beside the current ones (PCA
start above 20k rows; fewer epochs; all cores), on the same k-NN graph in one process, with what each keeps.

Vectors: bench_scale's (synthetic, clustered 384-d: one centre per category of the generated records, a sub-centre
per record template family, noise), L2-normalised as ``import-embeddings`` stores them. The graph is built once
(NN-descent, k=15) and fed to every variant as ``precomputed_knn``, so only the layout differs. numba compiles
UMAP's functions in a warm-up on 2,000 rows first, so no variant pays for it.

Quality, on the same random sample of points for every variant:
- **15-NN kept**: share of each sampled point's 15 exact nearest neighbours (cosine, all n rows) that are among its
  15 nearest in the 2-D map;
- **family agreement**: share of its 15 nearest 2-D neighbours from its own template family (the same measure on the
  exact high-dimensional neighbours is printed as the ceiling);
- **trustworthiness** (scikit-learn, 15 neighbours) on a random subset of 5,000 points.

Usage: nice .venv/bin/python benchmarks/bench_umap.py [--rows 100000] [--variants before,after,after-100,parallel]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIM = 384
VARIANTS = {  # name -> (description, umap_layout kwargs)
    "before": ("before: spectral start, UMAP default epochs, seeded", dict(init="spectral")),
    "after": ("now: PCA start (init=auto), default epochs, seeded", dict(init="auto")),
    "after-100": ("PCA start, 100 epochs, seeded", dict(init="auto", n_epochs=100)),
    "parallel": ("PCA start, default epochs, all cores (unseeded)", dict(init="auto", parallel=True)),
}


def vectors(n: int) -> tuple[np.ndarray, np.ndarray]:
    """bench_scale's (n, 384) vectors, L2-normalised float32, and each row's template family."""
    import tempfile

    import pyarrow.parquet as pq

    from benchmarks.bench_scale import generate

    with tempfile.TemporaryDirectory(prefix="bench_umap_") as d:
        fam = generate(Path(d), n)
        col = pq.read_table(Path(d) / "vectors.parquet", columns=["embedding"]).column("embedding").combine_chunks()
    X = col.values.to_numpy().reshape(n, DIM).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, fam


def cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def exact_neighbours(X: np.ndarray, S: np.ndarray, k: int) -> np.ndarray:
    out = np.empty((len(S), k), dtype=np.int64)
    for s in range(0, len(S), 200):
        sims = X[S[s:s + 200]] @ X.T
        sims[np.arange(len(sims)), S[s:s + 200]] = -np.inf
        out[s:s + 200] = np.argpartition(-sims, k, axis=1)[:, :k]
    return out


def quality(xy: np.ndarray, X: np.ndarray, fam: np.ndarray, S: np.ndarray, hi: np.ndarray, T: np.ndarray,
            k: int = 15) -> dict:
    from scipy.spatial import cKDTree
    from sklearn.manifold import trustworthiness

    _, lo = cKDTree(xy).query(xy[S], k + 1)
    lo = lo[:, 1:]
    kept = np.mean([len(np.intersect1d(a, b)) / k for a, b in zip(hi, lo)])
    agree = float(np.mean(fam[lo] == fam[S][:, None]))
    tw = trustworthiness(X[T], xy[T], n_neighbors=k, metric="cosine")
    return {"knn_kept": float(kept), "family": agree, "trust": float(tw)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from curation.neighbours.graph import knn
    from curation.neighbours.projection import umap_layout

    load0 = os.getloadavg()
    n = args.rows
    X, fam = vectors(n)
    rng = np.random.default_rng(1)
    S = rng.choice(n, min(args.sample, n), replace=False)
    T = rng.choice(n, min(5000, n), replace=False)
    hi = exact_neighbours(X, S, 15)
    ceiling = float(np.mean(fam[hi] == fam[S][:, None]))
    t, c = time.perf_counter(), cpu_s()
    idx, sim = knn(X, 15, method="nndescent")
    print(f"graph: {time.perf_counter() - t:.1f} s ({cpu_s() - c:.1f} s CPU)", file=sys.stderr)
    # warm-up: numba compiles the layout functions (seeded and parallel) on a small graph
    Xw, _ = vectors(2000)
    iw, sw = knn(Xw, 15, method="exact")
    for kw in ({}, {"parallel": True}, {"init": "pca"}):
        umap_layout(Xw, iw, sw, n_epochs=5, **kw)
    rows = []
    for name in args.variants.split(","):
        desc, kw = VARIANTS[name]
        t, c = time.perf_counter(), cpu_s()
        xy = umap_layout(X, idx, sim, n_neighbors=15, seed=0, **kw)
        wall, cpu = time.perf_counter() - t, cpu_s() - c
        q = quality(xy, X, fam, S, hi, T)
        rows.append({"name": name, "desc": desc, "wall": wall, "cpu": cpu, **q})
        print(f"{name}: {wall:.1f} s ({cpu:.1f} s CPU), 15-NN kept {q['knn_kept']:.3f}, family {q['family']:.3f}, "
              f"trustworthiness {q['trust']:.4f}", file=sys.stderr)
    load1 = os.getloadavg()
    base = next((r for r in rows if r["name"] == "before"), rows[0])
    lines = [
        f"{n:,} synthetic clustered {DIM}-d vectors of bench_scale ({len(np.unique(fam))} template families), "
        f"one NN-descent graph (k=15) "
        f"fed to every variant; {os.cpu_count()} CPU cores shared with other jobs (load average {load0[0]:.1f} at "
        f"start, {load1[0]:.1f} at end). Run: `python benchmarks/bench_umap.py --rows {n}` on "
        f"{time.strftime('%Y-%m-%d')}. 15-NN kept and family agreement on the same {len(S):,} sampled points "
        f"(family agreement of the exact high-dimensional neighbours: {ceiling:.3f}); trustworthiness on 5,000.",
        "",
        "| layout | wall (s) | CPU (s) | CPU vs before | 15-NN kept | family agreement | trustworthiness |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['desc']} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['cpu'] / base['cpu']:.2f}x | "
                     f"{r['knn_kept']:.3f} | {r['family']:.3f} | {r['trust']:.4f} |")
    md = "\n".join(lines)
    print(md)
    if not args.no_write:
        from benchmarks._results import write_section

        write_section(f"bench_umap_{n}", f"UMAP map at {n:,} rows: start layout and epochs (bench_umap)", md)


if __name__ == "__main__":
    main()
