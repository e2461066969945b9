"""The workspace: one DuckDB file holding everything. This package holds all of the project's SQL.

Concurrency (what DuckDB allows, and what we do about it)
---------------------------------------------------------
* DuckDB lets **one process** open a database file for writing at a time; other processes cannot open it at all
  (not even read-only) while that lock is held. Inside one process any number of connections and threads may
  share the file.
* So a :class:`Workspace` never keeps a connection open between operations. Each public method opens a
  connection, does its work in one transaction and closes it (≈15 ms). The Streamlit server (many sessions,
  one connection per operation and thread) and a CLI job (which commits batch by batch) therefore take turns on
  the file instead of locking each other out for minutes.
* When the file is locked by another process, opening is retried for ``lock_timeout`` seconds; after that a
  :class:`~curation.core.errors.WorkspaceLocked` error names the other process and the fix.
* Inside one process, two transactions that write the same row conflict; decisions are append-only rows, so
  concurrent curators never conflict, and other writes retry a conflicting transaction a few times.

Tables (schema version :data:`SCHEMA_VERSION`)
----------------------------------------------
``meta`` (schema version, creation time), ``datasets``, ``examples``, ``embeddings`` (model, text hash → float32
vector), ``score_defs`` + ``scores``, ``projection_defs`` + ``projections``, ``graphs`` + ``graph_rows``
(k-nearest-neighbour graphs), ``rankings``, ``decisions`` (append-only log of pins, tags and notes),
``exports``, ``jobs`` (progress of resumable jobs), ``artifacts`` (small JSON objects such as cluster labels;
schema version 2), ``saved_subsets`` (named, versioned subset specs with a frozen decision-log position; schema
version 3); every stored key in the one format of :mod:`curation.core.keys` (schema version 5).

Row ids
-------
Every example has a dense integer ``row_id`` (assigned at ingest, never reused) and a stable string
``example_id``. Arrays handed to numpy code are always accompanied by the ``row_ids`` they describe.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from curation.core.errors import CurationError
from curation.store.connection import Connection, file_token
from curation.store.decisions import Decisions
from curation.store.examples import Examples
from curation.store.filters import filter_frame
from curation.store.jobs import Jobs
from curation.store.rankings import Rankings
from curation.store.schema import (
    COLUMN_KINDS, DECISION_ACTIONS, EXAMPLE_COLUMNS, KIND_BY_NAME, SCHEMA_VERSION, UpgradeNeedsWrite, check_current,
    migrate,
)
from curation.store.scores import Scores
from curation.store.search import Search
from curation.store.vectors import Vectors

__all__ = ["COLUMN_KINDS", "DECISION_ACTIONS", "EXAMPLE_COLUMNS", "KIND_BY_NAME", "SCHEMA_VERSION", "UpgradeNeedsWrite",
           "Workspace", "default_workspace_path", "file_token", "filter_frame"]


def default_workspace_path() -> Path:
    """``$CURATION_WORKSPACE`` if set, else ``data/workspace.duckdb`` under the project root."""
    env = os.environ.get("CURATION_WORKSPACE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data" / "workspace.duckdb"


class Workspace(Search, Examples, Vectors, Scores, Rankings, Decisions, Jobs, Connection):
    """A curation workspace backed by one DuckDB file.

    path: the ``.duckdb`` file (created with its folder when missing unless ``create=False``).
    lock_timeout: seconds to keep retrying while another process holds the file's lock.
    read_only: open every connection with DuckDB's ``read_only=True`` (works on a file without write permission or
    on a read-only filesystem, and beside other read-only processes); nothing is migrated, so a file of an older
    schema raises :class:`UpgradeNeedsWrite`, and any write raises a CurationError saying that the workspace is
    open read-only (:data:`curation.store.connection.READ_ONLY_HINT`).
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True, lock_timeout: float = 20.0,
                 read_only: bool = False) -> None:
        self.path = Path(path).expanduser().resolve()
        self.lock_timeout = lock_timeout
        self.read_only = bool(read_only)
        self._local = threading.local()
        if not self.path.exists():
            if not create or self.read_only:
                raise CurationError(
                    f"workspace {self.path} does not exist; create it with `python -m curation --workspace "
                    f"{self.path} ingest FILE` or pass an existing .duckdb file")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.read_only:
            with self.connect() as con:
                check_current(con, self.path)
            return
        created = not self.path.exists()
        try:
            with self.transaction() as con:
                migrate(con, self.path)
        except BaseException:
            if created:  # e.g. a full disk: leave no half-made workspace behind
                for p in (self.path, self.path.with_name(self.path.name + ".wal")):
                    p.unlink(missing_ok=True)
            raise

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    def identical_pairs(self) -> dict[str, int]:
        """dataset → preference pairs whose chosen reply equals the rejected one (datasets with none left out)."""
        with self.connect() as con:
            rows = con.execute("select dataset, count(*) from examples where kind = 'preference' and chosen = "
                               "rejected group by dataset order by dataset").fetchall()
        return {str(d): int(n) for d, n in rows}

    @property
    def export_dir(self) -> Path:
        """Folder where exports of this workspace are written (``<stem>_exports`` beside the file)."""
        return self.path.parent / f"{self.path.stem}_exports"

