"""Running scorers over a workspace: cached by (scorer key, content hash), committed by time and size, resumable.

Cost: one ``ws.examples`` read, then per batch one ``score`` call, and one bulk insert every few seconds
(:mod:`curation.core.commits`). A killed run resumes
where it stopped (the values written so far are found again by content hash); an example whose content equals an
already scored one (another dataset, a re-ingest) reuses that value without scoring.

Per-reply scorers (``per_reply = True``: heuristics, Ask-LLM, IFD, the learned heads) also score the *rejected*
reply of every preference pair and store it under ``<key>@rejected`` (same example ids), so the two replies of a
pair can be compared (:func:`pair_scores`); the main key keeps the chosen reply's value.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from curation.core.commits import (
    DEFAULT_COMMIT_MB,
    DEFAULT_COMMIT_SECONDS,
    BackgroundCommits,
    CommitPolicy,
)
from curation.core.errors import CurationError
from curation.core.keys import REJECTED_SUFFIX as REJECTED_SUFFIX  # re-exported
from curation.core.progress import Progress, report_job, stage_of
from curation.scorers.base import Scorer, as_float_array


# Per-reply scorers store the value of a preference pair's rejected reply under ``<key>@rejected``.
_COLUMNS = ("row_id", "example_id", "kind", "prompt", "response", "chosen", "rejected", "messages", "label",
            "content_hash", "n_tokens")


def _meta(sc: Scorer) -> dict[str, Any]:
    params = {k: v for k, v in sc.key_params().items()}
    params.update(sc.record())
    return {"name": sc.name, "higher_is_better": sc.higher_is_better, "params": params,
            "description": sc.description,   # a slice's stored kind (group / flag / score); None: by name
            "kind": getattr(getattr(sc, "inner", sc), "column_kind", None)}


def _default_batch(sc: Scorer) -> int:
    """Examples per ``score`` call when none is given: the scorer's ``default_batch`` (32 for model scorers, one
    forward pass at a time with long texts sorted together; 4096 for cheap ones, whose per-call overhead vanishes)."""
    return int(getattr(sc, "default_batch", 32 if sc.uses_model else 4096))


FIRST_BATCH = 16
"""Without an explicit batch size, a run's first ``score`` call gets this many contents (model scorers: their
``default_batch``); later calls grow or shrink towards :data:`BATCH_SECONDS` each, up to ``default_batch``, so
progress moves at least every few seconds however slow the scorer is per example (a learned head that embeds
its texts: tens of examples a second; a heuristic: hundreds of thousands)."""
BATCH_SECONDS = 3.0


def next_batch(size: int, n: int, seconds: float, cap: int, floor: int = FIRST_BATCH) -> int:
    """The next batch size after ``n`` contents took ``seconds``: about :data:`BATCH_SECONDS` worth at that rate,
    at most 4 times the last size, within [min(floor, cap), cap]."""
    lo = min(floor, cap)
    if seconds <= 0:
        return min(cap, max(lo, 4 * size))
    want = int(n / seconds * BATCH_SECONDS)
    return int(min(cap, 4 * size, max(lo, want)))


def run_scorer(ws: Any, scorer: Scorer | str, *, batch_size: int | None = None,  # Workspace
               progress: Progress | None = None, limit: int | None = None, commit_every: int | None = None,
               commit_seconds: float = DEFAULT_COMMIT_SECONDS, commit_mb: float = DEFAULT_COMMIT_MB,
               frame: pd.DataFrame | None = None, committer: BackgroundCommits | None = None,
               ray: str | None = None) -> str:
    """Score every example of ``ws`` (the first ``limit`` by row_id when given) and store the values; returns the key.

    Examples whose content hash already has a value under the scorer's key are not scored again. ``batch_size``
    distinct contents go to each ``score`` call (at most; default: the scorer's ``default_batch``: 32 for model scorers,
    64 for pref_embed_distance, 4096 for the others). Values are
    committed, together with the job's progress (``score:<key>``, see ``ws.job``), every ``commit_seconds`` or
    ``commit_mb`` MB of pending values, or every ``commit_every`` examples when given: a ``kill -9`` loses at most
    that much work plus the batch in flight; any other error or Ctrl-C first commits what was computed.
    ``progress(done, total)`` is called after each batch; without ``batch_size`` batches start at
    :data:`FIRST_BATCH` contents and grow to about :data:`BATCH_SECONDS` each (:func:`next_batch`), so a slow
    scorer (a learned head embedding its texts) shows progress every few seconds, not one jump at the end.
    Corpus-level scorers (their value depends on other
    examples) score everything in one call. ``frame``: the ``ws.examples`` columns already read (run_scorers reads
    them once for several scorers). Commits run in a background thread (one at a time) while the next batches are
    scored; ``committer``: share one across scorers (run_scorers does; the caller then waits for it).

    Cost: one examples read (skipped with ``frame``), one cache lookup, then the scorer itself plus one bulk insert
    (Arrow) per commit, overlapped with scoring (benchmarks/bench_pipeline.py).
    ray: score on Ray workers instead (an address or ``"local"``, see :mod:`curation.core.ray_exec`); corpus-level
    scorers still run here.
    Per-reply scorers then score the rejected replies of preference pairs (key ``<key>@rejected``, its own job;
    on the Ray workers too with ``ray``).
    """
    from curation.scorers import get_scorer

    sc = get_scorer(scorer) if isinstance(scorer, str) else scorer
    adaptive = batch_size is None and not sc.uses_model      # model scorers keep their padding-friendly batches
    batch_size = _default_batch(sc) if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise CurationError(f"batch_size must be at least 1, got {batch_size}")
    policy = CommitPolicy(seconds=commit_seconds, mb=commit_mb, rows=commit_every)
    if progress is not None and hasattr(sc, "bind_progress"):
        # a scorer that trains in bind (pref_head: embeds its training pairs first) reports that as a stage too
        sc.bind_progress = stage_of(progress, f"{sc.name}: embedding its training texts")
        sc.bind(ws)
        progress = stage_of(progress, f"{sc.name}: scoring")
    else:
        sc.bind(ws)
    key = sc.key()
    meta = _meta(sc)
    job = f"score:{key}"
    inner = getattr(sc, "inner", sc)            # _RejectedReplies wraps the scorer the workers build
    if ray is not None and not sc.corpus_level and type(inner).bind is Scorer.bind:
        # Ray workers score; this process writes (curation.core.ray_exec). Scorers that read the workspace (bind:
        # pref_embed_distance, the learned heads) and corpus-level ones run here.
        from curation.core.ray_exec import score_workspace_ray

        df = ws.examples(list(_COLUMNS)) if frame is None else frame
        df = (df if limit is None else df.iloc[: max(0, int(limit))]).reset_index(drop=True)
        score_workspace_ray(ws, ray, sc, key=key, meta=meta, job=job, df=df, batch_size=batch_size,
                            block_fn=score_block, progress=progress, commit_seconds=commit_seconds,
                            worker_name=inner.name)
        if sc.per_reply and len(df):
            pref = df[(df["kind"] == "preference") & df["rejected"].notna()]
            if len(pref):                     # the rejected replies, on the workers too
                rej = pref.assign(kind="sft", response=pref["rejected"], chosen=None, rejected=None,
                                  content_hash=pref["content_hash"] + REJECTED_SUFFIX)
                run_scorer(ws, _RejectedReplies(sc), batch_size=batch_size, commit_seconds=commit_seconds,
                           frame=rej, ray=ray)
        return key
    jparams = {"key": key, "scorer": sc.name}
    if sc.uses_model:
        jparams["device"] = getattr(sc, "device", None)   # where the model runs (resolved; fails early if absent)
    df = ws.examples(list(_COLUMNS)) if frame is None else frame
    if limit is not None:
        df = df.iloc[: max(0, int(limit))]
    df = df.reset_index(drop=True)
    total = len(df)
    ids_all = df["example_id"].to_numpy(dtype=object)
    hashes_all = df["content_hash"].to_numpy(dtype=object)
    pending: list[tuple[np.ndarray, np.ndarray]] = []     # (positions in df, values)
    n_pending = 0
    done = 0                                  # values handed to a commit
    committed = 0                             # values whose commit finished
    own = committer is None
    commits = BackgroundCommits() if committer is None else committer

    def flush(status: str = "running") -> None:
        nonlocal pending, n_pending, done
        pos = np.concatenate([p for p, _ in pending]) if pending else np.zeros(0, dtype=np.int64)
        vals = np.concatenate([v for _, v in pending]) if pending else np.zeros(0)
        n_after = done + len(pos) if status == "running" else total

        def commit() -> None:
            nonlocal committed
            with ws.transaction():            # values and progress commit together (one connection)
                ws.put_scores(key, ids_all[pos], vals, content_hashes=hashes_all[pos], **meta)
                report_job(ws, job, kind="score", status=status, done=n_after, total=total, params=jparams)
            committed = n_after

        commits.submit(commit)                # waits for the previous commit, then writes while we score on
        done += len(pos)
        pending, n_pending = [], 0
        policy.committed()

    def add(pos: np.ndarray, vals: np.ndarray) -> None:
        nonlocal n_pending
        pending.append((pos, vals))
        n_pending += len(pos)
        if policy.due(n_pending, n_pending * 120):    # ~120 bytes per value: id, hash, float
            flush()

    with ws.transaction():                    # one connection: job record and cache lookup
        report_job(ws, job, kind="score", status="running", done=0, total=total, params=jparams)
        cached = ws.cached_scores(key, hashes_all) if total and not sc.corpus_level else {}
    try:
        if sc.corpus_level:
            add(np.arange(total), as_float_array(sc.score(df), total, key))
        else:
            hit = df["content_hash"].isin(list(cached)).to_numpy() if cached else np.zeros(total, dtype=bool)
            if hit.any():
                pos = np.flatnonzero(hit)
                add(pos, np.array([cached[h] for h in hashes_all[pos]], dtype=np.float64))
            todo = np.flatnonzero(~hit)
            # one representative per distinct content; every row of that content gets its value
            codes, _ = pd.factorize(hashes_all[todo])
            first = np.unique(codes, return_index=True)[1]           # first row of each content, by code
            reps = np.arange(len(first))
            if sc.uses_model and len(first):      # similar lengths together: less padding in each forward pass
                sub = df.iloc[todo[first]]
                length = sum(sub[c].fillna("").str.len() for c in ("prompt", "response", "chosen"))
                reps = np.argsort(length.to_numpy(), kind="stable")
            rank = np.empty(len(reps), dtype=np.int64)
            rank[reps] = np.arange(len(reps))
            row_rank = rank[codes]                                   # each todo row's position in reps order
            order = np.argsort(row_rank, kind="stable")
            sorted_rank = row_rank[order]
            if progress is not None:
                progress(done + n_pending, total)
            start, size = 0, (min(FIRST_BATCH, batch_size) if adaptive else batch_size)
            while start < len(reps):             # one score call per batch, progress after each
                end = min(start + size, len(reps))
                chunk_codes = reps[start:end]
                chunk = df.iloc[todo[first[chunk_codes]]].reset_index(drop=True)
                t0 = time.monotonic()
                vals = as_float_array(sc.score(chunk), len(chunk), key)
                took = time.monotonic() - t0
                by_code = np.empty(len(first))
                by_code[chunk_codes] = vals
                rows = order[np.searchsorted(sorted_rank, start):np.searchsorted(sorted_rank, end)]
                add(todo[rows], by_code[codes[rows]])                # todo positions of this batch's contents
                if progress is not None:
                    progress(done + n_pending, total)
                if adaptive:
                    size = next_batch(size, end - start, took, batch_size)
                start = end
        flush("done")                         # the last values and the final status in one transaction
        if sc.per_reply and not sc.corpus_level and total:
            pref = df[(df["kind"] == "preference") & df["rejected"].notna()]
            if len(pref):                     # the rejected replies, through the same cache / commit path
                rej = pref.assign(kind="sft", response=pref["rejected"], chosen=None, rejected=None,
                                  content_hash=pref["content_hash"] + REJECTED_SUFFIX)
                run_scorer(ws, _RejectedReplies(sc), batch_size=batch_size, commit_every=commit_every,
                           commit_seconds=commit_seconds, commit_mb=commit_mb, frame=rej, committer=commits)
        if own:
            commits.wait()
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        try:
            commits.wait()
            if pending:
                flush()                       # keep what was computed before the error
                commits.wait()
        except BaseException:  # report the original error, not a failure to save
            pass
        try:
            report_job(ws, job, kind="score", status=status, done=committed, total=total,
                       params=jparams, message=str(exc)[:500])
        except Exception:  # report the original error, not a failure to record it
            pass
        raise
    if progress is not None:
        progress(total, total)
    return key


class _RejectedReplies(Scorer):
    """A per-reply scorer applied to the rejected replies of preference pairs (rows given as sft rows whose
    response is the rejected reply): same values, key ``<key>@rejected``; never trains or binds again."""

    def __init__(self, inner: Scorer) -> None:
        self.inner, self.params = inner, inner.params
        self.name = inner.name + REJECTED_SUFFIX                      # type: ignore[misc]
        self.higher_is_better = inner.higher_is_better                # type: ignore[misc]
        self.uses_model = inner.uses_model                            # type: ignore[misc]
        self.description = ("the rejected reply of preference pairs, scored by "  # type: ignore[misc]
                            f"{inner.name}: {inner.description}")

    def key(self) -> str:
        return self.inner.key() + REJECTED_SUFFIX

    def key_params(self) -> dict[str, str]:
        return {**self.inner.key_params(), "reply": "rejected"}

    def record(self) -> dict[str, Any]:
        return self.inner.record()

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        return self.inner.score(batch)


def pair_scores(ws: Any, key: str) -> pd.DataFrame:  # Workspace
    """The preference pairs scored under ``key``: example_id, chosen (value of the chosen reply), rejected (value
    of the rejected reply, from ``<key>@rejected``) and agree (chosen > rejected in the score's direction; ties
    0.5; NaN when either is missing)."""
    defs = ws.score_defs().set_index("key")
    if key not in defs.index or key + REJECTED_SUFFIX not in defs.index:
        raise CurationError(f"score {key!r} has no values for rejected replies; run `score` with a per-reply scorer "
                            "on a workspace with preference pairs first")
    t = ws.scores([key, key + REJECTED_SUFFIX])
    pref = ws.examples(["example_id", "kind"])
    t = t[t["example_id"].isin(pref.loc[pref["kind"] == "preference", "example_id"])].rename(
        columns={key: "chosen", key + REJECTED_SUFFIX: "rejected"})
    hib = defs.loc[key, "higher_is_better"]
    d = (t["chosen"] - t["rejected"]) * (1.0 if hib is None or bool(hib) else -1.0)
    t["agree"] = np.where(d.isna(), np.nan, np.where(d > 0, 1.0, np.where(d < 0, 0.0, 0.5)))
    return t[["example_id", "chosen", "rejected", "agree"]].reset_index(drop=True)


def _ray_running() -> bool:
    import sys

    ray = sys.modules.get("ray")
    return bool(ray is not None and ray.is_initialized())


def run_scorers(ws: Any, names: Iterable[str | Scorer], *, params: dict[str, Any] | None = None,
                batch_size: int | None = None, progress: Progress | None = None,
                limit: int | None = None, commit_every: int | None = None,
                commit_seconds: float = DEFAULT_COMMIT_SECONDS, ray: str | None = None) -> list[str]:
    """Run several scorers (names, group names such as ``heuristics``, or Scorer objects); returns their keys.

    params: options given to every scorer that has such a parameter (e.g. ``{"model": ..., "endpoint": ...}``);
    others ignore them. progress: each scorer reports to ``stage_of(progress, scorer name)``.
    The examples are read once for all scorers; batch_size and the commit options are as in :func:`run_scorer`.
    """
    from curation.scorers import REGISTRY, expand_names, get_scorer

    if ray is not None and not _ray_running():    # one Ray session for all the scorers
        from curation.core.ray_exec import ray_session

        with ray_session(ray):
            return run_scorers(ws, names, params=params, batch_size=batch_size, progress=progress, limit=limit,
                               commit_every=commit_every, commit_seconds=commit_seconds, ray=ray)
    frame = ws.examples(list(_COLUMNS))
    commits = BackgroundCommits()             # one writer: a scorer's last commit overlaps the next scorer
    keys = []
    try:
        for item in expand_names(names):
            if isinstance(item, Scorer):
                sc = item
            else:
                cls = REGISTRY[item]
                sc = get_scorer(item, **{k: v for k, v in (params or {}).items() if k in cls.defaults})
            keys.append(run_scorer(ws, sc, batch_size=batch_size, limit=limit, commit_every=commit_every,
                                   commit_seconds=commit_seconds, frame=frame, committer=commits, ray=ray,
                                   progress=stage_of(progress, sc.name)))
    finally:
        commits.wait()
    return keys


# ---------------------------------------------------------------------------------------------- Ray worker task
_SCORERS: dict[str, Any] = {}


def score_block(block: pd.DataFrame, *, name: str, params_json: str) -> dict[str, np.ndarray]:
    """Ray task: example columns plus ``_code`` → (_code, value). The scorer (and a model scorer's model) is built
    once per worker process."""
    import json

    from curation.embedding.embed import set_torch_threads
    from curation.scorers import get_scorer

    set_torch_threads(1)
    key = f"{name}|{params_json}"
    if key not in _SCORERS:
        _SCORERS[key] = get_scorer(name, **json.loads(params_json))
    sc = _SCORERS[key]
    codes = block["_code"].to_numpy()
    vals = as_float_array(sc.score(block.drop(columns=["_code"])), len(block), sc.key())
    return {"_code": codes, "value": vals}
