"""Ingest: read a file, recognise its shape, normalise every record and store it in the workspace in one transaction.

Shapes recognised (first match wins; an explicit ``shape=`` or column mapping overrides detection):

===============  ===========================================================  ==========
shape            columns                                                      kind
===============  ===========================================================  ==========
hh_rlhf          chosen, rejected transcripts ("\\n\\nHuman: ... \\n\\nAssistant: ...")  preference
dpo              prompt, chosen, rejected (text or lists of chat messages)       preference
messages         messages: [{role, content}, ...] (OpenAI style)                chat
sharegpt         conversations: [{from, value}, ...]                            chat
dolly            instruction, context?, response, category?                     sft
alpaca           instruction, input?, output                                    sft
prompt_response  prompt/question/query + response/completion/answer             sft
prompt_only      instruction/prompt/question, or turns: [str, ...]              prompt
===============  ===========================================================  ==========

Every example keeps its original record (lossless), a stable id, its kind, the text that is embedded, a content
hash and a token count (WordPiece tokens of the all-MiniLM-L6-v2 tokenizer over all of the text fields, never
truncated: see :func:`count_tokens`).

A preference pair whose chosen reply equals its rejected one teaches nothing (the scorers treat it as a defect): it is
kept, counted in the report (``n_identical_pairs``) and shown by ``info``.

Stable ids: ``<dataset>/<id>`` when the records have an id column (``id``, ``example_id``, ``uid``, ``question_id``,
``prompt_id``; duplicates are an error), else ``<dataset>/<content hash[:16]>`` with ``~2``, ``~3``... for repeated
identical records. Re-ingesting the same file therefore adds nothing.
"""
from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from curation.core.disk import check_space, disk_error, is_full_disk
from curation.core.errors import IngestError
from curation.core.keys import default_model_path, text_hash
from curation.core.progress import Progress
from curation.ingest.readers import detect_format, file_sha256, read_records
from curation.store import Workspace

SHAPES = ("hh_rlhf", "dpo", "messages", "sharegpt", "dolly", "alpaca", "prompt_response", "prompt_only")
KIND_OF_SHAPE = {"hh_rlhf": "preference", "dpo": "preference", "messages": "chat", "sharegpt": "chat",
                 "dolly": "sft", "alpaca": "sft", "prompt_response": "sft", "prompt_only": "prompt"}
MAPPING_FIELDS = ("prompt", "input", "response", "chosen", "rejected", "messages", "label", "id")

ID_COLUMNS = ("id", "example_id", "uid", "question_id", "prompt_id")
LABEL_COLUMNS = ("category", "label", "class", "type", "task", "skill", "Skill", "tranche", "source")
PROMPT_COLUMNS = ("prompt", "question", "query", "instruction", "input_text", "user_input", "user_prompt", "text")
RESPONSE_COLUMNS = ("response", "completion", "answer", "output", "target")
MAX_PROBLEMS = 50
# Bytes a workspace needs per byte of text ingested, at most: the write-ahead log holds the rows uncompressed until
# the commit's checkpoint writes them (compressed) into the file. Checked against the free space before writing.
SPACE_FACTOR = 2.0

_HH_TURN = re.compile(r"\n\n(Human|Assistant):[ ]?")


@dataclass
class Mapping:
    """Which input columns feed which normalised fields. Only the ones the shape needs are set."""

    shape: str
    prompt: str | None = None
    input: str | None = None
    response: str | None = None
    chosen: str | None = None
    rejected: str | None = None
    messages: str | None = None
    label: str | None = None
    id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {k: getattr(self, k) for k in ("shape",) + MAPPING_FIELDS}


@dataclass
class IngestReport:
    dataset: str
    source: str
    shape: str
    kind: str
    mapping: dict
    n_read: int = 0
    n_inserted: int = 0
    n_present: int = 0
    n_skipped: int = 0
    problems: list[dict] = field(default_factory=list)
    n_empty_responses: int = 0
    n_identical_pairs: int = 0  # preference pairs whose chosen reply equals the rejected one
    duplicates: dict[str, int] = field(default_factory=dict)  # other dataset → rows of this one with its content

    def summary(self) -> str:
        s = (f"{self.dataset}: read {self.n_read} records ({self.shape}, {self.kind}); "
             f"added {self.n_inserted}, already present {self.n_present}")
        if self.n_skipped:
            s += f", skipped {self.n_skipped} bad records"
        if self.n_empty_responses:
            s += f", kept {self.n_empty_responses} with empty responses"
        if self.n_identical_pairs:
            s += (f"; warning: {self.n_identical_pairs} pairs with chosen == rejected (kept; they teach nothing, the "
                  "preference scorers flag them)")
        for other, n in self.duplicates.items():
            s += (f"; {n} rows duplicate content already in dataset {other} (kept; `dedup` groups exact duplicates, "
                  "pins or a dataset filter leave them out)")
        return s


# ---------------------------------------------------------------------------------------------------- detection
def detect_mapping(columns: Iterable[str], sample: list[dict], *, file: str = "input") -> Mapping:
    """Recognise the shape from the columns present (and, for preference pairs, the text of a sample record)."""
    cols = list(dict.fromkeys(columns))
    lower: dict[str, str] = {}
    for c in cols:  # exact names win over case-insensitive matches
        lower.setdefault(c.lower(), c)
    for c in cols:
        if c.lower() == c:
            lower[c] = c
    have = set(lower)

    def first(cands: Iterable[str]) -> str | None:
        return next((lower[c.lower()] for c in cands if c.lower() in have), None)

    def col(name: str) -> str | None:
        return lower.get(name)

    label = first(LABEL_COLUMNS)
    id_col = first(ID_COLUMNS)
    if {"chosen", "rejected"} <= have:
        chosen, rejected = col("chosen"), col("rejected")
        prompt = first(("prompt", "question", "instruction", "query"))
        if prompt:
            return Mapping("dpo", prompt=prompt, chosen=chosen, rejected=rejected, label=label, id=id_col)
        probe = next((r.get(chosen) for r in sample if isinstance(r.get(chosen), str)), "")
        if "Assistant:" in probe:
            return Mapping("hh_rlhf", chosen=chosen, rejected=rejected, label=label, id=id_col)
        if isinstance(next((r.get(chosen) for r in sample if r.get(chosen) is not None), None), list):
            return Mapping("dpo", prompt=None, chosen=chosen, rejected=rejected, label=label, id=id_col)
        raise IngestError(
            f"{file}: has chosen/rejected but no prompt column and the text is not an HH-RLHF transcript; "
            "pass --prompt-column")
    if "messages" in have:
        return Mapping("messages", messages=col("messages"), label=label, id=id_col)
    if "conversations" in have:
        return Mapping("sharegpt", messages=col("conversations"), label=label, id=id_col)
    if "instruction" in have and "response" in have:
        return Mapping("dolly", prompt=col("instruction"), input=col("context"), response=col("response"),
                       label=label, id=id_col)
    if "instruction" in have and "output" in have:
        return Mapping("alpaca", prompt=col("instruction"), input=col("input"), response=col("output"),
                       label=label, id=id_col)
    prompt = first(PROMPT_COLUMNS)
    response = first(RESPONSE_COLUMNS)
    if prompt and response:
        return Mapping("prompt_response", prompt=prompt, response=response, label=label, id=id_col)
    if prompt:
        return Mapping("prompt_only", prompt=prompt, label=label, id=id_col)
    if "turns" in have:
        return Mapping("prompt_only", prompt=col("turns"), label=label, id=id_col)
    raise IngestError(
        f"{file}: cannot recognise the shape from columns {cols}; expected e.g. instruction/input/output (Alpaca), "
        "instruction/context/response (Dolly), prompt/response, messages, conversations, prompt/chosen/rejected; "
        "pass --shape and the column options (--prompt-column, --response-column, ...)")


def resolve_mapping(columns: list[str], sample: list[dict], *, shape: str | None, overrides: dict | None,
                    file: str) -> Mapping:
    """Detected mapping, with ``shape`` and explicit column ``overrides`` applied and checked against the data."""
    overrides = {k: v for k, v in (overrides or {}).items() if v}
    bad_keys = [k for k in overrides if k not in MAPPING_FIELDS]
    if bad_keys:
        raise IngestError(f"unknown mapping field(s) {bad_keys}; use {list(MAPPING_FIELDS)}")
    if shape is not None and shape not in SHAPES:
        raise IngestError(f"unknown shape {shape!r}; use one of {list(SHAPES)}")
    try:
        m = detect_mapping(columns, sample, file=file)
    except IngestError:
        if shape is None:
            raise
        m = Mapping(shape)
    if shape is not None and shape != m.shape:
        m = Mapping(shape, label=m.label, id=m.id)
        defaults = {"hh_rlhf": {"chosen": "chosen", "rejected": "rejected"},
                    "dpo": {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"},
                    "messages": {"messages": "messages"}, "sharegpt": {"messages": "conversations"},
                    "dolly": {"prompt": "instruction", "input": "context", "response": "response"},
                    "alpaca": {"prompt": "instruction", "input": "input", "response": "output"},
                    "prompt_response": {"prompt": "prompt", "response": "response"},
                    "prompt_only": {"prompt": "prompt"}}[shape]
        for k, v in defaults.items():
            setattr(m, k, v if (v in columns or k not in ("input",)) else None)
    for k, v in overrides.items():
        setattr(m, k, v)
    have = set(columns)
    for k in MAPPING_FIELDS:
        col = getattr(m, k)
        if col is not None and col not in have:
            if k == "input" and k not in overrides:
                setattr(m, k, None)
                continue
            flag = f"--{k}-column"
            raise IngestError(f"column {col!r} not found in {file}; columns are {sorted(have)}; pass {flag}")
    required = {"hh_rlhf": ("chosen", "rejected"), "dpo": ("chosen", "rejected"), "messages": ("messages",),
                "sharegpt": ("messages",), "dolly": ("prompt", "response"), "alpaca": ("prompt", "response"),
                "prompt_response": ("prompt", "response"), "prompt_only": ("prompt",)}[m.shape]
    for k in required:
        if getattr(m, k) is None:
            raise IngestError(f"{file}: shape {m.shape} needs a {k} column; pass --{k}-column")
    return m


# ---------------------------------------------------------------------------------------------------- normalising
class FieldProblem(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _text(rec: dict, col: str | None, *, required: bool, allow_empty: bool = False) -> str | None:
    if col is None:
        return None
    if col not in rec or rec[col] is None or (isinstance(rec[col], float) and math.isnan(rec[col])):
        if required:
            raise FieldProblem(col, "is missing; every record needs it (or map another column to it)")
        return None
    v = rec[col]
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise FieldProblem(col, f"is {type(v).__name__}, expected text")
    if not isinstance(v, str):
        raise FieldProblem(col, f"is a number ({v!r}), expected text")
    if required and not allow_empty and not v.strip():
        raise FieldProblem(col, "is empty; fill it in, remove the record, or pass --skip-bad")
    return v


def _label(rec: dict, col: str | None) -> str | None:
    if col is None or rec.get(col) is None:
        return None
    v = rec[col]
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return str(v)


_ROLE = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "bot": "assistant",
         "chatgpt": "assistant", "model": "assistant", "system": "system", "tool": "tool", "function": "tool"}


def _messages(rec: dict, col: str, *, allow_empty: bool) -> list[dict]:
    v = rec.get(col)
    if v is None:
        raise FieldProblem(col, "is missing; every record needs a list of messages")
    if not isinstance(v, list) or not v:
        raise FieldProblem(col, f"is {type(v).__name__ if not isinstance(v, list) else 'an empty list'}, "
                                "expected a non-empty list of messages")
    out = []
    for j, m in enumerate(v):
        if not isinstance(m, dict):
            raise FieldProblem(f"{col}[{j}]", f"is {type(m).__name__}, expected an object with role and content")
        role = m.get("role", m.get("from"))
        content = m.get("content", m.get("value"))
        if not isinstance(role, str) or role.lower() not in _ROLE:
            raise FieldProblem(f"{col}[{j}].role", f"is {role!r}; expected one of user/assistant/system "
                                                   "(or ShareGPT human/gpt)")
        if isinstance(content, list):  # content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            raise FieldProblem(f"{col}[{j}].content", f"is {type(content).__name__}, expected text")
        out.append({"role": _ROLE[role.lower()], "content": content})
    if not any(m["role"] == "user" and m["content"].strip() for m in out):
        raise FieldProblem(col, "has no non-empty user message")
    if not allow_empty and out[-1]["role"] == "assistant" and not out[-1]["content"].strip():
        raise FieldProblem(f"{col}[{len(out) - 1}].content", "the final assistant message is empty; fill it in, remove "
                                                             "the record, or pass --skip-bad")
    return out


def render_messages(msgs: list[dict]) -> str:
    """A chat as plain text, one ``role: content`` block per message."""
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in msgs)


def split_hh_transcript(chosen: str, rejected: str) -> tuple[list[dict], str, str]:
    """Split two HH-RLHF transcripts into (shared prompt messages, chosen final reply, rejected final reply).

    The shared prompt is every turn up to the last ``Assistant:`` marker they have in common.
    """
    def turns(t: str) -> list[tuple[str, str]]:
        parts = _HH_TURN.split(t)
        if parts[0].strip():
            raise FieldProblem("chosen", "does not start with '\\n\\nHuman:'; not an HH-RLHF transcript")
        return [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]

    c, r = turns(chosen), turns(rejected)
    if not c or c[-1][0] != "Assistant":
        raise FieldProblem("chosen", "does not end with an Assistant turn")
    if not r or r[-1][0] != "Assistant":
        raise FieldProblem("rejected", "does not end with an Assistant turn")
    n = 0
    while n < min(len(c), len(r)) - 1 and c[n] == r[n]:
        n += 1
    if c[:n] != r[:n] or n == 0:
        raise FieldProblem("rejected", "shares no prompt with chosen; the two transcripts must start the same")
    # The responses are everything after the shared prefix (normally just the final assistant turn).
    prompt = [{"role": "user" if role == "Human" else "assistant", "content": text} for role, text in c[:n]]

    def tail(ts: list[tuple[str, str]]) -> str:
        rest = ts[n:]
        if len(rest) == 1:
            return rest[0][1]
        return "".join(f"\n\n{role}: {text}" for role, text in rest).lstrip("\n").split(": ", 1)[1]

    return prompt, tail(c), tail(r)


def normalise(rec: dict, m: Mapping, *, allow_empty: bool = False) -> dict[str, Any]:
    """One record → normalised fields (kind, prompt, response, chosen, rejected, messages, label). Raises
    FieldProblem."""
    kind = KIND_OF_SHAPE[m.shape]
    out: dict[str, Any] = {"kind": kind, "prompt": None, "response": None, "chosen": None, "rejected": None,
                           "messages": None, "label": _label(rec, m.label)}
    if m.shape == "hh_rlhf":
        chosen = _text(rec, m.chosen, required=True)
        rejected = _text(rec, m.rejected, required=True)
        msgs, out["chosen"], out["rejected"] = split_hh_transcript(chosen, rejected)
        out["messages"] = msgs
        out["prompt"] = msgs[0]["content"] if len(msgs) == 1 else render_messages(msgs)
        if not allow_empty:
            for f in ("chosen", "rejected"):
                if not out[f].strip():
                    raise FieldProblem(f, "final assistant reply is empty; fill it in, remove the record, or "
                                          "pass --skip-bad")
    elif m.shape == "dpo":
        if m.prompt is not None and isinstance(rec.get(m.prompt), list):
            msgs = _messages(rec, m.prompt, allow_empty=True)
            out["messages"], out["prompt"] = msgs, render_messages(msgs)
        elif m.prompt is not None:
            out["prompt"] = _text(rec, m.prompt, required=True)
        for f, col in (("chosen", m.chosen), ("rejected", m.rejected)):
            v = rec.get(col)
            if isinstance(v, list):
                msgs = _messages(rec, col, allow_empty=allow_empty) if m.prompt is None else None
                if msgs is None:
                    last = [x for x in v if isinstance(x, dict) and (x.get("role") or x.get("from")) in
                            ("assistant", "gpt")]
                    if not last or not isinstance(last[-1].get("content", last[-1].get("value")), str):
                        raise FieldProblem(col, "has no assistant message with text content")
                    out[f] = last[-1].get("content", last[-1].get("value"))
                else:
                    if msgs[-1]["role"] != "assistant":
                        raise FieldProblem(col, "does not end with an assistant message")
                    out[f] = msgs[-1]["content"]
                    if out["prompt"] is None:
                        out["messages"] = msgs[:-1]
                        out["prompt"] = render_messages(msgs[:-1])
            else:
                out[f] = _text(rec, col, required=True, allow_empty=allow_empty)
        if out["prompt"] is None or not out["prompt"].strip():
            raise FieldProblem(m.prompt or "chosen", "has no prompt text")
    elif m.shape in ("messages", "sharegpt"):
        msgs = _messages(rec, m.messages, allow_empty=allow_empty)
        out["messages"] = msgs
        last_a = max((i for i, x in enumerate(msgs) if x["role"] == "assistant"), default=None)
        if last_a is None:
            out["kind"] = "prompt"
            out["prompt"] = render_messages(msgs)
        else:
            out["prompt"] = render_messages(msgs[:last_a]) if last_a > 1 or msgs[0]["role"] != "user" \
                else msgs[0]["content"]
            out["response"] = msgs[last_a]["content"]
    elif m.shape == "prompt_only":
        v = rec.get(m.prompt)
        if isinstance(v, list):
            if not v or not all(isinstance(t, str) for t in v):
                raise FieldProblem(m.prompt, "expected a non-empty list of text turns")
            out["messages"] = [{"role": "user", "content": t} for t in v]
            out["prompt"] = v[0] if len(v) == 1 else "\n\n".join(v)
            if not out["prompt"].strip():
                raise FieldProblem(m.prompt, "is empty")
        else:
            out["prompt"] = _text(rec, m.prompt, required=True)
    else:  # sft shapes
        prompt = _text(rec, m.prompt, required=True)
        extra = _text(rec, m.input, required=False)
        out["prompt"] = f"{prompt}\n\n{extra}" if extra and extra.strip() else prompt
        out["response"] = _text(rec, m.response, required=True, allow_empty=allow_empty)
    return out


def embed_text_of(ex: dict[str, Any]) -> str:
    """The text that represents an example in embedding space."""
    if ex["kind"] == "preference":
        return f"{ex['prompt']}\n\n{ex['chosen']}"
    if ex["kind"] == "chat" and ex["messages"] and len(ex["messages"]) > 2:
        return render_messages(ex["messages"])
    if ex["response"] is not None:
        return f"{ex['prompt']}\n\n{ex['response']}"
    return ex["prompt"]


def training_text_of(ex: dict[str, Any]) -> str:
    """All the text an example contributes to training (token counts are of this)."""
    if ex["kind"] == "preference":
        return f"{ex['prompt']}\n{ex['chosen']}\n{ex['rejected']}"
    if ex["kind"] == "chat" and ex["messages"]:
        return "\n".join(m["content"] for m in ex["messages"])
    return f"{ex['prompt']}\n{ex['response'] or ''}"


def content_hash_of(ex: dict[str, Any]) -> str:
    return text_hash(json.dumps([ex["kind"], ex["prompt"], ex["response"], ex["chosen"], ex["rejected"],
                                 ex["messages"]],
                          ensure_ascii=False, separators=(",", ":")))


_TOKENIZER = None
WORD_PIECE_CHARS = 100  # WordPiece turns a word longer than this into one [UNK]; longer runs are counted in pieces
_LONG_RUN = re.compile(r"\S{%d,}" % (WORD_PIECE_CHARS + 1))
_PIECE = re.compile(r"\S{%d}" % WORD_PIECE_CHARS)


def _split_long_runs(text: str) -> str:
    """``text`` with a space after every 100 characters of a run of over 100 non-space characters."""
    return _LONG_RUN.sub(lambda m: _PIECE.sub(lambda p: p.group(0) + " ", m.group(0)), text)


def count_tokens(texts: list[str]) -> list[int]:
    """WordPiece token counts with the default embedding model's tokenizer (fast, Rust), over all of each text.

    Never truncated: truncation and padding are off, and a run of over 100 non-space characters (which WordPiece
    would count as a single [UNK] token: a 50M-character "word" would count as 1) is counted in 100-character
    pieces, so the count grows with the text (about 1 token per 2-5 characters of such a run; only texts whose
    encoding holds an [UNK] are searched for such runs). Cost: ~0.5 µs per character of text on one core."""
    global _TOKENIZER
    if _TOKENIZER is None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(Path(default_model_path()) / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        _TOKENIZER = tok
    encode = getattr(_TOKENIZER, "encode_batch_fast", _TOKENIZER.encode_batch)
    out: list[int] = []
    unk = _TOKENIZER.token_to_id("[UNK]")
    for s in range(0, len(texts), 8192):  # in chunks: an Encoding holds ~100 bytes per token (6 GB at 1M texts)
        part = texts[s: s + 8192]
        for t, e in zip(part, encode(part, add_special_tokens=False)):
            ids = e.ids
            if unk in ids and _LONG_RUN.search(t):  # only a text with an [UNK] can hold an over-long word
                ids = encode([_split_long_runs(t)], add_special_tokens=False)[0].ids
            out.append(len(ids))
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if hasattr(v, "tolist"):
        return _jsonable(v.tolist())
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


_TEXT_COLUMNS = ("prompt", "response", "chosen", "rejected", "messages", "embed_text", "record")


def dataset_name_for(path: str | os.PathLike[str]) -> str:
    p = Path(str(path).rstrip("/"))
    name = p.name
    for suf in (".gz",) + tuple(f".{x}" for x in ("jsonl", "ndjson", "json", "csv", "tsv", "parquet", "pq")):
        if name.lower().endswith(suf):
            name = name[: -len(suf)]
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", name) or "dataset"


# ---------------------------------------------------------------------------------------------------- ingest
def ingest_file(ws: Workspace, path: str | os.PathLike[str], *, name: str | None = None, fmt: str | None = None,
                split: str | None = None, shape: str | None = None, mapping: dict | None = None,
                skip_bad: bool = False, allow_empty: bool = True, max_uncompressed: int | str | None = None,
                progress: Progress | None = None) -> IngestReport:
    """Read ``path``, normalise every record and add the examples to ``ws`` in one transaction.

    mapping: explicit columns, keys among ``prompt, input, response, chosen, rejected, messages, label, id``.
    skip_bad: leave bad records out and report them (default: any bad record rejects the whole file, nothing is
    written). allow_empty: keep records whose *response* is empty (default: they are real defects the empty-response
    scorer flags and the curator prunes; False rejects them as bad records). An empty prompt is always bad.
    max_uncompressed: the most bytes a reader decompresses (bytes or a size like "4GiB"; default 2 GiB, see
    :func:`curation.ingest.readers.max_uncompressed_bytes`).
    Cost: O(n) memory for the file's records; ~10–20k records/s on this machine (tokenising dominates).
    """
    src = str(path)
    fname = Path(src).name
    dname = name or dataset_name_for(src)
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", dname):
        raise IngestError(f"dataset name {dname!r} may only use letters, digits, '_', '-' and '.'; pass --name")
    is_local = Path(src).exists()
    src_sha = file_sha256(src) if is_local else None
    options = {"skip_bad": skip_bad, "allow_empty": allow_empty, "split": split, "format": fmt or detect_format(src)}
    prev = ws.dataset(dname)
    if prev is not None and src_sha and prev["source_sha256"] == src_sha and json.loads(prev["options"] or "{}") == \
            options and shape in (None, prev["shape"]) and not any((mapping or {}).values()):
        # The very same file, read the same way: every record is already here (ids are content-derived).
        n = ws.n_examples(dname)
        return IngestReport(dataset=dname, source=src, shape=prev["shape"], kind=prev["kind"],
                            mapping=json.loads(prev["mapping"] or "{}"), n_read=n, n_present=n)
    problems: list[dict] | None = [] if skip_bad else None
    records = list(read_records(src, fmt=fmt, split=split, problems=problems, max_uncompressed=max_uncompressed))
    problems = problems or []
    if not records:
        if problems:
            raise IngestError(f"{fname}: no valid record (all {len(problems)} bad, first: line {problems[0]['line']}: "
                              f"{problems[0]['message']})", problems)
        raise IngestError(f"{fname}: the file is empty (no records); nothing was ingested")
    columns = list(dict.fromkeys(k for _, r in records[:1000] for k in r))
    m = resolve_mapping(columns, [r for _, r in records[:50]], shape=shape, overrides=mapping, file=fname)

    rows: list[dict[str, Any]] = []
    n_empty = n_same = 0
    for line, rec in records:
        try:
            ex = normalise(rec, m, allow_empty=allow_empty)
        except FieldProblem as fp:
            problems.append({"file": fname, "line": line, "field": fp.field, "message": fp.message})
            if not skip_bad and len(problems) >= MAX_PROBLEMS:
                break
            continue
        if (ex["response"] is not None and not ex["response"].strip()) or (
                ex["kind"] == "preference" and not (ex["chosen"].strip() and ex["rejected"].strip())):
            n_empty += 1
        if ex["kind"] == "preference" and ex["chosen"] == ex["rejected"]:
            n_same += 1
        ex["source_line"] = line
        ex["_id"] = rec.get(m.id) if m.id else None
        ex["record"] = rec
        rows.append(ex)
        if progress and len(rows) % 5000 == 0:
            progress(len(rows), len(records))
    if problems and not skip_bad:
        first = problems[0]
        where = f" field '{first['field']}'" if first["field"] else ""
        more = f" ({len(problems)} bad records{'+' if len(problems) >= MAX_PROBLEMS else ''} in all)" \
            if len(problems) > 1 else ""
        raise IngestError(f"{fname} line {first['line']}{where}: {first['message']}{more}; nothing was ingested "
                          "(fix the file, or pass --skip-bad to leave bad records out)", problems)

    # stable ids
    if m.id:
        seen: dict[str, int] = {}
        dups = []
        for ex in rows:
            raw = ex["_id"]
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                problems.append({"file": fname, "line": ex["source_line"], "field": m.id, "message": "id is empty"})
                continue
            key = str(raw)
            if key in seen:
                dups.append((key, seen[key], ex["source_line"]))
            else:
                seen[key] = ex["source_line"]
            ex["example_id"] = f"{dname}/{key}"
        if dups or (problems and not skip_bad):
            if dups:
                k, a, b = dups[0]
                raise IngestError(
                    f"{fname} line {b} field '{m.id}': duplicate id {k!r} (first on line {a}; {len(dups)} duplicate "
                    f"ids in all); ids must be unique — fix them, or pass --id-column '' to let the tool assign ids",
                    [{"file": fname, "line": b, "field": m.id, "message": f"duplicate id {k!r}"} for k, _, b in dups])
            first = problems[0]
            raise IngestError(f"{fname} line {first['line']} field '{m.id}': {first['message']}; nothing was ingested")
        rows = [ex for ex in rows if "example_id" in ex]
    for ex in rows:
        ex["embed_text"] = embed_text_of(ex)
        ex["text_hash"] = text_hash(ex["embed_text"])
        ex["content_hash"] = content_hash_of(ex)
    if not m.id:
        occ: Counter[str] = Counter()
        for ex in rows:
            occ[ex["content_hash"]] += 1
            n = occ[ex["content_hash"]]
            ex["example_id"] = f"{dname}/{ex['content_hash'][:16]}" + (f"~{n}" if n > 1 else "")
    n_tokens = count_tokens([training_text_of(ex) for ex in rows]) if rows else []
    df = pd.DataFrame({
        "example_id": [ex["example_id"] for ex in rows],
        "dataset": dname,
        "source_line": [ex["source_line"] for ex in rows],
        "kind": [ex["kind"] for ex in rows],
        "prompt": [ex["prompt"] for ex in rows],
        "response": [ex["response"] for ex in rows],
        "chosen": [ex["chosen"] for ex in rows],
        "rejected": [ex["rejected"] for ex in rows],
        "messages": [json.dumps(ex["messages"], ensure_ascii=False) if ex["messages"] is not None else None
                     for ex in rows],
        "label": [ex["label"] for ex in rows],
        "embed_text": [ex["embed_text"] for ex in rows],
        "text_hash": [ex["text_hash"] for ex in rows],
        "content_hash": [ex["content_hash"] for ex in rows],
        "n_tokens": n_tokens,
        "record": [json.dumps(_jsonable(ex["record"]), ensure_ascii=False, allow_nan=False) for ex in rows],
    })
    kinds = sorted(set(df["kind"]))
    report = IngestReport(dataset=dname, source=src, shape=m.shape, kind="/".join(kinds), mapping=m.as_dict(),
                          n_read=len(records) + (len(problems) if skip_bad else 0), n_skipped=len(problems),
                          problems=problems, n_empty_responses=n_empty, n_identical_pairs=n_same)
    if not len(df):
        raise IngestError(f"{fname}: no valid record left after skipping {len(problems)} bad ones", problems)
    needed = int(SPACE_FACTOR * sum(len(v) for c in _TEXT_COLUMNS for v in df[c] if isinstance(v, str))) + (1 << 20)
    check_space(ws.path, needed, f"ingesting {fname} into {ws.path.name}")
    try:
        report.n_inserted, report.n_present = ws.add_examples(
            {"name": dname, "source": str(Path(src).resolve()) if is_local else src, "source_sha256": src_sha,
             "shape": m.shape, "kind": report.kind, "mapping": m.as_dict(), "options": options}, df)
    except Exception as exc:
        if not is_full_disk(exc):
            raise
        ws.drop_empty_wal()
        raise IngestError(str(disk_error(exc, ws.path, needed, what=f"ingesting {fname}"))
                          + "; the workspace is as it was before") from exc
    if report.n_inserted:
        dup = ws.duplicate_content(dname)
        report.duplicates = dict(zip(dup["duplicates_of"], dup["n"].astype(int).tolist()))
    if progress:
        progress(len(records), len(records))
    return report
