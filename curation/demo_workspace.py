"""Build the ready-to-use demo workspace from the project's own generated data (curation.demo).

Steps, each skipped when already done (so a second start is instant and an interrupted build resumes):
write the demo files → ingest SFT and preference sets → embed → neighbour graph, map, density, duplicates and
clusters → heuristic quality scores → a few rankings.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from curation.store import Workspace

ProgressFactory = Callable[[str], Callable[[int, int], None]]


def demo_files_dir(ws: Workspace) -> Path:
    return ws.path.parent / "demo_source"


def build_demo_workspace(ws: Workspace, *, n_sft: int = 3000, n_pref: int = 300, seed: int = 0, embed: bool = True,
                         analyze: bool = True, progress: ProgressFactory | None = None,
                         log: Callable[[str], None] = print) -> Workspace:
    """Fill ``ws`` with the demo datasets (idempotent). ``progress(desc)`` returns a (done, total) callback."""
    from curation.demo import write_demo
    from curation.embed import DEFAULT_MODEL, embed_workspace
    from curation.ingest import ingest_file

    out = demo_files_dir(ws)
    paths = write_demo(out, n_sft=n_sft, n_pref=n_pref, seed=seed)
    for key, name in (("sft", "demo_sft"), ("pref", "demo_pref")):
        if ws.dataset(name) is None:
            report = ingest_file(ws, paths[key], name=name)
            log(report.summary())
    if not embed:
        return ws
    report = embed_workspace(ws, DEFAULT_MODEL, progress=progress("embedding") if progress else None)
    log(report.summary())
    if not analyze:
        return ws
    from curation.graph import analyze as analyze_graph

    analyze_graph(ws, model=DEFAULT_MODEL, progress=progress("map and neighbours") if progress else None)
    from curation.scorers import run_scorers

    run_scorers(ws, "heuristics", progress=progress("quality scores") if progress else None)
    from curation.select import run_selection

    for method, params in (("random", {}), ("facility_location", {}), ("density", {})):
        run_selection(ws, method, params, seed=seed, model=DEFAULT_MODEL)
    log("demo analysis done")
    return ws
