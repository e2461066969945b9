"""Ranked full-text search (BM25) over prompts and replies: a tantivy index on disk beside the workspace.

The index lives in ``<workspace stem>_search/words`` and holds one document per example: ``row_id`` (fast field),
``dataset`` (raw, for deletes) and the text fields ``prompt``, ``response``, ``chosen``, ``rejected`` (tantivy's
default tokenizer: split on anything that is not a letter or digit, lower-cased, tokens of 40+ bytes dropped; no
stemming, so a word finds exactly that word). Positions are indexed, so phrases work.

Query language (tantivy's): ``word``, ``"a phrase"``, ``a AND b``, ``a OR b``, ``a AND NOT b``, ``+must -mustnot``,
``(grouping)``, ``prompt:word`` (one field); plain words are OR-ed and ranked by BM25.

Freshness: ``curation.json`` keeps the workspace's search fingerprint (rows, max row id, xor of hash(row_id,
content_hash)) and ``rows.npy`` the (row id, key) pairs indexed. A search first looks at the workspace file's size
and time (and its WAL's): unchanged since the last check, nothing else is read; else it compares the fingerprint
(one scan, ~30 ms at 1M rows on a quiet machine) and, when it differs, deletes the rows that left and adds the rows
that came, so the index follows ingest and remove without a rebuild (:func:`sync_index`). Measured build and query
times: benchmarks/bench_search.py.
"""
from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from curation.core.errors import CurationError
from curation.core.progress import Progress
from curation.store import file_token
from curation.store.search import SEARCH_FIELDS, search_columns

INDEX_VERSION = 1
TEXT_FIELDS = ("prompt", "response", "chosen", "rejected")
_LOCK = threading.Lock()
_OPEN: dict[str, tuple[float, Any]] = {}      # index dir -> (meta mtime, tantivy.Index)
_VERIFIED: dict[str, tuple] = {}              # index dir -> workspace file signature it was last checked against


def index_dir(ws: Any) -> Path:  # Workspace
    """Folder of the workspace's full-text index (``<stem>_search/words`` beside the ``.duckdb`` file)."""
    return ws.path.parent / f"{ws.path.stem}_search" / "words"


def _schema():  # tantivy.Schema
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("row_id", stored=False, indexed=True, fast=True)
    sb.add_text_field("dataset", stored=False, tokenizer_name="raw")
    for f in TEXT_FIELDS:
        sb.add_text_field(f, stored=False, tokenizer_name="default", index_option="position")
    return sb.build()


def _read_meta(d: Path) -> dict | None:
    try:
        return json.loads((d / "curation.json").read_text())
    except (OSError, ValueError):
        return None


def _writer(index: Any) -> Any:  # tantivy.IndexWriter
    """A one-thread writer; waits up to 60 s while another process holds the index's writer lock."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return index.writer(heap_size=128_000_000, num_threads=1)
        except ValueError as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise CurationError(f"cannot write the search index ({exc}); another process is updating it: wait "
                                    "for it to finish") from exc
            time.sleep(0.2)


def _add(writer: Any, tables: Any, progress: Progress | None, total: int) -> int:
    import tantivy

    done = 0
    for t in tables:
        cols = {c: t.column(c).to_pylist() for c in ("row_id", "dataset", *TEXT_FIELDS)}
        for i in range(t.num_rows):
            fields: dict[str, Any] = {"row_id": cols["row_id"][i], "dataset": cols["dataset"][i]}
            for f in TEXT_FIELDS:
                v = cols[f][i]
                if v:
                    fields[f] = v
            writer.add_document(tantivy.Document(**fields))
        done += t.num_rows
        if progress is not None:
            progress(done, total)
    return done


def _delete_rows(writer: Any, rows: np.ndarray) -> None:
    """Delete the documents of ``rows`` (sorted row ids), one range query per run of consecutive ids."""
    import tantivy

    if not len(rows):
        return
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    for run in np.split(rows, breaks):
        q = tantivy.Query.range_query(_schema(), "row_id", tantivy.FieldType.Integer, int(run[0]), int(run[-1]))
        writer.delete_documents_by_query(q)


def _save_meta(d: Path, fp: tuple[int, int, int], rows: np.ndarray, keys: np.ndarray) -> None:
    np.save(d / "rows.npy", np.stack([rows.astype(np.int64), keys.view(np.int64)]))
    tmp = d / "curation.json.tmp"
    tmp.write_text(json.dumps({"version": INDEX_VERSION, "fingerprint": list(fp), "n": int(len(rows))}))
    tmp.replace(d / "curation.json")


def build_index(ws: Any, *, progress: Progress | None = None) -> Path:  # Workspace
    """(Re)build the full-text index of every example from scratch; returns its folder. Cost: one read of the
    texts and ~10-20 µs per row of tantivy indexing on one thread (benchmarks/bench_search.py)."""
    import shutil

    import tantivy

    d = index_dir(ws)
    with _LOCK:
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        fp = ws.search_fingerprint()
        rows, keys = ws.search_row_keys()
        index = tantivy.Index(_schema(), path=str(d))
        w = _writer(index)
        _add(w, ws.search_texts(), progress, len(rows))
        w.commit()
        w.wait_merging_threads()
        _save_meta(d, fp, rows, keys)
        _OPEN.pop(str(d), None)
    return d


def sync_index(ws: Any, *, progress: Progress | None = None) -> Any:  # Workspace -> tantivy.Index
    """The workspace's index, brought up to date: built when missing (or of another version), else the rows that
    left the workspace are deleted and the rows that came are added (a row id reused for other content counts as
    both). Nothing is written when the fingerprint is unchanged (the usual case: one scan of the examples)."""
    import tantivy

    d = index_dir(ws)
    sig = file_token(ws.path)          # None right after a write: not trusted, checked below
    got = _OPEN.get(str(d))
    if got is not None and sig is not None and _VERIFIED.get(str(d)) == sig and (d / "curation.json").exists() and \
            (d / "curation.json").stat().st_mtime == got[0]:
        return got[1]                  # the workspace file has not changed since the last check: no query at all
    meta = _read_meta(d)
    if meta is None or meta.get("version") != INDEX_VERSION or not (d / "rows.npy").exists():
        build_index(ws, progress=progress)
        meta = _read_meta(d)
    else:
        fp = ws.search_fingerprint()
        if list(fp) != meta.get("fingerprint"):
            with _LOCK:
                old = np.load(d / "rows.npy")
                old_rows, old_keys = old[0], old[1].view(np.uint64)
                rows, keys = ws.search_row_keys()
                gone = np.sort(old_rows[~np.isin(old_keys, keys)])
                new = np.sort(rows[~np.isin(keys, old_keys)])
                index = tantivy.Index(_schema(), path=str(d))
                w = _writer(index)
                _delete_rows(w, gone)                        # deletes first: a reused row id is then re-added
                _add(w, ws.search_texts(new) if len(new) else [], progress, len(new))
                w.commit()
                w.wait_merging_threads()
                _save_meta(d, fp, rows, keys)
                _OPEN.pop(str(d), None)
    index = _open(d)
    _VERIFIED[str(d)] = sig
    return index


def sync_if_built(ws: Any) -> None:  # Workspace
    """Bring the index up to date when this workspace has one (after ingest or remove); otherwise do nothing (the
    first search builds it)."""
    if (index_dir(ws) / "curation.json").exists():
        sync_index(ws)


def _open(d: Path) -> Any:  # tantivy.Index
    import tantivy

    mtime = (d / "curation.json").stat().st_mtime
    got = _OPEN.get(str(d))
    if got is None or got[0] != mtime:
        index = tantivy.Index.open(str(d))
        got = (mtime, index)
        _OPEN[str(d)] = got
    got[1].reload()
    return got[1]


def normalise_query(query: str) -> str:
    """``NOT x`` (outside quotes) written as tantivy's ``-x``: ``a AND NOT b`` becomes ``a AND -b``."""
    parts = query.split('"')
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\bNOT\s+", "-", parts[i])
    return '"'.join(parts)


def parse(index: Any, query: str, field: str) -> Any:  # tantivy.Query
    """The tantivy query of ``query`` over the columns of search ``field``; CurationError for a bad query."""
    q = (query or "").strip()
    if not q:
        raise CurationError("the search query is empty; type one or more words, a \"phrase\" or a AND NOT b")
    cols = list(search_columns(field))
    try:
        return index.parse_query(normalise_query(q), cols)
    except ValueError as exc:
        raise CurationError(f"search query {query!r} cannot be read ({exc}); write words, \"a phrase\", a AND b, "
                            "a OR b, a AND NOT b, or (grouping); quote special characters") from exc


def words_search(ws: Any, query: str, *, field: str = "any", limit: int | None = 50
                 ) -> tuple[np.ndarray, np.ndarray, int]:  # Workspace
    """(row ids best first, BM25 scores, number of matching rows): the top ``limit`` (every match when None) of
    ``query`` over search ``field`` (see :data:`curation.store.search.SEARCH_FIELDS`). Cost: the freshness check
    plus tantivy's search; every match (limit None) costs ~1 µs per match more."""
    index = sync_index(ws)
    q = parse(index, query, field)
    searcher = index.searcher()
    n_docs = searcher.num_docs
    k = n_docs if limit is None else max(0, int(limit))
    if k == 0:
        res = searcher.search(q, limit=1, count=True)
        return np.zeros(0, np.int64), np.zeros(0), int(res.count)
    res = searcher.search(q, limit=k, count=True)
    addrs = [a for _, a in res.hits]
    rows = np.asarray(searcher.fast_field_values("row_id", addrs), dtype=np.int64)
    scores = np.asarray([s for s, _ in res.hits], dtype=np.float64)
    return rows, scores, int(res.count)


def fields() -> list[str]:
    """The search fields (``any``, ``prompt``, ``response``, ``chosen``, ``rejected``)."""
    return list(SEARCH_FIELDS)
