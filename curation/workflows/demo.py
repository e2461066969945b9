"""Build the ready-to-use demo workspace from the project's own generated data (curation.demo).

Steps, each skipped when already done (so a second start is instant and an interrupted build resumes):
write the demo files → ingest SFT and preference sets → heuristic quality scores → embed → neighbour graph, map,
density, duplicates and clusters → a few rankings → preference scores → the shipped reward head (see
:data:`STEPS`). Each step's wall and CPU seconds go to the log (``data/demo_build.log`` under ``make run``).

``make run`` starts this in a background process and the dashboard at once: every step is recorded in the workspace
job ``demo:progress`` (step, step count, what runs now, the builder's pid), which the dashboard shows as a progress
bar; each page fills in when the step it needs has finished.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from curation.core.progress import Progress, report_job, stage_of
from curation.store import Workspace

PROGRESS_JOB = "demo:progress"
STEPS = ("demo data", "ingest", "heuristic scores", "embedding", "map and neighbours", "rankings",
         "preference scores", "reward head")
"""In the order that fills the pages soonest: the heuristics need no vectors (Scores and Inspect fill in within
seconds); the map and the rankings fill Map, Select, Balance and Export; the shipped reward head, which embeds every
prompt and reply again on their own (about twice the embedding step's work), comes last."""


def demo_files_dir(ws: Workspace) -> Path:
    return ws.path.parent / "demo_source"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def builder_running(ws: Workspace) -> bool:
    """Another live process is building this demo workspace right now."""
    j = ws.job(PROGRESS_JOB)
    if not j or j.get("status") != "running":
        return False
    pid = int(json.loads(j.get("params") or "{}").get("pid") or 0)
    return pid != os.getpid() and pid_alive(pid)


class _Steps:
    """Records the build's progress in the workspace (job ``demo:progress``); inner progress at most every 2 s.
    A staged progress callback (:func:`curation.core.progress.stage_of`): each step's work reports to
    ``for_stage(step)``, which also forwards to the caller's callback for that stage."""

    def __init__(self, ws: Workspace, progress: Progress | None, log: Callable[[str], None] = print) -> None:
        self.ws, self.progress, self.step, self.last, self.log = ws, progress, 0, 0.0, log
        self.timings: list[tuple[str, float, float]] = []   # (step, wall seconds, CPU seconds of this process)
        self._open: tuple[str, float, float] | None = None

    def start(self, name: str) -> None:
        self._close()
        self.step = STEPS.index(name)
        self._open = (name, time.perf_counter(), time.process_time())
        self._write(name, 0, 0)

    def _close(self) -> None:
        """Log the wall and CPU time of the step that ran until now (CPU: all threads of this process; a busy
        machine inflates wall time much more than CPU time)."""
        if self._open is None:
            return
        name, w0, c0 = self._open
        self._open = None
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        self.timings.append((name, wall, cpu))
        self.log(f"demo step {name!r}: {wall:.1f} s wall, {cpu:.1f} s CPU (load {os.getloadavg()[0]:.1f})")

    def _write(self, msg: str, done: int, total: int, status: str = "running") -> None:
        report_job(self.ws, PROGRESS_JOB, kind="demo", status=status, done=self.step, total=len(STEPS),
                   params={"pid": os.getpid(), "inner_done": done, "inner_total": total}, message=msg)

    def __call__(self, done: int, total: int) -> None:
        self.for_stage(STEPS[self.step] if self.step < len(STEPS) else "")(done, total)

    def for_stage(self, desc: str) -> Progress:
        outer = stage_of(self.progress, desc)

        def cb(done: int, total: int) -> None:
            if outer:
                outer(done, total)
            now = time.monotonic()
            if now - self.last >= 2.0 or (total and done >= total):
                self.last = now
                self._write(desc, int(done), int(total))
        return cb

    def finish(self, status: str = "done", msg: str = "ready") -> None:
        self._close()
        self.step = len(STEPS)
        self._write(msg, 0, 0, status)


def build_demo_workspace(ws: Workspace, *, n_sft: int = 3000, n_pref: int = 300, seed: int = 0, embed: bool = True,
                         analyze: bool = True, progress: Progress | None = None,
                         log: Callable[[str], None] = print) -> Workspace:
    """Fill ``ws`` with the demo datasets (idempotent). ``progress``: each step reports to
    ``stage_of(progress, step)``."""
    # "scores": 2 adds pref_head_default; a workspace built with other params resumes (every step is idempotent)
    params = {"n_sft": n_sft, "n_pref": n_pref, "seed": seed, "embed": embed, "analyze": analyze, "scores": 2}
    state = ws.job("demo")
    if state and state["status"] == "done" and json.loads(state["params"] or "{}") == params:
        log("demo workspace already built")
        return ws
    if builder_running(ws):
        log("another process is building the demo workspace; nothing to do")
        return ws
    steps = _Steps(ws, progress, log)
    try:
        _build(ws, steps, params, n_sft=n_sft, n_pref=n_pref, seed=seed, embed=embed, analyze=analyze, log=log)
    except BaseException as exc:  # recorded, then raised again
        steps.finish("failed", f"{type(exc).__name__}: {exc}"[:1000])
        raise
    return ws


def _build(ws: Workspace, steps: _Steps, params: dict, *, n_sft: int, n_pref: int, seed: int, embed: bool,
           analyze: bool, log: Callable[[str], None]) -> None:
    from curation.demo import write_demo
    from curation.embedding.embed import DEFAULT_MODEL, embed_workspace
    from curation.workflows.ingest import ingest

    steps.start("demo data")
    paths = write_demo(demo_files_dir(ws), n_sft=n_sft, n_pref=n_pref, seed=seed)
    steps.start("ingest")
    for key, name in (("sft", "demo_sft"), ("pref", "demo_pref")):
        if ws.dataset(name) is None:
            report = ingest(ws, paths[key], name=name)
            log(report.summary())
    if analyze:
        from curation.scorers import run_scorers

        steps.start("heuristic scores")  # text only: no vectors needed
        run_scorers(ws, ["heuristics"], progress=steps)
    if embed:
        steps.start("embedding")
        report = embed_workspace(ws, DEFAULT_MODEL, progress=steps.for_stage("embedding"))
        log(report.summary())
    if embed and analyze:
        from curation.workflows.analyze import analyze as analyze_graph
        from curation.select import run_selection

        steps.start("map and neighbours")
        analyze_graph(ws, model=DEFAULT_MODEL, progress=steps.for_stage("map and neighbours"))
        steps.start("rankings")
        # facility location last: the newest ranking is the one the Select page opens with
        for method in ("random", "density", "kcenter", "facility"):
            run_selection(ws, method, {}, seed=seed, model=DEFAULT_MODEL,
                          progress=steps.for_stage(f"ranking: {method}"))
        steps.start("preference scores")
        run_scorers(ws, ["preference"], progress=steps)
        from curation.scorers.slices import run_slices   # slice columns the audit compares (harm, language, ...)
        run_slices(ws, progress=steps)
        steps.start("reward head")
        # the shipped reward head: a quality score that is not noise before anyone labels anything
        run_scorers(ws, ["pref_head_default"], progress=steps)
        log("demo analysis done")
    report_job(ws, "demo", kind="demo", status="done", done=1, total=1, params=params)
    steps.finish()
