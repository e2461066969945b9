"""Readers: turn a file (JSONL, JSON, CSV, Parquet, plain or .gz) or a Hugging Face dataset into records.

Every reader yields ``(line, record)`` pairs: ``line`` is the 1-based line of a JSONL file, the 1-based data row of
a CSV (header = row 0), or the 1-based position in a JSON array / Parquet file / HF dataset. A problem raises
:class:`~curation.core.errors.IngestError` naming the file and line, or, with ``on_error="skip"``, is reported through
the ``problems`` list and the record is left out.

Text must be valid Unicode: a lone surrogate (``"\\ud800"`` escaped in JSON, or its bytes in a CSV / Parquet file) in
any field or key makes its record bad (file, line and field named), like any other bad record; ``--skip-bad`` leaves
it out and keeps the rest.

Decompression is bounded: a reader decompresses at most ``max_uncompressed`` bytes of one file (a ``.gz``, or a
Parquet file's compressed columns, checked from its footer before reading; :data:`MAX_UNCOMPRESSED` = 2 GiB by default,
``$CURATION_MAX_UNCOMPRESSED`` or ``ingest --max-uncompressed`` to change it), so a small file that expands to many
gigabytes is refused with a clear error instead of exhausting memory. The records read are held in memory (about 2-3x
the uncompressed size).
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curation.core.disk import format_size
from curation.core.errors import IngestError

FORMATS = ("jsonl", "json", "csv", "parquet", "hf")
MAX_UNCOMPRESSED = 2 << 30  # bytes of content a reader decompresses at most (2 GiB); see max_uncompressed_bytes()
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """``"2GiB"``, ``"500MB"``, ``"1.5g"`` or a number of bytes → bytes (K/M/G/T: powers of 1024 with or without
    the i). Raises IngestError on anything else."""
    if isinstance(text, int):
        return text
    m = _SIZE_RE.match(str(text))
    if not m:
        raise IngestError(f"size {text!r} is not understood; write bytes or a size like 512MiB, 2GiB, 4G")
    n, unit = float(m.group(1)), m.group(2).lower()
    return int(n * 1024 ** " kmgt".index(unit or " "))


def max_uncompressed_bytes(value: str | int | None = None) -> int:
    """The decompression bound in bytes: ``value`` if given, else ``$CURATION_MAX_UNCOMPRESSED``, else
    :data:`MAX_UNCOMPRESSED`."""
    if value is None:
        value = os.environ.get("CURATION_MAX_UNCOMPRESSED") or MAX_UNCOMPRESSED
    n = parse_size(value)
    if n <= 0:
        raise IngestError(f"the decompression bound must be positive, got {value!r}")
    return n


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes (or, for a folder, of its files' names and bytes in sorted order)."""
    p = Path(path)
    h = hashlib.sha256()
    files = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def detect_format(path: str | os.PathLike[str]) -> str:
    """jsonl | json | csv | parquet | hf (a folder saved with ``datasets.save_to_disk`` or a hub name)."""
    p = Path(path)
    if p.is_dir():
        return "hf"
    name = p.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for ext, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "json"), (".csv", "csv"),
                     (".tsv", "csv"), (".parquet", "parquet"), (".pq", "parquet")):
        if name.endswith(ext):
            return fmt
    if not p.exists() and "/" in str(path) and not str(path).startswith((".", "/")):
        return "hf"
    raise IngestError(
        f"{p.name}: cannot tell the format from the file name; use a .jsonl, .json, .csv, .parquet name "
        "(optionally .gz) or pass --format")


def _open_text_bytes(path: Path, limit: int | None = None) -> bytes:
    """The file's content (decompressed for ``.gz``). A ``.gz`` that expands to more than ``limit`` bytes (default:
    :func:`max_uncompressed_bytes`) raises IngestError naming the bound and the flag that raises it; it is read in
    16 MiB blocks, so no more than the bound is ever held. A plain file is read as it is (its size is plain to see)."""
    limit = max_uncompressed_bytes(limit)
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                parts, n = [], 0
                while True:
                    block = fh.read(min(16 << 20, limit + 1 - n))
                    if not block:
                        break
                    parts.append(block)
                    n += len(block)
                    if n > limit:
                        raise IngestError(
                            f"{path.name}: expands to more than {format_size(limit)} when decompressed "
                            f"({format_size(path.stat().st_size)} compressed); refused to protect memory. If the "
                            "file is genuine, raise the bound with --max-uncompressed SIZE (e.g. 8GiB) or "
                            "$CURATION_MAX_UNCOMPRESSED, or split the file")
                return b"".join(parts)
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise IngestError(f"{path}: file not found; check the path") from exc
        raise IngestError(
            f"{path.name}: cannot decompress ({exc.__class__.__name__}: {exc}); the gzip file is truncated or "
            "corrupt; download or copy it again") from exc


def _decode(path: Path, data: bytes, *, lenient: bool = False) -> str:
    """UTF-8 text of ``data`` (a BOM dropped). lenient (``--skip-bad``): invalid bytes become lone surrogates
    (``surrogateescape``) so that only the records holding them are refused (by :func:`find_bad_text`)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if lenient:
        return data.decode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise IngestError(
            f"{path.name} line {line}: invalid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "the file must be UTF-8 — convert it, e.g. `iconv -f latin1 -t utf-8 IN > OUT`",
            [{"file": path.name, "line": line, "field": None, "message": "invalid UTF-8"}]) from exc


MAX_DEPTH = 64


class NestingError(ValueError):
    """A JSON text nested deeper than :data:`MAX_DEPTH`; ``lineno`` (1-based) is where the limit is passed."""

    def __init__(self, message: str, lineno: int) -> None:
        super().__init__(message)
        self.lineno = lineno


def _loads(text: str) -> Any:
    """json.loads that refuses NaN/Infinity and records nested deeper than MAX_DEPTH (raises ValueError;
    :class:`NestingError` with the line for too deep a nesting)."""
    def bad_constant(c: str) -> Any:
        raise ValueError(f"{c} is not valid JSON")
    depth = max_depth = 0
    if text.count("[") + text.count("{") > MAX_DEPTH:  # cheap pre-check before the exact scan
        in_str = esc = False
        for pos, ch in enumerate(text):
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch in "[{":
                depth += 1
                max_depth = max(max_depth, depth)
                if depth > MAX_DEPTH:
                    raise NestingError(f"nested more than {MAX_DEPTH} levels deep (at most {MAX_DEPTH} supported); "
                                       "flatten the record", text.count("\n", 0, pos) + 1)
            elif ch in "]}":
                depth -= 1
    return json.loads(text, parse_constant=bad_constant)


def _is_bad_text(s: str) -> bool:
    if s.isascii():
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def find_bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """(field path, what) of the first text in ``value`` (a record: keys and values, nested) that is not valid
    Unicode (a lone surrogate, from a ``\\ud800`` escape or from invalid bytes read leniently), else None.
    Field paths look like ``output``, ``meta.src[1]``. Cost: one pass over the record's text."""
    if isinstance(value, str):
        if _is_bad_text(value):
            bad = next(c for c in value if 0xD800 <= ord(c) <= 0xDFFF)
            return path or "(record)", f"\\u{ord(bad):04x}"
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            sub = f"{path}.{key}" if path else key
            if _is_bad_text(key):
                bad = next(c for c in key if 0xD800 <= ord(c) <= 0xDFFF)
                shown = key.encode("unicode_escape").decode("ascii")
                return (f"{path}.{shown}" if path else shown) + " (a key)", f"\\u{ord(bad):04x}"
            hit = find_bad_text(v, sub)
            if hit:
                return hit
        return None
    if isinstance(value, (list, tuple)):
        for j, v in enumerate(value):
            hit = find_bad_text(v, f"{path}[{j}]")
            if hit:
                return hit
    return None


BAD_TEXT_MESSAGE = ("holds {what}, a lone surrogate (not valid Unicode: an unpaired \\ud800-\\udfff escape, or "
                    "bytes that are not UTF-8); fix or remove the record, or pass --skip-bad to leave it out")


def _checked(problems: list[dict] | None, path: Path, line: int, rec: dict) -> bool:
    """True when ``rec`` holds only valid text; else report it as bad (raise, or append to ``problems``)."""
    hit = find_bad_text(rec)
    if hit is None:
        return True
    _bad(problems, path, line, hit[0], BAD_TEXT_MESSAGE.format(what=hit[1]))
    return False


def read_records(path: str | os.PathLike[str], *, fmt: str | None = None, split: str | None = None,
                 problems: list[dict] | None = None,
                 max_uncompressed: int | str | None = None) -> Iterator[tuple[int, dict]]:
    """Yield (line, record) from a file or HF dataset. ``problems``: when a list is given, bad lines are appended to
    it and skipped; when None, the first bad line raises :class:`IngestError`. max_uncompressed: the decompression
    bound in bytes (or a size like ``"4GiB"``; default :func:`max_uncompressed_bytes`)."""
    p = Path(path)
    fmt = fmt or detect_format(p)
    if fmt not in FORMATS:
        raise IngestError(f"unknown format {fmt!r}; use one of {list(FORMATS)}")
    if fmt != "hf" and not p.exists():
        raise IngestError(f"{p}: file not found; check the path")
    limit = max_uncompressed_bytes(max_uncompressed)
    if fmt == "jsonl":
        records = _read_jsonl(p, problems, limit)
    elif fmt == "json":
        records = _read_json(p, problems, limit)
    elif fmt == "csv":
        records = _read_csv(p, problems, limit)
    elif fmt == "parquet":
        records = _read_parquet(p, problems, limit)
    else:
        records = _read_hf(str(path), split, problems)
    for line, rec in records:
        if _checked(problems, p, line, rec):
            yield line, rec


def _bad(problems: list[dict] | None, path: Path, line: int, field: str | None, message: str) -> None:
    entry = {"file": path.name, "line": line, "field": field, "message": message}
    if problems is None:
        where = f" field '{field}'" if field else ""
        raise IngestError(f"{path.name} line {line}{where}: {message}", [entry])
    problems.append(entry)


def _read_jsonl(path: Path, problems: list[dict] | None, limit: int) -> Iterator[tuple[int, dict]]:
    yield from _read_jsonl_text(path, _decode(path, _open_text_bytes(path, limit), lenient=problems is not None),
                                problems)


def _read_json(path: Path, problems: list[dict] | None, limit: int) -> Iterator[tuple[int, dict]]:
    text = _decode(path, _open_text_bytes(path, limit), lenient=problems is not None)
    if not text.strip():
        return
    try:
        data = _loads(text)
    except (json.JSONDecodeError, ValueError) as exc:
        # A .json file that is really JSON Lines is common: fall back to line-by-line reading.
        if text.lstrip().startswith("{") and "\n" in text.strip():
            yield from _read_jsonl_text(path, text, problems)
            return
        line = getattr(exc, "lineno", 0)
        raise IngestError(f"{path.name} line {line}: malformed JSON ({exc}); fix the file or export it as JSON Lines",
                          [{"file": path.name, "line": line, "field": None, "message": str(exc)}]) from exc
    if isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) == 1:
            data = data[lists[0]]
        else:
            data = [data]
    if not isinstance(data, list):
        raise IngestError(f"{path.name}: expected a JSON array of objects, found {type(data).__name__}")
    for i, rec in enumerate(data, start=1):
        if not isinstance(rec, dict):
            _bad(problems, path, i, None, f"item {i} is {type(rec).__name__}, expected an object")
            continue
        yield i, rec


def _read_jsonl_text(path: Path, text: str, problems: list[dict] | None) -> Iterator[tuple[int, dict]]:
    for i, raw in enumerate(text.split("\n"), start=1):
        s = raw.strip()
        if not s:
            continue
        try:
            rec = _loads(s)
        except (json.JSONDecodeError, ValueError) as exc:
            _bad(problems, path, i, None,
                 f"malformed JSON ({exc}); each line must be one JSON object — fix or remove the line, "
                 "or pass --skip-bad to leave it out")
            continue
        if not isinstance(rec, dict):
            _bad(problems, path, i, None,
                 f"expected a JSON object, found {type(rec).__name__}; each line must be one object like "
                 '{"instruction": ..., "output": ...}')
            continue
        yield i, rec


def _read_csv(path: Path, problems: list[dict] | None, limit: int) -> Iterator[tuple[int, dict]]:
    text = _decode(path, _open_text_bytes(path, limit), lenient=problems is not None)
    if not text.strip():
        return
    name = path.name.lower().removesuffix(".gz")
    delimiter = "\t" if name.endswith(".tsv") else ","
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if reader.fieldnames is None:
        return
    try:
        for i, row in enumerate(reader, start=1):
            if None in row:
                raise IngestError(
                    f"{path.name} row {i}: more values than the header's {len(reader.fieldnames)} columns; "
                    "quote fields that contain the delimiter")
            yield i, {k: v for k, v in row.items()}
    except csv.Error as exc:
        raise IngestError(f"{path.name} row {reader.line_num}: malformed CSV ({exc}); quote fields that contain "
                          "newlines or delimiters") from exc


def _read_parquet(path: Path, problems: list[dict] | None, limit: int) -> Iterator[tuple[int, dict]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if path.name.lower().endswith(".gz"):
            source: Any = pa.BufferReader(_open_text_bytes(path, limit))
        else:
            source = path
        meta = pq.ParquetFile(source).metadata
        inflated = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if inflated > limit:  # compressed column pages can expand a small file enormously: check before reading
            raise IngestError(
                f"{path.name}: its columns expand to {format_size(inflated)} when decompressed, more than "
                f"{format_size(limit)}; refused to protect memory. If the file is genuine, raise the bound with "
                "--max-uncompressed SIZE (e.g. 8GiB) or $CURATION_MAX_UNCOMPRESSED, or split the file")
        if isinstance(source, pa.BufferReader):
            source.seek(0)
        table = pq.read_table(source)
    except IngestError:
        raise
    except Exception as exc:  # pyarrow raises many types
        raise IngestError(f"{path.name}: cannot read as Parquet ({exc}); check that the file is complete") from exc
    yield from _arrow_records(path, table, problems)


def _arrow_records(path: Path, table: Any, problems: list[dict] | None) -> Iterator[tuple[int, dict]]:
    """(position, record) of a pyarrow Table; a row whose text is not valid UTF-8 is a bad record naming its
    column (the fast whole-table conversion is tried first, row by row only when it fails)."""
    try:
        rows = table.to_pylist()
    except UnicodeDecodeError:
        rows = None
    if rows is not None:
        yield from enumerate(rows, start=1)
        return
    names = table.column_names
    for i in range(table.num_rows):
        rec, bad = {}, None
        for name in names:
            try:
                rec[name] = table.column(name)[i].as_py()
            except UnicodeDecodeError:
                bad = name
                break
        if bad is not None:
            _bad(problems, path, i + 1, bad, "is not valid UTF-8 text (or holds a lone surrogate); fix or remove "
                                             "the row, or pass --skip-bad to leave it out")
            continue
        yield i + 1, rec


def _read_hf(path: str, split: str | None, problems: list[dict] | None) -> Iterator[tuple[int, dict]]:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is in requirements
        raise IngestError("reading a Hugging Face dataset needs the `datasets` package; pip install datasets") from exc
    p = Path(path)
    try:
        if p.is_dir():
            ds = datasets.load_from_disk(str(p))
        else:
            ds = datasets.load_dataset(path, split=split or "train")
    except Exception as exc:  # datasets raises many types
        raise IngestError(
            f"{path}: cannot load as a Hugging Face dataset ({exc.__class__.__name__}: {exc}); pass a folder written "
            "by save_to_disk, or a hub name on a machine that is online") from exc
    if isinstance(ds, datasets.DatasetDict):
        names = list(ds.keys())
        chosen = split or ("train" if "train" in names else names[0])
        if chosen not in ds:
            raise IngestError(f"{path}: no split {chosen!r}; splits are {names}; pass --split")
        ds = ds[chosen]
    if getattr(ds, "_indices", None) is not None:  # a selection or shuffle: materialise it first
        ds = ds.flatten_indices()
    yield from _arrow_records(Path(path), ds.data.table, problems)
