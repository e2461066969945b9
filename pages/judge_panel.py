"""The Scores page's "judge with your own model server" panel: settings (address, model, key: kept in this browser
session's memory only, never in the workspace), an estimate before a run, and the run as a background job with a
progress bar (the dashboard's job runner)."""
from __future__ import annotations

import os
from typing import Any

import streamlit as st

from curation.core.errors import CurationError
from pages import jobs

JOB = "ui:judge"


def _scorers(names: list[str], settings: dict[str, Any]) -> list[Any]:
    from curation.scorers import get_scorer

    return [get_scorer(n, **settings) for n in names]


def render(ws: Any) -> None:
    """The panel (an expander), for the Scores page."""
    from curation.scorers import GROUPS
    from curation.scorers.judge import describe_estimate, estimate

    running = jobs.job_running(ws, JOB)
    with st.expander("Judge with your own model server", icon=":material/gavel:",
                     expanded=running or "judge:est" in st.session_state):
        st.write("Ask-LLM, DEITA-style quality / complexity ratings and a pairwise judge (both orders) from any "
                 "OpenAI-compatible chat-completions server (vLLM, TGI, llama.cpp, Ollama, a hosted API). Values "
                 "are cached by model, prompt template and text: a rerun asks only for what is missing. The key "
                 "is used for this session's requests and never stored.")
        c1, c2 = st.columns(2)
        base = c1.text_input("Server address (/v1)", value=os.environ.get("OPENAI_BASE_URL", ""),
                             key="judge:base_url", placeholder="http://localhost:8000/v1")
        model = c2.text_input("Model (blank: the first the server lists)", value=os.environ.get("JUDGE_MODEL", ""),
                              key="judge:model")
        c3, c4 = st.columns([2, 1])
        key = c3.text_input("API key (blank: $OPENAI_API_KEY, or none)", type="password", key="judge:api_key")
        conc = c4.number_input("Concurrency", 1, 64, 4, key="judge:concurrency")
        names = st.multiselect("Judge scorers", GROUPS["judge"], default=["judge_askllm"], key="judge:names")
        settings = {"base_url": base or None, "judge_model": model or None, "api_key": key or None,
                    "concurrency": int(conc)}
        b1, b2 = st.columns(2)
        if b1.button("Estimate", key="judge:estimate", disabled=not names or running):
            try:
                est = estimate(ws, _scorers(names, settings))
                st.session_state["judge:est"] = (tuple(names), est["requests"], describe_estimate(est))
            except CurationError as exc:
                st.error(str(exc))
        got = st.session_state.get("judge:est")
        fresh = got is not None and got[0] == tuple(names)
        if fresh:
            st.code(got[2], language=None, wrap_lines=True)
        big = fresh and got[1] > 1000
        ok = not big or st.checkbox(f"Run all {got[1]:,} requests", key="judge:confirm") if fresh else False
        if b2.button("Run judge", key="judge:run", disabled=not (fresh and ok) or running,
                     help="Estimate first (it counts the requests and times one)."):
            from curation.scorers import run_scorers

            scs = _scorers(names, settings)
            jobs.start_job(ws, JOB, "score", lambda prog: ", ".join(run_scorers(ws, scs, progress=prog)))
            st.rerun()

        @st.fragment(run_every=1.0 if running else None)
        def _progress() -> None:
            status = jobs.render_job(ws, JOB, "Judging")
            if status == "done":
                st.caption(f"Stored {jobs.job_result(ws, JOB)}.")
            if status != "running" and st.session_state.get("judge:was_running"):
                st.session_state["judge:was_running"] = False
                st.rerun()
            st.session_state["judge:was_running"] = status == "running"

        _progress()
