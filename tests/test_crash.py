"""Crashes: kill -9 the CLI in the middle of a job; the workspace opens, nothing committed is lost, and the job
resumes without redoing finished batches."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from curation.embed import DEFAULT_MODEL, embed_workspace
from curation.ingest import ingest_file
from curation.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ["rice", "bread", "soup", "tea", "maps", "trains", "loans", "taxes", "stars", "cells", "poems", "loops"]


def _records(n: int) -> list[dict]:
    return [{"instruction": f"Question {i}: explain {TOPICS[i % len(TOPICS)]} to a {['child', 'student', 'chef'][i % 3]}"
             f" in {i % 7 + 2} sentences.", "output": f"Here is answer number {i} about {TOPICS[(i * 5) % 12]}."}
            for i in range(n)]


def _cli(ws_path: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "curation", "--workspace", str(ws_path), *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when(proc: subprocess.Popen, ws: Workspace, job: str, min_done: int, timeout: float = 240) -> None:
    """kill -9 ``proc`` once the job's committed progress reaches ``min_done`` (read through the workspace)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"job ended before it could be killed: {proc.stderr.read()[-2000:]}")
        state = ws.job(job)
        if state and state["done"] >= min_done and state["status"] == "running":
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("job made no progress in time")


def test_kill_9_during_embedding_then_resume(tmp_path):
    src = tmp_path / "src.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in _records(240)), encoding="utf-8")
    ws = Workspace(tmp_path / "ws.duckdb", lock_timeout=60)
    ingest_file(ws, src)
    proc = _cli(ws.path, "embed", "--commit-every", "32", "--batch-size", "16")
    _kill_when(proc, ws, f"embed:{DEFAULT_MODEL}", min_done=64)
    # the workspace opens; what was committed is there, in whole batches
    ws2 = Workspace(ws.path)
    done = len(ws2.embeddings(DEFAULT_MODEL)[0])
    assert done >= 64 and done % 32 == 0 and done < 240
    assert ws2.n_examples() == 240
    # resume: finished batches are not redone
    rep = embed_workspace(ws2, DEFAULT_MODEL)
    assert rep.n_cached == done and rep.n_embedded == 240 - done
    assert len(ws2.embeddings(DEFAULT_MODEL)[0]) == 240
