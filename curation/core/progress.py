"""Progress reporting: the one :data:`Progress` type every engine function takes, the CLI's progress bar, and the
one writer of job rows (:func:`report_job`, :class:`JobReporter`, :func:`run_job`).

One calling style: ``progress(done, total)``. A job made of stages (scoring several scorers, the demo build) asks
:func:`stage_of` for each stage's callback; a callback that knows stages (a CLI bar draws one bar per stage, a
job reporter shows the stage beside its bar) provides ``for_stage(name)``, any other callback is used as is.

Job rows (the workspace's ``jobs`` table: status, done/total, params, message of a resumable or background job)
are written only here: engine functions record their state with :func:`report_job` or a :class:`JobReporter`,
the dashboard's job runner runs its background functions through :func:`run_job`, and pages only read the rows.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as work advances (see :func:`stage_of` for jobs made of stages)."""


def stage_of(progress: Progress | None, name: str) -> Progress | None:
    """The callback for stage ``name`` of a job: ``progress.for_stage(name)`` when the callback knows stages,
    else ``progress`` itself (None stays None)."""
    if progress is None:
        return None
    for_stage = getattr(progress, "for_stage", None)
    return for_stage(name) if callable(for_stage) else progress


class TqdmProgress:
    """``progress(done, total)`` callback; the bar appears on the first call and closes itself when done reaches
    total (or on :meth:`close`, for jobs that stop early). Calls after closing are ignored. Each stage of a job
    (:func:`stage_of`) gets a bar of its own, named after the stage."""

    def __init__(self, desc: str, unit: str = "it") -> None:
        self.desc, self.unit = desc, unit
        self._bar: Any = None
        self._closed = False

    def __call__(self, done: int, total: int) -> None:
        if self._closed:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr, dynamic_ncols=True)
        self._bar.total = total
        self._bar.update(max(0, done - self._bar.n))
        if done >= total:
            self.close()

    def for_stage(self, name: str) -> TqdmProgress:
        self.close()
        return TqdmProgress(name, self.unit)

    def close(self) -> None:
        if self._bar is not None and not self._closed:
            self._bar.close()
        self._closed = True


def tqdm_progress(desc: str, unit: str = "it") -> TqdmProgress:
    """A fresh progress bar callback."""
    return TqdmProgress(desc, unit)


# ---------------------------------------------------------------------------------------------- job rows
def report_job(ws: Any, key: str, *, kind: str, status: str, done: int = 0, total: int = 0,
               params: dict | None = None, message: str = "") -> None:  # ws: curation.store.Workspace
    """Record the state of job ``key`` (the only call of ``Workspace.set_job``): status is one of ``running``,
    ``done``, ``partial``, ``failed``, ``interrupted``; done/total count its units; params what it needs to resume
    or report (JSON-able); message a line for people (the stage, or the error)."""
    ws.set_job(key, kind=kind, status=status, done=int(done), total=int(total), params=params, message=message)


class JobReporter:
    """A ``progress(done, total)`` callback that records a job's progress in its row, at most every ``every``
    seconds (always when done reaches total). ``stage`` is the line shown beside the bar; :meth:`for_stage` sets
    it (so a staged engine function shows which stage runs). ``params`` go into every write."""

    def __init__(self, ws: Any, key: str, kind: str, *, every: float = 0.5, params: dict | None = None) -> None:
        self.ws, self.key, self.kind, self.every, self.params = ws, key, kind, every, params
        self.last = 0.0
        self.stage = ""
        self.done, self.total = 0, 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = int(done), int(total)
        now = time.monotonic()
        if now - self.last < self.every and done < total:
            return
        self.last = now
        self.report("running")

    def for_stage(self, name: str) -> JobReporter:
        self.stage = name
        self.last = 0.0
        return self

    def report(self, status: str, *, done: int | None = None, total: int | None = None,
               params: dict | None = None, message: str | None = None) -> None:
        """Write the row now (the fields not given keep this reporter's values)."""
        if done is not None:
            self.done = int(done)
        if total is not None:
            self.total = int(total)
        report_job(self.ws, self.key, kind=self.kind, status=status, done=self.done, total=self.total,
                   params=self.params if params is None else params, message=self.stage if message is None
                   else message)


def run_job(ws: Any, key: str, kind: str, fn: Callable[[JobReporter], Any]) -> Any:
    """Run ``fn(reporter)`` as job ``key``: its row says ``running`` (message "starting"), then progress as ``fn``
    reports it, then ``done`` with the result (when a str or number: ``params["result"]``) or ``failed`` with the
    error (a CurationError's message, else the exception's type and message). Returns the result; an error is
    recorded, not raised (the dashboard shows it from the row)."""
    from curation.core.errors import CurationError

    job = JobReporter(ws, key, kind)
    job.report("running", message="starting")
    try:
        result = fn(job)
    except Exception as exc:  # recorded for the page that shows the job
        msg = str(exc) if isinstance(exc, CurationError) else f"{type(exc).__name__}: {exc}"
        job.report("failed", params={}, message=msg[:1000])
        return None
    total = job.total or 1
    job.report("done", done=total, total=total, message="done",
               params={"result": result if isinstance(result, (str, int, float)) else None})
    return result


RUNNING_FRESH_S = 900.0
"""A ``running`` job row updated longer ago than this is shown as stale (its process probably died)."""


def running_jobs(ws: Any, *, within_s: float = RUNNING_FRESH_S) -> Any:  # pd.DataFrame
    """Jobs whose row says ``running`` and was updated in the last ``within_s`` seconds, whichever process runs
    them (the CLI, a dashboard server, the demo builder): key, kind, done, total, message, params, updated_at and
    ``age_s`` (seconds since the last update), newest first. One small query."""
    import pandas as pd

    df = ws.jobs()
    if df.empty:
        return df.assign(age_s=pd.Series(dtype=float))
    df = df[df["status"] == "running"].copy()
    df["age_s"] = (pd.Timestamp.now() - pd.to_datetime(df["updated_at"])).dt.total_seconds().clip(lower=0)
    return df[df["age_s"] <= within_s].reset_index(drop=True)
