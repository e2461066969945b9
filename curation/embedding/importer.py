"""Bring your own vectors: import embeddings computed elsewhere (a GPU box, an API, a previous run).

Sources:

* **Parquet** (``.parquet``/``.pq``) or **Arrow IPC** (``.arrow``/``.feather``/``.ipc``/``.arrows``): a list or
  fixed-size-list column of numbers (the vector) and, optionally, an id column;
* **NumPy**: ``.npy`` (one 2-d array, in the workspace's row order) or ``.npz`` (a 2-d array plus, optionally, a 1-d
  array of ids);
* a **list field of the ingested records** (``embedding``, ``meta.vector``; dots walk into nested objects).

Vectors are keyed by example id (``example_id`` or the records' own id, i.e. the part after ``<dataset>/``; an id
column named ``row_id`` matches row ids) or, when the source has no ids, by row order (the i-th vector belongs to the
i-th example by row id, of ``dataset`` when given). They are stored L2-normalised as float32 under the model name the
user gives, exactly where computed vectors go (keyed by model and text hash), so the graph, map, density,
duplicates, clusters, selection and reports use them like any other.

Everything is validated before anything is written (one transaction): numeric vectors of one dimension (and the
dimension already stored under the model), no NaN/inf, no zero vector, no duplicate id, no id unknown to the
workspace, every example covered (unless ``allow_missing``), and a readable file (a truncated Parquet file is named
as such). Errors name the file, the row, the id and the field, and say how to fix it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.progress import report_job
from curation.core.keys import model_key
from curation.store import Workspace

TABLE_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow",
                  ".arrows": "arrow"}
ARRAY_SUFFIXES = {".npy": "npy", ".npz": "npz"}
ID_COLUMNS = ("example_id", "id", "uid", "row_id")
VECTOR_NAMES = ("embedding", "embeddings", "vector", "vectors", "emb", "X")
_BLOCK = 65_536   # rows per validation block (bounded temporaries at 1M+ rows)


@dataclass
class ImportReport:
    model: str
    source: str
    n_vectors: int
    dim: int
    keyed_by: str            # "example_id", "record id", "row_id", "row order" or "record field"
    n_examples: int          # examples that received a vector
    n_stored: int            # distinct texts stored (examples sharing a text share a vector)
    n_kept: int              # texts that already had a vector under the model and were kept (replace=False)
    n_renormalised: int      # vectors whose L2 norm was not 1 and were normalised
    seconds: float

    def summary(self) -> str:
        norm = f", {self.n_renormalised} re-normalised to unit length" if self.n_renormalised else ""
        kept = f", {self.n_kept} already present and kept (--replace overwrites)" if self.n_kept else ""
        return (f"{self.model}: {self.n_vectors} vectors of dimension {self.dim} from {self.source} keyed by "
                f"{self.keyed_by}: {self.n_examples} examples, {self.n_stored} texts stored{kept}{norm} "
                f"({self.seconds:.1f} s)")


def _fail(where: str, what: str, fix: str) -> CurationError:
    return CurationError(f"{where}: {what}; nothing was imported. {fix}")


# ---------------------------------------------------------------------------------------------- reading
def _list_to_matrix(col: Any, name: str, where: str, ids: np.ndarray | None) -> np.ndarray:
    """A pyarrow (chunked) list / fixed-size-list column of numbers → (n, d) float32, validated for shape."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    t = arr.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        raise _fail(where, f"column {name!r} holds {t}, not lists of numbers",
                    "Pass --vector-column naming the column with one list of floats per row.")
    vt = t.value_type
    if not (pa.types.is_floating(vt) or pa.types.is_integer(vt)):
        raise _fail(where, f"column {name!r} holds lists of {vt}, not numbers", "Store the vectors as floats.")
    n = len(arr)
    if n == 0:
        raise _fail(where, "no vectors (0 rows)", "Pass a file with one vector per example.")

    def label(i: int) -> str:
        return f"row {i}" + (f" (id {ids[i]!r})" if ids is not None else "")

    if arr.null_count:
        i = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise _fail(f"{where} {label(i)} field {name!r}", "the vector is null",
                    "Every row needs a vector; drop the row or compute its vector.")
    lengths = pc.list_value_length(arr).to_numpy(zero_copy_only=False)
    d = int(lengths[0])
    bad = np.flatnonzero(lengths != d)
    if len(bad):
        i = int(bad[0])
        raise _fail(f"{where} {label(i)} field {name!r}",
                    f"the vector has {int(lengths[i])} values but row 0 has {d} ({len(bad)} rows differ)",
                    "All vectors must have the same dimension (one model); re-export them from a single model.")
    if d == 0:
        raise _fail(f"{where} field {name!r}", "the vectors are empty (dimension 0)", "Store non-empty vectors.")
    flat = arr.flatten() if not pa.types.is_fixed_size_list(t) else arr.values.slice(arr.offset * d, n * d)
    if flat.null_count:
        i = int(np.flatnonzero(flat.is_null().to_numpy(zero_copy_only=False))[0]) // d
        raise _fail(f"{where} {label(i)} field {name!r}", "the vector contains a null value",
                    "Replace missing components (or drop the row).")
    X = np.ascontiguousarray(flat.to_numpy(zero_copy_only=False).reshape(n, d), dtype=np.float32)
    return X if X.flags.writeable else X.copy()          # normalised in place later


def _read_table(path: Path, kind: str) -> Any:  # pyarrow Table
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if kind == "parquet":
            return pq.read_table(path)
        try:
            with pa.memory_map(str(path)) as src:
                return pa.ipc.open_file(src).read_all()
        except pa.ArrowInvalid:
            with pa.memory_map(str(path)) as src:
                return pa.ipc.open_stream(src).read_all()
    except (pa.ArrowException, OSError) as exc:
        what = "Parquet" if kind == "parquet" else "Arrow IPC"
        hint = " (the footer is missing: the file is truncated or was still being written)" if (
            "magic" in str(exc).lower() or "footer" in str(exc).lower() or "size" in str(exc).lower()) else ""
        raise _fail(path.name, f"not a readable {what} file{hint}: {str(exc).splitlines()[0]}",
                    "Copy or export the file again, completely.") from exc


def _from_table(path: Path, kind: str, id_column: str | None, vector_column: str | None
                ) -> tuple[np.ndarray | None, str | None, np.ndarray, str]:
    import pyarrow as pa

    tbl = _read_table(path, kind)
    cols = tbl.column_names
    if vector_column is not None:
        if vector_column not in cols:
            raise _fail(path.name, f"no column {vector_column!r} (columns: {cols})", "Pass --vector-column.")
        vcol = vector_column
    else:
        lists = [c for c in cols if pa.types.is_list(tbl.schema.field(c).type)
                 or pa.types.is_large_list(tbl.schema.field(c).type)
                 or pa.types.is_fixed_size_list(tbl.schema.field(c).type)]
        named = [c for c in VECTOR_NAMES if c in lists]
        if len(lists) == 1 or named:
            vcol = named[0] if named else lists[0]
        else:
            raise _fail(path.name, f"cannot tell which column holds the vectors (list columns: {lists}; all: {cols})",
                        "Pass --vector-column.")
    if id_column is not None:
        if id_column not in cols:
            raise _fail(path.name, f"no id column {id_column!r} (columns: {cols})", "Pass --id-column.")
        idc: str | None = id_column
    else:
        idc = next((c for c in ID_COLUMNS if c in cols and c != vcol), None)
    ids = None
    if idc is not None:
        col = tbl.column(idc)
        if col.null_count:
            i = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
            raise _fail(f"{path.name} row {i} field {idc!r}", "the id is null", "Every vector needs an id.")
        ids = np.asarray(col.to_pylist(), dtype=object)
    X = _list_to_matrix(tbl.column(vcol), vcol, path.name, ids)
    return ids, idc, X, vcol


def _from_numpy(path: Path, kind: str, id_column: str | None, vector_column: str | None
                ) -> tuple[np.ndarray | None, str | None, np.ndarray, str]:
    try:
        if kind == "npy":
            X = np.load(path, mmap_mode="r", allow_pickle=False)
            arrays, vname = {"": X}, ""
        else:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            vname = None
    except (ValueError, OSError, EOFError) as exc:
        raise _fail(path.name, f"not a readable NumPy {kind} file: {exc}",
                    "Save the vectors with numpy.save / numpy.savez (numbers, not Python objects); if the file is "
                    "truncated, copy it again.") from exc
    except Exception as exc:  # zipfile raises BadZipFile and others
        raise _fail(path.name, f"not a readable NumPy {kind} file: {type(exc).__name__}: {exc}",
                    "Copy or save the file again.") from exc
    ids, idc = None, None
    if kind == "npz":
        if vector_column is not None:
            if vector_column not in arrays:
                raise _fail(path.name, f"no array {vector_column!r} (arrays: {sorted(arrays)})",
                            "Pass --vector-column.")
            vname = vector_column
        else:
            two_d = [k for k, a in arrays.items() if a.ndim == 2]
            named = [k for k in VECTOR_NAMES if k in two_d]
            if len(two_d) != 1 and not named:
                raise _fail(path.name, f"cannot tell which array holds the vectors (2-d arrays: {two_d})",
                            "Pass --vector-column.")
            vname = named[0] if named else two_d[0]
        idc = id_column or next((k for k in (*ID_COLUMNS, "ids") if k in arrays and k != vname), None)
        if idc is not None:
            if idc not in arrays:
                raise _fail(path.name, f"no id array {idc!r} (arrays: {sorted(arrays)})", "Pass --id-column.")
            ids = np.asarray(arrays[idc])
            if ids.ndim != 1:
                raise _fail(f"{path.name} array {idc!r}", f"ids must be 1-d, got shape {ids.shape}",
                            "Save one id per vector.")
            ids = ids.astype(str).astype(object) if ids.dtype.kind in "USO" else ids.astype(object)
        X = arrays[vname]
    elif id_column is not None:
        raise _fail(path.name, ".npy files hold no ids", "Use .npz with an ids array, or key by row order.")
    if X.ndim != 2:
        raise _fail(f"{path.name}{' array ' + repr(vname) if vname else ''}",
                    f"vectors must be a 2-d array (n, dimension), got shape {X.shape}",
                    "Save an (n, d) array, one row per example.")
    if X.dtype.kind not in "fiu":
        raise _fail(path.name, f"the vectors have dtype {X.dtype}, not numbers", "Save float vectors.")
    if len(X) == 0 or X.shape[1] == 0:
        raise _fail(path.name, f"no vectors (shape {X.shape})", "Pass a file with one vector per example.")
    if ids is not None and len(ids) != len(X):
        raise _fail(path.name, f"{len(ids)} ids but {len(X)} vectors", "Save one id per vector.")
    return ids, idc, np.array(X, dtype=np.float32, order="C"), vname or "array"   # a writable copy


def _from_record_field(ws: Workspace, field: str, dataset: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(row_ids, X) of the examples whose record has the list field ``field``."""
    import duckdb

    try:
        tbl = ws.record_list_field(field, dataset=dataset)
    except duckdb.Error as exc:
        raise _fail(f"record field {field!r}", f"not a list of numbers in every record "
                    f"({str(exc).splitlines()[0]})", "Pass a field holding one list of numbers per record.") from exc
    if tbl.num_rows == 0:
        raise _fail(f"record field {field!r}", "the workspace has no examples" + (f" in {dataset!r}" if dataset
                    else ""), "Ingest the dataset first.")
    has = tbl.column("v").is_valid().to_numpy(zero_copy_only=False)
    if not has.any():
        raise _fail(f"record field {field!r}", "no record has this field",
                    f"Pass the name of a list field of the records (top-level keys: {ws.record_keys()[:10]}).")
    tbl = tbl.filter(has)                   # records without the field: missing (checked by the caller)
    ids = np.asarray(tbl.column("example_id").to_pylist(), dtype=object)
    X = _list_to_matrix(tbl.column("v"), field, "records", ids)
    return tbl.column("row_id").to_numpy().astype(np.int64), X, field


# ---------------------------------------------------------------------------------------------- validation
def _check_values(X: np.ndarray, where: str, ids: np.ndarray | None, field: str) -> int:
    """Reject NaN/inf and zero vectors; L2-normalise in place (block by block). Returns how many were not unit."""
    renorm = 0
    for s in range(0, len(X), _BLOCK):
        B = X[s: s + _BLOCK]
        finite = np.isfinite(B).all(axis=1)
        if not finite.all():
            i = s + int(np.flatnonzero(~finite)[0])
            n_bad = int((~np.isfinite(X).all(axis=1)).sum())
            raise _fail(f"{where} row {i}" + (f" (id {ids[i]!r})" if ids is not None else "") + f" field {field!r}",
                        f"the vector contains NaN or infinity ({n_bad} such rows)",
                        "Recompute those vectors or drop those rows.")
        norms = np.sqrt(np.einsum("ij,ij->i", B, B, dtype=np.float64))
        zero = norms <= 1e-12
        if zero.any():
            i = s + int(np.flatnonzero(zero)[0])
            raise _fail(f"{where} row {i}" + (f" (id {ids[i]!r})" if ids is not None else "") + f" field {field!r}",
                        "the vector is all zeros (it has no direction, so no cosine similarity)",
                        "Recompute that vector or drop the row.")
        off = np.abs(norms - 1.0) > 1e-3
        renorm += int(off.sum())
        B /= norms[:, None].astype(np.float32)
    return renorm


def _match_ids(ws: Workspace, ids: np.ndarray, idc: str, where: str, dataset: str | None
               ) -> tuple[np.ndarray, str]:
    """Row ids for ``ids`` (same order): example_id, else the records' own id (after ``<dataset>/``), or row_id."""
    idmap = ws.id_map()
    if dataset is not None:
        idmap = idmap[idmap["example_id"].str.startswith(dataset + "/")]
    keys = pd.Index(ids.astype(str))
    dup = keys.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(keys.get_indexer_for([keys[i]])[0])
        raise _fail(f"{where} row {i} field {idc!r}",
                    f"duplicate id {keys[i]!r} (first on row {first}; {int(dup.sum())} duplicate rows)",
                    "Each example needs exactly one vector; remove the duplicates.")
    if idc == "row_id":
        target, keyed = idmap["row_id"].astype(str), "row_id"
    else:
        target, keyed = idmap["example_id"], "example_id"
        if not keys.isin(target).any():
            target, keyed = idmap["example_id"].str.split("/", n=1).str[-1], "record id"
            if target.duplicated().any() and keys.isin(target).any():
                d = target[target.duplicated()].iloc[0]
                raise _fail(where, f"the id {d!r} belongs to examples of several datasets",
                            "Use full example ids (<dataset>/<id>) or pass --dataset.")
    pos = pd.Index(target.to_numpy()).get_indexer(keys)
    unknown = np.flatnonzero(pos < 0)
    if len(unknown):
        i = int(unknown[0])
        scope = f"dataset {dataset!r}" if dataset else "the workspace"
        raise _fail(f"{where} row {i} field {idc!r}",
                    f"id {keys[i]!r} matches no example of {scope} ({len(unknown)} unknown ids; example ids look "
                    f"like {idmap['example_id'].head(2).tolist()})",
                    "Use example ids (or the records' own ids); drop vectors of examples not ingested, or ingest "
                    "them first.")
    return idmap["row_id"].to_numpy()[pos].astype(np.int64), keyed


# ---------------------------------------------------------------------------------------------- import
def import_embeddings(ws: Workspace, source: str | Path, *, model: str, id_column: str | None = None,
                      vector_column: str | None = None, by: str = "auto", dataset: str | None = None,
                      allow_missing: bool = False, replace: bool = False) -> ImportReport:
    """Validate vectors from ``source`` and store them under ``model`` in one transaction; see the module doc.

    by: ``auto`` (ids when the source has an id column / array, else row order), ``id`` or ``row``.
    dataset: limit matching (ids or row order) to one dataset. allow_missing: accept a source that covers only part
    of the examples (default: every example in scope needs a vector). replace: overwrite vectors already stored
    under ``model`` for the same texts (default: keep them, and refuse a dimension that differs from theirs).
    Cost: O(n·d) memory (one float32 copy of the vectors); ~1-2 s per 100k 384-d vectors plus the insert.
    """
    t0 = time.perf_counter()
    if not model or not str(model).strip():
        raise CurationError("import-embeddings needs --model: the name of the model that computed the vectors "
                            "(vectors of different models must never be mixed)")
    if by not in ("auto", "id", "row"):
        raise CurationError(f"by must be auto, id or row, got {by!r}")
    key = model_key(str(model).strip())
    if dataset is not None and ws.dataset(dataset) is None:
        raise CurationError(f"no dataset {dataset!r} in {ws.path}; datasets: {ws.datasets()['name'].tolist()}")
    path = Path(str(source)).expanduser()
    suffix = path.suffix.lower()
    kind = TABLE_SUFFIXES.get(suffix) or ARRAY_SUFFIXES.get(suffix)
    if kind is None and path.exists():
        raise CurationError(f"{path.name}: unknown vectors file type {suffix!r}; use .parquet, .npy, .npz or "
                            ".arrow/.feather (Arrow IPC), or name a list field of the ingested records")
    if kind is not None and not path.is_file():
        raise CurationError(f"vectors file {path} does not exist; pass an existing file")
    if kind is None:                                         # a field of the ingested records
        row_ids, X, field = _from_record_field(ws, str(source), dataset)
        where, ids, keyed = "records", None, "record field"
        src_name = f"record field {field}"
    else:
        reader = _from_table if kind in ("parquet", "arrow") else _from_numpy
        ids, idc, X, field = reader(path, kind, id_column, vector_column)
        where, src_name = path.name, path.name
        if by == "id" and ids is None:
            raise _fail(path.name, "the file has no id column", "Pass --id-column, or key by row order (--by row).")
        if ids is not None and by != "row":
            row_ids, keyed = _match_ids(ws, ids, idc or "id", where, dataset)
        else:
            scope = ws.examples(["row_id"], dataset=dataset)["row_id"].to_numpy().astype(np.int64)
            if len(X) != len(scope) and not (allow_missing and len(X) < len(scope)):
                raise _fail(where, f"{len(X)} vectors but {len(scope)} examples "
                            f"{'in dataset ' + repr(dataset) if dataset else 'in the workspace'} (keyed by row order)",
                            "Key by id (a file with an id column) or pass one vector per example, in ingest order.")
            row_ids, keyed = scope[: len(X)], "row order"
    n, d = X.shape
    renorm = _check_values(X, where, ids, field)
    # examples in scope with no vector
    scope_ids = ws.examples(["row_id", "example_id"], dataset=dataset)
    covered = np.isin(scope_ids["row_id"].to_numpy(), row_ids)
    if not covered.all() and not allow_missing:
        miss = scope_ids["example_id"][~covered]
        raise _fail(where, f"{len(miss)} of {len(scope_ids)} examples have no vector (e.g. {miss.head(3).tolist()})",
                    "Add their vectors, or pass --allow-missing to import a partial set (embed the rest with "
                    "the same model later).")
    # one vector per distinct text: examples sharing a text share a vector (the first one given)
    th = ws.examples(["row_id", "text_hash"])
    hash_of = pd.Series(th["text_hash"].to_numpy(), index=th["row_id"].to_numpy())
    hashes = hash_of.reindex(row_ids).to_numpy(dtype=object)
    first = ~pd.Index(hashes).duplicated()
    if not first.all():
        hashes, X = hashes[first], X[first]

    def write() -> tuple[int, int]:
        stored_dim = ws.embedding_dim(key)
        if stored_dim is not None and stored_dim != d and not replace:
            raise _fail(where, f"the vectors have dimension {d} but {key!r} already has vectors of dimension "
                        f"{stored_dim} in this workspace", "Use another --model name, or --replace to "
                        "overwrite them.")
        if replace:
            ws.delete_embeddings(key, None if stored_dim is not None and stored_dim != d else hashes)
        before = ws.count_embeddings(key)
        ws.put_embeddings(key, hashes, X)
        after = ws.count_embeddings(key)
        report_job(ws, f"import-embeddings:{key}", kind="import-embeddings", status="done", done=int(n), total=int(n),
                   params={"model": key, "source": str(path.resolve()) if kind else src_name, "dim": d,
                           "keyed_by": keyed})
        return int(after - before), len(hashes) - int(after - before)

    with ws.transaction():
        stored, kept = write()
    return ImportReport(model=key, source=src_name, n_vectors=n, dim=d, keyed_by=keyed, n_examples=len(row_ids),
                        n_stored=stored, n_kept=kept, n_renormalised=renorm, seconds=time.perf_counter() - t0)
