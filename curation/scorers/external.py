"""Scores computed elsewhere, used like native ones.

Two sources:

* a **file** (``.parquet``, ``.csv``, ``.tsv``, ``.jsonl``/``.json``) with an id column and a score column. Ids
  match ``example_id`` (``<dataset>/<id>``) or, failing that, the part after the dataset prefix (the record's own
  id). A file holding ids of several datasets matches each.
* a **field of the ingested records** (the lossless ``record`` JSON), e.g. ``reward`` or ``scores.helpfulness``
  (dots walk into nested objects).

Values must be numbers (booleans become 0/1; missing or null → NaN). The key is ``ext:<name>``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import external_key

_FILE_SUFFIXES = {".parquet", ".pq", ".csv", ".tsv", ".jsonl", ".json", ".ndjson"}
_ID_COLUMNS = ("example_id", "id", "uid", "row_id")


def _read_table(path: Path) -> pd.DataFrame:
    s = path.suffix.lower()
    try:
        if s in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if s in (".csv", ".tsv"):
            return pd.read_csv(path, sep="\t" if s == ".tsv" else ",", dtype={c: str for c in _ID_COLUMNS})
        return pd.read_json(path, lines=s != ".json", dtype={c: str for c in _ID_COLUMNS})
    except Exception as exc:  # pandas raises many types
        raise CurationError(f"cannot read scores file {path}: {type(exc).__name__}: {exc}") from exc


def _to_float(v: Any, where: str) -> float:
    if v is None:
        return math.nan
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v) if v.strip() else math.nan
        except ValueError:
            pass
    raise CurationError(f"{where} holds {v!r}, not a number; external scores must be numeric (or null)")


def _field(rec: Any, path: list[str]) -> tuple[bool, Any]:
    cur = rec
    for part in path:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return False, None
    return True, cur


def import_scores(ws: Any, source: str | Path, *, name: str | None = None,  # Workspace
                  id_column: str | None = None, score_column: str | None = None, higher_is_better: bool = True,
                  description: str = "") -> str:
    """Store scores computed elsewhere under ``ext:<name>``; returns the key.

    source: a path to a Parquet/CSV/TSV/JSONL file of id → score, or (when no such file exists) a field of the
    ingested records. name: defaults to the field or ``<file stem>`` (+ ``.<column>`` when the file has several).
    id_column / score_column: which file columns to use (defaults: the first of example_id, id, uid, row_id; the
    only other numeric column). Examples the source does not cover get no value (NaN). Cost: O(n).
    """
    path = Path(str(source)).expanduser()
    is_file = path.is_file() or path.suffix.lower() in _FILE_SUFFIXES
    if is_file:
        if not path.is_file():
            raise CurationError(f"scores file {path} does not exist; pass an existing file or a record field name")
        df = _read_table(path)
        idc = id_column or next((c for c in _ID_COLUMNS if c in df.columns), None)
        if idc is None or idc not in df.columns:
            raise CurationError(f"no id column {'%r ' % id_column if id_column else ''}in {path.name}; columns are "
                                f"{list(df.columns)}; pass --id-column")
        if score_column is None:
            num = [c for c in df.columns if c != idc and pd.api.types.is_numeric_dtype(df[c])]
            if len(num) != 1:
                raise CurationError(f"{path.name} has {len(num)} numeric columns besides {idc!r} ({num}); pass "
                                    "--score-column")
            score_column = num[0]
        elif score_column not in df.columns:
            raise CurationError(f"score column {score_column!r} not found in {path.name}; columns are "
                                f"{list(df.columns)}")
        values = [_to_float(v, f"{path.name} column {score_column!r}") for v in df[score_column].tolist()]
        ext = pd.Series(values, index=df[idc].astype(str).tolist())
        if ext.index.duplicated().any():
            dup = ext.index[ext.index.duplicated()][0]
            raise CurationError(f"{path.name}: id {dup!r} appears more than once in column {idc!r}; ids must be "
                                "unique")
        ids = ws.id_map()
        if idc == "row_id":
            key_of = ids["row_id"].astype(str)
        else:
            key_of = ids["example_id"].astype(str)
            if not key_of.isin(ext.index).any():
                key_of = key_of.str.split("/", n=1).str[-1]
        matched = key_of.isin(ext.index).to_numpy()
        if not matched.any():
            raise CurationError(
                f"none of the {len(ext)} ids in {path.name} column {idc!r} (e.g. {list(ext.index[:3])}) match an "
                f"example of the workspace (e.g. {list(ids['example_id'][:3])}); ids must be example_id values or "
                "the records' own ids")
        vals = ext.reindex(key_of[matched].tolist()).to_numpy(dtype=np.float64)
        name = name or (path.stem if len(df.columns) == 2 else f"{path.stem}.{score_column}")
        sel = ids[matched]
        src_desc = f"imported from {path.name} ({score_column})"
    else:
        field = str(source)
        parts = field.split(".")
        ex = ws.examples(["example_id", "content_hash", "record"])
        vals_l, keep = [], []
        for eid, rec in zip(ex["example_id"], ex["record"]):
            r = json.loads(rec) if isinstance(rec, str) else rec
            ok, v = _field(r, parts)
            keep.append(ok)
            vals_l.append(_to_float(v, f"record field {field!r} of example {eid}") if ok else math.nan)
        if not any(keep):
            first = ex["record"].iloc[0] if len(ex) else "{}"
            r0 = json.loads(first) if isinstance(first, str) else first
            raise CurationError(
                f"{field!r} is neither an existing scores file nor a field of the ingested records (record keys: "
                f"{sorted(r0) if isinstance(r0, dict) else []}); pass a file path or one of those fields")
        mask = np.asarray(keep)
        sel = ex[mask].reset_index(drop=True)
        vals = np.asarray(vals_l, dtype=np.float64)[mask]
        name = name or field
        src_desc = f"record field {field!r}"
    key = external_key(name)
    ws.put_scores(key, sel["example_id"].tolist(), vals, name=key, higher_is_better=higher_is_better,
                  params={"source": str(source), "score_column": score_column},
                  description=description or f"External score, {src_desc}; validity unknown.",
                  content_hashes=sel["content_hash"].tolist() if "content_hash" in sel.columns else None)
    return key
