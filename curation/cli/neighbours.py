"""CLI commands over the neighbour graph: ``graph``, ``analyze``, ``project``, ``density``, ``dedup``, ``cluster``."""
from __future__ import annotations

import argparse
import json

from curation.core.keys import DEFAULT_MODEL
from curation.neighbours.clusters import cluster, cluster_labels
from curation.neighbours.dedup import DEFAULT_THRESHOLD, exact_duplicates, near_duplicates
from curation.neighbours.density import LSH_DEFAULTS, density_scores, uniqueness_scores
from curation.neighbours.graph import (
    APPROX_DEFAULT, DEFAULT_K, EXACT_MAX_ROWS, METHODS, build_graph, stored_graph_params,
)
from curation.neighbours.projection import pca_projection, umap_projection

from curation.core.progress import tqdm_progress
from curation.store import Workspace
from curation.workflows.analyze import ANALYZE_STEPS, analyze


def _cmd_graph(args: argparse.Namespace, ws: Workspace) -> int:
    cb = tqdm_progress("k-NN graph", "step")
    try:
        key = build_graph(ws, model=args.model, k=args.k, method=args.method, seed=args.seed, progress=cb,
                          force=args.force)
    finally:
        cb.close()
    p = stored_graph_params(ws, key) or {}
    print(f"{key}: {ws.graphs().set_index('key').loc[key, 'n']} rows, method {p.get('method')}, "
          f"{p.get('seconds')} s")
    return 0


def _cmd_analyze(args: argparse.Namespace, ws: Workspace) -> int:
    cb = tqdm_progress("analyze", "step")
    try:
        res = analyze(ws, model=args.model, k=args.k, method=args.method, seed=args.seed,
                      steps=args.steps or None, progress=cb)
    finally:
        cb.close()
    for step, val in res.items():
        if step != "skipped":
            print(f"{step}{' (reused)' if step in res['skipped'] else ''}: {json.dumps(val)}")
    return 0


def add_model_k_args(p: argparse.ArgumentParser, *, with_method: bool = False) -> None:
    """--model, --k (and --method, --seed) shared by the graph-based commands."""
    p.add_argument("--model", default=DEFAULT_MODEL, help="embedding model key (default: %(default)s)")
    p.add_argument("--k", type=int, default=DEFAULT_K, help="neighbours per example (default: %(default)s)")
    if with_method:
        p.add_argument("--method", default="auto", choices=list(METHODS),
                       help="k-NN search method (default: auto = exact up to %d rows, else %s)"
                       % (EXACT_MAX_ROWS, APPROX_DEFAULT))
        p.add_argument("--seed", type=int, default=0)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``graph``, ``analyze``, ``project``, ``density``, ``dedup`` and ``cluster``."""
    p = sub.add_parser("graph", help="build the cosine k-NN graph of an embedding model")
    add_model_k_args(p, with_method=True)
    p.add_argument("--force", action="store_true", help="rebuild even when an up-to-date graph is stored")
    p.set_defaults(func=_cmd_graph)
    p = sub.add_parser("analyze", help="graph, density, uniqueness, dedup, clusters, PCA and UMAP (resumable)")
    add_model_k_args(p, with_method=True)
    p.add_argument("--steps", nargs="*", choices=list(ANALYZE_STEPS), help="run only these steps")
    p.set_defaults(func=_cmd_analyze)
    for add in (_add_projection, _add_density, _add_dedup, _add_clusters):
        add(sub)


def _cmd_project(args: argparse.Namespace, ws: Workspace) -> int:
    cb = tqdm_progress(args.method, "step")
    try:
        if args.method == "pca":
            key = pca_projection(ws, model=args.model, progress=cb)
        else:
            key = umap_projection(ws, model=args.model, k=args.k, n_neighbors=args.n_neighbors,
                                  min_dist=args.min_dist, seed=args.seed, n_epochs=args.n_epochs, init=args.init,
                                  parallel=args.parallel, progress=cb)
    finally:
        cb.close()
    print(f"{key}: {len(ws.projection(key)[0])} points")
    return 0


def _add_projection(sub: argparse._SubParsersAction) -> None:
    """Register ``project``."""
    p = sub.add_parser("project", help="2-D map of the embeddings: UMAP on the k-NN graph, or PCA")
    p.add_argument("method", nargs="?", default="umap", choices=["umap", "pca"])
    add_model_k_args(p)
    p.add_argument("--n-neighbors", type=int, default=15)
    p.add_argument("--min-dist", type=float, default=0.1)
    p.add_argument("--n-epochs", type=int, default=None,
                   help="UMAP epochs (default: 500 up to 10k rows, 200 up to 250k, 100 above)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init", choices=["auto", "spectral", "pca"], default="auto",
                   help="UMAP start layout (default auto: spectral up to 20k rows, PCA above: same quality, "
                        "a fraction of the time)")
    p.add_argument("--parallel", action="store_true",
                   help="UMAP on all cores, without a seed: faster, not reproducible (the key gets parallel=1)")
    p.set_defaults(func=_cmd_project)


def _cmd_density(args: argparse.Namespace, ws: Workspace) -> int:
    keys = density_scores(ws, model=args.model, k=args.k, seed=args.seed, n_rows=args.rows,
                          n_hashes=args.hashes, n_buckets=args.buckets, width=args.width, method=args.method)
    keys.update(uniqueness_scores(ws, model=args.model, k=args.k, method=args.method))
    df = ws.scores(list(keys.values()))
    for name, key in keys.items():
        v = df[key]
        print(f"{key}: mean {v.mean():.4g}, min {v.min():.4g}, max {v.max():.4g}")
    return 0


def _add_density(sub: argparse._SubParsersAction) -> None:
    """Register ``density`` (LSH + k-NN density, inverse-propensity weights, uniqueness, outliers)."""
    p = sub.add_parser("density", help="density (LSH sketch and k-NN), sampling weights, uniqueness, outliers")
    add_model_k_args(p, with_method=True)
    p.add_argument("--rows", type=int, default=LSH_DEFAULTS["n_rows"], help="LSH sketch rows (default %(default)s)")
    p.add_argument("--hashes", type=int, default=LSH_DEFAULTS["n_hashes"], help="hashes per row (default %(default)s)")
    p.add_argument("--buckets", type=int, default=LSH_DEFAULTS["n_buckets"],
                   help="buckets per row (default %(default)s)")
    p.add_argument("--width", type=float, default=LSH_DEFAULTS["width"], help="hash bin width (default %(default)s)")
    p.set_defaults(func=_cmd_density)


def _cmd_dedup(args: argparse.Namespace, ws: Workspace) -> int:
    keys = near_duplicates(ws, model=args.model, k=args.k, threshold=args.threshold, method=args.method)
    keys.update(exact_duplicates(ws))
    df = ws.scores([keys["neardup_size"], keys["neardup_rep"], keys["exactdup_size"], keys["exactdup_rep"]])
    near = df[keys["neardup_size"]] > 1
    ex = df[keys["exactdup_size"]] > 1
    print(f"near duplicates (cosine >= {args.threshold}): {int(near.sum())} examples in "
          f"{int(df.loc[near, keys['neardup_rep']].sum())} groups; "
          f"{int(near.sum() - df.loc[near, keys['neardup_rep']].sum())} redundant copies")
    print(f"exact duplicates (content hash): {int(ex.sum())} examples in "
          f"{int(df.loc[ex, keys['exactdup_rep']].sum())} groups")
    return 0


def _add_dedup(sub: argparse._SubParsersAction) -> None:
    """Register ``dedup``."""
    p = sub.add_parser("dedup", help="near-duplicate groups (cosine threshold on the graph) and exact duplicates")
    add_model_k_args(p, with_method=True)
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                   help="cosine similarity at or above which two examples are near duplicates (default %(default)s)")
    p.set_defaults(func=_cmd_dedup)


def _cmd_cluster(args: argparse.Namespace, ws: Workspace) -> int:
    key = cluster(ws, model=args.model, n_clusters=args.n_clusters, seed=args.seed)["cluster"]
    df = cluster_labels(ws, key=key)
    print(f"{key}: {len(df)} clusters")
    for r in df.itertuples():
        print(f"  {r.cluster:3d}  {r.size:7d}  {', '.join(r.keywords)}")
    return 0


def _add_clusters(sub: argparse._SubParsersAction) -> None:
    """Register ``cluster``."""
    p = sub.add_parser("cluster", help="k-means clusters of the embeddings with c-TF-IDF keyword names")
    p.add_argument("--model", default=DEFAULT_MODEL, help="embedding model key (default: %(default)s)")
    p.add_argument("--n-clusters", type=int, default=None, help="number of clusters (default: sqrt(n/4), 2..50)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_cluster)
