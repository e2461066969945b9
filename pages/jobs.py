"""The background-job runner of the dashboard: a job runs in a thread of this server through
:func:`curation.core.progress.run_job`, which records its status and progress in the workspace's ``jobs`` table, so a
progress bar survives a page change and shows in every session (and beside jobs started from the CLI). This module
only reads job rows."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

from curation.core.progress import JobReporter, run_job, running_jobs
from curation.store import Workspace
from pages import state
from pages.formatting import fmt_int, md_escape

JobProgress = JobReporter
"""The ``progress(done, total)`` callback a background job gets (it records progress in the job's row)."""


@st.cache_resource(show_spinner=False)
def threads() -> dict[str, threading.Thread]:
    return {}


def job_running(ws: Workspace, key: str) -> bool:
    t = threads().get(f"{ws.path}::{key}")
    return t is not None and t.is_alive()


def start_job(ws: Workspace, key: str, kind: str, fn: Callable[[JobProgress], Any]) -> bool:
    """Run ``fn(progress)`` in a background thread of this server, recording status in the workspace job ``key``
    (so a progress bar survives a page change and shows in any session). Returns False when already running."""
    reg = threads()
    rk = f"{ws.path}::{key}"
    if rk in reg and reg[rk].is_alive():
        return False

    def body() -> None:
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:  # pragma: no cover
            pass
        run_job(ws, key, kind, fn)

    t = threading.Thread(target=body, name=f"curation-job-{key}", daemon=True)
    reg[rk] = t
    t.start()
    return True


def job_result(ws: Workspace, key: str) -> Any:
    """What the job's function returned (a str/number), once it is done; else None."""
    j = ws.job(key)
    if not j or j.get("status") != "done":
        return None
    p = j.get("params")
    p = json.loads(p) if isinstance(p, str) else (p or {})
    return p.get("result")


def job_status(ws: Workspace, key: str) -> dict | None:
    """The job row; ``here`` tells whether a thread of this server runs it (a "running" job without one was
    started by another process, e.g. the CLI, or interrupted by a server restart)."""
    j = ws.job(key)
    if j is None:
        return None
    j["here"] = job_running(ws, key)
    return j


def render_job(ws: Workspace, key: str, label: str) -> str | None:
    """Progress bar / result line of one UI job. Returns its status (None when never started)."""
    j = job_status(ws, key)
    if j is None:
        return None
    status = j.get("status")
    done, total = int(j.get("done") or 0), int(j.get("total") or 0)
    msg = str(j.get("message") or "")
    if status == "running":
        frac = min(1.0, done / total) if total else 0.0
        where = "" if j["here"] else " (not run by this server: another process, or interrupted by a restart)"
        st.progress(frac, text=f"{label}: {msg + ' — ' if msg else ''}{fmt_int(done)} / {fmt_int(total)}{where}")
    elif status == "done":
        st.success(f"{label}: done", icon=":material/check_circle:")
    elif status == "failed":
        st.error(f"{label} failed: {msg}")
    elif status == "interrupted":
        st.warning(f"{label} was interrupted; start it again (finished batches are kept).")
    return status


def any_job_running(ws: Workspace, keys: list[str]) -> bool:
    return any(job_running(ws, k) for k in keys)


# ---------------------------------------------------------------------------------------------- every page
K_SEEN = "jobs:running_keys"
HIDDEN = ("demo:progress",)  # shown by pages/build_status.py


def _age(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.0f} min"


def running_elsewhere(ws: Workspace) -> Any:  # pd.DataFrame
    """:func:`curation.core.progress.running_jobs` without the rows shown elsewhere, with ``here``: whether a
    thread of this server runs it."""
    try:
        df = running_jobs(ws)
    except Exception:  # the file is held by a writer for a moment: show nothing until the next poll
        import pandas as pd

        return pd.DataFrame(columns=["key", "kind", "done", "total", "message", "age_s", "here"])
    df = df[~df["key"].isin(HIDDEN)].copy()
    df["here"] = [job_running(ws, k) for k in df["key"]]
    return df


def sidebar_jobs() -> None:
    """Sidebar, every page (app.py): jobs running in any process (the workspace's jobs table: the CLI, this or
    another dashboard server, the demo builder), with their progress. Polls every 3 s while one runs, every
    15 s otherwise; when the set of running jobs changes the whole page reruns, so what a finished job computed
    shows at once."""
    ws = state.workspace()
    first = running_elsewhere(ws)
    st.session_state.setdefault(K_SEEN, tuple(first["key"]))

    @st.fragment(run_every=3.0 if len(first) else 15.0)
    def poll() -> None:
        df = running_elsewhere(ws)
        keys = tuple(df["key"])
        if keys != st.session_state.get(K_SEEN):
            st.session_state[K_SEEN] = keys
            st.rerun(scope="app")
        if df.empty:
            return
        st.caption(f"Running now ({len(df)})")
        for r in df.itertuples():
            done, total = int(r.done or 0), int(r.total or 0)
            frac = min(1.0, done / total) if total else 0.0
            where = "this server" if r.here else "another process"
            msg = f"{md_escape(r.message)} — " if r.message else ""
            count = f"{fmt_int(done)} / {fmt_int(total)}" if total else "started"
            st.progress(frac, text=f"**{md_escape(r.key)}**: {msg}{count} ({where}, updated {_age(r.age_s)} ago)")

    with st.sidebar:
        poll()
