"""Build the ready-to-use demo workspace from the project's own generated data (curation.demo).

Steps, each skipped when already done (so a second start is instant and an interrupted build resumes):
write the demo files → ingest SFT and preference sets → embed → neighbour graph, map, density, duplicates and
clusters → heuristic quality scores → a few rankings.
"""
from __future__ import annotations

import json
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

    params = {"n_sft": n_sft, "n_pref": n_pref, "seed": seed, "embed": embed, "analyze": analyze}
    state = ws.job("demo")
    if state and state["status"] == "done" and json.loads(state["params"] or "{}") == params:
        log("demo workspace already built")
        return ws
    out = demo_files_dir(ws)
    paths = write_demo(out, n_sft=n_sft, n_pref=n_pref, seed=seed)
    for key, name in (("sft", "demo_sft"), ("pref", "demo_pref")):
        if ws.dataset(name) is None:
            report = ingest_file(ws, paths[key], name=name)
            log(report.summary())
    if not embed:
        ws.set_job("demo", kind="demo", status="done", done=1, total=1, params=params)
        return ws
    report = embed_workspace(ws, DEFAULT_MODEL, progress=progress("embedding") if progress else None)
    log(report.summary())
    if not analyze:
        ws.set_job("demo", kind="demo", status="done", done=1, total=1, params=params)
        return ws
    from curation.workflows.analyze import analyze as analyze_graph

    analyze_graph(ws, model=DEFAULT_MODEL, progress=progress("map and neighbours") if progress else None)
    from curation.scorers import run_scorers

    run_scorers(ws, ["heuristics", "preference"], progress=progress)
    from curation.select import run_selection

    # facility location last: the newest ranking is the one the Select page opens with
    for method in ("random", "density", "kcenter", "facility"):
        run_selection(ws, method, {}, seed=seed, model=DEFAULT_MODEL,
                      progress=progress(f"ranking: {method}") if progress else None)
    log("demo analysis done")
    ws.set_job("demo", kind="demo", status="done", done=1, total=1, params=params)
    return ws
