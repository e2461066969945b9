"""Search: find examples by words (BM25 with phrases and boolean operators, :mod:`.words`), by pattern (substring or
regular expression) and by meaning (embedding cosine, "more like this", :mod:`.meaning`); save a search by name to
get a flag column every page and command can use as a slice (:mod:`.saved`); act on the results in bulk with a
preview and one-step undo (:mod:`.actions`).

>>> from curation.search import search
>>> res = search(ws, '"as an ai language model"', mode="words", field="response")      # doctest: +SKIP
>>> res.row_ids[:5], res.n_matches                                                         # doctest: +SKIP
"""
from __future__ import annotations

from curation.search.engine import MODES, SearchResult, SearchSpec, matching_rows, search
from curation.search.saved import (
    after_ingest,
    refresh_saved_searches,
    save_search,
    saved_search,
    saved_searches,
    search_key,
)

__all__ = ["MODES", "SearchResult", "SearchSpec", "after_ingest", "matching_rows", "refresh_saved_searches",
           "save_search", "saved_search", "saved_searches", "search", "search_key"]
