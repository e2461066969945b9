"""Preference-pair signals: for ``kind == "preference"`` examples only (NaN for every other kind).

* ``pref_length_gap``: (words(chosen) − words(rejected)) / (words(chosen) + words(rejected)), in [−1, 1]. Large
  positive values: the chosen answer wins by being longer, the pair teaches length bias.
* ``pref_embed_distance``: cosine distance between the chosen and rejected replies' embeddings, in [0, 2]. Near 0:
  the two answers say the same thing, the label carries little signal (or is noise).
* ``pref_conflict``: among pairs with the same prompt (whitespace and case normalised), the share of the *other*
  pairs whose preference contradicts this one (this pair's rejected reply is preferred, directly or through a
  chain, over its chosen reply). 0 = consistent, NaN when the prompt occurs in only one pair; a pair whose two
  replies are identical gets 1. Corpus-level.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from curation.core.keys import DEFAULT_MODEL
from curation.scorers.base import Scorer, _col

_WORD = re.compile(r"\w+", re.UNICODE)
_WS = re.compile(r"\s+")


def _pairs(batch: pd.DataFrame) -> list[tuple[int, str | None, str, str]]:
    """(position, prompt, chosen, rejected) of the preference examples of the batch."""
    kinds, p, c, r = _col(batch, "kind"), _col(batch, "prompt"), _col(batch, "chosen"), _col(batch, "rejected")
    return [(i, p[i], c[i], r[i]) for i in range(len(batch))
            if kinds[i] == "preference" and c[i] is not None and r[i] is not None]


class PrefLengthGap(Scorer):
    name = "pref_length_gap"
    higher_is_better = False
    description = ('Preference pairs: (words chosen - words rejected) / (sum), in [-1, 1]; high = the chosen reply '
                   'wins '
                   'by being longer (length bias). In HH-RLHF test pairs the chosen reply is longer in 51% and shorter '
                   'in 47%.')

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        """(n,) in [−1, 1]; NaN for non-preference examples or two empty replies."""
        out = np.full(len(batch), np.nan)
        for i, _, c, r in _pairs(batch):
            a, b = len(_WORD.findall(c)), len(_WORD.findall(r))
            if a + b:
                out[i] = (a - b) / (a + b)
        return out


class PrefEmbedDistance(Scorer):
    name = "pref_embed_distance"
    higher_is_better = True
    defaults = {"embed_model": DEFAULT_MODEL, "batch_size": 64}
    non_key_params = frozenset({"batch_size"})
    default_batch = 64      # 128 texts through the embedding model per call: a few seconds on a CPU
    description = ('Preference pairs: cosine distance between the chosen and rejected replies (all-MiniLM-L6-v2), in '
                   '[0, 2]; near 0 = near-identical answers, a weak or noisy label (HH-RLHF median 0.66). ~85 ms CPU '
                   'per pair; embeddings cached in the workspace.')

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._ws: Any = None

    def bind(self, ws: Any) -> None:
        self._ws = ws

    def _embed(self, texts: list[str]) -> np.ndarray:
        from curation.embedding import embed

        model, bs = str(self.params["embed_model"]), int(self.params["batch_size"])
        if self._ws is not None:
            return embed.embed_texts(self._ws, texts, model, batch_size=bs)
        return embed.encode_texts(texts, model, batch_size=bs)

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        """(n,) in [0, 2]; NaN for non-preference examples."""
        out = np.full(len(batch), np.nan)
        pairs = _pairs(batch)
        if not pairs:
            return out
        X = self._embed([c for _, _, c, _ in pairs] + [r for _, _, _, r in pairs])
        m = len(pairs)
        cos = np.einsum("ij,ij->i", X[:m], X[m:])
        out[[i for i, *_ in pairs]] = 1.0 - np.clip(cos, -1.0, 1.0)
        return out


def _norm(s: str | None) -> str:
    return _WS.sub(" ", (s or "").strip().lower())


class PrefConflict(Scorer):
    name = "pref_conflict"
    higher_is_better = False
    corpus_level = True
    description = ('Preference pairs sharing a prompt: share of the other pairs whose preference contradicts this one '
                   '(reversed or cyclic); 0 = consistent, NaN = prompt occurs once, identical replies = 1. HH-RLHF '
                   'test: 36 of 46 repeated-prompt pairs conflict.')

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        """(n,) in [0, 1]; NaN for non-preference examples and prompts that occur in one pair only."""
        out = np.full(len(batch), np.nan)
        groups: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        for i, p, c, r in _pairs(batch):
            groups[_norm(p)].append((i, _norm(c), _norm(r)))
        for members in groups.values():
            for i, c, r in members:
                if c == r:
                    out[i] = 1.0                      # identical replies: the label cannot be right
            if len(members) < 2:
                continue
            edges: dict[str, set[str]] = defaultdict(set)
            for _, c, r in members:
                if c != r:
                    edges[c].add(r)
            reach: dict[str, set[str]] = {}
            for node in {x for _, c, r in members for x in (c, r)}:
                seen, stack = set(), [node]
                while stack:
                    for nxt in edges.get(stack.pop(), ()):
                        if nxt not in seen:
                            seen.add(nxt)
                            stack.append(nxt)
                reach[node] = seen

            for i, c, r in members:
                if c == r:
                    continue
                # pair j contradicts pair i when its edge c2 -> r2 lies on a path r ~> c (a reversed preference
                # or a cycle through i); duplicates of i itself never do
                n_bad = sum(1 for j, c2, r2 in members if j != i and (c2, r2) != (c, r) and c2 != r2
                            and (c2 == r or c2 in reach[r]) and (r2 == c or c in reach[r2]))
                out[i] = n_bad / (len(members) - 1)
        return out
