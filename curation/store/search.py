"""Search: the SQL behind :mod:`curation.search` (texts for the full-text index, its freshness fingerprint, pattern
scans, saved searches) and the hook that keeps the on-disk index in step when a dataset is removed."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.store.connection import Connection, _arrow, registered

SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "prompt": ("prompt",),
    "response": ("response", "chosen"),       # the reply kept for training: sft/chat response, a pair's chosen
    "chosen": ("chosen",),
    "rejected": ("rejected",),
    "any": ("prompt", "response", "chosen", "rejected"),
}
"""Which examples columns each search field covers (``response``: every kept reply, as the scorers read it)."""
SAVED_SEARCH_PREFIX = "search:"
"""Artifact key prefix of a saved search's spec, and the key prefix of its flag column."""


def search_columns(field: str) -> tuple[str, ...]:
    """The examples columns of search field ``field``; CurationError naming the choices otherwise."""
    cols = SEARCH_FIELDS.get(field)
    if cols is None:
        raise CurationError(f"search field {field!r} is not one of {list(SEARCH_FIELDS)}; pass --field "
                            "prompt|response|chosen|rejected|any")
    return cols


class Search(Connection):
    """Reads for search: texts to index, the index's freshness fingerprint, pattern scans, saved searches."""

    def search_fingerprint(self) -> tuple[int, int, int]:
        """(rows, max row id, xor of hash(row_id, content_hash)): changes whenever a row is added, removed or its
        row id reused for other content. One scan of two columns (~20-40 ms per 1M rows)."""
        with self.connect() as con:
            n, mx, h = con.execute("select count(*), coalesce(max(row_id), -1), coalesce(bit_xor(hash(row_id, "
                                   "content_hash)), 0) from examples").fetchall()[0]
        return int(n), int(mx), int(h)

    def search_row_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """(row ids (n,) int64, keys (n,) uint64 = hash(row_id, content_hash)) of every example, by row id: what
        the full-text index compares with the rows it holds."""
        with self.connect() as con:
            d = con.execute("select row_id, hash(row_id, content_hash) as k from examples order by row_id"
                            ).fetchnumpy()
        return np.asarray(d["row_id"], dtype=np.int64), np.asarray(d["k"], dtype=np.uint64)

    def search_texts(self, row_ids: np.ndarray | None = None, *, batch: int = 50_000) -> Iterator[Any]:
        """pyarrow Tables (row_id, dataset, prompt, response, chosen, rejected) of ``row_ids`` (every example when
        None), ``batch`` rows at a time, by row id. O(batch) memory."""
        with self.connect() as con:
            if row_ids is None:
                lo, hi = con.execute("select min(row_id), max(row_id) from examples").fetchall()[0]
                if lo is None:
                    return
                for s in range(int(lo), int(hi) + 1, batch):
                    yield _arrow(con, """select row_id, dataset, prompt, response, chosen, rejected from examples
                                         where row_id >= ? and row_id < ? order by row_id""", [s, s + batch])
                return
            ids = np.sort(np.asarray(row_ids, dtype=np.int64))
            for s in range(0, len(ids), batch):
                with registered(con, "_st_ids", pd.DataFrame({"row_id": ids[s:s + batch]})):
                    yield _arrow(con, """select e.row_id, e.dataset, e.prompt, e.response, e.chosen, e.rejected
                                         from examples e join _st_ids w on e.row_id = w.row_id order by e.row_id""",
                                 [])

    def pattern_rows(self, pattern: str, *, columns: Sequence[str], regex: bool = False,
                     case_sensitive: bool = False, limit: int | None = None) -> tuple[np.ndarray, int]:
        """(row ids by row id, up to ``limit``; number of matching rows) whose text in any of ``columns`` contains
        ``pattern``: a substring (``contains``; case-insensitive compares lower-cased text), or a regular expression
        (DuckDB ``regexp_matches``, RE2 syntax; flag ``i`` unless ``case_sensitive``). A bad expression raises
        CurationError naming it and the fix. One scan of the named columns."""
        import duckdb

        if not pattern:
            raise CurationError("the search pattern is empty; type a word, a phrase or a regular expression")
        bad = [c for c in columns if c not in ("prompt", "response", "chosen", "rejected", "embed_text")]
        if bad:
            raise CurationError(f"pattern search over unknown column(s) {bad}")
        if regex:
            opt = "c" if case_sensitive else "i"
            conds = [f"regexp_matches({c}, $p, '{opt}')" for c in columns]
        elif case_sensitive:
            conds = [f"contains({c}, $p)" for c in columns]
        else:
            conds = [f"contains(lower({c}), lower($p))" for c in columns]
        where = " or ".join(f"coalesce({c}, false)" for c in conds)
        lim = "" if limit is None else f" limit {max(0, int(limit))}"
        with self.connect() as con:
            try:
                if regex:
                    con.execute("select regexp_matches('', $p)", {"p": pattern}).fetchall()
                n = int(con.execute(f"select count(*) from examples where {where}", {"p": pattern}).fetchall()[0][0])
                rows = con.execute(f"select row_id from examples where {where} order by row_id{lim}",
                                   {"p": pattern}).fetchnumpy()["row_id"]
            except duckdb.Error as exc:
                msg = str(exc).splitlines()[0]
                raise CurationError(
                    f"pattern {pattern!r} is not a valid regular expression ({msg}); use RE2 syntax (no "
                    "look-around or back-references), escape special characters such as ( [ ? * + with a "
                    "backslash, or search it as plain text (without --regex)") from exc
        return np.asarray(rows, dtype=np.int64), n

    def field_texts(self, row_ids: Sequence[int] | np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
        """row_id, kind and the named text columns of ``row_ids`` (in that order; raw text, the caller escapes it)."""
        cols = [c for c in columns if c in ("prompt", "response", "chosen", "rejected", "embed_text")]
        sel = ", ".join(f"e.{c}" for c in cols)
        ids = np.asarray(row_ids, dtype=np.int64)
        # a list parameter, not a registered table to join: the filter skips row groups by their row-id range
        # (3 ms for 50 rows of 1M, against ~55 ms for the join)
        with self.connect() as con:
            df = con.execute(f"""select e.row_id, e.example_id, e.dataset, e.kind, {sel} from examples e
                                 where list_contains(?::BIGINT[], e.row_id)""", [ids.tolist()]).df()
        pos = pd.Series(np.arange(len(ids)), index=ids)
        df = df.iloc[np.argsort(pos.reindex(df["row_id"].to_numpy()).to_numpy(), kind="stable")]
        return df.reset_index(drop=True)

    def saved_search_specs(self) -> dict[str, dict]:
        """Saved searches: name → spec (query, mode, field, ...), by name."""
        with self.connect() as con:
            rows = con.execute("select key, value from artifacts where starts_with(key, ?) order by key",
                               [SAVED_SEARCH_PREFIX]).fetchall()
        import json

        return {k[len(SAVED_SEARCH_PREFIX):]: json.loads(v) for k, v in rows}

    def delete_saved_search(self, name: str) -> bool:
        """Delete saved search ``name``: its spec and its flag column (scores and definition). True if it existed."""
        key = SAVED_SEARCH_PREFIX + name

        def fn(con) -> bool:
            n = con.execute("select count(*) from artifacts where key = ?", [key]).fetchall()[0][0]
            con.execute("delete from artifacts where key = ?", [key])
            con.execute("delete from scores where key = ?", [key])
            con.execute("delete from score_defs where key = ?", [key])
            return bool(n)
        return self._write(fn)

    def delete_score_column(self, key: str) -> None:
        """Delete one stored column (its values and definition), e.g. a concept's column after it was retrained."""
        def fn(con) -> None:
            con.execute("delete from scores where key = ?", [key])
            con.execute("delete from score_defs where key = ?", [key])
        self._write(fn)

    def undo_decisions(self, decision_ids: Sequence[int], *, who: str) -> list[int]:
        """Undo many decisions in one transaction (a bulk action from a search): for each, append its inverse as
        :meth:`Decisions.undo_decision` does (a pin goes back to the example's pin before it, or unpin; tag and
        untag swap; a note is retracted). Returns the new decision ids. Decisions already undone are skipped."""
        ids = sorted({int(i) for i in decision_ids})
        if not ids:
            return []
        if not who or not who.strip():
            raise CurationError("an undo needs who made it (a name)")

        def fn(con) -> list[int]:
            with registered(con, "_undo_ids", pd.DataFrame({"id": np.asarray(ids, dtype=np.int64)})):
                missing = con.execute("select id from _undo_ids anti join decisions using (id) limit 1").fetchall()
                if missing:
                    raise CurationError(f"no decision with id {missing[0][0]}; nothing was undone")
                rows = con.execute(
                    """insert into decisions (example_id, action, value, who, why, "at", undoes)
                       select d.example_id,
                              case when d.action in ('include', 'exclude', 'unpin') then coalesce(
                                       (select arg_max(p.action, p.id) from decisions p
                                        where p.example_id = d.example_id and p.id < d.id
                                          and p.action in ('include', 'exclude', 'unpin')), 'unpin')
                                   when d.action = 'tag' then 'untag' when d.action = 'untag' then 'tag'
                                   else 'note' end,
                              case when d.action in ('tag', 'untag') then d.value when d.action = 'note' then
                                   '(retracted note #' || d.id || ')' else null end,
                              ?, 'undo #' || d.id, now(), d.id
                       from decisions d join _undo_ids u on u.id = d.id
                       where not exists (select 1 from decisions x where x.undoes = d.id)
                       order by d.id returning id""", [who.strip()]).fetchall()
            return sorted(int(r[0]) for r in rows)
        return self._write(fn)
