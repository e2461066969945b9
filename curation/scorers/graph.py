"""Graph-derived scores as entries of the scorer registry: density, uniqueness and outliers, near and exact
duplicate groups, clusters.

They are not computed batch by batch like the quality scorers: each is written by one step of the analysis
pipeline over the whole k-NN graph (:func:`curation.workflows.analyze.analyze`), which :attr:`GraphScore.step`
names. Registering them beside the quality scorers gives one place that knows every stored score's name,
direction, meaning and how to recompute it (``reproduce`` loops over this registry). They are not offered as
quality scorers (:func:`curation.scorers.scorer_table` and the ``score`` command leave them out); scoring one
batch-wise is refused with the command that computes it.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.neighbours.graph import SCORE_DOCS
from curation.scorers.base import Scorer

STEP_SCORES: dict[str, tuple[str, ...]] = {
    "density": ("density_lsh", "density_knn", "density_ipw"),
    "uniqueness": ("uniqueness", "outlier"),
    "dedup": ("neardup_group", "neardup_size", "neardup_rep", "exactdup_group", "exactdup_size", "exactdup_rep"),
    "clusters": ("cluster",),
}
"""The analysis step (:data:`curation.workflows.analyze.ANALYZE_STEPS`) that writes each graph-derived score."""


class GraphScore(Scorer):
    """A score written by an analysis step over the neighbour graph. ``higher_is_better`` is None for group ids
    (clusters, duplicate groups); its key is built by the neighbour module that writes it
    (:func:`curation.core.keys.score_key` over the model and non-default parameters)."""

    step: ClassVar[str] = ""
    graph_derived: ClassVar[bool] = True
    corpus_level = True

    def __repr__(self) -> str:
        return f"<graph score {self.name} (analyze step {self.step})>"

    def key(self) -> str:
        raise CurationError(self._refusal())

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        raise CurationError(self._refusal())

    def _refusal(self) -> str:
        return (f"{self.name!r} is computed over the neighbour graph, not example by example; run `python -m "
                f"curation analyze --steps graph {self.step}`")


def _entry(name: str, step: str) -> type[GraphScore]:
    higher, meaning = SCORE_DOCS[name]
    attrs: dict[str, Any] = {"name": name, "higher_is_better": higher, "description": meaning, "step": step,
                             "__doc__": f"Graph-derived score {name!r} (analyze step {step!r})."}
    return type(f"GraphScore_{name}", (GraphScore,), attrs)


GRAPH_SCORES: tuple[type[GraphScore], ...] = tuple(
    _entry(name, step) for step, names in STEP_SCORES.items() for name in names)
assert {c.name for c in GRAPH_SCORES} == set(SCORE_DOCS), "every graph-derived score needs its analyze step"
