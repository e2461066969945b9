"""Similarity bookkeeping: keeps accidental near-duplicates and over-used template variants out of the clean
records."""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain

from .common import Rng, Sample
from .families import _sample

_TOKEN_RE = re.compile(r"[a-z0-9]+")
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+")


def _shingles(text: str, k: int = 4) -> set[str]:
    """Lower-cased word k-gram shingles of ``text`` (punctuation ignored)."""
    toks = _TOKEN_RE.findall(text.lower())
    if len(toks) < k:
        return {" ".join(toks)} if toks else set()
    return {" ".join(toks[i:i + k]) for i in range(len(toks) - k + 1)}


class _SimilarityIndex:
    """Inverted index over word shingles used to reject near-identical samples.

    Template-generated text naturally produces pairs that differ in a single
    slot word; such pairs would look like unplanted near-duplicates, so the
    generator rejects candidates whose Jaccard similarity with any accepted
    record reaches ``threshold``.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.postings: dict[str, list[int]] = {}
        self.sizes: list[int] = []

    def max_similarity(self, sh: set[str]) -> float:
        """Highest Jaccard similarity between ``sh`` and any indexed record."""
        if not sh:
            return 0.0
        post = self.postings
        hits = Counter(chain.from_iterable([post[s] for s in sh if s in post]))
        best = 0.0
        n = len(sh)
        for doc, inter in hits.items():
            j = inter / (n + self.sizes[doc] - inter)
            if j > best:
                best = j
        return best

    def add(self, sh: set[str]) -> None:
        """Index a new record's shingles."""
        doc = len(self.sizes)
        self.sizes.append(len(sh))
        for s in sh:
            self.postings.setdefault(s, []).append(doc)


def _key(instruction: str, inp: str) -> str:
    """Normalised prompt key used to keep instructions unique."""
    return " ".join(_TOKEN_RE.findall((instruction + " " + inp).lower()))


#: How many SFT records may share one template variant (``Sample.key``), by key prefix; default 2.
_KEY_CAPS: dict[str, int] = {"habit": 6, "itinerary": 3, "sub": 3, "traveltips": 4, "symptom": 4, "activity": 4,
                             "plan": 3, "debug": 3}


class _Pool:
    """Draws fresh, mutually dissimilar samples for the SFT set."""

    def __init__(self, r: Rng, threshold: float = 0.6, max_tries: int = 60, key_cap: int = 2) -> None:
        self.r = r
        self.index = _SimilarityIndex(threshold)
        self.keys: set[str] = set()
        self.variants: Counter[tuple[str, str]] = Counter()
        self.max_tries = max_tries
        self.key_cap = key_cap
        self.fallbacks = 0

    def draw(self, category: str, *, want_prose: bool = False) -> Sample:
        """Return a sample whose prompt is new and whose text is not too similar to earlier ones."""
        best: tuple[float, Sample, set[str]] | None = None
        for _ in range(self.max_tries):
            s = _sample(self.r, category)
            k = _key(s.instruction, s.input)
            if k in self.keys:
                continue
            if want_prose and ("```" in s.output or len(s.output.split()) < 18):
                continue
            sh = _shingles(s.instruction + " " + s.input + " " + s.output)
            used = self.variants[(category, s.key)] if s.key else 0
            if s.key and used >= _KEY_CAPS.get(s.key.split(":", 1)[0], self.key_cap):
                sim = 1.0 + used / 100  # variant quota used up: only as a last resort, least-used first
            else:
                sim = self.index.max_similarity(sh)
            if sim < self.index.threshold:
                self._accept(category, s, sh)
                return s
            if best is None or sim < best[0]:
                best = (sim, s, sh)
        if best is None:  # pragma: no cover - extremely unlikely with the shipped templates
            raise RuntimeError(f"could not draw a unique sample for {category!r}")
        self.fallbacks += 1
        self._accept(category, best[1], best[2])
        return best[1]

    def _accept(self, category: str, s: Sample, sh: set[str]) -> None:
        """Record an accepted sample's prompt key, variant and shingles."""
        self.keys.add(_key(s.instruction, s.input))
        if s.key:
            self.variants[(category, s.key)] += 1
        self.index.add(sh)
