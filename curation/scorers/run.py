"""Running scorers over a workspace: cached by (scorer key, content hash), committed per batch, resumable.

Cost: one ``ws.examples`` read, then per batch one ``score`` call and one transaction. A killed run resumes
where it stopped (the values written so far are found again by content hash); an example whose content equals an
already scored one (another dataset, a re-ingest) reuses that value without scoring.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from curation.errors import CurationError
from curation.progress import Progress
from curation.scorers.base import Scorer, as_float_array


_COLUMNS = ("row_id", "example_id", "kind", "prompt", "response", "chosen", "rejected", "messages", "label",
            "content_hash", "n_tokens")


def _meta(sc: Scorer) -> dict[str, Any]:
    params = {k: v for k, v in sc.key_params().items()}
    return {"name": sc.name, "higher_is_better": sc.higher_is_better, "params": params,
            "description": sc.description}


def run_scorer(ws: Any, scorer: Scorer | str, *, batch_size: int = 64,  # noqa: ANN401 - Workspace
               progress: Progress | None = None, limit: int | None = None, ray: str | None = None) -> str:
    """Score every example of ``ws`` (the first ``limit`` by row_id when given) and store the values; returns the key.

    Examples whose content hash already has a value under the scorer's key are not scored again. Values are
    written after every batch of ``batch_size`` distinct contents (so a kill loses at most one batch), and the
    job ``score:<key>`` records status and progress (``ws.job``). ``progress(done, total)`` is called after each
    batch. Corpus-level scorers (their value depends on other examples) score everything in one call.
    ray: score on Ray workers instead (an address or ``"local"``, see :mod:`curation.ray_exec`); corpus-level
    scorers still run here.
    """
    from curation.scorers import get_scorer

    sc = get_scorer(scorer) if isinstance(scorer, str) else scorer
    if batch_size < 1:
        raise CurationError(f"batch_size must be at least 1, got {batch_size}")
    sc.bind(ws)
    key = sc.key()
    meta = _meta(sc)
    job = f"score:{key}"
    if ray is not None and not sc.corpus_level:     # Ray workers score; this process writes (curation.ray_exec)
        from curation.ray_exec import score_workspace_ray

        df = ws.examples(list(_COLUMNS))
        df = (df if limit is None else df.iloc[: max(0, int(limit))]).reset_index(drop=True)
        score_workspace_ray(ws, ray, sc, key=key, meta=meta, job=job, df=df, batch_size=batch_size,
                            block_fn=score_block, progress=progress)
        return key
    jparams = {"key": key, "scorer": sc.name}
    if sc.uses_model:
        jparams["device"] = getattr(sc, "device", None)   # where the model runs (resolved; fails early if absent)
    df = ws.examples(list(_COLUMNS))
    if limit is not None:
        df = df.iloc[: max(0, int(limit))]
    df = df.reset_index(drop=True)
    total = len(df)

    def put(rows: pd.DataFrame, values: np.ndarray) -> None:
        ws.put_scores(key, rows["example_id"].tolist(), values, content_hashes=rows["content_hash"].tolist(), **meta)

    ws.set_job(job, kind="score", status="running", done=0, total=total, params=jparams)
    done = 0
    try:
        if sc.corpus_level:
            put(df, as_float_array(sc.score(df), total, key))
            done = total
        else:
            cached = ws.cached_scores(key, df["content_hash"].tolist()) if total else {}
            hit = df["content_hash"].isin(list(cached)).to_numpy()
            if hit.any():
                rows = df[hit]
                put(rows, np.array([cached[h] for h in rows["content_hash"]], dtype=np.float64))
                done = int(hit.sum())
            todo = df[~hit]
            reps = todo.drop_duplicates("content_hash")
            if sc.uses_model and len(reps):      # similar lengths together: less padding in each forward pass
                length = sum(reps[c].fillna("").str.len() for c in ("prompt", "response", "chosen"))
                reps = reps.iloc[np.argsort(length.to_numpy(), kind="stable")]
            if progress is not None:
                progress(done, total)
            for start in range(0, len(reps), batch_size):
                chunk = reps.iloc[start:start + batch_size]
                vals = as_float_array(sc.score(chunk.reset_index(drop=True)), len(chunk), key)
                by_hash = dict(zip(chunk["content_hash"], vals))
                rows = todo[todo["content_hash"].isin(by_hash)]
                with ws.transaction():                # values and progress commit together (one connection)
                    put(rows, np.array([by_hash[h] for h in rows["content_hash"]], dtype=np.float64))
                    ws.set_job(job, kind="score", status="running", done=done + len(rows), total=total,
                               params=jparams)
                done += len(rows)
                if progress is not None:
                    progress(done, total)
        if total == 0:
            put(df, np.zeros(0))
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        try:
            ws.set_job(job, kind="score", status=status, done=done, total=total,
                       params=jparams, message=str(exc)[:500])
        except Exception:  # noqa: BLE001 - report the original error, not a failure to record it
            pass
        raise
    ws.set_job(job, kind="score", status="done", done=total, total=total, params=jparams)
    if progress is not None:
        progress(total, total)
    return key


def _ray_running() -> bool:
    import sys

    ray = sys.modules.get("ray")
    return bool(ray is not None and ray.is_initialized())


def run_scorers(ws: Any, names: Iterable[str | Scorer], *, params: dict[str, Any] | None = None,  # noqa: ANN401
                batch_size: int = 64, progress: Callable[[str], Progress | None] | None = None,
                limit: int | None = None, ray: str | None = None) -> list[str]:
    """Run several scorers (names, group names such as ``heuristics``, or Scorer objects); returns their keys.

    params: options given to every scorer that has such a parameter (e.g. ``{"model": ..., "endpoint": ...}``);
    others ignore them. progress: called with each scorer's name, returns that scorer's ``(done, total)`` callback.
    """
    from curation.scorers import expand_names, get_scorer

    if ray is not None and not _ray_running():    # one Ray session for all the scorers
        from curation.ray_exec import ray_session

        with ray_session(ray):
            return run_scorers(ws, names, params=params, batch_size=batch_size, progress=progress, limit=limit,
                               ray=ray)
    keys = []
    for item in expand_names(names):
        if isinstance(item, Scorer):
            sc = item
        else:
            from curation.scorers import REGISTRY

            cls = REGISTRY[item]
            sc = get_scorer(item, **{k: v for k, v in (params or {}).items() if k in cls.defaults})
        keys.append(run_scorer(ws, sc, batch_size=batch_size, limit=limit, ray=ray,
                               progress=progress(sc.name) if progress else None))
    return keys


# ---------------------------------------------------------------------------------------------- Ray worker task
_SCORERS: dict[str, Any] = {}


def score_block(block: pd.DataFrame, *, name: str, params_json: str) -> dict[str, np.ndarray]:
    """Ray task: example columns plus ``_code`` → (_code, value). The scorer (and a model scorer's model) is built
    once per worker process."""
    import json

    from curation.embed import set_torch_threads
    from curation.scorers import get_scorer

    set_torch_threads(1)
    key = f"{name}|{params_json}"
    if key not in _SCORERS:
        _SCORERS[key] = get_scorer(name, **json.loads(params_json))
    sc = _SCORERS[key]
    codes = block["_code"].to_numpy()
    vals = as_float_array(sc.score(block.drop(columns=["_code"])), len(block), sc.key())
    return {"_code": codes, "value": vals}
