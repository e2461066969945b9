"""Export the current subset as a training-ready file, with a manifest that reproduces it and a datasheet.

The subset
----------
:class:`curation.subsets.spec.SubsetSpec` names it (a ranking's prefix under a budget in rows, % or tokens, an optional
per-class quota, include pins in and exclude pins out, optionally restricted to some datasets) and
:func:`curation.subsets.spec.resolve` turns it into rows. ``ranking=None`` means "every example in ingest order" (useful
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
                 (prompt in the plain format of :mod:`curation.ingest.chat_format`, ending with
                 ``Assistant:`` and a newline, or in a tokenizer's chat template)
===============  ==========================================================================  =====================

Rows a style cannot express (a prompt-only example in ``messages``, an SFT example in ``dpo``) are left out and
counted in ``ExportResult.skipped`` and the manifest; an export that would be empty is refused. CSV stores nested
values (lists of messages, nested record fields) as JSON text.

Rows whose reply is empty or only whitespace (a preference pair's chosen or rejected reply, an SFT response, a chat's
last assistant turn) are written but counted (``ExportResult.n_empty_replies``, the manifest's
``export.empty_replies``, the datasheet, a CLI warning); ``drop_empty=True`` (``--drop-empty``) leaves them out.

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
``<file>.manifest.json`` (and ``<file>.datasheet.html``) beside the data file records the sources (path, sha256,
shape, mapping, options), schema
version, embedding model, the ranking (selector, parameters, seed, stored parameters), score and graph definitions,
budget, quota, pins and notes with who/when, counts per class, the project version and the sha256 of the data.
:func:`reproduce` rebuilds everything in a fresh workspace from the sources and compares the bytes.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curation import __version__
from curation.core.disk import check_space, disk_error
from curation.core.errors import CurationError
from curation.subsets.saved import SavedSubset
from curation.store import Workspace
from curation.subsets.spec import Subset, SubsetSpec, label_series, pool_frame, resolve

FORMATS = ("jsonl", "parquet", "csv", "hf")
STYLES = ("original", "messages", "sft_chosen", "dpo", "dpo_text")
TEXT_STYLES = ("dpo_text",)  # styles whose prompt is one string (rendered by curation.ingest.chat_format)
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
    n_empty_replies: int = 0  # rows of the subset (in a kind the style takes) whose reply is empty
    dropped_empty: int = 0    # of those, left out (drop_empty)


# ---------------------------------------------------------------------------------------------------- the subset
def subset_row_ids(ws: Workspace, *, ranking_key: str | None, budget_rows: int | None = None,
                   budget_tokens: int | None = None, quota: str | dict | None = None, label_column: str = "label",
                   datasets: Sequence[str] | str | None = None) -> np.ndarray:
    """The subset of these arguments: (k,) int64 row ids, include pins first, then ranking order.

    = :func:`curation.subsets.spec.resolve` of the :class:`~curation.subsets.spec.SubsetSpec` they describe (the ranking
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
    ``dpo_text``, a :class:`curation.ingest.chat_format.ChatTemplate` (None: the plain format of
    :mod:`curation.ingest.chat_format`)."""
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
        from curation.ingest.chat_format import plain_prompt, plain_reply

        turns = _prompt_turns(row)
        if template is not None:
            prompt, (chosen, rejected) = template.render(turns, [row["chosen"] or "", row["rejected"] or ""])
            return {"prompt": prompt, "chosen": chosen, "rejected": rejected}
        return {"prompt": plain_prompt(turns), "chosen": plain_reply(row["chosen"]),
                "rejected": plain_reply(row["rejected"])}
    raise CurationError(f"unknown export style {style!r}; styles are {list(STYLES)}")


def _blank(v: Any) -> bool:
    return not isinstance(v, str) or not v.strip()


def empty_reply(row: dict, style: str) -> bool:
    """True when the reply the style writes for this example is empty or whitespace: a preference pair's chosen or
    rejected reply (only the chosen one for the SFT styles), an SFT response, a chat's last assistant turn."""
    kind = row["kind"]
    if kind == "preference":
        return _blank(row.get("chosen")) or (style not in ("messages", "sft_chosen") and _blank(row.get("rejected")))
    if kind == "sft":
        return _blank(row.get("response"))
    if kind == "chat":
        msgs = _loads(row.get("messages")) or []
        last = [m for m in msgs if isinstance(m, dict) and m.get("role") == "assistant"]
        return bool(last) and _blank(last[-1].get("content"))
    return False


def styled_records(ws: Workspace, row_ids: np.ndarray, style: str, *, chunk: int = 20_000,
                   tokenizer: str | None = None, drop_empty: bool = False,
                   empty: list[int] | None = None) -> tuple[list[dict], list[int], dict[str, int]]:
    """(records in row_id order, their row ids, skipped kind → count) for ``row_ids`` in ``style``.

    tokenizer: text styles only: render prompts with this tokenizer's chat template (None: the plain format).
    empty: when a list is given, the row ids whose reply is empty (:func:`empty_reply`) are appended to it;
    drop_empty: leave those rows out (they are still listed in ``empty``).

    Loads the examples in chunks of ``chunk`` row ids. O(k) memory for the k records.
    """
    if style not in STYLES:
        raise CurationError(f"unknown export style {style!r}; styles are {list(STYLES)}")
    template = _template(style, tokenizer)
    ids = np.unique(np.asarray(row_ids, dtype=np.int64))
    cols = (["row_id", "kind", "record", "response", "chosen", "rejected", "messages"] if style == "original"
            else [c for c in _EXPORT_COLUMNS if c != "record"])
    out: list[dict] = []
    kept: list[int] = []
    skipped: Counter[str] = Counter()
    for s in range(0, len(ids), chunk):
        df = ws.examples(cols, row_ids=ids[s:s + chunk])
        lists = [df[c].tolist() for c in cols]  # column lists: ~4x faster than DataFrame.to_dict on arrow strings
        for row in (dict(zip(cols, vals)) for vals in zip(*lists)):
            if row["kind"] not in STYLE_KINDS[style]:
                skipped[row["kind"]] += 1
                continue
            if (empty is not None or drop_empty) and empty_reply(row, style):
                if empty is not None:
                    empty.append(int(row["row_id"]))
                if drop_empty:
                    continue
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
    from curation.ingest.chat_format import chat_template

    return chat_template(str(tokenizer))


def prompt_format(style: str, tokenizer: str | None) -> dict | None:
    """How a style renders prompts as text (kept in the manifest): None for styles without text prompts."""
    if style not in TEXT_STYLES:
        return None
    from curation.ingest.chat_format import describe_plain

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
    from curation.ingest.readers import file_sha256

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


def estimate_bytes(records: list[dict], fmt: str) -> int:
    """About how many bytes ``records`` take written as ``fmt``: JSON size of up to 2,000 evenly spaced records,
    scaled to all, x1.25 (+ 1 MiB for the manifest and datasheet). Parquet (compressed) is over-estimated."""
    n = len(records)
    if not n:
        return 1 << 20
    step = max(1, n // 2000)
    sample = records[::step]
    size = sum(len(json.dumps(r, ensure_ascii=False, default=str)) for r in sample) * (n / len(sample))
    return int(size * 1.25) + (1 << 20)


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


def maybe_json(v: Any) -> Any:
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
                r[c] = maybe_json(r[c])
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
    stored = maybe_json(r["params"]) or {}
    info: dict[str, Any] = {"key": ranking_key, "short_id": r.get("short_id"), "method": r["method"],
                            "n": int(r["n"]),
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


def _empty_section(ws: Workspace, row_ids: Sequence[int], dropped: bool) -> dict:
    """The manifest's ``export.empty_replies``: n, dropped, and the first 100 example ids (ingest order)."""
    ids = sorted(int(r) for r in row_ids)[:100]
    eids = ws.examples(["row_id", "example_id"], row_ids=np.asarray(ids, dtype=np.int64)).set_index("row_id") \
        .reindex(ids)["example_id"].astype(str).tolist() if ids else []
    return {"n": len(row_ids), "dropped": bool(dropped), "example_ids": eids}


def build_manifest(ws: Workspace, sub: Subset, *, fmt: str, style: str, data_path: Path, data_sha: str,
                   kept_row_ids: list[int], skipped: dict[str, int], who: str, note: str | None,
                   datasheet_name: str | None, tokenizer: str | None = None,
                   empty_row_ids: Sequence[int] = (), drop_empty: bool = False) -> dict:
    """The manifest of one export of the resolved subset ``sub`` (JSON-able dict). Cost: O(n) over the pool."""
    from curation.embedding.embed import DEFAULT_MODEL

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
            "kind": r["kind"], "mapping": maybe_json(r["mapping"]), "options": maybe_json(r["options"]),
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
                   "datasheet": datasheet_name, "prompt_format": prompt_format(style, tokenizer),
                   "drop_empty": bool(drop_empty), "empty_replies": _empty_section(ws, empty_row_ids, drop_empty)},
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
                  tokenizer: str | None = None, subset: str | SavedSubset | None = None,
                  drop_empty: bool = False) -> ExportResult:
    """Write the subset ``spec`` (:func:`curation.subsets.spec.resolve`) to ``ws.export_dir`` as ``fmt`` in ``style``,
    with a manifest (and, when ``datasheet``, the HTML datasheet) beside it, and record the export in the workspace.

    Instead of ``spec``, the keyword arguments ranking_key / budget_rows / budget_tokens / quota / label_column /
    datasets describe it (:meth:`SubsetSpec.from_budget`). Refuses names outside the export folder and existing
    files unless ``overwrite``. Rows in row_id order. who / note: recorded in the manifest. tokenizer: text styles
    (``dpo_text``) render prompts with its chat template (a tokenizer folder, .gguf file or hub id; None: the plain
    format of :mod:`curation.ingest.chat_format`). Cost: O(k) records in
    memory; ~1 s per 100k rows for JSONL (see benchmarks/bench_export.py), plus the datasheet (diagnostics report
    card, ~seconds). subset: a saved subset (``NAME[@VERSION]`` or a SavedSubset) instead of ``spec``; the manifest
    and datasheet then record its name, version, history and the diff from the version exported before.
    drop_empty: leave out rows whose reply is empty (:func:`empty_reply`); either way they are counted in the result,
    the manifest and the datasheet.
    """
    saved = None
    if subset is not None:
        from curation.subsets.saved import load

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
                              datasheet=datasheet, note=note, tokenizer=tokenizer, saved=saved, drop_empty=drop_empty)


def _export_subset(ws: Workspace, spec: SubsetSpec, *, fmt: str, style: str, name: str, overwrite: bool, who: str,
                   datasheet: bool, note: str | None, tokenizer: str | None = None,
                   saved: SavedSubset | None = None, drop_empty: bool = False) -> ExportResult:
    targets = _targets(ws, name, fmt)
    _template(style, tokenizer)  # a bad tokenizer fails before anything is resolved or written
    _check_free([targets.data, targets.manifest] + ([targets.datasheet] if datasheet else []), overwrite)
    sub = resolve(ws, spec)
    subset = sub.row_ids
    empty: list[int] = []
    records, kept, skipped = styled_records(ws, subset, style, tokenizer=tokenizer, drop_empty=drop_empty,
                                            empty=empty)
    if not records:
        what = f" ({', '.join(f'{n} {k}' for k, n in skipped.items())} cannot be written as {style!r})" \
            if skipped else ""
        raise CurationError(f"the subset has no row to export{what}; raise the budget, check the pins, or pick a "
                            f"style that fits the data ({'; '.join(f'{k}: {v}' for k, v in STYLE_HELP.items())})")
    needed = estimate_bytes(records, fmt)
    check_space(ws.export_dir, needed, f"the export {targets.data.name}")
    try:
        ws.export_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise disk_error(exc, targets.data, needed) from exc
    # Stage everything beside its target, then move into place: a failure anywhere leaves no partial export.
    staged: list[tuple[Path, Path]] = []
    try:
        staged.append((_stage_data(records, fmt, targets.data), targets.data))
        del records
        sha = data_sha256(staged[0][0])
        manifest = build_manifest(ws, sub, fmt=fmt, style=style, data_path=targets.data, data_sha=sha,
                                  kept_row_ids=kept, skipped=skipped, who=who, note=note,
                                  datasheet_name=targets.datasheet.name if datasheet else None, tokenizer=tokenizer,
                                  empty_row_ids=empty, drop_empty=drop_empty)
        if saved is not None:
            from curation.subsets.saved import manifest_section

            manifest["subset"] = _clean(manifest_section(ws, saved))
        if datasheet:
            from curation.export.datasheet import render_datasheet

            page = render_datasheet(ws, manifest, subset_row_ids=subset, exported_row_ids=kept).encode("utf-8")
            staged.append((_stage_file(targets.datasheet, lambda fh: fh.write(page)), targets.datasheet))
        text = json.dumps(manifest, indent=2, ensure_ascii=False, default=_json_default) + "\n"
        staged.append((_stage_file(targets.manifest, lambda fh: fh.write(text.encode("utf-8"))), targets.manifest))
        for tmp, target in staged:  # data first, manifest last
            _commit(tmp, target)
    except BaseException as exc:
        for tmp, _ in staged:
            if tmp.exists():
                _discard(tmp)
        if isinstance(exc, OSError):
            raise disk_error(exc, targets.data, needed) from exc
        raise
    ds_path = targets.datasheet if datasheet else None
    small = {k: v for k, v in manifest.items() if k != "example_ids"}
    export_id = ws.record_export(str(targets.data), fmt, len(kept),
                                 json.loads(json.dumps(small, default=_json_default)))
    return ExportResult(path=targets.data, manifest_path=targets.manifest, datasheet_path=ds_path, n_rows=len(kept),
                        sha256=sha, skipped=skipped, export_id=export_id, n_empty_replies=len(empty),
                        dropped_empty=len(empty) if drop_empty else 0)


# ---------------------------------------------------------------------------------------------------- manifests on disk
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
