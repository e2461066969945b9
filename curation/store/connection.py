"""Connections and transactions: a workspace opens a DuckDB connection per operation (nested calls share it)."""
from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curation.core.disk import disk_error, is_full_disk
from curation.core.errors import CurationError, WorkspaceLocked

_LOCK_RE = re.compile(r"lock", re.IGNORECASE)
# Opening and closing DuckDB connections to the same file from several threads at once races inside DuckDB's
# instance cache (seen: "Table Function with name pandas_scan does not exist"); serialise just those two steps.
_OPEN_CLOSE = threading.Lock()
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The commands that need write access, for the message a write on a read-only workspace gives.
READ_ONLY_HINT = ("commands that only read work on it (info, rankings, explain, report, subset list/show/diff); "
                  "ingest, embed, demo, remove, decide, graph, analyze, project, density, dedup, cluster, score, "
                  "propose, import-scores, import-embeddings, select, advise (it may build the graph), export and "
                  "subset save/delete write to it and need write access (to the file and its folder)")


def _says_read_only(exc: BaseException | None) -> bool:
    """Whether ``exc`` or an exception it arose from is DuckDB refusing a write in read-only mode."""
    seen = 0
    while exc is not None and seen < 10:
        if "read-only mode" in str(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def duckdb_error() -> type[Exception]:
    import duckdb

    return duckdb.Error


class Connection:
    """Opening, transactions and retries over one DuckDB file; the base of every table family's mixin."""

    path: Path
    lock_timeout: float
    read_only: bool = False
    _local: threading.local

    def _open(self):  # duckdb connection
        import duckdb

        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                with _OPEN_CLOSE:
                    return duckdb.connect(str(self.path), read_only=self.read_only)
            except duckdb.IOException as exc:
                msg = str(exc)
                if is_full_disk(exc):
                    raise disk_error(exc, self.path, what="opening the workspace") from exc
                if not _LOCK_RE.search(msg):
                    raise CurationError(f"cannot open workspace {self.path}: {msg}") from exc
                if time.monotonic() >= deadline:
                    holder = re.search(r"held in (.*?)(?: See also|$)", msg)
                    who = holder.group(1).strip().rstrip(".") if holder else "another process"
                    raise WorkspaceLocked(
                        f"workspace {self.path} is locked by {who} for more than {self.lock_timeout:.0f} s; "
                        "DuckDB lets one process write a file at a time. Wait for that job to finish, stop it, "
                        "or use another --workspace") from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except duckdb.Error as exc:
                raise CurationError(
                    f"cannot open workspace {self.path}: {exc}; is it a DuckDB file written by this tool?") from exc

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A connection for this thread; nested calls reuse it. Closed when the outermost block ends."""
        con = getattr(self._local, "con", None)
        if con is not None:
            yield con
            return
        con = self._open()
        self._local.con = con
        try:
            yield con
        except duckdb_error() as exc:
            if self.read_only and _says_read_only(exc):
                raise self._read_only_error() from exc
            raise
        finally:
            self._local.con = None
            with _OPEN_CLOSE:
                con.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """Run the block in one transaction (all or nothing). Nested use joins the outer transaction.

        A write-write conflict is not retried here (the block may not be safe to re-run); :meth:`_write` retries.
        """
        with self.connect() as con:
            if getattr(self._local, "in_tx", False):
                yield con
                return
            con.execute("begin transaction")
            self._local.in_tx = True
            try:
                yield con
                con.execute("commit")
            except BaseException:
                try:
                    con.execute("rollback")
                except Exception:  # rollback after a failed commit may itself fail
                    pass
                raise
            finally:
                self._local.in_tx = False

    def _read_only_error(self) -> CurationError:
        return CurationError(f"workspace {self.path} is open read-only and this step writes to it; {READ_ONLY_HINT}")

    def _write(self, fn, *, retries: int = 6):
        """Run ``fn(con)`` in a transaction, retrying on a write-write conflict with another thread."""
        import duckdb

        if self.read_only:
            raise self._read_only_error()

        for attempt in range(retries):
            try:
                with self.transaction() as con:
                    return fn(con)
            except duckdb.TransactionException:
                if attempt == retries - 1 or getattr(self._local, "in_tx", False):
                    raise
                time.sleep(0.01 * (2 ** attempt))
        raise AssertionError("unreachable")

    def drop_empty_wal(self) -> None:
        """After a commit failed on a full disk (DuckDB rolled it back), checkpoint so DuckDB removes the write-ahead
        log it left behind; a failure here changes nothing (the disk may still be full; the next successful write
        checkpoints)."""
        try:
            with self.connect() as con:
                con.execute("checkpoint")
        except Exception:  # still full: leave it to the next write
            pass

    def schema_version(self) -> int:
        with self.connect() as con:
            return int(con.execute("select value from meta where key = 'schema_version'").fetchall()[0][0])

    def _df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(sql, list(params or [])).df()


def file_token(path: str | os.PathLike[str]) -> tuple | None:
    """(inode, mtime_ns, size) of the workspace file and of its write-ahead log: every committed write changes it
    (DuckDB appends to the log or checkpoints into the file), a read does not. One ``stat`` per file, microseconds.
    None when the newest change is under 0.25 s old: a second write within the same clock tick could leave the token
    as it was, so a fresh token is not trusted (git's "racy clean" rule)."""
    out: list[tuple[int, int, int] | None] = []
    newest = 0
    for f in (str(path), str(path) + ".wal"):
        try:
            st_ = os.stat(f)
        except OSError:
            out.append(None)
            continue
        out.append((st_.st_ino, st_.st_mtime_ns, st_.st_size))
        newest = max(newest, st_.st_mtime_ns)
    if time.time_ns() - newest < 250_000_000:
        return None
    return tuple(out)


@contextmanager
def registered(con: Any, name: str, table: Any) -> Iterator[str]:
    """Register a DataFrame or Arrow table on ``con`` as view ``name`` for the block, unregistering it after.
    (Store queries fetch their results to the end: DuckDB 2.x refuses to register while a result is pending.)"""
    con.register(name, table)
    try:
        yield name
    finally:
        con.unregister(name)


def _arrow(con, sql: str, params: Sequence[Any]):  # duckdb connection, pyarrow Table
    """Run a query and return a pyarrow Table without the DB-API's extra copy."""
    return con.sql(sql, params=list(params)).to_arrow_table()


def _list_column_to_matrix(col, dtype: type = np.float32) -> np.ndarray:  # pyarrow ChunkedArray
    """A pyarrow list column of equal-length lists → (n, d) numpy array (one copy at most)."""
    n = len(col)
    if n == 0:
        return np.zeros((0, 0), dtype=dtype)
    arr = col.combine_chunks() if hasattr(col, "combine_chunks") else col
    flat = arr.flatten().to_numpy(zero_copy_only=False)
    return np.ascontiguousarray(flat.reshape(n, -1), dtype=dtype)
