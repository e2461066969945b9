"""Frozen copy of curation/demo/ before the demo text-variety change (benchmarks/bench_demo_map.py measures
the map it gives beside the current generator's). Not used by the project.

Deterministic, seeded demo-data generator for the curation dashboard.

Everything here is synthetic: every instruction and response is assembled from templates and word lists written
for this project (``data/*.json``; no text is taken from public datasets). The data is meant to *look* like
instruction-tuning data so that a sentence-embedding model produces meaningful topic clusters, and it contains
deliberately planted quality problems whose ground truth is recorded so that the dashboard's detectors can be
evaluated and demoed.

Public API
----------
``generate_demo(n_sft=3000, n_pref=300, seed=0) -> DemoData``
    Builds SFT records (Alpaca-like ``instruction`` / ``input`` / ``output`` plus ``category`` and ``id``),
    preference pairs (``prompt`` / ``chosen`` / ``rejected`` / ``type``) and a ground-truth dictionary.
``write_demo(out_dir, ...) -> dict[str, Path]``
    Writes ``demo_sft.jsonl``, ``demo_pref.jsonl`` and ``demo_truth.json``.
``synthetic_records(n, seed=0) -> Iterator[dict]``
    Fast stream of Alpaca-shaped records (no planted defects, no similarity filtering) for benchmarks.

Only the standard library is used; randomness comes exclusively from ``random.Random(seed)`` so the same seed
always gives byte-identical files (independent of ``PYTHONHASHSEED``).

Modules: ``common`` (the record type, categories, text helpers, the data-file loader), one module per topic
(``coding``, ``maths``, ``cooking``, ``travel``, ``health``, ``finance``, ``writing``, ``science``: generator
families over that topic's word lists in ``data/<topic>.json``), ``families`` (the topic -> families registry),
``pool`` (keeps accidental near-duplicates out of the clean records), ``defects`` (planted defects),
``preference`` (preference pairs) and ``build`` (the generators above).
"""
from __future__ import annotations

from .build import DemoData, generate_demo, synthetic_records, write_demo
from .common import CATEGORIES, CATEGORY_WEIGHTS

__all__ = [
    "CATEGORIES",
    "CATEGORY_WEIGHTS",
    "DemoData",
    "generate_demo",
    "write_demo",
    "synthetic_records",
]
