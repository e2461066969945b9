"""Concepts: teach the curator model one idea ("gives a medication dose", "refuses politely") from a few positive and
negative rows, review the rows it is least sure about, and keep its P(concept) as a column with its
cross-validated figure.

A concept NAME is two tags on rows (``concept:NAME`` positive, ``concept:NAME:not`` negative; tag decisions, so they
are logged and undoable), seeded from search hits, a saved search, pins or a map selection. Training runs the
curator model (:class:`curation.scorers.learned.CuratorModel`: logistic regression over the stored embeddings and
text features, CV by its own folds) on those tags only (pins are ignored), and stores P(concept) in [0, 1] under
``concept(concept=NAME,labels=HASH)`` with ``cv_accuracy``, ``cv_auc``, ``n_train`` and ``threshold`` 0.5 in its
params (the audit reads it as a risk slice: flagged at >= 0.5). Retraining replaces the concept's previous column.
Cost: seconds (one embeddings read, one small logistic fit, one prediction per embedded row).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import key_name, parse_key
from curation.scorers.learned import CuratorModel

CONCEPT_PREFIX = "concept:"


def concept_tags(name: str) -> tuple[str, str]:
    """(positive tag, negative tag) of concept ``name``."""
    if not name or any(c in name for c in " ,():"):
        raise CurationError(f"concept name {name!r} must be a word without spaces, commas, brackets or colons")
    return f"{CONCEPT_PREFIX}{name}", f"{CONCEPT_PREFIX}{name}:not"


class _TagsOnly:
    """A workspace seen without pins, so the curator model learns from the concept's tags alone."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    def pins(self, *args: Any, **kw: Any) -> pd.DataFrame:
        return pd.DataFrame({"example_id": [], "row_id": np.zeros(0, np.int64), "pin": [], "who": [], "at": [],
                             "why": []})

    def __getattr__(self, item: str) -> Any:
        return getattr(self._ws, item)


class ConceptModel(CuratorModel):
    """P(row belongs to the concept): the curator model trained on the concept's positive / negative tags."""

    name = "concept"
    slice: ClassVar[bool] = True
    description = ("P(row belongs to the concept), in [0, 1]: the curator model trained on the rows tagged "
                   "concept:NAME (positive) and concept:NAME:not (negative); its CV accuracy is its validity")
    defaults = {**CuratorModel.defaults, "concept": ""}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        pos, neg = concept_tags(str(self.params["concept"]))
        self.params["keep_tags"], self.params["drop_tags"] = pos, neg

    def key_params(self) -> dict[str, str]:
        out = super().key_params()
        out.pop("keep_tags", None)
        out.pop("drop_tags", None)
        return out

    def bind(self, ws: Any) -> None:
        try:
            super().bind(_TagsOnly(ws))
        except CurationError as exc:
            if "cannot train" not in str(exc):
                raise
            pos, neg = concept_tags(str(self.params["concept"]))
            tags = ws.tags()
            n_pos, n_neg = int((tags["tag"] == pos).sum()), int((tags["tag"] == neg).sum())
            raise CurationError(f"concept {self.params['concept']!r} needs at least one positive row (tag {pos}) and "
                                f"one negative row (tag {neg}); found {n_pos} positive and {n_neg} negative; add "
                                "some with `search concept NAME pos ROW...` / "
                                "`neg ROW...` or from the Search page") from exc
        self._ws = ws

    def record(self) -> dict[str, Any]:
        return {**super().record(), "concept": self.params["concept"], "threshold": 0.5}


def add_rows(ws: Any, name: str, row_ids: Sequence[int] | np.ndarray, *, positive: bool, who: str
             ) -> list[int]:  # Workspace
    """Tag ``row_ids`` as positive (or negative) examples of concept ``name`` (one undoable batch, see
    :func:`curation.search.actions.undo_last`); returns the new decision ids."""
    from curation.search import actions

    pos, neg = concept_tags(name)
    return actions.apply(ws, row_ids, "tag", who=who, value=pos if positive else neg, why=f"concept {name}")


def train_concept(ws: Any, name: str, *, progress: Any = None) -> dict[str, Any]:  # Workspace
    """Train concept ``name`` on its tags and store P(concept) for every embedded row (replacing the concept's
    previous column). Returns {"key", "cv_accuracy", "cv_auc", "n_train", "n_positive", "n_negative"}."""
    from curation.scorers.run import run_scorer

    sc = ConceptModel(concept=name)
    key = run_scorer(ws, sc, progress=progress)
    for old in concept_keys(ws, name):
        if old != key:
            ws.delete_score_column(old)
    rec = sc.record()
    pos, neg = concept_tags(name)
    tags = ws.tags()
    return {"key": key, "cv_accuracy": rec.get("cv_accuracy"), "cv_auc": rec.get("cv_auc"),
            "n_train": rec.get("n_train"), "n_positive": int((tags["tag"] == pos).sum()),
            "n_negative": int((tags["tag"] == neg).sum())}


def concept_keys(ws: Any, name: str) -> list[str]:  # Workspace
    """Stored column keys of concept ``name`` (normally one)."""
    defs = ws.score_defs()
    out = []
    for k in (defs["key"].tolist() if len(defs) else []):
        if key_name(k) == ConceptModel.name and parse_key(k)[1].get("concept") == name:
            out.append(k)
    return out


def proposals(ws: Any, name: str, n: int = 20) -> pd.DataFrame:  # Workspace
    """``n`` untagged rows to review next for concept ``name``: among the 5n rows the trained concept is least sure
    about (P closest to 0.5), a spread-out set (:func:`curation.scorers.learned.pick_proposals`), least sure first:
    row_id, example_id, p. Trains the concept (seconds)."""
    from curation.embedding.embed import model_key
    from curation.scorers.learned import pick_proposals

    sc = ConceptModel(concept=name)
    sc.bind(ws)
    rid, p = sc._cache                                                    # type: ignore[misc]
    pos, neg = concept_tags(name)
    tags = ws.tags()
    labelled = set(tags.loc[tags["tag"].isin([pos, neg]), "row_id"].astype(int))
    free = np.array([int(r) not in labelled for r in rid])
    erid, U = ws.embeddings(model_key(str(sc.params["embed_model"])))
    at_pos = pd.Series(np.arange(len(erid)), index=erid)
    lab_rows = [r for r in rid if int(r) in labelled]
    at = pick_proposals(p[free], U[at_pos.loc[rid[free]].to_numpy()], U[at_pos.loc[lab_rows].to_numpy()], n)
    at = at[np.lexsort((rid[free][at], np.abs(p[free][at] - 0.5)))]
    r = rid[free][at]
    ids = ws.examples(["row_id", "example_id"], row_ids=r).set_index("row_id")["example_id"]
    return pd.DataFrame({"row_id": r, "example_id": ids.reindex(r).to_numpy(), "p": p[free][at]})


def concepts(ws: Any) -> pd.DataFrame:  # Workspace
    """One row per concept (from its tags and columns): name, n_positive, n_negative, key, cv_accuracy, cv_auc."""
    import json

    tags = ws.tags()
    names: dict[str, dict[str, Any]] = {}
    for t, n in tags.loc[tags["tag"].str.startswith(CONCEPT_PREFIX), "tag"].value_counts().items():
        base = t[len(CONCEPT_PREFIX):]
        neg = base.endswith(":not")
        name = base[:-4] if neg else base
        d = names.setdefault(name, {"name": name, "n_positive": 0, "n_negative": 0})
        d["n_negative" if neg else "n_positive"] = int(n)
    defs = ws.score_defs()
    for r in (defs.itertuples() if len(defs) else []):
        if key_name(r.key) != ConceptModel.name:
            continue
        params = json.loads(r.params) if isinstance(r.params, str) else {}
        name = params.get("concept") or parse_key(r.key)[1].get("concept")
        d = names.setdefault(name, {"name": name, "n_positive": 0, "n_negative": 0})
        d.update({"key": r.key, "cv_accuracy": params.get("cv_accuracy"), "cv_auc": params.get("cv_auc")})
    return pd.DataFrame(list(names.values()), columns=["name", "n_positive", "n_negative", "key", "cv_accuracy",
                                                      "cv_auc"])
