"""curation: the engine of the data-curation dashboard.

Importing this package is cheap: heavy libraries (torch, transformers, umap) are imported inside
the functions that need them. The engine never imports streamlit.
"""
from __future__ import annotations

__version__ = "0.1.0"

from curation.core.errors import CurationError, IngestError, WorkspaceLocked

__all__ = ["__version__", "CurationError", "IngestError", "WorkspaceLocked"]
