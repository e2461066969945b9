"""Filters typed in the UI: a user's SQL condition over a DataFrame, run in a private DuckDB that cannot reach the
workspace."""
from __future__ import annotations

import numpy as np
import pandas as pd

from curation.core.errors import CurationError


def filter_frame(frame: pd.DataFrame, where: str) -> np.ndarray:
    """Boolean mask (len(frame),) of the rows where a user-typed SQL condition holds, e.g.
    ``label = 'coding' and n_tokens < 300``.

    The condition runs in a private in-memory DuckDB with external access disabled (no files, no network, no
    workspace), over a copy of ``frame`` registered as table ``t``; so a typed filter can read only what it is
    given and can modify nothing. Raises CurationError naming the problem.
    """
    import duckdb

    w = where.strip()
    if not w:
        return np.ones(len(frame), dtype=bool)
    if ";" in w or "--" in w or "/*" in w:
        raise CurationError(f"filter {where!r}: ';' and comments are not allowed; write one condition such as "
                            "label = 'coding' and n_tokens < 300")
    con = duckdb.connect(":memory:", config={"enable_external_access": False, "lock_configuration": True})
    try:
        t = frame.reset_index(drop=True).copy()
        t["__pos"] = np.arange(len(t))
        con.register("t", t)
        try:
            pos = con.execute(f"select __pos from t where ({w})").fetchnumpy()["__pos"]
        except duckdb.Error as exc:
            raise CurationError(f"filter {where!r} is not a valid condition: {str(exc).splitlines()[0]}; columns "
                                f"are {list(frame.columns)}") from exc
    finally:
        con.close()
    mask = np.zeros(len(frame), dtype=bool)
    mask[np.asarray(pos, dtype=np.int64)] = True
    return mask


