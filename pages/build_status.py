"""The demo build's progress in the sidebar (not a page: app.py calls :func:`demo_build_progress` on every run).

``make run`` starts the dashboard at once and builds the demo workspace in a background process
(curation/workflows/demo.py), which records each step in the workspace job ``demo:progress``. While it runs, a
fragment polls that job every 2 s, shows a progress bar, and reruns the whole page when a step finishes, so the
page being looked at fills in (the Map page when the map step is done, the Select page when rankings exist)."""
from __future__ import annotations

import json

import streamlit as st

from curation.workflows.demo import PROGRESS_JOB, STEPS, pid_alive
from pages import formatting as fm, state

K_STEP = "demo_build_step"


def _job(ws) -> dict | None:  # Workspace
    try:
        return ws.job(PROGRESS_JOB)
    except Exception:  # the builder holds the file for a moment: try again at the next poll
        return None


def demo_build_progress() -> None:
    """Sidebar progress bar of a running demo build; nothing when no build runs."""
    ws = state.workspace()
    j = _job(ws)
    if not j or j.get("status") not in ("running", "failed"):
        return

    @st.fragment(run_every=2.0)
    def poll() -> None:
        job = _job(ws) or j
        status = job.get("status")
        step = int(job.get("done") or 0)
        params = json.loads(job.get("params") or "{}")
        if status == "failed":
            msg = fm.md_escape(job.get("message"))
            st.error(f"The demo build failed: {msg}. Run `make run` again to resume "
                     "(finished steps are kept).", icon=":material/error:")
            return
        if status == "done" or step != st.session_state.get(K_STEP, step):
            st.session_state[K_STEP] = step
            st.rerun(scope="app")  # a step finished: the page shows what it can now
        st.session_state[K_STEP] = step
        if not pid_alive(int(params.get("pid") or 0)):
            st.warning("The demo build stopped before it finished. Run `make run` (or `python -m curation demo`) "
                       "to resume it.", icon=":material/warning:")
            return
        inner_d, inner_t = int(params.get("inner_done") or 0), int(params.get("inner_total") or 0)
        what = str(job.get("message") or "")
        detail = f" — {fm.fmt_int(inner_d)} / {fm.fmt_int(inner_t)}" if inner_t else ""
        frac = (step + (inner_d / inner_t if inner_t else 0.0)) / len(STEPS)
        st.progress(min(1.0, frac), text=f"Building the demo workspace, step {min(step + 1, len(STEPS))} of "
                                         f"{len(STEPS)}: {fm.md_escape(what)}{detail}")
        st.caption("Pages fill in as the steps finish; you can look around meanwhile.")

    with st.sidebar:
        poll()
