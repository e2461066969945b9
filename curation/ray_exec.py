"""Scale-out of ``embed`` and ``score`` over a Ray cluster with Ray Data.

The workspace process (the driver) selects the rows still to compute, exactly as the local path does, and hands them
to Ray Data in blocks; one actor per worker slot (one per GPU when the cluster has GPUs, else one per CPU) loads the
model once and maps blocks to results; results stream back to the driver as blocks finish, and the driver alone
writes DuckDB, committing every few seconds. A killed driver loses at most the results not yet committed: the next
run computes only what is missing, like a local run. Workers never open the workspace.

Point it at a cluster with ``--ray ray://HEAD:10001`` (Ray Client) or ``--ray auto`` on a cluster node (or set
``RAY_ADDRESS``); ``--ray`` alone starts a local Ray instance on this machine. The workers import this project (it is
shipped to them as a ``py_modules`` runtime environment) and need the same packages installed (requirements.txt).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curation.errors import CurationError

LOCAL = "local"           # --ray with no address: start Ray on this machine


def _ray():  # noqa: ANN202 - the ray module
    try:
        import ray
        import ray.data  # noqa: F401 - fail here, not inside a job, when the data extra is missing
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
    except Exception as exc:  # noqa: BLE001 - connection errors come in many types
        where = "a local Ray instance" if address in (None, "", LOCAL) else f"the Ray cluster at {address!r}"
        raise CurationError(f"could not start or reach {where} ({type(exc).__name__}: {exc}); check the address "
                            "(ray://HEAD:10001 for Ray Client, auto on a cluster node) and that the cluster runs "
                            "the same Ray and Python versions") from exc
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_slots(ray: Any) -> tuple[int, bool]:  # noqa: ANN401
    """(number of workers, whether they are GPU workers): one per GPU when the cluster has GPUs, else one per CPU."""
    res = ray.cluster_resources()
    gpus = int(res.get("GPU", 0))
    if gpus:
        return gpus, True
    return max(1, int(res.get("CPU", 1))), False


def _quiet_data_context(ray: Any) -> None:  # noqa: ANN401
    ctx = ray.data.DataContext.get_current()
    for attr, value in (("enable_progress_bars", False), ("print_on_execution_start", False),
                        ("enable_operator_progress_bars", False)):
        if hasattr(ctx, attr):
            setattr(ctx, attr, value)


def map_blocks(ray: Any, frame: pd.DataFrame, worker: type, ctor_kwargs: dict[str, Any], *,  # noqa: ANN401
               block_rows: int) -> Iterator[dict[str, np.ndarray]]:
    """Run ``worker(**ctor_kwargs)(block)`` over ``frame`` cut into blocks of ``block_rows`` rows, on the cluster's
    workers; yield each result (a dict of numpy columns) as soon as its block is done (not in input order)."""
    if frame.empty:
        return
    n, gpu = cluster_slots(ray)
    _quiet_data_context(ray)
    blocks = [frame.iloc[s: s + block_rows].reset_index(drop=True) for s in range(0, len(frame), block_rows)]
    ds = ray.data.from_pandas(blocks)
    res = {"num_gpus": 1} if gpu else {"num_cpus": 1}
    pool = ray.data.ActorPoolStrategy(min_size=1, max_size=min(n, len(blocks)))
    out = ds.map_batches(worker, fn_constructor_kwargs=ctor_kwargs, batch_size=None, batch_format="pandas",
                         compute=pool, **res)
    yield from out.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0)


# ---------------------------------------------------------------------------------------------- workers
class EmbedWorker:
    """Ray actor: loads the embedding model once; maps a block (text_hash, embed_text) to (text_hash, vector)."""

    def __init__(self, model: str, device: str | None, batch_size: int | None) -> None:
        from curation.embed import load_model, set_torch_threads

        set_torch_threads(1)                 # one worker per core: no oversubscription
        self.model = load_model(model, device)
        from curation.devices import auto_batch_size

        self.device = str(getattr(self.model, "device", "cpu"))
        kind = "mps" if self.device.startswith("mps") else self.device
        self.batch_size = int(batch_size) if batch_size else auto_batch_size(kind, 64)

    def __call__(self, block: pd.DataFrame) -> dict[str, np.ndarray]:
        from curation.embed import encode_fit

        texts = block["embed_text"].tolist()
        step = max(self.batch_size * 4, 1)   # same encode calls as the local path (identical padding)
        parts = []
        for j in range(0, len(texts), step):
            v, self.batch_size = encode_fit(self.model, texts[j: j + step], self.batch_size)
            parts.append(v)
        return {"text_hash": block["text_hash"].to_numpy(dtype=object), "vector": np.concatenate(parts),
                "device": np.array([self.device] * len(texts), dtype=object)}


class ScoreWorker:
    """Ray actor: builds the scorer once (a model scorer loads its model on the worker); maps a block of example
    columns (plus ``_code``, the driver's index of each distinct content) to (_code, value)."""

    def __init__(self, name: str, params: dict[str, Any]) -> None:
        from curation.embed import set_torch_threads
        from curation.scorers import get_scorer

        set_torch_threads(1)
        self.scorer = get_scorer(name, **params)

    def __call__(self, block: pd.DataFrame) -> dict[str, np.ndarray]:
        from curation.scorers.base import as_float_array

        codes = block["_code"].to_numpy()
        batch = block.drop(columns=["_code"]).replace({np.nan: None})
        vals = as_float_array(self.scorer.score(batch), len(batch), self.scorer.key())
        return {"_code": codes, "value": vals}


def embed_on_ray(ray: Any, key: str, hashes: list[str], texts: list[str], *, device: str | None,  # noqa: ANN401
                 batch_size: int | None, block_rows: int) -> Iterator[tuple[list[str], np.ndarray, str]]:
    """Yield (text hashes, (n, d) float32 vectors, device) per finished block, in completion order."""
    frame = pd.DataFrame({"text_hash": hashes, "embed_text": texts})
    for out in map_blocks(ray, frame, EmbedWorker, {"model": key, "device": device, "batch_size": batch_size},
                          block_rows=block_rows):
        dev = str(out["device"][0]) if len(out["device"]) else "cpu"
        yield [str(h) for h in out["text_hash"]], np.asarray(out["vector"], dtype=np.float32), dev


def score_on_ray(ray: Any, name: str, params: dict[str, Any], frame: pd.DataFrame, *,  # noqa: ANN401
                 block_rows: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (codes, values) per finished block; ``frame`` carries a ``_code`` column naming each row."""
    for out in map_blocks(ray, frame, ScoreWorker, {"name": name, "params": params}, block_rows=block_rows):
        yield np.asarray(out["_code"]), np.asarray(out["value"], dtype=np.float64)


def block_size(n: int, step: int, workers: int) -> int:
    """Rows per Ray block: a multiple of ``step`` (the local path's encode call, so padding is identical), about two
    blocks per worker for small jobs, at most 16 steps (a killed driver loses at most the blocks in flight)."""
    per = -(-n // max(1, step * workers * 2))
    return step * min(16, max(1, per))


def embed_workspace_ray(ws: Any, ray: Any, key: str, job: str, hashes: list[str], texts: list[str], *,  # noqa: ANN401
                        device: str | None, batch_size: int | None, params: dict[str, Any], done_before: int,
                        n_all: int, user_cache: Any, progress: Any, commit_seconds: float) -> tuple[int, str]:  # noqa: ANN401
    """The driver side of ``embed --ray``: stream vectors back and commit them every ``commit_seconds`` (and at
    the end). Returns (texts embedded, device label)."""
    from curation.embed import _to_user_cache

    workers, gpu = cluster_slots(ray)
    step = max((batch_size or 64) * 4, 1)
    rows = block_size(len(texts), step, workers)
    label = ray_label(ray)
    params = {**params, "device": label}
    ws.set_job(job, kind="embed", status="running", done=done_before, total=n_all, params=params)
    pending_h: list[str] = []
    pending_v: list[np.ndarray] = []
    done = 0
    throttle = Throttle(commit_seconds)

    def flush() -> None:
        nonlocal pending_h, pending_v, done
        if not pending_h:
            return
        vecs = np.concatenate(pending_v)
        ws.put_embeddings(key, pending_h, vecs)
        _to_user_cache(key, pending_h, vecs, user_cache)
        done += len(pending_h)
        pending_h, pending_v = [], []
        ws.set_job(job, kind="embed", status="running", done=done_before + done, total=n_all, params=params)

    devices: set[str] = set()
    try:
        for h, v, dev in embed_on_ray(ray, key, hashes, texts, device=device, batch_size=batch_size,
                                      block_rows=rows):
            pending_h.extend(h)
            pending_v.append(v)
            devices.add(dev)
            if throttle.due():
                flush()
            if progress:
                progress(done + len(pending_h), len(texts))
    finally:
        try:
            flush()                          # whatever arrived is kept, also on Ctrl-C or a worker error
        except Exception:  # noqa: BLE001 - report the original error, not a failure to save
            pass
    return done, f"{label} on {', '.join(sorted(devices)) or ('gpu' if gpu else 'cpu')}"


def ray_label(ray: Any) -> str:  # noqa: ANN401
    n, gpu = cluster_slots(ray)
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
