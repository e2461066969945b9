"""The project's one error type (and a few subclasses that callers may want to tell apart).

Every message names the input, what was found and the fix, e.g.
``column 'respnse' not found in train.jsonl; columns are ['prompt', 'response']; pass --response-column``.
Pages show ``str(err)`` with ``st.error``; the CLI prints it on one line and exits non-zero.
"""
from __future__ import annotations


class CurationError(Exception):
    """Base class for every error the engine raises on purpose."""


class IngestError(CurationError):
    """A file could not be ingested. ``problems`` lists every bad record found (file, line, field, message)."""

    def __init__(self, message: str, problems: list[dict] | None = None) -> None:
        super().__init__(message)
        self.problems: list[dict] = problems or []


class WorkspaceLocked(CurationError):
    """Another process holds the DuckDB write lock on the workspace file."""
