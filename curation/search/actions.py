"""Bulk actions on search results: pin include / pin exclude / unpin / tag every matching row, with a preview of
what changes first and a one-step undo after (one transaction each way)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError

BULK_ACTIONS = ("include", "exclude", "unpin", "tag")
LAST_BATCH = "search_batch:last"
"""Artifact holding the decision ids of the last bulk action (what ``search undo`` undoes)."""


def preview(ws: Any, row_ids: Sequence[int] | np.ndarray, action: str, *, value: str | None = None,
            pins: pd.DataFrame | None = None, tags: pd.DataFrame | None = None) -> dict[str, int]:  # Workspace
    """What ``action`` on ``row_ids`` would change, without writing: {"rows", "change", "unchanged", and for pins
    "from_include", "from_exclude", "from_none"}: e.g. pin exclude on 312 rows of which 5 are already excluded and
    2 included changes 307 (2 of them from include). pins / tags: the current ``ws.pins()`` / ``ws.tags()`` when the
    caller holds them (read from ``ws`` otherwise). O(rows + pins), vectorised."""
    if action not in BULK_ACTIONS:
        raise CurationError(f"bulk action {action!r} is not one of {list(BULK_ACTIONS)}")
    rows = np.unique(np.asarray(row_ids, dtype=np.int64))
    if action == "tag":
        if not value:
            raise CurationError("tagging needs a tag (a short word such as disclaimer)")
        tags = ws.tags() if tags is None else tags
        have = tags.loc[tags["tag"] == value, "row_id"].to_numpy(np.int64)
        already = int(np.isin(rows, have).sum())
        return {"rows": int(len(rows)), "change": int(len(rows)) - already, "unchanged": already}
    pins = ws.pins() if pins is None else pins
    pin_rows = pins["row_id"].to_numpy(np.int64)
    kind = pins["pin"].to_numpy(object)
    now = {p: int(np.isin(rows, pin_rows[kind == p]).sum()) for p in ("include", "exclude")}
    now["none"] = int(len(rows)) - now["include"] - now["exclude"]
    target = "none" if action == "unpin" else action
    out = {"rows": int(len(rows)), "change": int(len(rows)) - now[target], "unchanged": now[target]}
    for p in ("include", "exclude", "none"):
        out[f"from_{p}"] = 0 if p == target else now[p]
    return out


def apply(ws: Any, row_ids: Sequence[int] | np.ndarray, action: str, *, who: str, why: str | None = None,
          value: str | None = None) -> list[int]:  # Workspace
    """Record ``action`` for every row of ``row_ids`` that it changes (rows already in that state are left alone,
    so an undo restores exactly what was there), in one transaction. Returns the new decision ids (also kept as the
    last batch for :func:`undo_last`)."""
    if action not in BULK_ACTIONS:
        raise CurationError(f"bulk action {action!r} is not one of {list(BULK_ACTIONS)}")
    rows = np.unique(np.asarray(row_ids, dtype=np.int64))
    if action == "tag":
        tags = ws.tags()
        have = tags.loc[tags["tag"] == value, "row_id"].astype(np.int64).to_numpy()
        rows = rows[~np.isin(rows, have)]
    else:
        pins = ws.pins()
        target = "none" if action == "unpin" else action
        cur = dict(zip(pins["row_id"].astype(np.int64).tolist(), pins["pin"].tolist()))
        rows = np.asarray([r for r in rows.tolist() if cur.get(r, "none") != target], dtype=np.int64)
    if not len(rows):
        ws.put_artifact(LAST_BATCH, {"ids": [], "action": action})
        return []
    ids = ws.examples(["example_id"], row_ids=rows)["example_id"].tolist()
    new = ws.add_decisions(ids, action, who=who, value=value, why=why)
    ws.put_artifact(LAST_BATCH, {"ids": new, "action": action, "value": value, "who": who})
    return new


def undo(ws: Any, decision_ids: Sequence[int], *, who: str) -> list[int]:  # Workspace
    """Undo the decisions of one bulk action in one transaction (see ``ws.undo_decisions``)."""
    return ws.undo_decisions(decision_ids, who=who)


def undo_last(ws: Any, *, who: str) -> tuple[dict, list[int]]:  # Workspace
    """Undo the last bulk action recorded by :func:`apply`; returns (that batch, the new decision ids)."""
    batch = ws.artifact(LAST_BATCH)
    if not batch or not batch.get("ids"):
        raise CurationError("there is no bulk action to undo")
    new = undo(ws, batch["ids"], who=who)
    ws.put_artifact(LAST_BATCH, {"ids": [], "undone": batch})
    return batch, new
