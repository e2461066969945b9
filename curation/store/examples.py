"""Datasets and examples: ingest, reads by row id, excerpts, record fields and the dashboard's summary."""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.store.connection import Connection, _arrow, registered
from curation.store.schema import EXAMPLE_COLUMNS


class Examples(Connection):
    """Datasets and examples: ingest, reads by row id, excerpts, record fields and the dashboard's summary."""

    def datasets(self) -> pd.DataFrame:
        """One row per dataset: name, source, shape, kind, n_rows (current), ingested_at, mapping, options."""
        return self._df(
            """select d.name, d.source, d.source_sha256, d.shape, d.kind, coalesce(c.n, 0) as n_rows,
                      d.ingested_at, d.mapping, d.options
               from datasets d left join (select dataset, count(*) n from examples group by dataset) c
                 on c.dataset = d.name order by d.ingested_at, d.name""")

    def dataset(self, name: str) -> dict | None:
        df = self._df("select * from datasets where name = ?", [name])
        return None if df.empty else df.iloc[0].to_dict()

    def add_examples(self, dataset: dict, rows: pd.DataFrame) -> tuple[int, int]:
        """Insert a dataset's examples in one transaction; rows whose example_id already exists are skipped.

        dataset: keys name, source, source_sha256, shape, kind, mapping (dict), options (dict).
        rows: columns of :data:`EXAMPLE_COLUMNS` except row_id. Returns (n_inserted, n_already_present).
        """
        def fn(con) -> tuple[int, int]:
            existing = {r[0] for r in con.execute(
                "select example_id from examples where dataset = ?", [dataset["name"]]).fetchall()}
            new = rows[~rows["example_id"].isin(existing)].copy()
            start = con.execute("select coalesce(max(row_id), -1) + 1 from examples").fetchall()[0][0]
            new.insert(0, "row_id", np.arange(start, start + len(new), dtype=np.int64))
            con.execute(
                """insert into datasets values (?, ?, ?, ?, ?, ?, ?, now(), ?)
                   on conflict (name) do update set source = excluded.source,
                     source_sha256 = excluded.source_sha256, shape = excluded.shape, kind = excluded.kind,
                     mapping = excluded.mapping, n_rows = excluded.n_rows, options = excluded.options""",
                [dataset["name"], dataset.get("source"), dataset.get("source_sha256"), dataset.get("shape"),
                 dataset.get("kind"), json.dumps(dataset.get("mapping") or {}), len(existing) + len(new),
                 json.dumps(dataset.get("options") or {})])
            if len(new):
                new = new[list(EXAMPLE_COLUMNS)]
                with registered(con, "_new_examples", new):
                    con.execute("insert into examples select * from _new_examples")
            return len(new), len(rows) - len(new)

        return self._write(fn)

    def remove_dataset(self, name: str) -> int:
        """Delete a dataset and its examples (and their scores, projections rows stay keyed by row id)."""
        def fn(con) -> int:
            n = con.execute("select count(*) from examples where dataset = ?", [name]).fetchall()[0][0]
            con.execute("delete from scores where example_id in (select example_id from examples where dataset = ?)",
                        [name])
            con.execute("delete from examples where dataset = ?", [name])
            con.execute("delete from datasets where name = ?", [name])
            return int(n)
        return self._write(fn)

    def n_examples(self, dataset: str | None = None) -> int:
        with self.connect() as con:
            if dataset is None:
                return int(con.execute("select count(*) from examples").fetchall()[0][0])
            return int(con.execute("select count(*) from examples where dataset = ?", [dataset]).fetchall()[0][0])

    def examples(self, columns: Sequence[str] | None = None, *, dataset: str | None = None,
                 row_ids: Sequence[int] | np.ndarray | None = None) -> pd.DataFrame:
        """Examples ordered by row_id. columns: a subset of :data:`EXAMPLE_COLUMNS` (default: all but record)."""
        cols = list(columns) if columns else [c for c in EXAMPLE_COLUMNS if c != "record"]
        bad = [c for c in cols if c not in EXAMPLE_COLUMNS]
        if bad:
            raise CurationError(f"unknown example column(s) {bad}; columns are {list(EXAMPLE_COLUMNS)}")
        where, params = [], []
        if dataset is not None:
            where.append("dataset = ?")
            params.append(dataset)
        with self.connect() as con:
            if row_ids is not None:
                ids = pd.DataFrame({"row_id": np.asarray(row_ids, dtype=np.int64)})
                with registered(con, "_want_ids", ids):
                    sel = ", ".join(f"e.{c}" for c in cols)
                    w = (" and " + " and ".join(f"e.{x}" for x in where)) if where else ""
                    return con.execute(
                        f"select {sel} from examples e join _want_ids w on e.row_id = w.row_id where true{w} "
                        "order by e.row_id", params).df()
            w = (" where " + " and ".join(where)) if where else ""
            return con.execute(f"select {', '.join(cols)} from examples{w} order by row_id", params).df()

    def example(self, key: int | str) -> dict:
        """One example (all columns, record and messages parsed) by row_id or example_id."""
        col = "row_id" if isinstance(key, (int, np.integer)) else "example_id"
        df = self._df(f"select * from examples where {col} = ?", [key if col == "example_id" else int(key)])
        if df.empty:
            raise CurationError(f"no example with {col} {key!r} in workspace {self.path}")
        row = df.iloc[0].to_dict()
        for k in ("record", "messages"):
            if isinstance(row.get(k), str):
                row[k] = json.loads(row[k])
        return row

    def row_ids(self) -> np.ndarray:
        with self.connect() as con:
            return con.execute("select row_id from examples order by row_id").fetchnumpy()["row_id"].astype(np.int64)

    def id_map(self) -> pd.DataFrame:
        """row_id, example_id, content_hash, text_hash for every example, by row_id."""
        return self._df("select row_id, example_id, content_hash, text_hash from examples order by row_id")

    def summary(self) -> dict:
        """Counts for the info command and the Data page."""
        with self.connect() as con:
            def one(sql: str) -> int:
                return int(con.execute(sql).fetchall()[0][0])
            return {
                "path": str(self.path),
                "schema_version": self.schema_version(),
                "datasets": one("select count(*) from datasets"),
                "examples": one("select count(*) from examples"),
                "embedding_models": {m: n for m, n in con.execute(
                    """select m.model, count(*) from examples x join embeddings m on m.text_hash = x.text_hash
                       group by m.model order by 1""").fetchall()},
                "scores": one("select count(*) from score_defs"),
                "projections": one("select count(*) from projection_defs"),
                "graphs": one("select count(*) from graphs"),
                "rankings": one("select count(*) from rankings"),
                "decisions": one("select count(*) from decisions"),
                "exports": one("select count(*) from exports"),
                "labels": {str(k): int(n) for k, n in con.execute(
                    """select label, count(*) n from examples where label is not null and label <> ''
                       group by label order by n desc, label""").fetchall()},
                "unlabelled": one("select count(*) from examples where label is null or label = ''"),
                "duplicate_content": self.duplicate_content().to_dict(orient="records"),
            }

    def duplicate_content(self, dataset: str | None = None) -> pd.DataFrame:
        """Rows whose content (kind + text, :func:`curation.ingest.run.content_hash_of`; labels and ids aside) was
        already in another dataset when they were ingested: DataFrame(dataset, duplicates_of, n), n = distinct rows
        of ``dataset`` with an earlier row of ``duplicates_of`` of the same content. They are kept (real rows of
        their dataset); the `dedup` command groups them. O(n) hash join."""
        where = "where a.dataset = ?" if dataset is not None else ""
        df = self._df(
            f"""select a.dataset, b.dataset as duplicates_of, count(distinct a.row_id) as n
                from examples a join examples b
                  on a.content_hash = b.content_hash and a.dataset <> b.dataset and b.row_id < a.row_id
                {where} group by a.dataset, b.dataset order by a.dataset, b.dataset""",
            [dataset] if dataset is not None else None)
        df["n"] = df["n"].astype(int)
        return df

    def read_sql(self, query: str) -> pd.DataFrame:
        """Run a read-only SELECT over this workspace (for power users and tests). Anything but one SELECT is
        refused, and it runs in a transaction that is rolled back. For filters typed in the UI use
        :func:`filter_frame`, which cannot reach the workspace file at all."""
        q = query.strip().rstrip(";").strip()
        if not re.match(r"(?is)^(select|with)\b", q) or ";" in q:
            raise CurationError("only a single SELECT query is allowed here; remove other statements")
        with self.connect() as con:
            con.execute("begin transaction")
            try:
                return con.execute(q).df()
            finally:
                con.execute("rollback")

    def data_stamp(self) -> str:
        """A cheap fingerprint of what the dashboard caches (examples, embeddings, scores, projections, graphs,
        rankings, artifacts, finished jobs): it changes whenever any of them changes. Decisions are not part of
        it (pages read pins fresh). One query, a few ms at 100k rows."""
        with self.connect() as con:
            row = con.execute(
                """select (select count(*) from examples), (select max(row_id) from examples),
                          (select count(*) from embeddings), (select count(*) from scores),
                          (select max(created_at) from score_defs), (select count(*) from projection_defs),
                          (select max(created_at) from projection_defs), (select max(created_at) from graphs),
                          (select count(*) from rankings), (select max(created_at) from rankings),
                          (select max(created_at) from artifacts),
                          (select max(updated_at) from jobs where status <> 'running')""").fetchall()[0]
        return "|".join("" if v is None else str(v) for v in row)

    def excerpts(self, row_ids: Sequence[int] | np.ndarray | None = None, *, max_chars: int = 200) -> pd.DataFrame:
        """row_id, excerpt: the first ``max_chars`` characters of each example's embed_text, by row_id (raw text,
        the caller escapes it for display). All examples when ``row_ids`` is None. O(n·max_chars) memory."""
        n = max(1, int(max_chars))
        with self.connect() as con:
            if row_ids is None:
                return con.execute("select row_id, left(embed_text, ?) as excerpt from examples order by row_id",
                                   [n]).df()
            with registered(con, "_ex_ids", pd.DataFrame({"row_id": np.asarray(row_ids, dtype=np.int64)})):
                return con.execute(
                    """select e.row_id, left(e.embed_text, ?) as excerpt from examples e
                       join _ex_ids w on e.row_id = w.row_id order by e.row_id""", [n]).df()

    def record_field(self, key: str) -> pd.DataFrame:
        """row_id and ``value``: the text of field ``key`` of each example's original record (None where absent),
        by row_id. A dotted key reads nested objects ("meta.source"). Used for label columns that are not an
        examples column. O(n) JSON extraction inside DuckDB."""
        path = "$." + ".".join(json.dumps(part) for part in key.split("."))
        return self._df("select row_id, json_extract_string(record, ?) as value from examples order by row_id",
                        [path])

    def record_list_field(self, key: str, *, dataset: str | None = None) -> Any:
        """pyarrow Table(row_id, example_id, v): field ``key`` of each record cast to a list of doubles (null where
        absent), by row_id; only ``dataset``'s rows when given. Raises duckdb.Error when a value is not a list of
        numbers (the caller names the field)."""
        path = "$." + ".".join(json.dumps(part) for part in key.split("."))
        w = "where dataset = ?" if dataset else ""
        with self.connect() as con:
            return _arrow(con, f"""select row_id, example_id, cast(json_extract(record, ?) as double[]) as v
                                   from examples {w} order by row_id""", [path] + ([dataset] if dataset else []))

    def record_keys(self, *, sample: int = 1000) -> list[str]:
        """Top-level keys of the original records (of the first ``sample`` examples), sorted."""
        with self.connect() as con:
            rows = con.execute(
                "select distinct unnest(json_keys(record)) from (select record from examples order by row_id "
                "limit ?)", [int(sample)]).fetchall()
        return sorted(r[0] for r in rows)

