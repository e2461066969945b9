"""The one lookup of a per-example column by name, used for label columns (quotas, counts, the report card) and
any other grouping: an examples column, a stored score key, or a key of the original record (dotted for nested
keys, e.g. ``meta.source``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import legacy_key
from curation.store import EXAMPLE_COLUMNS, Workspace


def column_choices(ws: Workspace) -> str:
    """What a column name can be in ``ws``, for error messages."""
    defs = ws.score_defs()
    keys = ws.record_keys()
    return (f"examples columns are {[c for c in EXAMPLE_COLUMNS if c not in ('record', 'embed_text')]}, record keys "
            f"are {keys[:20]}, score keys are {defs['key'].tolist()[:20] if len(defs) else []}")


def column_values(ws: Workspace, column: str, row_ids: np.ndarray | None = None, *,
                  what: str = "column") -> pd.Series:
    """Values of ``column`` indexed by row id (for ``row_ids`` in that order, or every example): an examples column
    (object dtype), a score key (float) or a record key (text; None where absent). Raises a CurationError naming the
    choices when ``column`` is none of these. One query."""
    if column in EXAMPLE_COLUMNS:
        df = ws.examples(["row_id", column])
        s = pd.Series(df[column].to_numpy(object), index=df["row_id"].to_numpy(np.int64))
    else:
        defs = ws.score_defs()
        if len(defs) and column not in set(defs["key"]) and legacy_key(column) in set(defs["key"]):
            column = legacy_key(column)              # a key written before the one key format (schema 5)
        if len(defs) and column in set(defs["key"]):
            df = ws.scores([column])
            s = pd.Series(df[column].to_numpy(np.float64), index=df["row_id"].to_numpy(np.int64))
        else:
            df = ws.record_field(column)
            s = pd.Series(df["value"].to_numpy(object), index=df["row_id"].to_numpy(np.int64))
            if s.isna().all():
                raise CurationError(f"{what} {column!r} is not a column of examples, a score key or a key of the "
                                    f"records in {ws.path}; {column_choices(ws)}")
    return s if row_ids is None else s.reindex(np.asarray(row_ids, dtype=np.int64))
