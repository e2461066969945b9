"""Training-ready exports of a subset: the writers and styles, the manifest that reproduces the file
(:mod:`.writer`), and the HTML datasheet beside it (:mod:`.datasheet`). Reproducing an export from its manifest is a
workflow (:mod:`curation.workflows.reproduce`)."""
from __future__ import annotations

from curation.export.writer import (
    FORMATS, MANIFEST_VERSION, STYLE_HELP, STYLE_KINDS, STYLES, TEXT_STYLES, ExportResult, build_manifest,
    data_sha256, export_paths, export_subset, load_manifest, prompt_format, style_record, styled_records,
    subset_row_ids,
)

__all__ = ["FORMATS", "MANIFEST_VERSION", "STYLE_HELP", "STYLE_KINDS", "STYLES", "TEXT_STYLES", "ExportResult",
           "build_manifest", "data_sha256", "export_paths", "export_subset", "load_manifest", "prompt_format",
           "style_record", "styled_records", "subset_row_ids"]
