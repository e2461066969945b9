"""The curator's decision log (pins, tags, notes; append-only) and saved subsets."""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.store.connection import Connection, registered
from curation.store.schema import DECISION_ACTIONS


class Decisions(Connection):
    """The curator's decision log (pins, tags, notes; append-only) and saved subsets."""

    def add_decisions(self, example_ids: Sequence[str], action: str, *, who: str, value: str | None = None,
                      why: str | None = None) -> list[int]:
        """Append one decision per example (one transaction). action: include | exclude | unpin | tag | untag | note.

        Returns the new decision ids. Nothing is ever updated in place, so concurrent curators cannot lose rows.
        """
        if action not in DECISION_ACTIONS:
            raise CurationError(f"unknown decision action {action!r}; use one of {list(DECISION_ACTIONS)}")
        if action in ("tag", "untag", "note") and not value:
            raise CurationError(f"a {action} decision needs a value (the tag or the note text)")
        if not who or not who.strip():
            raise CurationError("a decision needs who made it (a name)")
        ids = list(dict.fromkeys(str(e) for e in example_ids))
        if not ids:
            return []

        def fn(con) -> list[int]:
            with registered(con, "_ids", pd.DataFrame({"example_id": ids})):
                missing = con.execute(
                    "select example_id from _ids anti join examples using (example_id) limit 5").fetchall()
                if missing:
                    raise CurationError(f"no example with id {missing[0][0]!r} in this workspace; decision not saved")
                rows = con.execute(
                    """insert into decisions (example_id, action, value, who, why, "at")
                       select example_id, ?, ?, ?, ?, now() from _ids returning id""",
                    [action, value, who.strip(), why]).fetchall()
            return sorted(int(r[0]) for r in rows)
        return self._write(fn)

    def undo_decision(self, decision_id: int, *, who: str) -> int:
        """Append the inverse of decision ``decision_id`` (undo is itself logged). Returns the new id."""
        def fn(con) -> int:
            rows = con.execute("select example_id, action, value from decisions where id = ?",
                               [decision_id]).fetchall()
            row = rows[0] if rows else None
            if row is None:
                raise CurationError(f"no decision with id {decision_id}")
            ex, action, value = row
            if action in ("include", "exclude"):
                prev = con.execute(
                    """select action from decisions where example_id = ? and id < ? and action in
                       ('include', 'exclude', 'unpin') order by id desc limit 1""", [ex, decision_id]).fetchall()
                inverse, inv_value = (prev[0][0] if prev else "unpin"), None
            elif action == "unpin":
                prev = con.execute(
                    """select action from decisions where example_id = ? and id < ? and action in
                       ('include', 'exclude', 'unpin') order by id desc limit 1""", [ex, decision_id]).fetchall()
                inverse, inv_value = (prev[0][0] if prev else "unpin"), None
            elif action == "tag":
                inverse, inv_value = "untag", value
            elif action == "untag":
                inverse, inv_value = "tag", value
            else:
                inverse, inv_value = "note", f"(retracted note #{decision_id})"
            return int(con.execute(
                """insert into decisions (example_id, action, value, who, why, "at", undoes)
                   values (?, ?, ?, ?, ?, now(), ?) returning id""",
                [ex, inverse, inv_value, who, f"undo #{decision_id}", decision_id]).fetchall()[0][0])
        return self._write(fn)

    def decisions(self, example_id: str | None = None) -> pd.DataFrame:
        """The decision log in order (id, example_id, action, value, who, why, at, undoes)."""
        if example_id is None:
            return self._df("select * from decisions order by id")
        return self._df("select * from decisions where example_id = ? order by id", [example_id])

    def pins(self, *, as_of: int | None = None) -> pd.DataFrame:
        """Pin per example (latest include/exclude/unpin wins): example_id, row_id, pin, who, at, why.

        as_of: a decision id; only decisions up to it count (the pins as they were then). None = current pins."""
        return self._df(
            """select d.example_id, e.row_id, d.action as pin, d.who, d."at", d.why from (
                   select *, row_number() over (partition by example_id order by id desc) rn from decisions
                   where action in ('include', 'exclude', 'unpin')
                     and (cast(? as bigint) is null or id <= cast(? as bigint))) d
               join examples e using (example_id) where d.rn = 1 and d.action <> 'unpin' order by d.id""",
            [as_of, as_of])

    def tags(self) -> pd.DataFrame:
        """Current tags: example_id, row_id, tag (a tag is on when its latest tag/untag decision is tag)."""
        return self._df(
            """select d.example_id, e.row_id, d.value as tag, d.who, d."at" from (
                   select *, row_number() over (partition by example_id, value order by id desc) rn
                   from decisions where action in ('tag', 'untag')) d
               join examples e using (example_id) where d.rn = 1 and d.action = 'tag' order by d.id""")

    def notes(self) -> pd.DataFrame:
        return self._df(
            """select d.id, d.example_id, e.row_id, d.value as note, d.who, d."at" from decisions d
               join examples e using (example_id) where d.action = 'note' order by d.id""")

    def last_decision_id(self) -> int:
        """The id of the newest decision (0 when the log is empty): the position that freezes today's pins."""
        with self.connect() as con:
            return int(con.execute("select coalesce(max(id), 0) from decisions").fetchall()[0][0])

    def count_decisions_after(self, position: int, *, actions: Sequence[str] | None = None) -> int:
        """How many decisions (of ``actions``, default all) have an id above ``position``."""
        acts = list(actions) if actions else list(DECISION_ACTIONS)
        with self.connect() as con:
            return int(con.execute("select count(*) from decisions where id > ? and list_contains(?, action)",
                                   [int(position), acts]).fetchall()[0][0])

    def pin_decisions_between(self, lo: int, hi: int, *, row_ids: Sequence[int] | np.ndarray | None = None
                              ) -> pd.DataFrame:
        """Pin decisions (include / exclude / unpin) with lo < id <= hi: id, row_id, example_id, action, who, why,
        at, in log order; only those on ``row_ids`` when given."""
        with self.connect() as con:
            sql = """select d.id, e.row_id, d.example_id, d.action, d.who, d.why, d."at" from decisions d
                     join examples e using (example_id)
                     where d.id > ? and d.id <= ? and d.action in ('include', 'exclude', 'unpin')"""
            if row_ids is None:
                return con.execute(sql + " order by d.id", [int(lo), int(hi)]).df()
            with registered(con, "_pd_ids", pd.DataFrame({"row_id": np.asarray(row_ids, dtype=np.int64)})):
                return con.execute(sql + " and e.row_id in (select row_id from _pd_ids) order by d.id",
                                   [int(lo), int(hi)]).df()

    def save_subset(self, name: str, spec: dict, *, decision_pos: int, who: str, note: str | None = None,
                    n_rows: int | None = None, n_tokens: int | None = None,
                    ids_sha256: str | None = None) -> dict:
        """Append a new version of saved subset ``name`` and return its row (name, version, spec, ...).

        The version is ``max(version) + 1`` for that name (1 for a new name; hidden versions count, so numbers
        are never reused), computed and inserted in one transaction. Two sessions or processes saving the same
        name at once both succeed with consecutive versions: a conflicting insert is retried with the next number.
        Versions are never updated afterwards (only the ``hidden`` flag, by :meth:`hide_subset`). The caller
        (``curation.subsets.saved``) validates the name and resolves the spec.
        """
        import duckdb

        text = json.dumps(spec, sort_keys=True)

        def fn(con) -> int:
            v = int(con.execute("select coalesce(max(version), 0) + 1 from saved_subsets where name = ?",
                                [name]).fetchall()[0][0])
            con.execute(
                """insert into saved_subsets (name, version, spec, decision_pos, who, "at", note, n_rows, n_tokens,
                       ids_sha256, hidden) values (?, ?, ?, ?, ?, now(), ?, ?, ?, ?, false)""",
                [name, v, text, int(decision_pos), who, note, n_rows, n_tokens, ids_sha256])
            return v

        for attempt in range(50):
            try:
                version = self._write(fn)
                break
            except (duckdb.ConstraintException, duckdb.TransactionException) as exc:
                # another session took this version number between our read and our commit: take the next one
                dup = isinstance(exc, duckdb.TransactionException) or "duplicate" in str(exc).lower()
                if not dup or attempt == 49 or getattr(self._local, "in_tx", False):
                    raise
                time.sleep(0.005 * (1 + attempt % 8))
        got = self.saved_subset(name, version)
        assert got is not None
        return got

    def saved_subsets(self, name: str | None = None, *, include_hidden: bool = False) -> pd.DataFrame:
        """Saved subset versions (name, version, spec, decision_pos, who, at, note, n_rows, n_tokens, ids_sha256,
        hidden, hidden_by, hidden_at), by name then version. Hidden versions only with ``include_hidden``."""
        where, params = [], []
        if name is not None:
            where.append("name = ?")
            params.append(name)
        if not include_hidden:
            where.append("not hidden")
        w = (" where " + " and ".join(where)) if where else ""
        return self._df(f'select * from saved_subsets{w} order by name, version', params)

    def saved_subset(self, name: str, version: int | None = None) -> dict | None:
        """One version of a saved subset as a dict (``spec`` parsed); the newest visible one when ``version`` is
        None. A hidden version is returned when asked for by number (history is kept)."""
        if version is None:
            df = self._df("select * from saved_subsets where name = ? and not hidden order by version desc limit 1",
                          [name])
        else:
            df = self._df("select * from saved_subsets where name = ? and version = ?", [name, int(version)])
        if df.empty:
            return None
        row = df.iloc[0].to_dict()
        row["spec"] = json.loads(row["spec"]) if isinstance(row["spec"], str) else row["spec"]
        return row

    def hide_subset(self, name: str, version: int | None = None, *, who: str) -> int:
        """Hide every version of ``name`` (or one version) from listings; nothing is deleted. Returns how many
        versions were newly hidden."""
        def fn(con) -> int:
            sql = """update saved_subsets set hidden = true, hidden_by = ?, hidden_at = now()
                     where name = ? and not hidden"""
            params: list[Any] = [who, name]
            if version is not None:
                sql += " and version = ?"
                params.append(int(version))
            return int(con.execute(sql + " returning version", params).df().shape[0])
        return self._write(fn)

