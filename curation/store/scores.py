"""Per-example score columns (scores, slices, groups and flags) and their definitions."""
from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import key_name
from curation.store.connection import Connection, registered
from curation.store.schema import COLUMN_KINDS, KIND_BY_NAME


class Scores(Connection):
    """Per-example score columns (scores, slices, groups and flags) and their definitions."""

    def put_scores(self, key: str, example_ids: Sequence[str], values: np.ndarray, *, name: str | None = None,
                   higher_is_better: bool | None = None, params: dict | None = None,
                   description: str = "", content_hashes: Sequence[str] | None = None,
                   kind: str | None = None) -> None:
        """Store one float per example under ``key`` (NaN = not applicable). Existing values are replaced.

        kind: "score", "group" or "flag" (:data:`COLUMN_KINDS`); None: :data:`KIND_BY_NAME` of the name, else
        "score". Consumers take only the kinds they can use (an average of group ids means nothing).
        Bulk insert through Arrow (no per-row Python objects beyond the ids)."""
        import pyarrow as pa

        values = np.asarray(values, dtype=np.float64)
        if len(values) != len(example_ids):
            raise CurationError(f"put_scores({key!r}): {len(example_ids)} ids but {len(values)} values")
        name = name or key_name(key)
        kind = kind or KIND_BY_NAME.get(name, "score")
        if kind not in COLUMN_KINDS:
            raise CurationError(f"put_scores({key!r}): kind {kind!r} is not one of {list(COLUMN_KINDS)}")
        n = len(values)
        hashes = pa.array(np.asarray(content_hashes, dtype=object), type=pa.string()) \
            if content_hashes is not None else pa.nulls(n, type=pa.string())
        df = pa.table({"key": pa.array(np.full(n, key, dtype=object), type=pa.string()),
                       "example_id": pa.array(np.asarray(example_ids, dtype=object), type=pa.string()),
                       "content_hash": hashes, "value": pa.array(values, mask=np.isnan(values))})

        def fn(con) -> None:
            con.execute(
                """insert into score_defs (key, name, higher_is_better, params, description, created_at, kind)
                   values (?, ?, ?, ?, ?, now(), ?) on conflict (key) do update set
                   name = excluded.name, higher_is_better = excluded.higher_is_better, params = excluded.params,
                   description = excluded.description, kind = excluded.kind""",
                [key, name, higher_is_better, json.dumps(params or {}), description, kind])
            with registered(con, "_scores", df):
                con.execute("insert or replace into scores select key, example_id, content_hash, value from _scores")
        self._write(fn)

    def score_defs(self, kinds: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per stored column: key, name, higher_is_better, params, description, created_at, kind
        (score | group | flag), n_values; only the given ``kinds`` when named."""
        if kinds is not None:
            d = self.score_defs()
            return d[d["kind"].isin(list(kinds))].reset_index(drop=True)
        return self._df(
            """select d.*, coalesce(c.n, 0) as n_values from score_defs d left join
               (select key, count(*) n from scores group by key) c on c.key = d.key order by d.key""")

    def scores(self, keys: Sequence[str] | None = None) -> pd.DataFrame:
        """Wide table: row_id, example_id and one float column per score key (NaN where missing), by row_id."""
        with self.connect() as con:
            if keys is None:
                keys = [r[0] for r in con.execute("select key from score_defs order by key").fetchall()]
            base = con.execute("select row_id, example_id from examples order by row_id").df()
            for k in keys:
                s = con.execute("select example_id, value from scores where key = ?", [k]).df()
                base[k] = base["example_id"].map(s.set_index("example_id")["value"]).astype("float64")
        return base

    def score_column(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(row ids, values) of one score key, by row_id: the join runs in DuckDB and no example id crosses into
        Python (the Map page colours 1M points by a score with it). Rows without a value are absent."""
        with self.connect() as con:
            d = con.execute("""select e.row_id, s.value from scores s join examples e on e.example_id = s.example_id
                               where s.key = ? order by e.row_id""", [key]).fetchnumpy()
        # a NULL value (NaN, not applicable) comes back masked: fill it with NaN, not the masked array's 0
        return np.asarray(d["row_id"], dtype=np.int64), np.ma.filled(np.ma.asarray(d["value"], dtype=np.float64),
                                                                     np.nan)

    def cached_scores(self, key: str, content_hashes: Sequence[str]) -> dict[str, float]:
        """content_hash → value already stored under ``key`` (for any example with that content)."""
        import pyarrow as pa

        uniq = pd.unique(np.asarray(content_hashes, dtype=object))
        with self.connect() as con:
            if con.execute("select count(*) from (select 1 from scores where key = ? limit 1)",
                           [key]).fetchall()[0][0] == 0:
                return {}                     # nothing stored under this key yet (a first run)
            with registered(con, "_h", pa.table({"h": pa.array(uniq, type=pa.string())})):
                rows = con.execute(
                    "select s.content_hash, any_value(s.value) from scores s join _h on s.content_hash = _h.h "
                    "where s.key = ? group by s.content_hash", [key]).fetchall()
        return {h: float(v) if v is not None else float("nan") for h, v in rows}

