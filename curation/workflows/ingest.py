"""Ingest as every entry point runs it: :func:`curation.ingest.run.ingest_file`, then what follows new rows
(the full-text index is extended and saved searches re-run, :func:`curation.search.after_ingest`). The CLI, the
Data page, the demo build and ``reproduce`` call this; the capability itself stays below the search package."""
from __future__ import annotations

import os
from typing import Any

from curation.ingest.run import IngestReport, ingest_file
from curation.store import Workspace


def ingest(ws: Workspace, path: str | os.PathLike[str], **options: Any) -> IngestReport:
    """:func:`~curation.ingest.run.ingest_file` (same arguments and report), then bring the search index and the
    saved searches up to date when rows were added."""
    report = ingest_file(ws, path, **options)
    if report.n_inserted:
        from curation.search import after_ingest

        after_ingest(ws)
    return report
