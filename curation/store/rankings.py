"""Rankings (full selection orders) and their short ids."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import key_name, legacy_key
from curation.core.ranking import Ranking
from curation.store.connection import Connection, registered, _arrow


class Rankings(Connection):
    """Rankings (full selection orders) and their short ids."""

    def put_ranking(self, ranking: Ranking, *, params: dict | None = None) -> None:
        """Store a ranking under its key (``ranking.method``). A new key gets the short id ``<method>-<n>`` (n counts
        the rankings of that method ever stored here, so an id is never reused); a stored key keeps its id.
        The order and gains go in through Arrow (no Python list of a million numbers); a NaN gain is stored as null."""
        import pyarrow as pa

        order = np.asarray(ranking.order, dtype=np.int64)
        gains = np.asarray(ranking.gains, dtype=np.float64)
        method = key_name(ranking.method)
        offs = pa.array(np.array([0, len(order)], dtype=np.int64))
        tbl = pa.table({"order_ids": pa.LargeListArray.from_arrays(offs, pa.array(order)),
                        "gains": pa.LargeListArray.from_arrays(offs, pa.array(gains, mask=np.isnan(gains)))})

        def fn(con) -> None:
            rows = con.execute("select short_id from rankings where key = ?", [ranking.method]).fetchall()
            short = rows[0][0] if rows and rows[0][0] else None
            if short is None:
                used = [r[0] for r in con.execute("select short_id from rankings where method = ?",
                                                  [method]).fetchall()]
                nums = [int(x.rsplit("-", 1)[1]) for x in used if x and x.rsplit("-", 1)[-1].isdigit()]
                seq = con.execute("select value from meta where key = ?", [f"ranking_seq:{method}"]).fetchall()
                n = max(nums + [int(seq[0][0]) if seq else 0]) + 1
                short = f"{method}-{n}"
                con.execute("insert or replace into meta values (?, ?)", [f"ranking_seq:{method}", str(n)])
            with registered(con, "_rank", tbl):
                con.execute("insert or replace into rankings (key, method, params, n, order_ids, gains, created_at, "
                            "short_id) select ?, ?, ?, ?, order_ids, gains, now(), ? from _rank",
                            [ranking.method, method, json.dumps(params or {}), len(order), short])
        self._write(fn)

    def rankings(self) -> pd.DataFrame:
        """One row per stored ranking (oldest first): short_id, key, method, params, n, created_at."""
        return self._df("select short_id, key, method, params, n, created_at from rankings order by created_at")

    def ranking_key(self, ref: str, *, missing_ok: bool = False) -> str | None:
        """The full key of the ranking ``ref`` names: its key, its short id (``facility-2``), the method name when
        exactly one ranking of that method is stored, or a prefix of one key or short id. Ambiguous references
        are an error listing the candidates; unknown ones too (or None with ``missing_ok``)."""
        df = self._df("select key, short_id, method from rankings order by created_at")
        for col in ("key", "short_id"):
            hit = df[df[col] == ref]
            if len(hit) == 1:
                return str(hit["key"].iloc[0])
        if legacy_key(ref) in set(df["key"]):        # a key written before the one key format (schema 5)
            return legacy_key(ref)
        cands = df[df["method"] == ref]
        if not len(cands):
            cands = df[df["key"].str.startswith(ref) | df["short_id"].fillna("").str.startswith(ref)]
        if len(cands) == 1:
            return str(cands["key"].iloc[0])
        listing = ", ".join(f"{r.short_id} = {r.key}" for r in (cands if len(cands) else df).head(12).itertuples())
        if len(cands) > 1:
            raise CurationError(f"ranking {ref!r} is ambiguous in {self.path}: it names {len(cands)} rankings "
                                f"({listing}); pass a short id")
        if missing_ok:
            return None
        raise CurationError(f"no ranking {ref!r} in {self.path}; rankings are {listing or 'none'}; pass a short id, "
                            "or run `python -m curation select METHOD` first")

    def ranking(self, key: str) -> Ranking | None:
        """The ranking ``key`` names (a key, short id, unique prefix or method name: :meth:`ranking_key`), or None.
        Its ``method`` is the full key."""
        with self.connect() as con:
            tbl = _arrow(con, "select order_ids, gains from rankings where key = ?", [key])
            if tbl.num_rows == 0:
                full = self.ranking_key(key, missing_ok=True)
                if full is None:
                    return None
                key = full
                tbl = _arrow(con, "select order_ids, gains from rankings where key = ?", [key])
        order = tbl.column("order_ids")[0].values.to_numpy(zero_copy_only=False).astype(np.int64)
        gains = np.asarray(tbl.column("gains")[0].values.to_numpy(zero_copy_only=False), dtype=np.float64)
        return Ranking(order=order, gains=gains, method=key)

    def delete_ranking(self, key: str) -> None:
        self._write(lambda con: con.execute("delete from rankings where key = ?", [key]))

