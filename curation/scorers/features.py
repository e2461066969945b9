"""Cheap features of a (prompt, reply) pair for the learned quality scorers (:mod:`curation.scorers.learned`).

One row per (prompt, reply), four blocks, every one computable on CPU in well under a millisecond once the two
sentence embeddings exist:

* ``reply``: the reply's sentence embedding (default model all-MiniLM-L6-v2, L2-normalised, 384 numbers);
* ``inter``: prompt-reply interaction, the element-wise product of the two embeddings (384) and their cosine;
* ``text``: log word and character counts of the reply, log reply/prompt word ratio, and the text heuristics
  (repetition, non-alphabetic share, truncation, refusal, AI disclaimer, lexical diversity, prompt copy);
* ``ngrams``: hashed word 1-2-grams of the reply (2^13 buckets, L2-normalised; MurmurHash3, so no vocabulary is
  stored and the same text always lands in the same buckets).

The prompt embedding alone is not a feature: a Bradley-Terry head sees feature *differences* between two replies
to the same prompt, where a prompt-only term cancels. Embedded text: the last :data:`PROMPT_CHARS` characters of
the prompt (the latest turns of a conversation matter most; MiniLM reads ~256 tokens) and the first
:data:`REPLY_CHARS` characters of the reply. Embeddings are cached in the workspace by (model, text hash) through
:func:`curation.embed.embed_texts`, so a second training or scoring run embeds nothing.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

PROMPT_CHARS = 1500
REPLY_CHARS = 1500
N_HASH = 2 ** 13
FEATURE_VERSION = 1
TEXT_FEATURES = ("log_words", "log_chars", "log_ratio", "ngram_repetition", "non_alpha_share", "truncated",
                 "refusal", "ai_disclaimer", "lexical_diversity", "prompt_copy", "cosine")

_WORD = re.compile(r"\w+", re.UNICODE)

Embedder = Callable[[Sequence[str]], np.ndarray]


def prompt_text(p: str | None) -> str:
    """The part of a prompt that is embedded (its last PROMPT_CHARS characters)."""
    p = p or ""
    return p[-PROMPT_CHARS:]


def reply_text(r: str | None) -> str:
    """The part of a reply that is embedded (its first REPLY_CHARS characters)."""
    return (r or "")[:REPLY_CHARS]


def workspace_embedder(ws: object, model: str) -> Embedder:
    """Embeds through the workspace's (model, text hash) cache."""
    from curation import embed

    return lambda texts: embed.embed_texts(ws, list(texts), model)  # type: ignore[arg-type]


def plain_embedder(model: str) -> Embedder:
    """Embeds without a cache (for a fresh process without a workspace)."""
    from curation import embed

    return lambda texts: embed.encode_texts(list(texts), model)


def _heuristics(prompts: Sequence[str], replies: Sequence[str]) -> np.ndarray:
    import pandas as pd

    from curation.scorers.heuristics import HEURISTICS

    batch = pd.DataFrame({"kind": "sft", "prompt": list(prompts), "response": list(replies)})
    names = TEXT_FEATURES[3:10]
    by_name = {c.name: c for c in HEURISTICS}
    cols = [np.nan_to_num(by_name[n]().score(batch), nan=0.0) for n in names]
    return np.column_stack(cols) if cols else np.zeros((len(replies), 0))


def hashed_ngrams(replies: Sequence[str]) -> sp.csr_matrix:
    """(n, N_HASH) sparse, L2-normalised hashed word 1-2-gram counts of each reply."""
    from sklearn.feature_extraction.text import HashingVectorizer

    hv = HashingVectorizer(n_features=N_HASH, ngram_range=(1, 2), alternate_sign=False, norm="l2",
                           lowercase=True, token_pattern=r"(?u)\b\w+\b|[?!]")
    return hv.transform([reply_text(r) for r in replies]).tocsr().astype(np.float64)


def dense_features(P: np.ndarray, R: np.ndarray, prompts: Sequence[str], replies: Sequence[str]) -> np.ndarray:
    """(n, 2·d + len(TEXT_FEATURES)) dense block: reply embedding, prompt×reply product, text features."""
    n = len(replies)
    words = np.array([len(_WORD.findall(r or "")) for r in replies], dtype=np.float64)
    pwords = np.array([len(_WORD.findall(p or "")) for p in prompts], dtype=np.float64)
    chars = np.array([len(r or "") for r in replies], dtype=np.float64)
    cos = np.einsum("ij,ij->i", P, R).astype(np.float64) if n else np.zeros(0)
    text = np.column_stack([np.log1p(words), np.log1p(chars), np.log1p(words) - np.log1p(pwords),
                            _heuristics(prompts, replies), cos]) if n else np.zeros((0, len(TEXT_FEATURES)))
    return np.hstack([R.astype(np.float64), (P * R).astype(np.float64), text])


def build_features(prompts: Sequence[str | None], replies: Sequence[str | None], embedder: Embedder) -> sp.csr_matrix:
    """Feature matrix (n, n_features) of (prompt, reply) pairs; embeds the texts with ``embedder``."""
    prompts = [p or "" for p in prompts]
    replies = [r or "" for r in replies]
    if not replies:
        return sp.csr_matrix((0, 0))
    texts = [prompt_text(p) for p in prompts] + [reply_text(r) for r in replies]
    V = np.asarray(embedder(texts), dtype=np.float32)
    n = len(replies)
    P, R = V[:n], V[n:]
    D = dense_features(P, R, prompts, replies)
    return sp.hstack([sp.csr_matrix(D), hashed_ngrams(replies)], format="csr")


def feature_names(dim: int) -> list[str]:
    """Names of the columns of :func:`build_features` for embedding dimension ``dim``."""
    return ([f"reply[{i}]" for i in range(dim)] + [f"prompt*reply[{i}]" for i in range(dim)] + list(TEXT_FEATURES)
            + [f"ngram#{i}" for i in range(N_HASH)])


def n_features(dim: int) -> int:
    return 2 * dim + len(TEXT_FEATURES) + N_HASH


def safe_log(x: float) -> float:
    return math.log(max(x, 1e-12))
