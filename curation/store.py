"""The workspace: one DuckDB file holding everything. This is the only module that contains SQL.

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
  :class:`~curation.errors.WorkspaceLocked` error names the other process and the fix.
* Inside one process, two transactions that write the same row conflict; decisions are append-only rows, so
  concurrent curators never conflict, and other writes retry a conflicting transaction a few times.

Tables (schema version :data:`SCHEMA_VERSION`)
----------------------------------------------
``meta`` (schema version, creation time), ``datasets``, ``examples``, ``embeddings`` (model, text hash → float32
vector), ``score_defs`` + ``scores``, ``projection_defs`` + ``projections``, ``graphs`` + ``graph_rows``
(k-nearest-neighbour graphs), ``rankings``, ``decisions`` (append-only log of pins, tags and notes),
``exports``, ``jobs`` (progress of resumable jobs), ``artifacts`` (small JSON objects such as cluster labels;
schema version 2), ``saved_subsets`` (named, versioned subset specs with a frozen decision-log position; schema
version 3); every stored key in the one format of :mod:`curation.keys` (schema version 5).

Row ids
-------
Every example has a dense integer ``row_id`` (assigned at ingest, never reused) and a stable string
``example_id``. Arrays handed to numpy code are always accompanied by the ``row_ids`` they describe.
"""
from __future__ import annotations

import json
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

from curation.errors import CurationError, WorkspaceLocked
from curation.keys import key_name, legacy_key
from curation.ranking import Ranking

SCHEMA_VERSION = 5



def _rekey_results(con: Any) -> None:
    """Rewrite result keys of the formats before schema version 5 (``name:model:k=30`` graph scores, maps and graphs;
    ``sha1-`` hashes and a leading ``v=`` in scorer keys; rankings whose text values were not hashed) into the one
    format of :mod:`curation.keys`, everywhere a key is stored: the key columns, the JSON that names keys (ranking
    and map parameters, job records, artifacts, saved subset specs) and the ``labels:`` / ``graph:`` / ``score:``
    prefixed names. Idempotent: a current key maps to itself."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for table in ("score_defs", "projection_defs", "graphs"):
        keys = [r[0] for r in con.execute(f"select key from {table}").fetchall()]
        taken.update(keys)
        for k in keys:
            new = legacy_key(k)
            if new != k and new not in taken:
                mapping[k] = new
                taken.add(new)

    def in_json(text: Any, m: dict[str, str]) -> Any:
        if not isinstance(text, str):
            return text
        for old, new in m.items():
            q = json.dumps(old)
            if q in text:
                text = text.replace(q, json.dumps(new))
        return text

    rankings = con.execute("select key, params from rankings").fetchall()
    rtaken = {r[0] for r in rankings}
    rank_map: dict[str, str] = {}
    for key, params in rankings:
        new_params = in_json(params, mapping)
        try:
            p = json.loads(new_params) if isinstance(new_params, str) else None
        except ValueError:
            p = None
        new = legacy_key(key, ranking_params=p if isinstance(p, dict) else None)
        if new_params != params:
            con.execute("update rankings set params = ? where key = ?", [new_params, key])
        if new != key and new not in rtaken:
            rank_map[key] = new
            rtaken.add(new)
    everything = {**mapping, **rank_map}
    if not everything:
        return
    con.execute("create or replace temp table _keymap(old varchar, new varchar)")
    con.executemany("insert into _keymap values (?, ?)", [[o, n] for o, n in everything.items()])
    for table in ("score_defs", "scores", "projection_defs", "projections", "graphs", "graph_rows", "rankings"):
        con.execute(f"update {table} set key = m.new from _keymap m where {table}.key = m.old")
    for table, prefixes in (("jobs", ("graph:", "score:")), ("artifacts", ("labels:",))):
        for key in [r[0] for r in con.execute(f"select key from {table}").fetchall()]:
            for pre in prefixes:
                rest = key[len(pre):]
                if key.startswith(pre) and rest in everything:
                    con.execute(f"update {table} set key = ? where key = ?", [pre + everything[rest], key])
    con.execute("drop table _keymap")
    for table, col, pk in (("projection_defs", "params", "key"), ("jobs", "params", "key"),
                           ("artifacts", "value", "key"), ("saved_subsets", "spec", "name, version")):
        for row in con.execute(f"select {pk}, {col} from {table}").fetchall():
            text = row[-1]
            new = in_json(text, everything)
            if new != text:
                where = " and ".join(f"{c.strip()} = ?" for c in pk.split(","))
                con.execute(f"update {table} set {col} = ? where {where}", [new, *row[:-1]])


# Each migration brings the schema from version i to i + 1: SQL statements, or a function of the connection for a
# rewrite that SQL cannot say. Append, never edit a released one.
_MIGRATIONS: list[list[Any]] = [
    [  # 0 -> 1
        """create table if not exists datasets(
            name varchar primary key, source varchar, source_sha256 varchar, shape varchar, kind varchar,
            mapping json, n_rows bigint, ingested_at timestamp, options json)""",
        """create table if not exists examples(
            row_id bigint primary key, example_id varchar not null unique, dataset varchar not null,
            source_line bigint, kind varchar not null, prompt varchar, response varchar, chosen varchar,
            rejected varchar, messages json, label varchar, embed_text varchar not null,
            text_hash varchar not null, content_hash varchar not null, n_tokens integer, record json not null)""",
        "create index if not exists examples_text_hash on examples(text_hash)",
        """create table if not exists embeddings(
            model varchar not null, text_hash varchar not null, vector float[] not null,
            primary key(model, text_hash))""",
        """create table if not exists score_defs(
            key varchar primary key, name varchar not null, higher_is_better boolean, params json,
            description varchar, created_at timestamp)""",
        """create table if not exists scores(
            key varchar not null, example_id varchar not null, content_hash varchar, value double,
            primary key(key, example_id))""",
        """create table if not exists projection_defs(
            key varchar primary key, method varchar, model varchar, params json, created_at timestamp)""",
        """create table if not exists projections(
            key varchar not null, row_id bigint not null, x float, y float, primary key(key, row_id))""",
        """create table if not exists graphs(
            key varchar primary key, model varchar, k integer, n bigint, params json, created_at timestamp)""",
        """create table if not exists graph_rows(
            key varchar not null, row_id bigint not null, nbr bigint[], sim float[], primary key(key, row_id))""",
        """create table if not exists rankings(
            key varchar primary key, method varchar not null, params json, n bigint,
            order_ids bigint[], gains double[], created_at timestamp)""",
        "create sequence if not exists decision_seq start 1",
        """create table if not exists decisions(
            id bigint primary key default nextval('decision_seq'), example_id varchar not null,
            action varchar not null, value varchar, who varchar not null, why varchar, "at" timestamp not null,
            undoes bigint)""",
        "create sequence if not exists export_seq start 1",
        """create table if not exists exports(
            id bigint primary key default nextval('export_seq'), path varchar, format varchar, n_rows bigint,
            manifest json, created_at timestamp)""",
        """create table if not exists jobs(
            key varchar primary key, kind varchar, status varchar, done bigint, total bigint, params json,
            message varchar, updated_at timestamp)""",
    ],
    [  # 1 -> 2: small JSON artifacts (cluster labels, ...), see Workspace.put_artifact
        """create table if not exists artifacts(
            key varchar primary key, value json, created_at timestamp)""",
    ],
    [  # 2 -> 3: saved subsets (named, versioned, immutable; hiding a name keeps its history), see save_subset
        """create table if not exists saved_subsets(
            name varchar not null, version integer not null, spec json not null, decision_pos bigint not null,
            who varchar not null, "at" timestamp not null, note varchar, n_rows bigint, n_tokens bigint,
            ids_sha256 varchar, hidden boolean not null default false, hidden_by varchar, hidden_at timestamp,
            primary key(name, version))""",
    ],
    [  # 3 -> 4: short ranking ids (facility-3) and the kind of each stored column (score, group, flag)
        "alter table rankings add column if not exists short_id varchar",
        """update rankings set short_id = t.sid from (
               select key, method || '-' || row_number() over (partition by method order by created_at, key) as sid
               from rankings) t
           where rankings.key = t.key and rankings.short_id is null""",
        "alter table score_defs add column if not exists kind varchar",
        """update score_defs set kind = case
               when name in ('cluster', 'neardup_group', 'exactdup_group') then 'group'
               when name in ('outlier', 'neardup_rep', 'exactdup_rep') then 'flag'
               else 'score' end
           where kind is null""",
    ],
    [  # 4 -> 5: one key format for every stored result (curation.keys)
        _rekey_results,
    ],
]

# What a stored column is (score_defs.kind): "score" (a quality or a measure; averages and rankings make sense),
# "group" (an id shared by a group of rows: clusters, duplicate groups; usable as classes, never averaged), "flag"
# (0/1: its mean is a share). Columns not named here are scores unless their writer says otherwise.
COLUMN_KINDS = ("score", "group", "flag")
KIND_BY_NAME = {"cluster": "group", "neardup_group": "group", "exactdup_group": "group",
                "outlier": "flag", "neardup_rep": "flag", "exactdup_rep": "flag"}

DECISION_ACTIONS = ("include", "exclude", "unpin", "tag", "untag", "note")

EXAMPLE_COLUMNS = (
    "row_id", "example_id", "dataset", "source_line", "kind", "prompt", "response", "chosen", "rejected",
    "messages", "label", "embed_text", "text_hash", "content_hash", "n_tokens", "record",
)

_LOCK_RE = re.compile(r"lock", re.IGNORECASE)
# Opening and closing DuckDB connections to the same file from several threads at once races inside DuckDB's
# instance cache (seen: "Table Function with name pandas_scan does not exist"); serialise just those two steps.
_OPEN_CLOSE = threading.Lock()
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def default_workspace_path() -> Path:
    """``$CURATION_WORKSPACE`` if set, else ``data/workspace.duckdb`` under the project root."""
    env = os.environ.get("CURATION_WORKSPACE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data" / "workspace.duckdb"


class Workspace:
    """A curation workspace backed by one DuckDB file.

    path: the ``.duckdb`` file (created with its folder when missing unless ``create=False``).
    lock_timeout: seconds to keep retrying while another process holds the file's lock.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True, lock_timeout: float = 20.0) -> None:
        self.path = Path(path).expanduser().resolve()
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        if not self.path.exists():
            if not create:
                raise CurationError(
                    f"workspace {self.path} does not exist; create it with `python -m curation --workspace "
                    f"{self.path} ingest FILE` or pass an existing .duckdb file")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    @property
    def export_dir(self) -> Path:
        """Folder where exports of this workspace are written (``<stem>_exports`` beside the file)."""
        return self.path.parent / f"{self.path.stem}_exports"

    # ------------------------------------------------------------------ connections
    def _open(self):  # duckdb connection
        import duckdb

        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                with _OPEN_CLOSE:
                    return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                msg = str(exc)
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

    def _write(self, fn, *, retries: int = 6):
        """Run ``fn(con)`` in a transaction, retrying on a write-write conflict with another thread."""
        import duckdb

        for attempt in range(retries):
            try:
                with self.transaction() as con:
                    return fn(con)
            except duckdb.TransactionException:
                if attempt == retries - 1 or getattr(self._local, "in_tx", False):
                    raise
                time.sleep(0.01 * (2 ** attempt))
        raise AssertionError("unreachable")

    def _migrate(self) -> None:
        with self.transaction() as con:
            con.execute("create table if not exists meta(key varchar primary key, value varchar)")
            row = con.execute("select value from meta where key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise CurationError(
                    f"workspace {self.path} has schema version {version}, newer than this code "
                    f"({SCHEMA_VERSION}); upgrade the project (git pull) to open it")
            for v in range(version, SCHEMA_VERSION):
                for stmt in _MIGRATIONS[v]:
                    stmt(con) if callable(stmt) else con.execute(stmt)
            if version != SCHEMA_VERSION:
                con.execute("insert or replace into meta values ('schema_version', ?)", [str(SCHEMA_VERSION)])
                if version == 0:
                    con.execute("insert or replace into meta values ('created_at', ?)",
                                [pd.Timestamp.now(tz="UTC").isoformat()])

    def schema_version(self) -> int:
        with self.connect() as con:
            return int(con.execute("select value from meta where key = 'schema_version'").fetchone()[0])

    def _df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(sql, list(params or [])).df()

    # ------------------------------------------------------------------ datasets and examples
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
            start = con.execute("select coalesce(max(row_id), -1) + 1 from examples").fetchone()[0]
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
                con.register("_new_examples", new)
                try:
                    con.execute("insert into examples select * from _new_examples")
                finally:
                    con.unregister("_new_examples")
            return len(new), len(rows) - len(new)

        return self._write(fn)

    def remove_dataset(self, name: str) -> int:
        """Delete a dataset and its examples (and their scores, projections rows stay keyed by row id)."""
        def fn(con) -> int:
            n = con.execute("select count(*) from examples where dataset = ?", [name]).fetchone()[0]
            con.execute("delete from scores where example_id in (select example_id from examples where dataset = ?)",
                        [name])
            con.execute("delete from examples where dataset = ?", [name])
            con.execute("delete from datasets where name = ?", [name])
            return int(n)
        return self._write(fn)

    def n_examples(self, dataset: str | None = None) -> int:
        with self.connect() as con:
            if dataset is None:
                return int(con.execute("select count(*) from examples").fetchone()[0])
            return int(con.execute("select count(*) from examples where dataset = ?", [dataset]).fetchone()[0])

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
                con.register("_want_ids", ids)
                try:
                    sel = ", ".join(f"e.{c}" for c in cols)
                    w = (" and " + " and ".join(f"e.{x}" for x in where)) if where else ""
                    return con.execute(
                        f"select {sel} from examples e join _want_ids w on e.row_id = w.row_id where true{w} "
                        "order by e.row_id", params).df()
                finally:
                    con.unregister("_want_ids")
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

    # ------------------------------------------------------------------ embeddings
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
            con.register("_h", pd.DataFrame({"h": list(hashes)}))
            try:
                return {r[0] for r in con.execute(
                    "select e.text_hash from embeddings e join _h on e.text_hash = _h.h where e.model = ?",
                    [model]).fetchall()}
            finally:
                con.unregister("_h")

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
            con.register("_emb", tbl)
            try:
                con.execute("insert or ignore into embeddings select model, text_hash, vector from _emb")
            finally:
                con.unregister("_emb")
        self._write(fn)

    def vectors_for_hashes(self, model: str, hashes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask (n,) bool, vectors (n_found, d) float32 in the order of the found hashes)."""
        with self.connect() as con:
            con.register("_h", pd.DataFrame({"h": list(hashes), "i": np.arange(len(hashes))}))
            try:
                tbl = _arrow(con,
                    """select _h.i, e.vector from _h join embeddings e on e.text_hash = _h.h and e.model = ?
                       order by _h.i""", [model])
            finally:
                con.unregister("_h")
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

    # ------------------------------------------------------------------ scores
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
            con.register("_scores", df)
            try:
                con.execute("insert or replace into scores select key, example_id, content_hash, value from _scores")
            finally:
                con.unregister("_scores")
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
        return np.asarray(d["row_id"], dtype=np.int64), np.asarray(d["value"], dtype=np.float64)

    def cached_scores(self, key: str, content_hashes: Sequence[str]) -> dict[str, float]:
        """content_hash → value already stored under ``key`` (for any example with that content)."""
        import pyarrow as pa

        uniq = pd.unique(np.asarray(content_hashes, dtype=object))
        with self.connect() as con:
            if con.execute("select count(*) from (select 1 from scores where key = ? limit 1)",
                           [key]).fetchall()[0][0] == 0:
                return {}                     # nothing stored under this key yet (a first run)
            con.register("_h", pa.table({"h": pa.array(uniq, type=pa.string())}))
            try:
                rows = con.execute(
                    "select s.content_hash, any_value(s.value) from scores s join _h on s.content_hash = _h.h "
                    "where s.key = ? group by s.content_hash", [key]).fetchall()
            finally:
                con.unregister("_h")
        return {h: float(v) if v is not None else float("nan") for h, v in rows}

    # ------------------------------------------------------------------ projections
    def put_projection(self, key: str, row_ids: np.ndarray, xy: np.ndarray, *, method: str, model: str | None,
                       params: dict | None = None) -> None:
        df = pd.DataFrame({"key": key, "row_id": np.asarray(row_ids, dtype=np.int64),
                           "x": np.asarray(xy[:, 0], dtype=np.float32), "y": np.asarray(xy[:, 1], dtype=np.float32)})

        def fn(con) -> None:
            con.execute("delete from projections where key = ?", [key])
            con.execute("insert or replace into projection_defs values (?, ?, ?, ?, now())",
                        [key, method, model, json.dumps(params or {})])
            con.register("_proj", df)
            try:
                con.execute("insert into projections select key, row_id, x, y from _proj")
            finally:
                con.unregister("_proj")
        self._write(fn)

    def projection_defs(self) -> pd.DataFrame:
        return self._df("select * from projection_defs order by created_at")

    def projection(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(row_ids (n,) int64, xy (n, 2) float32) ordered by row_id; empty arrays when missing."""
        with self.connect() as con:
            d = con.execute("select row_id, x, y from projections where key = ? order by row_id", [key]).fetchnumpy()
        return d["row_id"].astype(np.int64), np.column_stack([d["x"], d["y"]]).astype(np.float32)

    # ------------------------------------------------------------------ neighbour graphs
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
            con.register("_g", tbl)
            try:
                con.execute("insert into graph_rows select key, row_id, nbr, sim from _g")
            finally:
                con.unregister("_g")
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

    # ------------------------------------------------------------------ rankings
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
            con.register("_rank", tbl)
            try:
                con.execute("insert or replace into rankings (key, method, params, n, order_ids, gains, created_at, "
                            "short_id) select ?, ?, ?, ?, order_ids, gains, now(), ? from _rank",
                            [ranking.method, method, json.dumps(params or {}), len(order), short])
            finally:
                con.unregister("_rank")
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

    # ------------------------------------------------------------------ decisions (append-only log)
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
            con.register("_ids", pd.DataFrame({"example_id": ids}))
            try:
                missing = con.execute(
                    "select example_id from _ids anti join examples using (example_id) limit 5").fetchall()
                if missing:
                    raise CurationError(f"no example with id {missing[0][0]!r} in this workspace; decision not saved")
                rows = con.execute(
                    """insert into decisions (example_id, action, value, who, why, "at")
                       select example_id, ?, ?, ?, ?, now() from _ids returning id""",
                    [action, value, who.strip(), why]).fetchall()
            finally:
                con.unregister("_ids")
            return sorted(int(r[0]) for r in rows)
        return self._write(fn)

    def undo_decision(self, decision_id: int, *, who: str) -> int:
        """Append the inverse of decision ``decision_id`` (undo is itself logged). Returns the new id."""
        def fn(con) -> int:
            row = con.execute("select example_id, action, value from decisions where id = ?",
                              [decision_id]).fetchone()
            if row is None:
                raise CurationError(f"no decision with id {decision_id}")
            ex, action, value = row
            if action in ("include", "exclude"):
                prev = con.execute(
                    """select action from decisions where example_id = ? and id < ? and action in
                       ('include', 'exclude', 'unpin') order by id desc limit 1""", [ex, decision_id]).fetchone()
                inverse, inv_value = (prev[0] if prev else "unpin"), None
            elif action == "unpin":
                prev = con.execute(
                    """select action from decisions where example_id = ? and id < ? and action in
                       ('include', 'exclude', 'unpin') order by id desc limit 1""", [ex, decision_id]).fetchone()
                inverse, inv_value = (prev[0] if prev else "unpin"), None
            elif action == "tag":
                inverse, inv_value = "untag", value
            elif action == "untag":
                inverse, inv_value = "tag", value
            else:
                inverse, inv_value = "note", f"(retracted note #{decision_id})"
            return int(con.execute(
                """insert into decisions (example_id, action, value, who, why, "at", undoes)
                   values (?, ?, ?, ?, ?, now(), ?) returning id""",
                [ex, inverse, inv_value, who, f"undo #{decision_id}", decision_id]).fetchone()[0])
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
            con.register("_pd_ids", pd.DataFrame({"row_id": np.asarray(row_ids, dtype=np.int64)}))
            try:
                return con.execute(sql + " and e.row_id in (select row_id from _pd_ids) order by d.id",
                                   [int(lo), int(hi)]).df()
            finally:
                con.unregister("_pd_ids")

    # ------------------------------------------------------------------ saved subsets
    def save_subset(self, name: str, spec: dict, *, decision_pos: int, who: str, note: str | None = None,
                    n_rows: int | None = None, n_tokens: int | None = None,
                    ids_sha256: str | None = None) -> dict:
        """Append a new version of saved subset ``name`` and return its row (name, version, spec, ...).

        The version is ``max(version) + 1`` for that name (1 for a new name; hidden versions count, so numbers
        are never reused), computed and inserted in one transaction. Two sessions or processes saving the same
        name at once both succeed with consecutive versions: a conflicting insert is retried with the next number.
        Versions are never updated afterwards (only the ``hidden`` flag, by :meth:`hide_subset`). The caller
        (``curation.saved_subsets``) validates the name and resolves the spec.
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

    # ------------------------------------------------------------------ exports
    def record_export(self, path: str, fmt: str, n_rows: int, manifest: dict) -> int:
        return self._write(lambda con: int(con.execute(
            "insert into exports (path, format, n_rows, manifest, created_at) values (?, ?, ?, ?, now()) returning id",
            [path, fmt, n_rows, json.dumps(manifest)]).fetchone()[0]))

    def exports(self) -> pd.DataFrame:
        return self._df("select * from exports order by id")

    # ------------------------------------------------------------------ jobs
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

    # ------------------------------------------------------------------ summary
    def summary(self) -> dict:
        """Counts for the info command and the Data page."""
        with self.connect() as con:
            def one(sql: str) -> int:
                return int(con.execute(sql).fetchone()[0])
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
        """Rows whose content (kind + text, :func:`curation.ingest.content_hash_of`; labels and ids aside) was
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

    # ---------------------------------------------------------- what the dashboard reads (cache stamp, excerpts)
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
                          (select max(updated_at) from jobs where status <> 'running')""").fetchone()
        return "|".join("" if v is None else str(v) for v in row)

    def excerpts(self, row_ids: Sequence[int] | np.ndarray | None = None, *, max_chars: int = 200) -> pd.DataFrame:
        """row_id, excerpt: the first ``max_chars`` characters of each example's embed_text, by row_id (raw text,
        the caller escapes it for display). All examples when ``row_ids`` is None. O(n·max_chars) memory."""
        n = max(1, int(max_chars))
        with self.connect() as con:
            if row_ids is None:
                return con.execute("select row_id, left(embed_text, ?) as excerpt from examples order by row_id",
                                   [n]).df()
            con.register("_ex_ids", pd.DataFrame({"row_id": np.asarray(row_ids, dtype=np.int64)}))
            try:
                return con.execute(
                    """select e.row_id, left(e.embed_text, ?) as excerpt from examples e
                       join _ex_ids w on e.row_id = w.row_id order by e.row_id""", [n]).df()
            finally:
                con.unregister("_ex_ids")

    # ---------------------------------------------------------- record fields (label columns that are record keys)
    def record_field(self, key: str) -> pd.DataFrame:
        """row_id and ``value``: the text of field ``key`` of each example's original record (None where absent),
        by row_id. A dotted key reads nested objects ("meta.source"). Used for label columns that are not an
        examples column. O(n) JSON extraction inside DuckDB."""
        path = "$." + ".".join(json.dumps(part) for part in key.split("."))
        return self._df("select row_id, json_extract_string(record, ?) as value from examples order by row_id",
                        [path])

    def record_keys(self, *, sample: int = 1000) -> list[str]:
        """Top-level keys of the original records (of the first ``sample`` examples), sorted."""
        with self.connect() as con:
            rows = con.execute(
                "select distinct unnest(json_keys(record)) from (select record from examples order by row_id "
                "limit ?)", [int(sample)]).fetchall()
        return sorted(r[0] for r in rows)

    # ---------------------------------------------------------- artifacts (small JSON objects, e.g. cluster names)
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
            row = con.execute("select value from artifacts where key = ?", [key]).fetchone()
        return None if row is None else json.loads(row[0])

def filter_frame(frame: pd.DataFrame, where: str) -> np.ndarray:
    """Boolean mask (len(frame),) of the rows where a user-typed SQL condition holds, e.g.
    ``label = 'coding' and n_tokens < 300``.

    The condition runs in a private in-memory DuckDB with external access disabled (no files, no network, no
    workspace), over a copy of ``frame`` registered as table ``t``; so a typed filter can read only what it is
    given and can modify nothing. Raises CurationError naming the problem.
    """
    import duckdb

    w = where.strip()
    if not w:
        return np.ones(len(frame), dtype=bool)
    if ";" in w or "--" in w or "/*" in w:
        raise CurationError(f"filter {where!r}: ';' and comments are not allowed; write one condition such as "
                            "label = 'coding' and n_tokens < 300")
    con = duckdb.connect(":memory:", config={"enable_external_access": False, "lock_configuration": True})
    try:
        t = frame.reset_index(drop=True).copy()
        t["__pos"] = np.arange(len(t))
        con.register("t", t)
        try:
            pos = con.execute(f"select __pos from t where ({w})").fetchnumpy()["__pos"]
        except duckdb.Error as exc:
            raise CurationError(f"filter {where!r} is not a valid condition: {str(exc).splitlines()[0]}; columns "
                                f"are {list(frame.columns)}") from exc
    finally:
        con.close()
    mask = np.zeros(len(frame), dtype=bool)
    mask[np.asarray(pos, dtype=np.int64)] = True
    return mask


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
