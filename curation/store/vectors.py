"""Embeddings, neighbour graphs and 2-d projections: the arrays keyed by model and parameters."""
from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.store.connection import Connection, registered, _arrow, _list_column_to_matrix


class Vectors(Connection):
    """Embeddings, neighbour graphs and 2-d projections: the arrays keyed by model and parameters."""

    def embedding_models(self) -> list[str]:
        with self.connect() as con:
            return [r[0] for r in con.execute("select distinct model from embeddings order by 1").fetchall()]

    def missing_text_hashes(self, model: str) -> pd.DataFrame:
        """Distinct (text_hash, embed_text) of examples that have no embedding under ``model`` yet."""
        return self._df(
            """select e.text_hash, any_value(e.embed_text) as embed_text from examples e
               anti join (select text_hash from embeddings where model = ?) m on e.text_hash = m.text_hash
               group by e.text_hash order by e.text_hash""", [model])

    def known_hashes(self, model: str, hashes: Sequence[str]) -> set[str]:
        with self.connect() as con:
            with registered(con, "_h", pd.DataFrame({"h": list(hashes)})):
                return {r[0] for r in con.execute(
                    "select e.text_hash from embeddings e join _h on e.text_hash = _h.h where e.model = ?",
                    [model]).fetchall()}

    def put_embeddings(self, model: str, text_hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Store (n, d) float32 vectors under (model, text hash); an existing pair is kept as is."""
        import pyarrow as pa

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(text_hashes):
            raise CurationError(f"put_embeddings: got {len(text_hashes)} hashes and vectors of shape {vectors.shape}")
        d = vectors.shape[1]
        offsets = pa.array(np.arange(0, (len(vectors) + 1) * d, d, dtype=np.int32))
        tbl = pa.table({"model": pa.array([model] * len(vectors)), "text_hash": pa.array(list(text_hashes)),
                        "vector": pa.ListArray.from_arrays(offsets, pa.array(vectors.ravel()))})

        def fn(con) -> None:
            with registered(con, "_emb", tbl):
                con.execute("insert or ignore into embeddings select model, text_hash, vector from _emb")
        self._write(fn)

    def embedding_dim(self, model: str) -> int | None:
        """Dimension of the vectors stored under ``model``, or None when it has none."""
        with self.connect() as con:
            rows = con.execute("select len(vector) from embeddings where model = ? limit 1", [model]).fetchall()
        return int(rows[0][0]) if rows else None

    def count_embeddings(self, model: str) -> int:
        """How many (text hash, vector) pairs are stored under ``model``."""
        with self.connect() as con:
            return int(con.execute("select count(*) from embeddings where model = ?", [model]).fetchall()[0][0])

    def delete_embeddings(self, model: str, text_hashes: Sequence[str] | None = None) -> None:
        """Delete the vectors of ``model`` (only those of ``text_hashes`` when given)."""
        import pyarrow as pa

        def fn(con) -> None:
            if text_hashes is None:
                con.execute("delete from embeddings where model = ?", [model])
                return
            with registered(con, "_del_h", pa.table({"h": pa.array(list(text_hashes), type=pa.string())})):
                con.execute("delete from embeddings where model = ? and text_hash in (select h from _del_h)", [model])
        self._write(fn)

    def vectors_for_hashes(self, model: str, hashes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask (n,) bool, vectors (n_found, d) float32 in the order of the found hashes)."""
        with self.connect() as con:
            with registered(con, "_h", pd.DataFrame({"h": list(hashes), "i": np.arange(len(hashes))})):
                tbl = _arrow(con,
                    """select _h.i, e.vector from _h join embeddings e on e.text_hash = _h.h and e.model = ?
                       order by _h.i""", [model])
        idx = tbl.column("i").to_numpy()
        mask = np.zeros(len(hashes), dtype=bool)
        mask[idx] = True
        return mask, _list_column_to_matrix(tbl.column("vector"))

    def embeddings(self, model: str, *, dataset: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(row_ids (n,) int64, X (n, d) float32, L2-normalised) for every example embedded under ``model``.

        Examples not yet embedded are left out; compare ``len(row_ids)`` to :meth:`n_examples`.
        O(n·d) memory; ~0.6 s per 100k rows of 384-d vectors.
        """
        w = "and x.dataset = ?" if dataset else ""
        with self.connect() as con:
            tbl = _arrow(con,
                f"""select x.row_id, e.vector from examples x join embeddings e
                    on e.text_hash = x.text_hash and e.model = ? where true {w} order by x.row_id""",
                [model] + ([dataset] if dataset else []))
        return tbl.column("row_id").to_numpy().astype(np.int64), _list_column_to_matrix(tbl.column("vector"))

    def put_graph(self, key: str, row_ids: np.ndarray, idx: np.ndarray, sim: np.ndarray, *, model: str,
                  params: dict | None = None) -> None:
        """Store a k-NN graph. idx: (n, k) int64 *row ids* of neighbours; sim: (n, k) float32 cosine similarity."""
        import pyarrow as pa

        n, k = idx.shape
        offs = pa.array(np.arange(0, (n + 1) * k, k, dtype=np.int32))
        tbl = pa.table({"key": pa.array([key] * n), "row_id": pa.array(np.asarray(row_ids, dtype=np.int64)),
                        "nbr": pa.ListArray.from_arrays(offs, pa.array(np.asarray(idx, dtype=np.int64).ravel())),
                        "sim": pa.ListArray.from_arrays(offs, pa.array(np.asarray(sim, dtype=np.float32).ravel()))})

        def fn(con) -> None:
            con.execute("delete from graph_rows where key = ?", [key])
            con.execute("insert or replace into graphs values (?, ?, ?, ?, ?, now())",
                        [key, model, k, n, json.dumps(params or {})])
            with registered(con, "_g", tbl):
                con.execute("insert into graph_rows select key, row_id, nbr, sim from _g")
        self._write(fn)

    def graphs(self) -> pd.DataFrame:
        return self._df("select * from graphs order by created_at")

    def graph(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(row_ids (n,), idx (n, k) int64 neighbour row ids, sim (n, k) float32) or None when missing."""
        with self.connect() as con:
            tbl = _arrow(con, "select row_id, nbr, sim from graph_rows where key = ? order by row_id", [key])
        if tbl.num_rows == 0:
            return None
        return (tbl.column("row_id").to_numpy().astype(np.int64),
                _list_column_to_matrix(tbl.column("nbr"), dtype=np.int64),
                _list_column_to_matrix(tbl.column("sim")))

    def put_projection(self, key: str, row_ids: np.ndarray, xy: np.ndarray, *, method: str, model: str | None,
                       params: dict | None = None) -> None:
        df = pd.DataFrame({"key": key, "row_id": np.asarray(row_ids, dtype=np.int64),
                           "x": np.asarray(xy[:, 0], dtype=np.float32), "y": np.asarray(xy[:, 1], dtype=np.float32)})

        def fn(con) -> None:
            con.execute("delete from projections where key = ?", [key])
            con.execute("insert or replace into projection_defs values (?, ?, ?, ?, now())",
                        [key, method, model, json.dumps(params or {})])
            with registered(con, "_proj", df):
                con.execute("insert into projections select key, row_id, x, y from _proj")
        self._write(fn)

    def projection_defs(self) -> pd.DataFrame:
        return self._df("select * from projection_defs order by created_at")

    def projection(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(row_ids (n,) int64, xy (n, 2) float32) ordered by row_id; empty arrays when missing."""
        with self.connect() as con:
            d = con.execute("select row_id, x, y from projections where key = ? order by row_id", [key]).fetchnumpy()
        return d["row_id"].astype(np.int64), np.column_stack([d["x"], d["y"]]).astype(np.float32)

