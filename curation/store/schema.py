"""Schema and migrations: the tables of a workspace and the steps that bring an older file up to date."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import legacy_key

SCHEMA_VERSION = 6



def _rekey_results(con: Any) -> None:
    """Rewrite result keys of the formats before schema version 5 (``name:model:k=30`` graph scores, maps and graphs;
    ``sha1-`` hashes and a leading ``v=`` in scorer keys; rankings whose text values were not hashed) into the one
    format of :mod:`curation.core.keys`, everywhere a key is stored: the key columns, the JSON that names keys (ranking
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


def _full_ranking_keys_in_saved_subsets(con: Any) -> None:
    """Saved subset specs that name their ranking by a short id (``facility-1``), a method name or a unique prefix
    (saved before version 6 resolved it) get the ranking's full key, which every page and command matches against.
    A reference that names no stored ranking, or several, is left as it is (resolving it then says why)."""
    ranks = con.execute("select key, short_id, method from rankings").fetchall()
    keys = {r[0] for r in ranks}
    for name, version, text in con.execute("select name, version, spec from saved_subsets").fetchall():
        try:
            spec = json.loads(text)
        except (TypeError, ValueError):
            continue
        ref = spec.get("ranking") if isinstance(spec, dict) else None
        if not isinstance(ref, str) or ref in keys:
            continue
        hits = [k for k, sid, _ in ranks if sid == ref]
        if not hits:
            hits = [k for k, _, method in ranks if method == ref]
        if not hits:
            hits = [k for k, sid, _ in ranks if k.startswith(ref) or (sid or "").startswith(ref)]
        if len(hits) == 1:
            spec["ranking"] = hits[0]
            con.execute("update saved_subsets set spec = ? where name = ? and version = ?",
                        [json.dumps(spec, sort_keys=True), name, version])


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
    [  # 4 -> 5: one key format for every stored result (curation.core.keys)
        _rekey_results,
    ],
    [  # 5 -> 6: saved subset specs name their ranking by its full key, not a short id
        _full_ranking_keys_in_saved_subsets,
    ],
]

# What a stored column is (score_defs.kind): "score" (a quality or a measure; averages and rankings make sense),
# "group" (an id shared by a group of rows: clusters, duplicate groups; usable as classes, never averaged), "flag"
# (0/1: its mean is a share). Columns not named here are scores unless their writer says otherwise.
COLUMN_KINDS = ("score", "group", "flag")
KIND_BY_NAME = {"cluster": "group", "neardup_group": "group", "exactdup_group": "group",
                "outlier": "flag", "neardup_rep": "flag", "exactdup_rep": "flag",
                "search": "flag"}  # a saved search's column (curation.search.saved)

DECISION_ACTIONS = ("include", "exclude", "unpin", "tag", "untag", "note")

EXAMPLE_COLUMNS = (
    "row_id", "example_id", "dataset", "source_line", "kind", "prompt", "response", "chosen", "rejected",
    "messages", "label", "embed_text", "text_hash", "content_hash", "n_tokens", "record",
)


class UpgradeNeedsWrite(CurationError):
    """A workspace opened read-only has an older schema: bringing it up to date needs write access."""


def check_current(con: Any, path: Path) -> None:
    """For a read-only open: nothing to do when the workspace behind ``con`` has :data:`SCHEMA_VERSION`; an older
    schema raises :class:`UpgradeNeedsWrite`, a newer one the same error as :func:`migrate`."""
    try:
        rows = con.execute("select value from meta where key = 'schema_version'").fetchall()
    except Exception as exc:  # no meta table: an empty or foreign file
        raise UpgradeNeedsWrite(f"workspace {path} has no schema yet; creating it needs write access") from exc
    version = int(rows[0][0]) if rows else 0
    if version > SCHEMA_VERSION:
        raise CurationError(
            f"workspace {path} has schema version {version}, newer than this code "
            f"({SCHEMA_VERSION}); upgrade the project (git pull) to open it")
    if version < SCHEMA_VERSION:
        raise UpgradeNeedsWrite(
            f"workspace {path} has schema version {version} and this code reads version {SCHEMA_VERSION}; the "
            "upgrade needs write access, and the file is open read-only. Run any command once with write access to "
            "the file (or on a writable copy of it) to upgrade it")


def migrate(con: Any, path: Path) -> None:
    """Bring the workspace behind ``con`` (inside a transaction) to :data:`SCHEMA_VERSION`."""
    con.execute("create table if not exists meta(key varchar primary key, value varchar)")
    rows = con.execute("select value from meta where key = 'schema_version'").fetchall()
    version = int(rows[0][0]) if rows else 0
    if version > SCHEMA_VERSION:
        raise CurationError(
            f"workspace {path} has schema version {version}, newer than this code "
            f"({SCHEMA_VERSION}); upgrade the project (git pull) to open it")
    for v in range(version, SCHEMA_VERSION):
        for stmt in _MIGRATIONS[v]:
            stmt(con) if callable(stmt) else con.execute(stmt)
    if version != SCHEMA_VERSION:
        con.execute("insert or replace into meta values ('schema_version', ?)", [str(SCHEMA_VERSION)])
        if version == 0:
            con.execute("insert or replace into meta values ('created_at', ?)",
                        [pd.Timestamp.now(tz="UTC").isoformat()])

