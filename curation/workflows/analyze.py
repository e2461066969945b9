"""The analysis pipeline: the neighbour graph, then everything built on it (density, uniqueness, duplicates,
clusters, PCA and UMAP maps), resumable step by step. It strings the capability modules of
:mod:`curation.neighbours` together; none of them imports this module."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from curation.core.errors import CurationError
from curation.core.keys import DEFAULT_MODEL, fingerprint
from curation.neighbours import clusters, dedup, density, projection
from curation.neighbours.graph import DEFAULT_K, build_graph, embeddings_of
from curation.core.progress import Progress, report_job
from curation.scorers.graph import STEP_SCORES
from curation.store import Workspace


ANALYZE_STEPS = ("graph", "density", "uniqueness", "dedup", "clusters", "pca", "umap")

assert set(STEP_SCORES) <= set(ANALYZE_STEPS), "a graph-derived score names an unknown analyze step"


def _job_done(ws: Workspace, job: str, fp: str) -> dict | None:
    j = ws.job(job)
    if not j or j.get("status") != "done":
        return None
    p = j.get("params")
    p = json.loads(p) if isinstance(p, str) else (p or {})
    return p if p.get("fingerprint") == fp else None


def _outputs_exist(ws: Workspace, outputs: dict) -> bool:
    scores = set(ws.score_defs()["key"]) if outputs.get("scores") else set()
    projs = set(ws.projection_defs()["key"]) if outputs.get("projection") else set()
    return all(s in scores for s in outputs.get("scores", [])) and (
        not outputs.get("projection") or outputs["projection"] in projs)


def analyze(ws: Workspace, *, model: str = DEFAULT_MODEL, k: int = DEFAULT_K, method: str = "auto",
            seed: int = 0, steps: tuple[str, ...] | list[str] | None = None,
            progress: Progress | None = None) -> dict:
    """Run the whole diversity pipeline: graph, density, uniqueness, dedup, clusters, PCA, UMAP.

    Resumable: each step records a job ``analyze:{model}:k={k}:{step}`` holding the graph fingerprint and its
    outputs; a step whose job is done for the same fingerprint (and whose outputs still exist) is skipped.
    k is lowered to n-1 for tiny workspaces. ``progress(done_steps, total_steps)``.
    Returns {step: output} where output is a key, a list of score keys, or a dict of keys; plus "skipped".
    """
    steps = tuple(steps or ANALYZE_STEPS)
    bad = [s for s in steps if s not in ANALYZE_STEPS]
    if bad:
        raise CurationError(f"unknown analyze step(s) {bad}; steps are {list(ANALYZE_STEPS)}")
    row_ids, X = embeddings_of(ws, model)
    if len(row_ids) < 3:
        raise CurationError(f"analyze needs at least 3 embedded examples for {model!r}; found {len(row_ids)}")
    k = min(k, len(row_ids) - 1)
    fp = fingerprint(row_ids, X)
    del X
    total = len(steps)
    out: dict[str, Any] = {"skipped": []}

    def run(step: str, fn: Callable[[], Any], outputs: Callable[[Any], dict]) -> None:
        job = f"analyze:{model}:k={k}:{step}"
        prev = _job_done(ws, job, fp)
        if prev is not None and _outputs_exist(ws, prev.get("outputs", {})):
            out[step] = prev.get("result")
            out["skipped"].append(step)
            return
        report_job(ws, job, kind="analyze", status="running", params={"fingerprint": fp})
        try:
            res = fn()
        except Exception as exc:
            report_job(ws, job, kind="analyze", status="failed", params={"fingerprint": fp}, message=str(exc)[:500])
            raise
        report_job(ws, job, kind="analyze", status="done", done=1, total=1,
                   params={"fingerprint": fp, "result": res, "outputs": outputs(res)})
        out[step] = res

    def score_list(res: Any) -> dict:
        keys = list(res.values()) if isinstance(res, dict) else list(res)
        return {"scores": keys}

    for i, step in enumerate(steps):
        if step == "graph":
            run("graph", lambda: build_graph(ws, model=model, k=k, method=method, seed=seed), lambda r: {})
        elif step == "density":
            run("density", lambda: density.density_scores(ws, model=model, k=k, seed=seed), score_list)
        elif step == "uniqueness":
            run("uniqueness", lambda: density.uniqueness_scores(ws, model=model, k=k), score_list)
        elif step == "dedup":
            run("dedup", lambda: {**dedup.near_duplicates(ws, model=model, k=k),
                                  **dedup.exact_duplicates(ws)}, score_list)
        elif step == "clusters":
            run("clusters", lambda: clusters.cluster(ws, model=model, seed=seed), score_list)
        elif step == "pca":
            run("pca", lambda: projection.pca_projection(ws, model=model), lambda r: {"projection": r})
        elif step == "umap":
            run("umap", lambda: projection.umap_projection(ws, model=model, k=k, n_neighbors=min(15, k + 1),
                                                           seed=seed), lambda r: {"projection": r})
        if progress:
            progress(i + 1, total)
    return out
