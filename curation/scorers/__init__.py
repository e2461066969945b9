"""Per-example quality scores behind one registry and one output contract.

Every scorer writes one float per example under a stable key (name + non-default parameters), declares its
direction and uses NaN for "not applicable". Values are stored in the workspace, cached by (key, content hash),
computed in committed batches (resumable) with progress, and available from the CLI (``score``, ``scorers``,
``import-scores``).

>>> from curation.scorers import REGISTRY, get_scorer, run_scorer
>>> key = run_scorer(ws, get_scorer("ngram_repetition", n=4))        # doctest: +SKIP

Importing this package is cheap; torch/transformers load only when a model-based scorer first scores.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from curation.core.errors import CurationError
from curation.scorers.askllm import AskLLM
from curation.scorers.base import ModelScorer, Scorer
from curation.scorers.external import import_scores
from curation.scorers.graph import GRAPH_SCORES, GraphScore
from curation.scorers.harm import HARM_SCORERS
from curation.scorers.heuristics import HEURISTICS
from curation.scorers.ifd import IFD
from curation.scorers.judge import JUDGES
from curation.scorers.learned import CuratorModel, PrefHead, PrefHeadDefault
from curation.scorers.preference import PrefConflict, PrefEmbedDistance, PrefLengthGap
from curation.scorers.run import run_scorer, run_scorers
from curation.scorers.slices import SLICE_SCORERS

REGISTRY: dict[str, type[Scorer]] = {
    cls.name: cls for cls in (*HEURISTICS, PrefLengthGap, PrefEmbedDistance, PrefConflict, AskLLM, IFD,
                              PrefHeadDefault, PrefHead, CuratorModel, *JUDGES, *GRAPH_SCORES,
                              *HARM_SCORERS, *SLICE_SCORERS)
}
"""Every score the project computes: the quality scorers (scored batch by batch, :func:`run_scorer`) and the
graph-derived scores (:class:`~curation.scorers.graph.GraphScore`, written by an analysis step)."""


def is_graph_score(name: str) -> bool:
    """True when ``name`` is a graph-derived score (computed by its analysis step, not by :func:`run_scorer`)."""
    return bool(getattr(REGISTRY.get(name), "graph_derived", False))


def is_slice(name: str) -> bool:
    """True when ``name`` is a slice scorer (``slice = True``: a column the audit compares between subsets)."""
    return bool(getattr(REGISTRY.get(name), "slice", False))

GROUPS: dict[str, list[str]] = {
    "heuristics": [c.name for c in HEURISTICS],
    "preference": [PrefLengthGap.name, PrefEmbedDistance.name, PrefConflict.name],
    "model": [AskLLM.name, IFD.name],
    "learned": [PrefHeadDefault.name, PrefHead.name, CuratorModel.name],
    "cheap": [c.name for c in HEURISTICS] + [PrefLengthGap.name, PrefConflict.name],
    "judge": [c.name for c in JUDGES],
    "slices": [c.name for c in (*HARM_SCORERS, *SLICE_SCORERS)] + ["refusal"],
}


def register(cls: type[Scorer]) -> type[Scorer]:
    """Add a scorer class to :data:`REGISTRY` (usable as a decorator). Its ``name`` must be new."""
    if not cls.name or cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise CurationError(f"cannot register scorer {cls.__name__}: name {cls.name!r} is empty or taken")
    REGISTRY[cls.name] = cls
    return cls


def quality_scorers() -> list[str]:
    """The names of the quality scorers (sorted): the registry without the graph-derived scores."""
    return sorted(n for n in REGISTRY if not is_graph_score(n))


def get_scorer(name: str, **params: Any) -> Scorer:
    """An instance of the registered scorer ``name`` with ``params`` (None values mean "default")."""
    cls = REGISTRY.get(name)
    if cls is None:
        raise CurationError(f"unknown scorer {name!r}; available: {quality_scorers()} (groups: {sorted(GROUPS)})")
    return cls(**params)


def expand_names(names: Iterable[str | Scorer]) -> list[str | Scorer]:
    """Scorer names with group names (heuristics, preference, model, cheap) expanded, order kept, no repeats."""
    out: list[str | Scorer] = []
    for n in names:
        items = GROUPS[n] if isinstance(n, str) and n in GROUPS else [n]
        for it in items:
            if isinstance(it, str) and is_graph_score(it):
                raise CurationError(get_scorer(it)._refusal())  # type: ignore[attr-defined]
            if isinstance(it, str) and it not in REGISTRY:
                raise CurationError(f"unknown scorer {it!r}; available: {quality_scorers()} "
                                    f"(groups: {sorted(GROUPS)})")
            if it not in out:
                out.append(it)
    return out


def scorer_table() -> pd.DataFrame:
    """One row per registered scorer: name, higher_is_better, needs (model / embeddings / pairs / pins / corpus /
    -), validity (agreement with human preference, n, 95% interval; see :mod:`curation.scorers.validity`),
    parameters (defaults), description. For the dashboard's help and the ``scorers`` command."""
    from curation.scorers.harm import harm_label
    from curation.scorers.validity import label, validity

    rows = []
    for name, cls in REGISTRY.items():
        if is_graph_score(name):
            continue
        needs = "server" if name in GROUPS["judge"] else \
            "model" if cls.uses_model else \
            "embeddings" if name in (PrefEmbedDistance.name, *(c.name for c in HARM_SCORERS)) else \
            "pairs" if name == PrefHead.name else "pins" if name == CuratorModel.name else \
            "corpus" if cls.corpus_level else "-"
        v = validity(name)
        m = (v or {}).get("length", {}).get("matched") or {}
        lm = f"; length-matched {100 * m['agreement']:.1f}% of {m['n']:,}" if m.get("n") else ""
        rows.append({"name": name, "higher_is_better": cls.higher_is_better, "needs": needs,
                     "validity": label(v) + lm if v else ("its own CV accuracy" if name in (PrefHead.name,
                                                          CuratorModel.name) else harm_label(name) or "-"),
                     "parameters": {k: v for k, v in cls.defaults.items() if k != "api_key"},
                     "description": cls.description})
    return pd.DataFrame(rows)


__all__ = [
    "REGISTRY", "GROUPS", "Scorer", "ModelScorer", "GraphScore", "is_graph_score", "is_slice", "quality_scorers",
    "register",
    "get_scorer", "expand_names", "scorer_table", "run_scorer", "run_scorers", "import_scores",
]
