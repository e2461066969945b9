"""Why an example is in or out of a selection.

For a selected example: its rank and its gain when picked (what it added to the objective). For a dropped one: the
selected example that covers it (its nearest selected neighbour) and how similar they are, plus why it was dropped
(excluded by a pin, or ranked below the budget).

Ranks are 1-based (the first pick is rank 1) everywhere: in the returned dict and in the sentences. A dropped row
is called "covered" only when its nearest selected row is at least :data:`COVERED_SIMILARITY` cosine similar (a
close stand-in: with all-MiniLM-L6-v2, pairs above ~0.7 are usually paraphrases or the same request reworded);
below that the sentence says it is not covered and gives the similarity.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from curation.core.errors import CurationError
from curation.core.keys import key_name
from curation.core.ranking import Ranking
from curation.store import Workspace

_CHUNK = 16384
COVERED_SIMILARITY = 0.7  # cosine similarity from which a dropped row counts as covered by its nearest selected row


def _arrays(source: Any, model: str | None) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(source, Workspace):
        from curation.embedding.embed import DEFAULT_MODEL, model_key

        row_ids, X = source.embeddings(model_key(model or DEFAULT_MODEL))
        return row_ids, X
    if isinstance(source, tuple) and len(source) == 2:
        return np.asarray(source[0], dtype=np.int64), np.asarray(source[1], dtype=np.float32)
    raise CurationError(f"explain: expected a Workspace or (row_ids, X), got {type(source).__name__}")


def _positions(row_ids: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    o = np.argsort(row_ids, kind="stable")
    p = np.searchsorted(row_ids[o], ids)
    p = np.minimum(p, len(o) - 1)
    ok = row_ids[o][p] == ids
    if not ok.all():
        raise CurationError(f"explain: {what} row id(s) {ids[~ok][:3].tolist()} have no embedding; embed them first")
    return o[p]


def nearest_selected(row_ids: np.ndarray, X: np.ndarray, selected_row_ids: np.ndarray,
                     query_row_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the most similar selected row other than itself and the cosine similarity.

    Returns (nearest row ids (q,) int64, -1 when nothing else is selected; similarity (q,) float64, NaN then).
    O(q · |selected| · d), chunked over the selected rows.
    """
    row_ids = np.asarray(row_ids, dtype=np.int64)
    sel = np.asarray(selected_row_ids, dtype=np.int64)
    q = np.asarray(query_row_ids, dtype=np.int64)
    best = np.full(len(q), -1, dtype=np.int64)
    bs = np.full(len(q), -np.inf)
    if len(sel) == 0 or len(q) == 0:
        return best, np.full(len(q), np.nan)
    sp = _positions(row_ids, sel, "selected")
    qp = _positions(row_ids, q, "query")
    Q = X[qp]
    for s in range(0, len(sp), _CHUNK):
        blk = sp[s:s + _CHUNK]
        S = Q @ X[blk].T                               # (q, chunk)
        S[qp[:, None] == blk[None, :]] = -np.inf       # not itself
        a = S.argmax(axis=1)
        v = S[np.arange(len(q)), a]
        better = v > bs
        bs[better] = v[better]
        best[better] = sel[s + a[better]]
    bs = np.where(np.isfinite(bs), bs, np.nan)
    best[np.isnan(bs)] = -1
    return best, bs.astype(np.float64)


def explain(source: Any, ranking: Ranking, selected_row_ids: np.ndarray, row_id: int, *,
            model: str | None = None, pins_exclude: Any = None, gains_meaning: str | None = None,
            covered_at: float = COVERED_SIMILARITY) -> dict:
    """Explain one row against a selection.

    source: a Workspace (embeddings of ``model``) or (row_ids (n,), X (n, d) L2-normalised). ranking: the Ranking
    the selection came from; selected_row_ids: the selected rows (e.g. apply_constraints' output).
    Returns a dict: row_id, method, selected, rank (1-based position in the ranking, None when not in it), gain
    (gain when picked, NaN when the method has none), gains_meaning, nearest_selected (row id or None), similarity,
    covered (a dropped row's nearest selected row is at least ``covered_at`` similar; None for selected rows),
    covered_at, reason (one sentence).
    Cost: O(|selected| · d).
    """
    row_id = int(row_id)
    order = np.asarray(ranking.order, dtype=np.int64)
    sel = np.asarray(selected_row_ids, dtype=np.int64)
    hit = np.flatnonzero(order == row_id)
    pos = int(hit[0]) if hit.size else None
    rank = pos + 1 if pos is not None else None  # 1-based, for people
    gain = float(ranking.gains[pos]) if pos is not None and pos < len(ranking.gains) else float("nan")
    is_sel = bool(np.any(sel == row_id))
    excluded = pins_exclude is not None and row_id in set(int(x) for x in pins_exclude)
    row_ids, X = _arrays(source, model)
    nb, s = nearest_selected(row_ids, X, sel, np.array([row_id]))
    out: dict[str, Any] = {
        "row_id": row_id, "method": ranking.method, "selected": is_sel, "rank": rank, "gain": gain,
        "gains_meaning": gains_meaning or _gains_meaning(ranking.method),
        "nearest_selected": int(nb[0]) if nb[0] >= 0 else None, "similarity": float(s[0]),
        "covered": bool(nb[0] >= 0 and np.isfinite(s[0]) and s[0] >= covered_at), "covered_at": float(covered_at),
    }
    if is_sel:
        out["covered"] = None  # coverage is about dropped rows
        out["reason"] = (f"selected at rank {rank}, gain {gain:.4g} when picked" if rank is not None
                         else "selected by an include pin")
    elif excluded:
        out["reason"] = "excluded by a pin"
    elif rank is None:
        out["reason"] = "not in the ranking (excluded when it was computed, or not embedded)"
    else:
        if out["nearest_selected"] is None:
            cover = ""
        elif out["covered"]:
            cover = (f"; covered by row {out['nearest_selected']} (similarity {out['similarity']:.3f} "
                     f"≥ {covered_at:.2f})")
        else:
            cover = (f"; not covered: the nearest selected row, {out['nearest_selected']}, is at similarity "
                     f"{out['similarity']:.3f}, below {covered_at:.2f}")
        out["reason"] = f"ranked {rank}, below the budget of {len(sel)}{cover}"
    return out


def _gains_meaning(method_key: str) -> str:
    from curation.select.base import SELECTORS

    cls = SELECTORS.get(key_name(method_key))
    return cls.gains_meaning if cls is not None else "none"
