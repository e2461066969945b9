"""Cheap features of a (prompt, reply) pair for the learned quality scorers (:mod:`curation.scorers.learned`).

One row per (prompt, reply), dense blocks, every one computable on CPU in well under a millisecond once the two
sentence embeddings exist:

* ``reply``: the reply's sentence embedding (default model all-MiniLM-L6-v2, L2-normalised, 384 numbers);
* ``inter``: prompt-reply interaction, the element-wise product of the two embeddings (384);
* ``text``: log word and character counts of the reply, log reply/prompt word ratio, the text heuristics
  (repetition, non-alphabetic share, truncation, refusal, AI disclaimer, lexical diversity, prompt copy) and the
  prompt-reply cosine;
* ``plen``: the prompt embedding times the reply's centred log word count (384), so whether a longer reply is
  better can depend on what was asked (helpful requests reward detail, harmful ones reward a short refusal);
* ``gated`` (with a :class:`Gate`): ``g(prompt)`` times the reply embedding and times the text features, where
  ``g`` in [0, 1] is a logistic probe on the prompt embedding ("does this prompt look like a red-team / harmful
  request?", learned with the shipped head from which HH-RLHF tranche a training prompt came from). On a harmful
  prompt the better reply is the more careful one, which reverses "more compliant, longer = better"; the gated
  block lets the head learn that second direction instead of averaging the two away.

Hashed reply word n-grams were tried and dropped: no gain on held-out HH-RLHF tranches (benchmarks/RESULTS.md).
The prompt embedding alone is not a feature: a Bradley-Terry head sees feature *differences* between two replies
to the same prompt, where a prompt-only term (the gate alone, too) cancels. Embedded text: the last
:data:`PROMPT_CHARS` characters of the prompt (the latest turns of a conversation matter most; MiniLM reads ~256
tokens) and the first :data:`REPLY_CHARS` characters of the reply. Embeddings are cached in the workspace by
(model, text hash) through :func:`curation.embedding.embed.embed_texts`, so a second training or scoring run embeds
nothing.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

PROMPT_CHARS = 1500
REPLY_CHARS = 1500
FEATURE_VERSION = 2
LOG_WORDS_CENTRE = 3.5          # log1p(words) of a typical reply (~32 words); centres the plen block
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
    from curation.embedding import embed

    return lambda texts: embed.embed_texts(ws, list(texts), model)  # type: ignore[arg-type]


def plain_embedder(model: str) -> Embedder:
    """Embeds without a cache (for a fresh process without a workspace)."""
    from curation.embedding import embed

    return lambda texts: embed.encode_texts(list(texts), model)


def _heuristics(prompts: Sequence[str], replies: Sequence[str]) -> np.ndarray:
    import pandas as pd

    from curation.scorers.heuristics import HEURISTICS

    batch = pd.DataFrame({"kind": "sft", "prompt": list(prompts), "response": list(replies)})
    names = TEXT_FEATURES[3:10]
    by_name = {c.name: c for c in HEURISTICS}
    cols = [np.nan_to_num(by_name[n]().score(batch), nan=0.0) for n in names]
    return np.column_stack(cols) if cols else np.zeros((len(replies), 0))


@dataclass(frozen=True)
class Gate:
    """g(prompt) = sigmoid(P · w + b) on the prompt embedding P (numbers only; stored beside a head's weights)."""

    w: np.ndarray
    b: float

    def __call__(self, P: np.ndarray) -> np.ndarray:
        z = np.asarray(P, dtype=np.float64) @ np.asarray(self.w, dtype=np.float64) + float(self.b)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def dense_features(P: np.ndarray, R: np.ndarray, prompts: Sequence[str], replies: Sequence[str],
                   gate: Gate | np.ndarray | None = None) -> np.ndarray:
    """(n, n_features(d, gated)): reply embedding, prompt×reply product, text features, prompt×log length, and
    with ``gate`` (a :class:`Gate`, or its values per row) gate×reply embedding and gate×text features."""
    n = len(replies)
    words = np.array([len(_WORD.findall(r or "")) for r in replies], dtype=np.float64)
    pwords = np.array([len(_WORD.findall(p or "")) for p in prompts], dtype=np.float64)
    chars = np.array([len(r or "") for r in replies], dtype=np.float64)
    cos = np.einsum("ij,ij->i", P, R).astype(np.float64) if n else np.zeros(0)
    text = np.column_stack([np.log1p(words), np.log1p(chars), np.log1p(words) - np.log1p(pwords),
                            _heuristics(prompts, replies), cos]) if n else np.zeros((0, len(TEXT_FEATURES)))
    lw = np.log1p(words)[:, None] - LOG_WORDS_CENTRE
    blocks = [R.astype(np.float64), (P * R).astype(np.float64), text, P.astype(np.float64) * lw]
    if gate is not None:
        g = (gate(P) if isinstance(gate, Gate) else np.asarray(gate, dtype=np.float64))[:, None]
        blocks += [g * R.astype(np.float64), g * text]
    return np.hstack(blocks)


def build_features(prompts: Sequence[str | None], replies: Sequence[str | None], embedder: Embedder,
                   gate: Gate | np.ndarray | None = None) -> np.ndarray:
    """Feature matrix (n, n_features(d, gated)) of (prompt, reply) pairs; embeds the texts with ``embedder``."""
    prompts = [p or "" for p in prompts]
    replies = [r or "" for r in replies]
    if not replies:
        return np.zeros((0, 0))
    P, R = embed_pairs(prompts, replies, embedder)
    return dense_features(P, R, prompts, replies, gate)


def embed_pairs(prompts: Sequence[str], replies: Sequence[str], embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """(prompt embeddings, reply embeddings) of the embedded parts of the texts, in one embedder call."""
    texts = [prompt_text(p) for p in prompts] + [reply_text(r) for r in replies]
    V = np.asarray(embedder(texts), dtype=np.float32)
    return V[:len(prompts)], V[len(prompts):]


def feature_names(dim: int, gated: bool = False) -> list[str]:
    """Names of the columns of :func:`build_features` for embedding dimension ``dim``."""
    out = ([f"reply[{i}]" for i in range(dim)] + [f"prompt*reply[{i}]" for i in range(dim)] + list(TEXT_FEATURES)
           + [f"prompt*log_words[{i}]" for i in range(dim)])
    if gated:
        out += [f"gate*reply[{i}]" for i in range(dim)] + [f"gate*{t}" for t in TEXT_FEATURES]
    return out


def n_features(dim: int, gated: bool = False) -> int:
    return 3 * dim + len(TEXT_FEATURES) + ((dim + len(TEXT_FEATURES)) if gated else 0)


def _dim(n_cols: int, gated: bool) -> int:
    """The embedding dimension of a feature matrix of ``n_cols`` columns; ValueError when no layout fits."""
    nt = len(TEXT_FEATURES)
    dim = (n_cols - 2 * nt) // 4 if gated else (n_cols - nt) // 3
    if n_features(dim, gated) != n_cols:
        raise ValueError(f"{n_cols} columns is not a {'gated ' if gated else ''}feature matrix")
    return dim


def text_columns(n_cols: int, gated: bool) -> np.ndarray:
    """Indices of the text-feature columns (and gate × text) in a feature matrix of ``n_cols`` columns (the layout
    of :func:`dense_features`)."""
    nt = len(TEXT_FEATURES)
    dim = _dim(n_cols, gated)
    cols = np.arange(2 * dim, 2 * dim + nt)
    return np.concatenate([cols, np.arange(4 * dim + nt, 4 * dim + 2 * nt)]) if gated else cols


LENGTH_TEXT = ("log_words", "log_chars", "log_ratio")
"""The text features that are the reply's length (the first three of :data:`TEXT_FEATURES`)."""


def length_columns(n_cols: int, gated: bool) -> np.ndarray:
    """Indices of the columns that carry the reply's length in a feature matrix of ``n_cols`` columns (the layout
    of :func:`dense_features`): log words, log characters and log reply/prompt ratio, the prompt × log length block,
    and with a gate the gate × those three. A head with these weights set to 0 scores the rest of its features:
    the length-controlled score (:meth:`curation.scorers.learned.LinearHead.decision`)."""
    nt = len(TEXT_FEATURES)
    dim = _dim(n_cols, gated)
    k = len(LENGTH_TEXT)
    cols = [np.arange(2 * dim, 2 * dim + k), np.arange(2 * dim + nt, 3 * dim + nt)]
    if gated:
        cols.append(np.arange(4 * dim + nt, 4 * dim + nt + k))
    return np.concatenate(cols)
