"""The demo workspace builder's progress record (what the dashboard's sidebar shows while ``make run`` builds it in
the background) and its guard against two builders at once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from curation.workflows.demo import PROGRESS_JOB, STEPS, build_demo_workspace, builder_running, pid_alive
from curation.store import Workspace


def test_progress_is_recorded_step_by_step_and_ends_done(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "demo.duckdb")
    seen: list[str] = []
    orig = ws.set_job

    def spy(key: str, **kw: object) -> None:
        if key == PROGRESS_JOB:
            seen.append(str(kw["message"]))
        orig(key, **kw)

    ws.set_job = spy  # type: ignore[method-assign]
    build_demo_workspace(ws, n_sft=60, n_pref=10, embed=False, log=lambda s: None)
    assert seen[:2] == ["demo data", "ingest"] and seen[-1] == "ready"
    j = ws.job(PROGRESS_JOB)
    assert j["status"] == "done" and j["done"] == len(STEPS)
    assert ws.n_examples() > 0 and ws.job("demo")["status"] == "done"
    assert not builder_running(ws)


def test_a_second_builder_leaves_a_running_one_alone(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "demo.duckdb")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ws.set_job(PROGRESS_JOB, kind="demo", status="running", done=2, total=len(STEPS),
                   params={"pid": other.pid}, message="embedding")
        assert pid_alive(other.pid) and builder_running(ws)
        logs: list[str] = []
        build_demo_workspace(ws, n_sft=60, n_pref=10, embed=False, log=logs.append)
        assert "another process" in logs[0] and ws.n_examples() == 0  # nothing written by the second builder
    finally:
        other.kill()
        other.wait()
    assert not pid_alive(other.pid) and not builder_running(ws)  # a dead builder does not block a new one
    build_demo_workspace(ws, n_sft=60, n_pref=10, embed=False, log=lambda s: None)
    assert ws.n_examples() > 0
    assert json.loads(ws.job(PROGRESS_JOB)["params"])["pid"] == os.getpid()
