"""One entry point for every kind of search: words (BM25), pattern (substring / regular expression) and meaning
(embedding cosine), each returning row ids with a score."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curation.core.errors import CurationError
from curation.core.keys import DEFAULT_MODEL
from curation.store.search import search_columns

MODES = ("words", "pattern", "meaning", "filter")


@dataclass(frozen=True)
class SearchSpec:
    """What to search for. mode: words | pattern | meaning | filter (a SQL condition, :func:`filter_rows`).
    field: prompt | response | chosen | rejected | any
    (meaning searches the embedded text, whatever the field). regex / case_sensitive: pattern mode only.
    threshold: meaning mode's minimum cosine for a row to count as a match (None: every row is ranked; a saved
    meaning search needs one). model: the embedding model of meaning mode."""
    query: str
    mode: str = "words"
    field: str = "any"
    regex: bool = False
    case_sensitive: bool = False
    threshold: float | None = None
    model: str = DEFAULT_MODEL

    def check(self) -> SearchSpec:
        if self.mode not in MODES:
            raise CurationError(f"search mode {self.mode!r} is not one of {list(MODES)}; pass --mode "
                                "words|pattern|meaning|filter")
        search_columns(self.field)
        if not (self.query or "").strip():
            raise CurationError("the search query is empty; type a word, a phrase or a pattern")
        if self.threshold is not None and not -1.0 <= float(self.threshold) <= 1.0:
            raise CurationError(f"threshold {self.threshold} is not a cosine in [-1, 1]")
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "mode": self.mode, "field": self.field, "regex": self.regex,
                "case_sensitive": self.case_sensitive, "threshold": self.threshold, "model": self.model}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchSpec:
        return cls(**{k: d[k] for k in ("query", "mode", "field", "regex", "case_sensitive", "threshold", "model")
                      if k in d})


@dataclass(frozen=True)
class SearchResult:
    """row_ids (m,) int64 best first; scores (m,) float64 (BM25 for words, 1 for a pattern match, cosine for
    meaning); n_matches: how many rows match in all (>= m when the list was cut at a limit)."""
    spec: SearchSpec
    row_ids: np.ndarray
    scores: np.ndarray
    n_matches: int
    notes: list[str] = field(default_factory=list)


def search(ws: Any, query: str | SearchSpec, *, mode: str = "words", field: str = "any",
           limit: int | None = 50, regex: bool = False, case_sensitive: bool = False,
           threshold: float | None = None, model: str = DEFAULT_MODEL) -> SearchResult:  # Workspace
    """Search the workspace; ``limit`` None returns every match (a meaning search then needs a threshold).

    words: BM25 over the full-text index (:mod:`curation.search.words`; phrases, AND / OR / NOT).
    pattern: substring (or ``regex``, RE2) scan of the field's columns, rows in row order.
    meaning: cosine between the query's embedding and each row's stored vector (:mod:`curation.search.meaning`).
    """
    spec = query if isinstance(query, SearchSpec) else SearchSpec(
        query=query, mode=mode, field=field, regex=regex, case_sensitive=case_sensitive, threshold=threshold,
        model=model)
    spec.check()
    if spec.mode == "words":
        from curation.search.words import words_search

        rows, scores, n = words_search(ws, spec.query, field=spec.field, limit=limit)
    elif spec.mode == "pattern":
        rows, n = ws.pattern_rows(spec.query, columns=search_columns(spec.field), regex=spec.regex,
                                  case_sensitive=spec.case_sensitive, limit=limit)
        scores = np.ones(len(rows))
    elif spec.mode == "filter":
        rows = filter_rows(ws, spec.query)
        n = len(rows)
        rows = rows if limit is None else rows[: max(0, int(limit))]
        scores = np.ones(len(rows))
    else:
        from curation.search.meaning import meaning_search

        if limit is None and spec.threshold is None:
            raise CurationError("a meaning search for every match needs a threshold (minimum cosine, e.g. 0.5)")
        rows, scores, n = meaning_search(ws, spec.query, model=spec.model, limit=limit, threshold=spec.threshold)
    return SearchResult(spec, np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float64), int(n))


FILTER_TEXT_COLUMNS = ("prompt", "response", "chosen", "rejected", "embed_text")
FILTER_META_COLUMNS = ("row_id", "example_id", "dataset", "label", "kind", "n_tokens")


def filter_rows(ws: Any, where: str) -> np.ndarray:  # Workspace
    """Row ids (by row id) where a SQL condition holds over the examples' text columns (prompt, response, chosen,
    rejected, embed_text), their meta columns (dataset, label, kind, n_tokens, example_id) and every stored score,
    slice or saved-search column by its key (quote keys with brackets, colons or commas: ``"search:disclaimer" = 1
    and label = 'coding' and response ilike '%sorry%'``). Runs in the sandbox of
    :func:`curation.store.filter_frame` (cannot reach the workspace). Only the columns the condition names are read:
    O(n) per named column."""
    from curation.store import filter_frame

    w = (where or "").strip()
    if not w:
        raise CurationError("the filter is empty; write a SQL condition such as label = 'coding' and n_tokens < 300")
    frame = ws.examples(list(FILTER_META_COLUMNS) + [c for c in FILTER_TEXT_COLUMNS if c in w])
    defs = ws.score_defs()
    keys = [k for k in (defs["key"].tolist() if len(defs) else []) if k in w]
    if keys:
        sc = ws.scores(keys)
        for k in keys:
            frame[k] = sc[k].to_numpy()
    try:
        mask = filter_frame(frame, w)
    except CurationError as exc:
        raise CurationError(f"{exc}; the filter can also name the text columns {list(FILTER_TEXT_COLUMNS)} and "
                            f"any stored column by its key in double quotes, e.g. "
                            f"{[k for k in (defs['key'].tolist() if len(defs) else [])][:12]}") from exc
    return frame["row_id"].to_numpy(dtype=np.int64)[mask]


def matching_rows(ws: Any, spec: SearchSpec) -> np.ndarray:  # Workspace
    """Every row id matching ``spec``, sorted (what a saved search flags and a bulk action acts on)."""
    return np.sort(search(ws, spec, limit=None).row_ids)
