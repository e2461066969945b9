"""Export the current subset as a training-ready file, with a manifest that reproduces it and a datasheet.

The subset
----------
:class:`curation.subset.SubsetSpec` names it (a ranking's prefix under a budget in rows, % or tokens, an optional
per-class quota, include pins in and exclude pins out, optionally restricted to some datasets) and
:func:`curation.subset.resolve` turns it into rows. ``ranking=None`` means "every example in ingest order" (useful
to export a whole dataset, or to cut it by pins only).

Formats and styles
------------------
``fmt``: ``jsonl`` | ``parquet`` | ``csv`` | ``hf`` (a folder written by ``datasets.Dataset.save_to_disk``).

``style`` (checked against TRL's dataset-format guide, https://huggingface.co/docs/trl/dataset_formats):

===============  ==========================================================================  =====================
style            one row                                                                     rows it takes
===============  ==========================================================================  =====================
original         the record exactly as ingested (its own keys, in its own key order)         every kind
messages         ``{"messages": [{"role", "content"}, ...]}`` — SFTTrainer, conversational   sft, chat
                 (a chat up to its last assistant turn)
sft_chosen       ``{"messages": prompt turns + chosen reply}`` — SFT on preference pairs      preference, sft, chat
dpo              ``{"prompt": [turns], "chosen": [assistant], "rejected": [assistant]}``      preference
                 — DPOTrainer, conversational (explicit prompt; multi-turn context kept)
dpo_text         ``{"prompt": str, "chosen": str, "rejected": str}`` — DPOTrainer, standard   preference
                 (prompt in the plain format of :mod:`curation.chat_format`, ending with
                 ``Assistant:`` and a newline, or in a tokenizer's chat template)
===============  ==========================================================================  =====================

Rows a style cannot express (a prompt-only example in ``messages``, an SFT example in ``dpo``) are left out and
counted in ``ExportResult.skipped`` and the manifest; an export that would be empty is refused. CSV stores nested
values (lists of messages, nested record fields) as JSON text.

Safety and determinism
----------------------
Exports go to ``ws.export_dir``. ``name`` must be a plain file name (letters, digits, ``_ - .``, no folders, not
starting with a dot); a name that escapes the folder, points at a symlink, or whose files exist is refused
(existing files are replaced only with ``overwrite=True``). Every file is written to a temporary file in the same
folder and moved into place with ``os.replace`` (an HF folder: a temporary folder renamed into place), so a crash
never leaves a half-written export under the final name. Data files are deterministic: rows in ``row_id`` (ingest)
order, fixed key order, no timestamps; the same subset gives the same bytes.

Manifest and reproduction
-------------------------
``<file>.manifest.json`` (and ``<file>.datasheet.html``) beside the data file records the sources (path, sha256, shape, mapping, options), schema
version, embedding model, the ranking (selector, parameters, seed, stored parameters), score and graph definitions,
budget, quota, pins and notes with who/when, counts per class, the project version and the sha256 of the data.
:func:`reproduce` rebuilds everything in a fresh workspace from the sources and compares the bytes.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curation import __version__
from curation.errors import CurationError
from curation.saved_subsets import SavedSubset
from curation.store import Workspace
from curation.subset import Subset, SubsetSpec, label_series, pool_frame, resolve

FORMATS = ("jsonl", "parquet", "csv", "hf")
STYLES = ("original", "messages", "sft_chosen", "dpo", "dpo_text")
TEXT_STYLES = ("dpo_text",)  # styles whose prompt is one string (rendered by curation.chat_format)
EXTENSIONS = {"jsonl": ".jsonl", "parquet": ".parquet", "csv": ".csv", "hf": ""}
MANIFEST_VERSION = 1
STYLE_KINDS: dict[str, tuple[str, ...]] = {
    "original": ("sft", "chat", "preference", "prompt"),
    "messages": ("sft", "chat"),
    "sft_chosen": ("preference", "sft", "chat"),
    "dpo": ("preference",),
    "dpo_text": ("preference",),
}
STYLE_HELP = {
    "original": "records exactly as ingested",
    "messages": "chat messages for SFT (TRL SFTTrainer, conversational)",
    "sft_chosen": "chat messages for SFT, preference pairs contribute prompt + chosen reply",
    "dpo": "prompt/chosen/rejected as chat turns (TRL DPOTrainer, conversational)",
    "dpo_text": "prompt/chosen/rejected as strings (TRL DPOTrainer, standard); the prompt ends with the assistant "
                "cue: plain 'User:/Assistant:' turns, or the chat template of --tokenizer",
}
_NAME_RE = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,199}$")
_EXPORT_COLUMNS = ["row_id", "example_id", "dataset", "kind", "prompt", "response", "chosen", "rejected",
                   "messages", "label", "n_tokens", "record"]


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_subset` wrote. path: the data file (or HF folder); n_rows: rows in it; skipped: kind →
    rows of the subset the style could not express; sha256: of the data (an HF folder: names + bytes)."""

    path: Path
    manifest_path: Path
    datasheet_path: Path | None
    n_rows: int
    sha256: str = ""
    skipped: dict[str, int] = field(default_factory=dict)
    export_id: int | None = None


@dataclass
class ReproduceResult:
    """Outcome of :func:`reproduce`. identical: the rebuilt data has the manifest's sha256 (the requirement).

    ranking_identical / subset_identical: finer checks (None when not applicable) that say where a difference
    starts. messages: plain-language account of each step and of any difference.
    """

    identical: bool
    expected_sha256: str
    actual_sha256: str
    path: Path
    workspace_path: Path
    ranking_identical: bool | None = None
    subset_identical: bool | None = None
    n_rows: int = 0
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verdict = "identical bytes" if self.identical else "DIFFERENT bytes"
        return (f"reproduced {self.n_rows} rows into {self.path}: {verdict} "
                f"(expected sha256 {self.expected_sha256[:16]}…, got {self.actual_sha256[:16]}…)")


# ---------------------------------------------------------------------------------------------------- the subset
def subset_row_ids(ws: Workspace, *, ranking_key: str | None, budget_rows: int | None = None,
                   budget_tokens: int | None = None, quota: str | dict | None = None, label_column: str = "label",
                   datasets: Sequence[str] | str | None = None) -> np.ndarray:
    """The subset of these arguments: (k,) int64 row ids, include pins first, then ranking order.

    = :func:`curation.subset.resolve` of the :class:`~curation.subset.SubsetSpec` they describe (the ranking
    ``ranking_key``, None: every row in ingest order; the current pins; a row or token budget, at most one, None =
    no budget; the quota over ``label_column``; the pool restricted to ``datasets``).
    """
    spec = SubsetSpec.from_budget(ranking_key, budget_rows=budget_rows, budget_tokens=budget_tokens, quota=quota,
                                  label_column=label_column, datasets=datasets)
    return resolve(ws, spec).row_ids


# ---------------------------------------------------------------------------------------------------- styles
def _loads(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return json.loads(v) if isinstance(v, str) else v


def _prompt_turns(row: dict) -> list[dict]:
    """The prompt of an example as chat turns: its stored prompt messages, else one user turn."""
    msgs = _loads(row.get("messages"))
    if msgs:
        return [{"role": str(m["role"]), "content": str(m["content"])} for m in msgs]
    return [{"role": "user", "content": row["prompt"] or ""}]


def _chat(row: dict) -> list[dict] | None:
    """An sft/chat example as a conversation up to its last assistant turn (None for kinds without a response)."""
    kind = row["kind"]
    if kind == "chat":
        msgs = [{"role": str(m["role"]), "content": str(m["content"])} for m in (_loads(row.get("messages")) or [])]
        last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=len(msgs) - 1)
        return msgs[:last + 1]  # turns after the last reply teach nothing in SFT
    if kind == "sft":
        return [{"role": "user", "content": row["prompt"] or ""},
                {"role": "assistant", "content": row["response"] or ""}]
    return None


def style_record(row: dict, style: str, *, template: Any = None) -> dict | None:
    """One example (a dict of example columns, ``record``/``messages`` as JSON text or parsed) in ``style``, or
    None when the style cannot express this kind of example (see :data:`STYLE_KINDS`). template: for
    ``dpo_text``, a :class:`curation.chat_format.ChatTemplate` (None: the plain format of
    :mod:`curation.chat_format`)."""
    kind = row["kind"]
    if kind not in STYLE_KINDS[style]:
        return None
    if style == "original":
        rec = _loads(row["record"])
        return rec if isinstance(rec, dict) else {"record": rec}
    if style in ("messages", "sft_chosen"):
        if kind == "preference":
            return {"messages": _prompt_turns(row) + [{"role": "assistant", "content": row["chosen"] or ""}]}
        return {"messages": _chat(row)}
    if style == "dpo":
        return {"prompt": _prompt_turns(row),
                "chosen": [{"role": "assistant", "content": row["chosen"] or ""}],
                "rejected": [{"role": "assistant", "content": row["rejected"] or ""}]}
    if style == "dpo_text":
        from curation.chat_format import plain_prompt, plain_reply

        turns = _prompt_turns(row)
        if template is not None:
            prompt, (chosen, rejected) = template.render(turns, [row["chosen"] or "", row["rejected"] or ""])
            return {"prompt": prompt, "chosen": chosen, "rejected": rejected}
        return {"prompt": plain_prompt(turns), "chosen": plain_reply(row["chosen"]),
                "rejected": plain_reply(row["rejected"])}
    raise CurationError(f"unknown export style {style!r}; styles are {list(STYLES)}")


def styled_records(ws: Workspace, row_ids: np.ndarray, style: str, *, chunk: int = 20_000,
                   tokenizer: str | None = None) -> tuple[list[dict], list[int], dict[str, int]]:
    """(records in row_id order, their row ids, skipped kind → count) for ``row_ids`` in ``style``.

    tokenizer: text styles only: render prompts with this tokenizer's chat template (None: the plain format).

    Loads the examples in chunks of ``chunk`` row ids. O(k) memory for the k records.
    """
    if style not in STYLES:
        raise CurationError(f"unknown export style {style!r}; styles are {list(STYLES)}")
    template = _template(style, tokenizer)
    ids = np.unique(np.asarray(row_ids, dtype=np.int64))
    cols = ["row_id", "kind", "record"] if style == "original" else [c for c in _EXPORT_COLUMNS if c != "record"]
    out: list[dict] = []
    kept: list[int] = []
    skipped: Counter[str] = Counter()
    for s in range(0, len(ids), chunk):
        df = ws.examples(cols, row_ids=ids[s:s + chunk])
        lists = [df[c].tolist() for c in cols]  # column lists: ~4x faster than DataFrame.to_dict on arrow strings
        for row in (dict(zip(cols, vals)) for vals in zip(*lists)):
            rec = style_record(row, style, template=template)
            if rec is None:
                skipped[row["kind"]] += 1
                continue
            out.append(rec)
            kept.append(int(row["row_id"]))
    return out, kept, dict(sorted(skipped.items()))


def _template(style: str, tokenizer: str | None) -> Any:
    """The chat template for a text style (None: plain format); a tokenizer with a style that takes none is refused."""
    if not tokenizer:
        return None
    if style not in TEXT_STYLES:
        raise CurationError(f"a tokenizer (chat template) applies to the text styles {list(TEXT_STYLES)}, not to "
                            f"{style!r}; chat-turn styles leave templating to the trainer")
    from curation.chat_format import chat_template

    return chat_template(str(tokenizer))


def prompt_format(style: str, tokenizer: str | None) -> dict | None:
    """How a style renders prompts as text (kept in the manifest): None for styles without text prompts."""
    if style not in TEXT_STYLES:
        return None
    from curation.chat_format import describe_plain

    t = _template(style, tokenizer)
    return t.describe() if t is not None else describe_plain()


# ---------------------------------------------------------------------------------------------------- writers
def _encode_jsonl_line(rec: dict) -> bytes:
    """One JSON line: UTF-8, keys in the record's own order, no NaN (refused), ``\\n`` terminated."""
    return (json.dumps(rec, ensure_ascii=False, allow_nan=False, separators=(", ", ": ")) + "\n").encode("utf-8")


def _write_jsonl(records: list[dict], fh: io.BufferedWriter) -> None:
    for rec in records:
        fh.write(_encode_jsonl_line(rec))


def _columns(records: list[dict]) -> list[str]:
    """Union of the records' keys in first-seen order."""
    return list(dict.fromkeys(k for r in records for k in r))


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if isinstance(v, float) else str(v)
    return json.dumps(v, ensure_ascii=False, allow_nan=False)


def _write_csv(records: list[dict], fh: io.BufferedWriter) -> None:
    cols = _columns(records)
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
    w = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(cols)
    for r in records:
        w.writerow([_csv_cell(r.get(c)) for c in cols])
    text.flush()
    text.detach()


def _arrow_table(records: list[dict]) -> Any:  # pyarrow.Table
    """Records → a pyarrow Table (columns in first-seen key order). A column whose values do not share one type
    (e.g. text in some records, lists in others) is stored as JSON text, and named in the table's metadata."""
    import pyarrow as pa

    cols = _columns(records)
    arrays, encoded = [], []
    for c in cols:
        vals = [r.get(c) for r in records]
        try:
            arrays.append(pa.array(vals))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            arrays.append(pa.array([None if v is None else v if isinstance(v, str)
                                    else json.dumps(v, ensure_ascii=False) for v in vals], type=pa.string()))
            encoded.append(c)
    meta = {b"curation.json_columns": json.dumps(encoded).encode()} if encoded else None
    return pa.Table.from_arrays(arrays, names=cols, metadata=meta)


def _write_parquet(records: list[dict], fh: io.BufferedWriter) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_arrow_table(records), fh, compression="zstd", write_statistics=False)


def _write_hf(records: list[dict], folder: Path) -> None:
    """``datasets.Dataset.save_to_disk`` with a fingerprint derived from the data (so the folder is deterministic)."""
    import datasets
    import pyarrow as pa

    table = _arrow_table(records)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    fp = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:16]
    ds = datasets.Dataset(table, fingerprint=fp)
    from datasets.utils import logging as ds_logging

    was_on = ds_logging.is_progress_bar_enabled()
    ds_logging.disable_progress_bar()
    try:
        ds.save_to_disk(str(folder), num_shards=1)
    finally:
        if was_on:
            ds_logging.enable_progress_bar()


_FILE_WRITERS: dict[str, Callable[[list[dict], io.BufferedWriter], None]] = {
    "jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}


def data_sha256(path: Path) -> str:
    """sha256 of a data file's bytes, or of an HF folder's file names and bytes in sorted order."""
    from curation.readers import file_sha256

    return file_sha256(path)


# ---------------------------------------------------------------------------------------------------- safe paths
@dataclass(frozen=True)
class _Targets:
    data: Path
    manifest: Path
    datasheet: Path


def export_paths(ws: Workspace, name: str, fmt: str) -> tuple[Path, Path, Path]:
    """(data, manifest, datasheet) paths of an export ``name`` in ``fmt`` (validated, nothing written).

    name: a plain file name; the format's extension is added when missing (``subset`` → ``subset.jsonl``).
    """
    t = _targets(ws, name, fmt)
    return t.data, t.manifest, t.datasheet


def _targets(ws: Workspace, name: str, fmt: str) -> _Targets:
    if fmt not in FORMATS:
        raise CurationError(f"unknown export format {fmt!r}; formats are {list(FORMATS)}")
    raw = str(name)
    if not raw or os.path.isabs(raw) or "/" in raw or "\\" in raw or raw in (".", ".."):
        raise CurationError(f"export name {raw!r} is not a plain file name inside the export folder "
                            f"{ws.export_dir}; pass a name like 'subset_v1' (no folders, no '..', not absolute)")
    if not _NAME_RE.match(raw) or raw.startswith("."):
        raise CurationError(f"export name {raw!r} may only use letters, digits, '_', '-' and '.', must not start "
                            "with a dot and is at most 200 characters; pass a name like 'subset_v1'")
    ext = EXTENSIONS[fmt]
    stem = raw[: -len(ext)] if ext and raw.lower().endswith(ext) else raw
    if not stem:
        raise CurationError(f"export name {raw!r} is only an extension; pass a name like 'subset_v1'")
    base = ws.export_dir.resolve()
    data = base / f"{stem}{ext}"
    t = _Targets(data=data, manifest=base / f"{data.name}.manifest.json",
                 datasheet=base / f"{data.name}.datasheet.html")
    for p in (t.data, t.manifest, t.datasheet):
        if p.is_symlink():
            raise CurationError(f"{p} is a symbolic link; exports never write through links (it could point outside "
                                "the export folder); remove the link or pick another --name")
        if p.parent.resolve() != base or os.path.commonpath([base, p.resolve()]) != str(base):
            raise CurationError(f"export name {raw!r} resolves to {p.resolve()}, outside the export folder {base}; "
                                "pass a plain file name")
    return t


def _check_free(targets: Iterable[Path], overwrite: bool) -> None:
    for p in targets:
        if p.exists() and not overwrite:
            raise CurationError(f"{p} already exists; pick another --name or pass --overwrite to replace it")


def _umask() -> int:
    """The process umask, read without changing it (Linux: /proc/self/status), else set-and-restore."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    m = os.umask(0o022)
    os.umask(m)
    return m


def _stage_file(path: Path, write: Callable[[io.BufferedWriter], None]) -> Path:
    """Write a hidden temporary file beside ``path`` (fsynced) and return it; removed again if ``write`` fails.
    It gets the mode a plain ``open`` would give (0666 less the umask), not mkstemp's private 0600."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        _discard(Path(tmp))
        raise
    return Path(tmp)


def _stage_folder(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a hidden temporary folder beside ``path`` and return it; removed again if ``write`` fails."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private (0700); a folder made by mkdir is not
        write(tmp)
    except BaseException:
        _discard(tmp)
        raise
    return tmp


def _discard(tmp: Path) -> None:
    if tmp.is_dir() and not tmp.is_symlink():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _commit(tmp: Path, path: Path) -> None:
    """Move a staged file or folder to ``path`` atomically (``os.replace``; a folder: the old one is renamed aside,
    the new one renamed in, then the old one removed — the name never holds a partial folder)."""
    if tmp.is_dir():
        old: Path | None = None
        if path.exists():
            if not path.is_dir() or path.is_symlink():
                raise CurationError(f"{path} exists and is not a folder; pick another --name")
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.rmdir(old)
            os.rename(path, old)
        try:
            os.rename(tmp, path)
        except BaseException:
            if old is not None:
                os.rename(old, path)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return
    if path.is_dir() and not path.is_symlink():
        raise CurationError(f"{path} is a folder; pick another --name")
    os.replace(tmp, path)


def _stage_data(records: list[dict], fmt: str, path: Path) -> Path:
    """Write ``records`` as ``fmt`` to a staged temporary file/folder beside ``path``; returns it."""
    if fmt == "hf":
        return _stage_folder(path, lambda folder: _write_hf(records, folder))
    return _stage_file(path, lambda fh: _FILE_WRITERS[fmt](records, fh))


def _write_data(records: list[dict], fmt: str, path: Path) -> None:
    """Write ``records`` as ``fmt`` to ``path`` atomically (staged beside it, then moved into place)."""
    tmp = _stage_data(records, fmt, path)
    try:
        _commit(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


# ---------------------------------------------------------------------------------------------------- manifest
def _json_default(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _clean(v: Any) -> Any:
    """JSON-safe copy (NaN → None, JSON text columns parsed)."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, (np.floating,)):
        return _clean(float(v))
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (pd.Timestamp,)) or hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _maybe_json(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def _frame_records(df: pd.DataFrame, json_cols: Sequence[str] = ()) -> list[dict]:
    out = []
    for r in df.to_dict(orient="records"):
        for c in json_cols:
            if c in r:
                r[c] = _maybe_json(r[c])
        out.append(_clean(r))
    return out


def _ranking_info(ws: Workspace, ranking_key: str | None) -> dict:
    if ranking_key is None:
        return {"key": None, "method": None, "note": "no ranking: every row in ingest order"}
    df = ws.rankings()
    row = df[df["key"] == ranking_key]
    if row.empty:
        return {"key": ranking_key}
    r = row.iloc[0]
    stored = _maybe_json(r["params"]) or {}
    info: dict[str, Any] = {"key": ranking_key, "short_id": r.get("short_id"), "method": r["method"], "n": int(r["n"]),
                            "created_at": _clean(r["created_at"]), "stored_params": _clean(stored)}
    # run_selection stores its call (method parameters, seed, model, resolved inputs) in the ranking's params.
    for k in ("params", "seed", "model", "use_pins", "density_key"):
        if isinstance(stored, dict) and k in stored:
            info[k] = _clean(stored[k])
    m = re.search(r"seed=(-?\d+)\)?$", ranking_key)
    if "seed" not in info and m:
        info["seed"] = int(m.group(1))
    r_obj = ws.ranking(ranking_key)
    ids = ws.id_map()
    eid = pd.Series(ids["example_id"].to_numpy(object), index=ids["row_id"].to_numpy(np.int64))
    info["order_sha256"] = hashlib.sha256("\n".join(eid.reindex(r_obj.order).astype(str)).encode()).hexdigest()
    return info


def _counts(values: Iterable[Any]) -> dict[str, int]:
    c = Counter("(none)" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values)
    return dict(sorted(c.items()))


def build_manifest(ws: Workspace, sub: Subset, *, fmt: str, style: str, data_path: Path, data_sha: str,
                   kept_row_ids: list[int], skipped: dict[str, int], who: str, note: str | None,
                   datasheet_name: str | None, tokenizer: str | None = None) -> dict:
    """The manifest of one export of the resolved subset ``sub`` (JSON-able dict). Cost: O(n) over the pool."""
    from curation.embed import DEFAULT_MODEL

    spec = sub.spec
    ranking_key, label_column = spec.ranking, spec.label_column
    datasets = list(spec.datasets) if spec.datasets is not None else None
    subset = sub.row_ids
    pool = pool_frame(ws, datasets)
    labels = label_series(ws, pool, label_column) if label_column else pd.Series(dtype=object)
    sub_set = set(int(x) for x in subset)
    in_sub = pool["row_id"].isin(sub_set).to_numpy()
    kept = pool.set_index("row_id").loc[kept_row_ids] if kept_row_ids else pool.iloc[:0].set_index("row_id")
    ds = ws.datasets()
    by_ds = Counter(pool.loc[in_sub, "dataset"])
    sources = []
    for r in ds.to_dict(orient="records"):
        sources.append(_clean({
            "name": r["name"], "source": r["source"], "sha256": r["source_sha256"], "shape": r["shape"],
            "kind": r["kind"], "mapping": _maybe_json(r["mapping"]), "options": _maybe_json(r["options"]),
            "n_rows": int(r["n_rows"]), "n_in_subset": int(by_ds.get(r["name"], 0)),
            "ingested_at": r["ingested_at"]}))
    first_row = ws.examples(["row_id", "dataset"]).groupby("dataset")["row_id"].min().to_dict()
    sources.sort(key=lambda s: (first_row.get(s["name"], 1 << 62), s["name"]))
    rk = _ranking_info(ws, ranking_key)
    model = rk.get("model")
    models = ws.embedding_models()
    embedding = {"model": model or (DEFAULT_MODEL if DEFAULT_MODEL in models else (models[0] if models else None)),
                 "models_in_workspace": models}
    defs = ws.score_defs()
    graphs = ws.graphs()
    pins = ws.pins(as_of=spec.pins_as_of)
    notes = ws.notes()
    tags = ws.tags()
    pool_ids = set(pool["row_id"].tolist())
    ids_df = ws.examples(["row_id", "example_id"], row_ids=np.asarray(kept_row_ids, dtype=np.int64))
    eid = dict(zip(ids_df["row_id"].tolist(), ids_df["example_id"].tolist()))
    example_ids = [eid[r] for r in kept_row_ids]
    lab_kept = labels.reindex(kept_row_ids).tolist() if len(labels) else []
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "project": {"name": "curation", "version": __version__},
        "created_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "who": who,
        "note": note,
        "workspace": {"path": str(ws.path), "schema_version": ws.schema_version(), "n_examples": ws.n_examples()},
        "export": {"name": data_path.name, "format": fmt, "style": style, "sha256": data_sha,
                   "n_rows": len(kept_row_ids), "skipped_by_style": skipped, "order": "row_id (ingest order)",
                   "datasheet": datasheet_name, "prompt_format": prompt_format(style, tokenizer)},
        "sources": sources,
        "embedding": embedding,
        "selection": {"ranking": rk, "budget": {"rows": sub.budget_rows, "tokens": sub.budget_tokens},
                      "quota": spec.quota, "label_column": label_column, "datasets": datasets,
                      "spec": spec.to_dict(),
                      "n_pool": int(len(pool)), "n_subset": int(len(subset)),
                      "subset_tokens": int(np.nansum(pool.loc[in_sub, "n_tokens"].to_numpy(np.float64)))},
        "scores": _frame_records(defs.drop(columns=[c for c in ("created_at",) if c in defs.columns]), ["params"]),
        "graphs": _frame_records(graphs, ["params"]),
        "pins": _frame_records(pins[pins["row_id"].isin(pool_ids)].drop(columns=["row_id"]))
        if len(pins) else [],
        "notes": _frame_records(notes[notes["row_id"].isin(pool_ids)].drop(columns=["row_id"]))
        if len(notes) else [],
        "tags": _frame_records(tags[tags["row_id"].isin(pool_ids)].drop(columns=["row_id"])) if len(tags) else [],
        "counts": {
            "pool_by_class": _counts(labels.tolist()) if len(labels) else {},
            "subset_by_class": _counts(labels[labels.index.isin(sub_set)].tolist()) if len(labels) else {},
            "exported_by_class": _counts(lab_kept),
            "exported_by_kind": _counts(kept["kind"].tolist()) if len(kept) else {},
            "exported_by_dataset": _counts(kept["dataset"].tolist()) if len(kept) else {},
        },
        "example_ids_sha256": hashlib.sha256("\n".join(example_ids).encode()).hexdigest(),
    }
    manifest = _clean(manifest)
    manifest["example_ids"] = [str(e) for e in example_ids]  # the file's rows, in order
    return manifest


# ---------------------------------------------------------------------------------------------------- export
def export_subset(ws: Workspace, spec: SubsetSpec | None = None, *, ranking_key: str | None = None,
                  budget_rows: int | None = None, budget_tokens: int | None = None, quota: str | dict | None = None,
                  fmt: str = "jsonl", style: str = "original", name: str, overwrite: bool = False, who: str = "cli",
                  datasheet: bool = True, label_column: str = "label",
                  datasets: Sequence[str] | str | None = None, note: str | None = None,
                  tokenizer: str | None = None, subset: str | SavedSubset | None = None) -> ExportResult:
    """Write the subset ``spec`` (:func:`curation.subset.resolve`) to ``ws.export_dir`` as ``fmt`` in ``style``,
    with a manifest (and, when ``datasheet``, the HTML datasheet) beside it, and record the export in the workspace.

    Instead of ``spec``, the keyword arguments ranking_key / budget_rows / budget_tokens / quota / label_column /
    datasets describe it (:meth:`SubsetSpec.from_budget`). Refuses names outside the export folder and existing
    files unless ``overwrite``. Rows in row_id order. who / note: recorded in the manifest. tokenizer: text styles
    (``dpo_text``) render prompts with its chat template (a tokenizer folder, .gguf file or hub id; None: the plain
    format of :mod:`curation.chat_format`). Cost: O(k) records in
    memory; ~1 s per 100k rows for JSONL (see benchmarks/bench_export.py), plus the datasheet (diagnostics report
    card, ~seconds). subset: a saved subset (``NAME[@VERSION]`` or a SavedSubset) instead of ``spec``; the manifest
    and datasheet then record its name, version, history and the diff from the version exported before.
    """
    saved = None
    if subset is not None:
        from curation.saved_subsets import load

        if spec is not None:
            raise CurationError("export_subset: pass either a saved subset or a SubsetSpec, not both")
        saved = subset if isinstance(subset, SavedSubset) else load(ws, subset)
        spec = saved.spec
    if style not in STYLES:
        raise CurationError(f"unknown export style {style!r}; styles are {list(STYLES)} "
                            f"({'; '.join(f'{k}: {v}' for k, v in STYLE_HELP.items())})")
    if spec is None:
        spec = SubsetSpec.from_budget(ranking_key, budget_rows=budget_rows, budget_tokens=budget_tokens,
                                      quota=quota, label_column=label_column, datasets=datasets)
    elif any(v is not None for v in (ranking_key, budget_rows, budget_tokens, quota, datasets)):
        raise CurationError("export_subset: pass either a SubsetSpec or ranking_key/budget/quota/datasets, not both")
    with ws.connect():  # one connection for the whole export (each open costs ~15-60 ms)
        return _export_subset(ws, spec, fmt=fmt, style=style, name=name, overwrite=overwrite, who=who,
                              datasheet=datasheet, note=note, tokenizer=tokenizer, saved=saved)


def _export_subset(ws: Workspace, spec: SubsetSpec, *, fmt: str, style: str, name: str, overwrite: bool, who: str,
                   datasheet: bool, note: str | None, tokenizer: str | None = None,
                   saved: SavedSubset | None = None) -> ExportResult:
    targets = _targets(ws, name, fmt)
    _template(style, tokenizer)  # a bad tokenizer fails before anything is resolved or written
    _check_free([targets.data, targets.manifest] + ([targets.datasheet] if datasheet else []), overwrite)
    sub = resolve(ws, spec)
    subset = sub.row_ids
    records, kept, skipped = styled_records(ws, subset, style, tokenizer=tokenizer)
    if not records:
        what = f" ({', '.join(f'{n} {k}' for k, n in skipped.items())} cannot be written as {style!r})" \
            if skipped else ""
        raise CurationError(f"the subset has no row to export{what}; raise the budget, check the pins, or pick a "
                            f"style that fits the data ({'; '.join(f'{k}: {v}' for k, v in STYLE_HELP.items())})")
    ws.export_dir.mkdir(parents=True, exist_ok=True)
    # Stage everything beside its target, then move into place: a failure anywhere leaves no partial export.
    staged: list[tuple[Path, Path]] = []
    try:
        staged.append((_stage_data(records, fmt, targets.data), targets.data))
        del records
        sha = data_sha256(staged[0][0])
        manifest = build_manifest(ws, sub, fmt=fmt, style=style, data_path=targets.data, data_sha=sha,
                                  kept_row_ids=kept, skipped=skipped, who=who, note=note,
                                  datasheet_name=targets.datasheet.name if datasheet else None, tokenizer=tokenizer)
        if saved is not None:
            from curation.saved_subsets import manifest_section

            manifest["subset"] = _clean(manifest_section(ws, saved))
        if datasheet:
            from curation.datasheet import render_datasheet

            page = render_datasheet(ws, manifest, subset_row_ids=subset, exported_row_ids=kept).encode("utf-8")
            staged.append((_stage_file(targets.datasheet, lambda fh: fh.write(page)), targets.datasheet))
        text = json.dumps(manifest, indent=2, ensure_ascii=False, default=_json_default) + "\n"
        staged.append((_stage_file(targets.manifest, lambda fh: fh.write(text.encode("utf-8"))), targets.manifest))
        for tmp, target in staged:  # data first, manifest last
            _commit(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            if tmp.exists():
                _discard(tmp)
        raise
    ds_path = targets.datasheet if datasheet else None
    small = {k: v for k, v in manifest.items() if k != "example_ids"}
    export_id = ws.record_export(str(targets.data), fmt, len(kept), json.loads(json.dumps(small, default=_json_default)))
    return ExportResult(path=targets.data, manifest_path=targets.manifest, datasheet_path=ds_path, n_rows=len(kept),
                        sha256=sha, skipped=skipped, export_id=export_id)


# ---------------------------------------------------------------------------------------------------- reproduce
def load_manifest(path: str | os.PathLike[str]) -> dict:
    p = Path(path)
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CurationError(f"manifest {p} not found; pass the .manifest.json written beside an export") from None
    except ValueError as exc:
        raise CurationError(f"manifest {p} is not valid JSON ({exc}); pass the .manifest.json written beside an "
                            "export") from exc
    if not isinstance(m, dict) or m.get("manifest_version") is None or "export" not in m:
        raise CurationError(f"{p} is not an export manifest (no manifest_version/export); pass the "
                            ".manifest.json written beside an export")
    if int(m["manifest_version"]) > MANIFEST_VERSION:
        raise CurationError(f"manifest {p} has version {m['manifest_version']}, newer than this code "
                            f"({MANIFEST_VERSION}); upgrade the project")
    return m


def _reingest(ws: Workspace, sources: list[dict], log: Callable[[str], None]) -> None:
    from curation.ingest import ingest_file
    from curation.readers import file_sha256

    for s in sources:
        src = s["source"]
        local = Path(src).exists()
        if s.get("sha256"):
            if not local:
                raise CurationError(f"source {src} of dataset {s['name']!r} is missing; reproduce needs the same "
                                    "input files at the same paths")
            got = file_sha256(src)
            if got != s["sha256"]:
                raise CurationError(f"source {src} of dataset {s['name']!r} changed since the export (sha256 "
                                    f"{got[:16]}… ≠ {s['sha256'][:16]}…); reproduce needs the same inputs")
        else:
            log(f"{s['name']}: source {src} has no recorded sha256 (a hub dataset?); it is read again unchecked")
        opts = s.get("options") or {}
        mapping = {k: v for k, v in (s.get("mapping") or {}).items() if k != "shape" and v}
        rep = ingest_file(ws, src, name=s["name"], fmt=opts.get("format"), split=opts.get("split"),
                          shape=s.get("shape"), mapping=mapping, skip_bad=bool(opts.get("skip_bad", False)),
                          allow_empty=bool(opts.get("allow_empty", True)))
        log(rep.summary())
        if s.get("n_rows") is not None and rep.n_inserted + rep.n_present != int(s["n_rows"]):
            log(f"{s['name']}: {rep.n_inserted + rep.n_present} examples now, {s['n_rows']} at export time "
                "(the workspace had removed or extra rows)")


def _recompute_scores(ws: Workspace, keys: Sequence[str], manifest: dict, model: str,
                      log: Callable[[str], None]) -> None:
    """Recompute score columns ``keys`` in the fresh workspace: graph-derived ones through ``graph.analyze``
    (with the recorded k, method and seed), scorer ones through the scorer registry."""
    from curation import graph as graph_mod

    defs = {d["key"]: d for d in manifest.get("scores", [])}
    step_of = {"density": "density", "uniqueness": "uniqueness", "outlier": "uniqueness", "neardup": "dedup",
               "exactdup": "dedup", "cluster": "clusters"}
    steps = ["graph"] + sorted({step_of[n.split("_")[0]] for n in (k.split(":")[0] for k in keys)
                                if n in graph_mod.SCORE_DOCS and n.split("_")[0] in step_of})
    if len(steps) > 1:
        k, seed, method = _graph_params(manifest, model)
        log(f"recomputing neighbour-graph scores: {steps[1:]} (k={k}, method={method}, seed={seed})")
        graph_mod.analyze(ws, model=model, k=k, method=method, seed=seed, steps=tuple(steps))
    have = set(ws.score_defs()["key"])
    for key in keys:
        if key in have:
            continue
        d = defs.get(key)
        if d is None:
            raise CurationError(f"score {key!r} used by the ranking is not described in the manifest; "
                                "cannot recompute it")
        from curation.scorers import REGISTRY, get_scorer, run_scorer

        name = d.get("name") or key.split("(")[0]
        if name not in REGISTRY:
            raise CurationError(f"score {key!r} (name {name!r}) is not made by a registered scorer (imported scores "
                                "cannot be recomputed); reproduce needs scores the project can compute")
        params = {p: _maybe_json(v) for p, v in (d.get("params") or {}).items()}
        sc = get_scorer(name, **params)
        if sc.key() != key:
            raise CurationError(f"score {key!r}: rebuilding scorer {name!r} from the manifest gives key "
                                f"{sc.key()!r}; its parameters cannot be recovered (long values are hashed)")
        log(f"recomputing score {key}")
        run_scorer(ws, sc)


def _graph_params(manifest: dict, model: str, k: int | None = None) -> tuple[int, int, str]:
    """(k, seed, method) of the manifest's graph for ``model`` (with ``k`` neighbours when given)."""
    from curation.graph import DEFAULT_K

    for g in manifest.get("graphs", []):
        p = g.get("params") or {}
        gk = int(g.get("k") or p.get("k") or DEFAULT_K)
        if g.get("model") == model and (k is None or gk == k):
            return gk, int(p.get("seed", 0)), str(p.get("method") or "auto")
    return (k or DEFAULT_K), 0, "auto"


def _rerank(ws: Workspace, manifest: dict, log: Callable[[str], None]) -> tuple[str | None, bool]:
    """Recompute the manifest's ranking in ``ws``: (its key or None without a ranking, pins already applied)."""
    rk = manifest["selection"]["ranking"]
    if not rk.get("key"):
        return None, False
    stored = rk.get("stored_params") or {}
    method = stored.get("method") or rk.get("method") or rk["key"].split("(")[0]
    params = rk.get("params", stored.get("params"))
    if params is None:
        raise CurationError(f"the manifest's ranking {rk['key']!r} has no recorded parameters (it was not made by "
                            "run_selection), so it cannot be recomputed")
    seed = int(rk.get("seed", stored.get("seed", 0)))
    from curation.embed import DEFAULT_MODEL

    model = rk.get("model") or stored.get("model") or manifest["embedding"]["model"] or DEFAULT_MODEL
    use_pins = bool(stored.get("use_pins", False))
    from curation import graph as graph_mod
    from curation.select import get_selector, run_selection

    sel = get_selector(method, **params)
    score_keys = list(sel.score_keys()) if hasattr(sel, "score_keys") else []
    for extra in (stored.get("density_key"), getattr(sel, "weight_score", None)):
        if extra and extra not in score_keys:
            score_keys.append(extra)
    needs_emb = ("model" in stored or sel.wants_X() or sel.wants_graph()
                 or any(k.split(":")[0] in graph_mod.SCORE_DOCS for k in score_keys))
    if needs_emb:
        from curation.embed import embed_workspace

        log(embed_workspace(ws, model).summary())
    if score_keys:
        _recompute_scores(ws, score_keys, manifest, model, log)
    if sel.wants_graph():
        k, gseed, gmethod = _graph_params(manifest, model, int(getattr(sel, "k", graph_mod.DEFAULT_K)))
        graph_mod.build_graph(ws, model=model, k=k, method=gmethod, seed=gseed)
    if use_pins:
        _apply_pins(ws, manifest, log)
    log(f"recomputing ranking {method} {params} seed={seed}" + (" with pins" if use_pins else ""))
    ranking = run_selection(ws, method, params, seed=seed, model=model, use_pins=use_pins)
    if ranking.method != rk["key"]:
        log(f"note: the recomputed ranking's key is {ranking.method!r}, the manifest's {rk['key']!r} (the key "
            "holds digests of row ids and pins, which differ when the original workspace had removed rows or "
            "other pins when it ranked)")
    return ranking.method, use_pins


def _apply_pins(ws: Workspace, manifest: dict, log: Callable[[str], None]) -> None:
    pins = manifest.get("pins") or []
    for action in ("include", "exclude"):
        groups: dict[tuple[str, str | None], list[str]] = {}
        for p in pins:
            if p.get("pin") == action:
                groups.setdefault((p.get("who") or "reproduce", p.get("why")), []).append(p["example_id"])
        for (who, why), ex_ids in groups.items():
            ws.add_decisions(ex_ids, action, who=who, why=why)
    if pins:
        log(f"re-applied {len(pins)} pin(s) from the manifest")


def reproduce(manifest_path: str | os.PathLike[str], *, out_dir: str | os.PathLike[str] | None = None,
              log: Callable[[str], None] | None = None) -> ReproduceResult:
    """Rebuild an export from its manifest on the same inputs and compare bytes.

    Steps: a fresh workspace in ``out_dir`` (default: a new temporary folder), re-ingest every source in the
    original order with the same options (their sha256 must match), embed with the recorded model when the
    ranking needs it, recompute the scores and graph it needs and the ranking itself (same method, parameters and
    seed), re-apply the manifest's pins, export with the same format, style, budget, quota and datasets, and
    compare the data's sha256 with the manifest's. Cost: ingest + embed + selection of the whole pool (minutes
    for 100k rows on 2 cores).
    """
    manifest = load_manifest(manifest_path)
    msgs: list[str] = []

    def say(m: str) -> None:
        msgs.append(m)
        if log:
            log(m)

    if manifest["project"].get("version") != __version__:
        say(f"the export was made by curation {manifest['project'].get('version')}, this is {__version__}; "
            "bytes may differ where the code changed")
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="curation-reproduce-"))
    out.mkdir(parents=True, exist_ok=True)
    ws_path = out / "reproduce.duckdb"
    if ws_path.exists():
        raise CurationError(f"{ws_path} already exists; reproduce needs a fresh workspace, pass another --out")
    ws = Workspace(ws_path)
    _reingest(ws, manifest["sources"], say)
    sel = manifest["selection"]
    rk = sel["ranking"]
    new_key, pinned = _rerank(ws, manifest, say)
    ranking_identical = None
    if new_key is not None:
        r = ws.ranking(new_key)
        ids = ws.id_map()
        eid = pd.Series(ids["example_id"].to_numpy(object), index=ids["row_id"].to_numpy(np.int64))
        digest = hashlib.sha256("\n".join(eid.reindex(r.order).astype(str)).encode()).hexdigest()
        want = rk.get("order_sha256")
        ranking_identical = None if want is None else digest == want
        if ranking_identical is False:
            say("the recomputed ranking differs from the original one (the selector or its inputs, e.g. "
                "embeddings, are not deterministic); the subset may differ")
    if not pinned:
        _apply_pins(ws, manifest, say)
    exp = manifest["export"]
    # the budget as it was applied (a % budget resolved to rows); the pins are the ones re-applied above
    spec = SubsetSpec.from_budget(new_key, budget_rows=sel["budget"]["rows"], budget_tokens=sel["budget"]["tokens"],
                                  quota=sel.get("quota"), label_column=sel.get("label_column") or "label",
                                  datasets=sel.get("datasets"))
    pf = exp.get("prompt_format") or {}
    res = export_subset(ws, spec, fmt=exp["format"], style=exp["style"], name=exp["name"], overwrite=False,
                        who="reproduce", datasheet=False,
                        tokenizer=pf.get("tokenizer") if pf.get("kind") == "chat_template" else None)
    new_manifest = load_manifest(res.manifest_path)
    subset_identical = new_manifest.get("example_ids_sha256") == manifest.get("example_ids_sha256")
    if not subset_identical:
        old_ids, new_ids = manifest.get("example_ids") or [], new_manifest.get("example_ids") or []
        only_old, only_new = sorted(set(old_ids) - set(new_ids)), sorted(set(new_ids) - set(old_ids))
        say(f"the subset differs: {len(only_old)} example(s) only in the original (e.g. {only_old[:3]}), "
            f"{len(only_new)} only in the reproduction (e.g. {only_new[:3]})")
    identical = res.sha256 == exp["sha256"]
    say("identical bytes" if identical else f"bytes differ: expected sha256 {exp['sha256']}, got {res.sha256}")
    return ReproduceResult(identical=identical, expected_sha256=exp["sha256"], actual_sha256=res.sha256,
                           path=res.path, workspace_path=ws_path, ranking_identical=ranking_identical,
                           subset_identical=subset_identical, n_rows=res.n_rows, messages=msgs)


# ---------------------------------------------------------------------------------------------------- CLI
def _parse_quota(s: str | None) -> str | dict | None:
    if s is None:
        return None
    s = s.strip()
    if s in ("proportional", "balanced"):
        return s
    try:
        q = json.loads(s)
    except ValueError:
        raise CurationError(f"--quota {s!r}: use proportional, balanced, or JSON like "
                            '\'{"min": {"math": 50}, "max": {"coding": 200}}\'') from None
    if not isinstance(q, dict):
        raise CurationError(f"--quota {s!r}: JSON must be an object with min/max")
    return q


def _cmd_export(args: argparse.Namespace, ws: Workspace) -> int:
    who = args.who or os.environ.get("USER") or "cli"
    if args.subset:
        if args.ranking or args.budget is not None or args.budget_tokens is not None or args.quota or args.dataset:
            raise CurationError("--subset names the ranking, budget, quota and datasets; drop --ranking, --budget, "
                                "--budget-tokens, --quota and --dataset")
        res = export_subset(ws, subset=args.subset, fmt=args.format, style=args.style, name=args.name,
                            overwrite=args.overwrite, who=who, datasheet=not args.no_datasheet, note=args.note,
                            tokenizer=args.tokenizer)
        return _print_export(res)
    res = export_subset(ws, ranking_key=args.ranking, budget_rows=args.budget, budget_tokens=args.budget_tokens,
                        quota=_parse_quota(args.quota), fmt=args.format, style=args.style, name=args.name,
                        overwrite=args.overwrite, who=who, datasheet=not args.no_datasheet,
                        label_column=args.label_column, datasets=args.dataset or None, note=args.note,
                        tokenizer=args.tokenizer)
    return _print_export(res)


def _print_export(res: ExportResult) -> int:
    print(f"wrote {res.n_rows} rows to {res.path} (sha256 {res.sha256[:16]}…)")
    if res.skipped:
        print("left out (the style cannot express them): " + ", ".join(f"{n} {k}" for k, n in res.skipped.items()))
    print(f"manifest  {res.manifest_path}")
    if res.datasheet_path:
        print(f"datasheet {res.datasheet_path}")
    return 0


def _cmd_reproduce(args: argparse.Namespace, ws: Workspace) -> int:  # noqa: ARG001 - uses a fresh workspace
    res = reproduce(args.manifest, out_dir=args.out, log=lambda m: print(m, file=sys.stderr))
    print(res.summary())
    return 0 if res.identical else 1


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``export`` and ``reproduce``."""
    styles = "; ".join(f"{k}: {v}" for k, v in STYLE_HELP.items())
    e = sub.add_parser("export", help="write the current subset (ranking prefix + pins) with a manifest and datasheet",
                       description="Write the subset to the workspace's export folder as JSONL, Parquet, CSV or a "
                       f"Hugging Face dataset folder. Styles: {styles}.")
    e.add_argument("--subset", metavar="NAME[@VERSION]", default=None,
                   help="a saved subset (newest version, or @VERSION); the manifest records its name and version")
    e.add_argument("--ranking", default=None, help="ranking key (see `select`); default: every row in ingest order")
    e.add_argument("--budget", type=int, default=None, help="rows to keep (ranking prefix; pins count toward it)")
    e.add_argument("--budget-tokens", type=int, default=None, help="tokens to keep instead of rows")
    e.add_argument("--quota", default=None, help="per-class quota: proportional, balanced, or JSON min/max")
    e.add_argument("--label-column", default="label", help="class column for quotas and counts (default: label)")
    e.add_argument("--dataset", action="append", help="only rows of this dataset (repeatable)")
    e.add_argument("--format", choices=list(FORMATS), default="jsonl")
    e.add_argument("--style", choices=list(STYLES), default="original")
    e.add_argument("--name", required=True, help="file name inside the export folder (extension added)")
    e.add_argument("--overwrite", action="store_true", help="replace an existing export of that name")
    e.add_argument("--no-datasheet", action="store_true", help="skip the HTML datasheet")
    e.add_argument("--who", default=None, help="curator name for the manifest (default: $USER)")
    e.add_argument("--note", default=None, help="a note kept in the manifest and the datasheet")
    e.add_argument("--tokenizer", default=None, metavar="TOKENIZER",
                   help="dpo_text: render prompts with this tokenizer's chat template (a tokenizer folder, a .gguf "
                   "file or a hub id); default: the plain 'User:/Assistant:' format ending with 'Assistant:' and a "
                   "newline")
    e.set_defaults(func=_cmd_export)

    r = sub.add_parser("reproduce", help="rebuild an export from its manifest and compare the bytes",
                       description="Fresh workspace, same sources, same embedding, scores, ranking, pins and "
                       "budget; exits 0 when the bytes are identical, 1 when they differ.")
    r.add_argument("manifest", help="the .manifest.json beside an export")
    r.add_argument("--out", default=None, help="folder for the fresh workspace (default: a temporary folder)")
    r.set_defaults(func=_cmd_reproduce, needs_workspace=False)
