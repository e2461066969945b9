"""Scale-out of ``embed`` and ``score`` over a Ray cluster with Ray Data.

The workspace process (the driver) selects the rows still to compute, exactly as the local path does, and hands them
to Ray Data in blocks; Ray tasks (one GPU each when the cluster has GPUs, else one CPU each) map blocks to results,
each worker process loading the model once; results stream back to the driver as blocks finish, and the driver alone
writes DuckDB, committing every few seconds. A killed driver loses at most the results not yet committed: the next
run computes only what is missing, like a local run. Workers never open the workspace.

Point it at a cluster with ``--ray ray://HEAD:10001`` (Ray Client) or ``--ray auto`` on a cluster node (or set
``RAY_ADDRESS``); ``--ray`` alone starts a local Ray instance on this machine. The workers import this project (it is
shipped to them as a ``py_modules`` runtime environment) and need the same packages installed (requirements.txt).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.progress import report_job

LOCAL = "local"           # --ray with no address: start Ray on this machine


def _ray():
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise CurationError("--ray needs Ray with Ray Data: pip install 'ray[data]' (pinned in requirements.txt)") \
            from exc
    return ray


@contextmanager
def ray_session(address: str | None = LOCAL) -> Iterator[Any]:
    """Ray for one job: the instance already initialised in this process if any (left running), else a new
    connection to ``address`` (``local``/None: a local instance; ``auto``: the cluster this node belongs to;
    ``ray://host:10001``: a remote cluster through Ray Client), shut down when the block ends."""
    ray = _ray()
    if ray.is_initialized():
        yield ray
        return
    import curation

    logging.getLogger("ray").setLevel(logging.WARNING)
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    runtime_env = {"py_modules": [str(Path(curation.__file__).resolve().parent)],
                   "env_vars": {"TOKENIZERS_PARALLELISM": "false", "CURATION_EMBED_CACHE": "off"}}
    kw: dict[str, Any] = {"runtime_env": runtime_env, "logging_level": logging.WARNING, "log_to_driver": False}
    if address in (None, "", LOCAL):
        kw["include_dashboard"] = False
    else:
        kw["address"] = address
    try:
        ray.init(**kw)
    except Exception as exc:
        where = "a local Ray instance" if address in (None, "", LOCAL) else f"the Ray cluster at {address!r}"
        raise CurationError(f"could not start or reach {where} ({type(exc).__name__}: {exc}); check the address "
                            "(ray://HEAD:10001 for Ray Client, auto on a cluster node) and that the cluster runs "
                            "the same Ray and Python versions") from exc
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_slots(ray: Any, gpu: bool = True) -> tuple[int, bool]:
    """(number of workers, whether they are GPU workers): one per GPU when the cluster has GPUs, else one per CPU."""
    res = ray.cluster_resources()
    gpus = int(res.get("GPU", 0)) if gpu else 0
    if gpus:
        return gpus, True
    return max(1, int(res.get("CPU", 1))), False


def _quiet_data_context(ray: Any) -> None:
    ctx = ray.data.DataContext.get_current()
    for attr, value in (("enable_progress_bars", False), ("print_on_execution_start", False),
                        ("enable_operator_progress_bars", False)):
        if hasattr(ctx, attr):
            setattr(ctx, attr, value)


def map_blocks(ray: Any, frame: pd.DataFrame, fn: Any, kwargs: dict[str, Any], *,
               block_rows: int, gpu: bool = True) -> Iterator[dict[str, np.ndarray]]:
    """Run ``fn(block, **kwargs)`` over ``frame`` cut into blocks of ``block_rows`` rows as Ray tasks (one CPU, or
    one GPU when the cluster has GPUs, each); yield each result (a dict of numpy columns) as soon as its block is
    done (not in input order). Tasks reuse Ray's worker processes, so a model is loaded once per worker process
    (the loaders cache it) and later jobs on the same workers start at once."""
    if frame.empty:
        return
    _, gpu = cluster_slots(ray, gpu)
    _quiet_data_context(ray)
    blocks = [frame.iloc[s: s + block_rows].reset_index(drop=True) for s in range(0, len(frame), block_rows)]
    ds = ray.data.from_pandas(blocks)
    res = {"num_gpus": 1} if gpu else {"num_cpus": 1}
    out = ds.map_batches(fn, fn_kwargs=kwargs, batch_size=None, batch_format="pandas", **res)
    yield from out.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0)


def embed_on_ray(ray: Any, key: str, hashes: list[str], texts: list[str], *, device: str | None,
                 batch_size: int | None, block_rows: int,
                 block_fn: Callable[..., dict[str, np.ndarray]]) -> Iterator[tuple[list[str], np.ndarray, str]]:
    """Yield (text hashes, (n, d) float32 vectors, device) per finished block, in completion order. block_fn: the
    worker task (:func:`curation.embedding.embed.embed_block`)."""
    frame = pd.DataFrame({"text_hash": hashes, "embed_text": texts})
    for out in map_blocks(ray, frame, block_fn, {"model": key, "device": device, "batch_size": batch_size},
                          block_rows=block_rows):
        dev = str(out["device"][0]) if len(out["device"]) else "cpu"
        yield [str(h) for h in out["text_hash"]], np.asarray(out["vector"], dtype=np.float32), dev


def score_on_ray(ray: Any, name: str, params: dict[str, Any], frame: pd.DataFrame, *, block_rows: int,
                 block_fn: Callable[..., dict[str, np.ndarray]],
                 gpu: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (codes, values) per finished block; ``frame`` carries a ``_code`` column naming each row. block_fn:
    the worker task (:func:`curation.scorers.run.score_block`); worker_name: the registered scorer the workers build
    (default
    ``sc.name``), built with ``sc.params``."""
    import json

    for out in map_blocks(ray, frame, block_fn, {"name": name, "params_json": json.dumps(params, default=str)},
                          block_rows=block_rows, gpu=gpu):
        yield np.asarray(out["_code"]), np.asarray(out["value"], dtype=np.float64)


def block_size(n: int, step: int, workers: int) -> int:
    """Rows per Ray block: a multiple of ``step`` (the local path's encode call, so padding is identical), about two
    blocks per worker for small jobs, at most 16 steps (a killed driver loses at most the blocks in flight)."""
    per = -(-n // max(1, step * workers * 2))
    return step * min(16, max(1, per))


def embed_workspace_ray(ws: Any, ray: Any, key: str, job: str, hashes: list[str], texts: list[str], *,
                        device: str | None, batch_size: int | None, params: dict[str, Any], done_before: int,
                        n_all: int, user_cache: Any, progress: Any, commit_seconds: float,
                        block_fn: Callable[..., dict[str, np.ndarray]],
                        to_cache: Callable[[str, list[str], np.ndarray, Any], None],
                        store: Callable[..., None] | None = None) -> tuple[int, str]:
    """The driver side of ``embed --ray``: stream vectors back and commit them every ``commit_seconds`` (and at
    the end). block_fn: the worker task; to_cache(key, hashes, vectors, user_cache) fills the shared embedding
    cache; store(ws, key, hashes, vectors, kept=, total=) writes a commit (default ``ws.put_embeddings``).
    Returns (texts embedded, device label)."""

    workers, gpu = cluster_slots(ray)
    step = max((batch_size or 64) * 4, 1)
    rows = block_size(len(texts), step, workers)
    label = ray_label(ray)
    params = {**params, "device": label}
    pending_h: list[str] = []
    pending_v: list[np.ndarray] = []
    done = 0
    throttle = Throttle(commit_seconds)

    def flush() -> None:
        nonlocal pending_h, pending_v, done
        if not pending_h:
            return
        vecs = np.concatenate(pending_v)
        if store is None:
            ws.put_embeddings(key, pending_h, vecs)
        else:
            store(ws, key, pending_h, vecs, kept=done_before + done, total=n_all)
        to_cache(key, pending_h, vecs, user_cache)
        done += len(pending_h)
        pending_h, pending_v = [], []
        report_job(ws, job, kind="embed", status="running", done=done_before + done, total=n_all, params=params)

    devices: set[str] = set()
    try:
        for h, v, dev in embed_on_ray(ray, key, hashes, texts, device=device, batch_size=batch_size,
                                      block_rows=rows, block_fn=block_fn):
            pending_h.extend(h)
            pending_v.append(v)
            devices.add(dev)
            if throttle.due():
                flush()
            if progress:
                progress(done + len(pending_h), len(texts))
    except BaseException as exc:
        try:
            flush()                          # whatever arrived is kept, also on Ctrl-C or a worker error
            if done:
                report_job(ws, job, kind="embed", status="interrupted" if isinstance(exc, KeyboardInterrupt)
                           else "failed", done=done_before + done, total=n_all, params=params,
                           message=str(exc)[:500])
        except Exception:  # report the original error, not a failure to save
            pass
        raise worker_error(exc) from exc
    flush()
    return done, f"{label} on {', '.join(sorted(devices)) or ('gpu' if gpu else 'cpu')}"


def score_workspace_ray(ws: Any, address: str, sc: Any, *, key: str, meta: dict[str, Any], job: str,
                        df: pd.DataFrame, batch_size: int, block_fn: Callable[..., dict[str, np.ndarray]],
                        progress: Any = None, commit_seconds: float = 3.0,
                        worker_name: str | None = None) -> None:
    """The driver side of ``score --ray`` for a per-example scorer: values already stored under ``key`` for a
    content hash are reused, one representative per distinct remaining content goes to the workers in blocks of
    ``batch_size`` (the same calls as the local path, model scorers sorted by length the same way), and values are
    committed with the job's progress every ``commit_seconds`` as blocks come back. block_fn: the worker task
    (:func:`curation.scorers.run.score_block`); worker_name: the registered scorer the workers build (default
    ``sc.name``), built with ``sc.params``."""
    total = len(df)
    ids = df["example_id"].to_numpy(dtype=object)
    hashes = df["content_hash"].to_numpy(dtype=object)
    done = 0
    pending: list[np.ndarray] = []
    pending_v: list[np.ndarray] = []

    def flush(status: str = "running") -> None:
        nonlocal pending, pending_v, done
        pos = np.concatenate(pending) if pending else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(pending_v) if pending_v else np.zeros(0)
        with ws.transaction():
            ws.put_scores(key, list(ids[pos]), vals, content_hashes=list(hashes[pos]), **meta)
            report_job(ws, job, kind="score", status=status, done=done + len(pos), total=total, params=jparams)
        done += len(pos)
        pending, pending_v = [], []

    cached = ws.cached_scores(key, list(hashes)) if total else {}
    hit = np.array([h in cached for h in hashes], dtype=bool)
    todo = np.flatnonzero(~hit)
    codes, _ = pd.factorize(pd.Series(hashes[todo], dtype=object))
    first = np.unique(codes, return_index=True)[1] if len(todo) else np.zeros(0, dtype=np.int64)
    reps = df.iloc[todo[first]].reset_index(drop=True)
    reps["_code"] = np.arange(len(reps))
    if sc.uses_model and len(reps):          # similar lengths together, exactly as the local path orders them
        length = sum(reps[c].fillna("").str.len() for c in ("prompt", "response", "chosen"))
        reps = reps.iloc[np.argsort(length.to_numpy(), kind="stable")].reset_index(drop=True)
    rows_of = pd.Series(np.arange(len(todo))).groupby(codes).indices   # code -> positions in todo
    with ray_session(address) as ray:
        jparams = {"key": key, "scorer": sc.name, "device": ray_label(ray, sc.uses_model)}
        if hit.any():
            pos = np.flatnonzero(hit)
            pending.append(pos)
            pending_v.append(np.array([cached[h] for h in hashes[pos]], dtype=np.float64))
            flush()
        throttle = Throttle(commit_seconds)
        # model scorers: the local path's batches (same padding, same values); cheap ones: bigger blocks, since a
        # task costs milliseconds and a heuristic microseconds per row
        workers, _ = cluster_slots(ray, sc.uses_model)
        rows = batch_size if sc.uses_model else max(batch_size, min(4096, -(-len(reps) // (2 * workers))))
        try:
            for c, v in score_on_ray(ray, worker_name or sc.name, dict(sc.params), reps, block_rows=rows,
                                     gpu=sc.uses_model, block_fn=block_fn):
                for code, val in zip(c, v):
                    p = todo[rows_of[int(code)]]
                    pending.append(p)
                    pending_v.append(np.full(len(p), val, dtype=np.float64))
                if throttle.due():
                    flush()
                if progress is not None:
                    progress(done + sum(len(p) for p in pending), total)
        except BaseException as exc:
            try:
                if pending:
                    flush("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
            except Exception:  # report the original error, not a failure to save
                pass
            raise worker_error(exc) from exc
        if pending:
            flush()
    report_job(ws, job, kind="score", status="done", done=total, total=total, params=jparams)


def worker_error(exc: BaseException) -> BaseException:
    """A Ray worker's failure as one CurationError (the project error found inside Ray's wrappers, else the last
    line of the remote traceback); Ctrl-C and the project's own errors pass through."""
    if isinstance(exc, (KeyboardInterrupt, CurationError)):
        return exc
    seen, e = set(), exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, CurationError):
            return CurationError(f"a Ray worker failed: {e}")
        e = getattr(e, "cause", None) or e.__cause__
    import re

    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in reversed(lines):                # Ray carries the remote exception as text: find the project's
        if ln.startswith("curation.core.errors.CurationError: "):
            return CurationError(f"a Ray worker failed: {ln.split(': ', 1)[1]}")
    errs = [ln for ln in lines if re.match(r"^[\w.]+(Error|Exception): ", ln)]
    last = errs[-1] if errs else (lines[-1] if lines else type(exc).__name__)
    return CurationError(f"a Ray worker failed: {last}; the values computed before it are saved, run the command "
                         "again to resume")


def ray_label(ray: Any, gpu: bool = True) -> str:
    """e.g. ``ray (4 GPU workers)``; ``gpu=False``: the CPU workers (scorers without a model never take a GPU)."""
    n, gpu = cluster_slots(ray, gpu)
    return f"ray ({n} {'GPU' if gpu else 'CPU'} worker{'s' if n != 1 else ''})"


class Throttle:
    """True every ``seconds`` (commit cadence of the Ray driver loop)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.last = seconds, time.monotonic()

    def due(self) -> bool:
        if time.monotonic() - self.last >= self.seconds:
            self.last = time.monotonic()
            return True
        return False
