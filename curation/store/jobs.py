"""Jobs, exports and artifacts: small records of what ran and what was written."""
from __future__ import annotations

import json
from typing import Any

import pandas as pd

from curation.core.errors import CurationError
from curation.store.connection import Connection


class Jobs(Connection):
    """Jobs, exports and artifacts: small records of what ran and what was written."""

    def set_job(self, key: str, *, kind: str, status: str, done: int = 0, total: int = 0,
                params: dict | None = None, message: str = "") -> None:
        self._write(lambda con: con.execute(
            "insert or replace into jobs values (?, ?, ?, ?, ?, ?, ?, now())",
            [key, kind, status, done, total, json.dumps(params or {}), message]))

    def job(self, key: str) -> dict | None:
        df = self._df("select * from jobs where key = ?", [key])
        return None if df.empty else df.iloc[0].to_dict()

    def jobs(self) -> pd.DataFrame:
        return self._df("select * from jobs order by updated_at desc")

    def record_export(self, path: str, fmt: str, n_rows: int, manifest: dict) -> int:
        return self._write(lambda con: int(con.execute(
            "insert into exports (path, format, n_rows, manifest, created_at) values (?, ?, ?, ?, now()) returning id",
            [path, fmt, n_rows, json.dumps(manifest)]).fetchall()[0][0]))

    def exports(self) -> pd.DataFrame:
        return self._df("select * from exports order by id")

    def artifact_keys(self, prefix: str = "") -> list[str]:
        """Keys of stored artifacts starting with ``prefix``, sorted."""
        with self.connect() as con:
            return [r[0] for r in con.execute("select key from artifacts where starts_with(key, ?) order by key",
                                              [prefix]).fetchall()]

    def put_artifact(self, key: str, obj: Any) -> None:
        """Store a small JSON-serialisable object (a few MB at most) under ``key``, replacing any previous one."""
        try:
            text = json.dumps(obj)
        except (TypeError, ValueError) as exc:
            raise CurationError(f"put_artifact({key!r}): the object is not JSON-serialisable ({exc})") from exc
        self._write(lambda con: con.execute("insert or replace into artifacts values (?, ?, now())", [key, text]))

    def artifact(self, key: str) -> Any | None:
        """The object stored under ``key`` by :meth:`put_artifact`, or None when missing."""
        with self.connect() as con:
            rows = con.execute("select value from artifacts where key = ?", [key]).fetchall()
        return json.loads(rows[0][0]) if rows else None

