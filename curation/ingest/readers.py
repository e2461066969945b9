"""Readers: turn a file (JSONL, JSON, CSV, Parquet, plain or .gz) or a Hugging Face dataset into records.

Every reader yields ``(line, record)`` pairs: ``line`` is the 1-based line of a JSONL file, the 1-based data row of
a CSV (header = row 0), or the 1-based position in a JSON array / Parquet file / HF dataset. A problem raises
:class:`~curation.core.errors.IngestError` naming the file and line, or, with ``on_error="skip"``, is reported through
the ``problems`` list and the record is left out.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curation.core.errors import IngestError

FORMATS = ("jsonl", "json", "csv", "parquet", "hf")


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


def _open_text_bytes(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise IngestError(f"{path}: file not found; check the path") from exc
        raise IngestError(
            f"{path.name}: cannot decompress ({exc.__class__.__name__}: {exc}); the gzip file is truncated or "
            "corrupt; download or copy it again") from exc


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise IngestError(
            f"{path.name} line {line}: invalid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "the file must be UTF-8 — convert it, e.g. `iconv -f latin1 -t utf-8 IN > OUT`",
            [{"file": path.name, "line": line, "field": None, "message": "invalid UTF-8"}]) from exc


MAX_DEPTH = 64


def _loads(text: str) -> Any:
    """json.loads that refuses NaN/Infinity and records nested deeper than MAX_DEPTH (raises ValueError)."""
    def bad_constant(c: str) -> Any:
        raise ValueError(f"{c} is not valid JSON")
    depth = max_depth = 0
    if text.count("[") + text.count("{") > MAX_DEPTH:  # cheap pre-check before the exact scan
        in_str = esc = False
        for ch in text:
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
            elif ch in "]}":
                depth -= 1
        if max_depth > MAX_DEPTH:
            raise ValueError(f"nested {max_depth} levels deep (at most {MAX_DEPTH} supported); flatten the record")
    return json.loads(text, parse_constant=bad_constant)


def read_records(path: str | os.PathLike[str], *, fmt: str | None = None, split: str | None = None,
                 problems: list[dict] | None = None) -> Iterator[tuple[int, dict]]:
    """Yield (line, record) from a file or HF dataset. ``problems``: when a list is given, bad lines are appended to
    it and skipped; when None, the first bad line raises :class:`IngestError`."""
    p = Path(path)
    fmt = fmt or detect_format(p)
    if fmt not in FORMATS:
        raise IngestError(f"unknown format {fmt!r}; use one of {list(FORMATS)}")
    if fmt != "hf" and not p.exists():
        raise IngestError(f"{p}: file not found; check the path")
    if fmt == "jsonl":
        yield from _read_jsonl(p, problems)
    elif fmt == "json":
        yield from _read_json(p, problems)
    elif fmt == "csv":
        yield from _read_csv(p)
    elif fmt == "parquet":
        yield from _read_parquet(p)
    else:
        yield from _read_hf(str(path), split)


def _bad(problems: list[dict] | None, path: Path, line: int, field: str | None, message: str) -> None:
    entry = {"file": path.name, "line": line, "field": field, "message": message}
    if problems is None:
        where = f" field '{field}'" if field else ""
        raise IngestError(f"{path.name} line {line}{where}: {message}", [entry])
    problems.append(entry)


def _read_jsonl(path: Path, problems: list[dict] | None) -> Iterator[tuple[int, dict]]:
    yield from _read_jsonl_text(path, _decode(path, _open_text_bytes(path)), problems)


def _read_json(path: Path, problems: list[dict] | None) -> Iterator[tuple[int, dict]]:
    text = _decode(path, _open_text_bytes(path))
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


def _read_csv(path: Path) -> Iterator[tuple[int, dict]]:
    text = _decode(path, _open_text_bytes(path))
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


def _read_parquet(path: Path) -> Iterator[tuple[int, dict]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path)
    except Exception as exc:  # pyarrow raises many types
        raise IngestError(f"{path.name}: cannot read as Parquet ({exc}); check that the file is complete") from exc
    for i, rec in enumerate(table.to_pylist(), start=1):
        yield i, rec


def _read_hf(path: str, split: str | None) -> Iterator[tuple[int, dict]]:
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
    for i, rec in enumerate(ds, start=1):
        yield i, dict(rec)
