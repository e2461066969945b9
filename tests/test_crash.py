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

import pytest

from curation.embedding.embed import DEFAULT_MODEL, embed_workspace
from curation.ingest.run import ingest_file
from curation.store import Workspace

pytestmark = pytest.mark.slow  # each test starts a CLI process and kills it with SIGKILL

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ["rice", "bread", "soup", "tea", "maps", "trains", "loans", "taxes", "stars", "cells", "poems", "loops"]


def _records(n: int) -> list[dict]:
    return [{"instruction": f"Question {i}: explain {TOPICS[i % len(TOPICS)]} to a "
                            f"{['child', 'student', 'chef'][i % 3]}"
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


def test_kill_9_during_scoring_then_resume(tmp_path):
    """Scores commit with their progress per batch: after kill -9 the committed batches are kept and a re-run
    scores only the rest."""
    from curation.scorers import run_scorer

    src = tmp_path / "src.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in _records(3000)), encoding="utf-8")
    ws = Workspace(tmp_path / "ws.duckdb", lock_timeout=60)
    ingest_file(ws, src)
    proc = _cli(ws.path, "score", "ngram_repetition", "--batch-size", "10", "--quiet")
    _kill_when(proc, ws, "score:ngram_repetition", min_done=100)
    ws2 = Workspace(ws.path)
    s = ws2.scores(["ngram_repetition"])["ngram_repetition"]
    kept = int(s.notna().sum())
    assert 100 <= kept < 3000 and kept % 10 == 0
    assert ws2.job("score:ngram_repetition")["done"] == kept  # values and progress committed together
    before = s.copy()
    run_scorer(ws2, "ngram_repetition", batch_size=500)
    after = ws2.scores(["ngram_repetition"])["ngram_repetition"]
    assert after.notna().all()
    assert (after[before.notna()] == before[before.notna()]).all()


def test_kill_9_during_ranking_leaves_a_usable_workspace(tmp_path):
    """A ranking is stored in one transaction at the end: a kill leaves either no ranking or the whole one, never a
    partial order, and the same command then completes."""
    import numpy as np

    from curation.select import run_selection

    rng = np.random.default_rng(0)
    src = tmp_path / "src.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in _records(400)), encoding="utf-8")
    ws = Workspace(tmp_path / "ws.duckdb", lock_timeout=60)
    ingest_file(ws, src)
    ids = ws.id_map()
    X = rng.normal(size=(len(ids), 16)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    ws.put_embeddings(DEFAULT_MODEL, ids["text_hash"].tolist(), X)
    proc = _cli(ws.path, "select", "kcenter", "exact_head=0")
    time.sleep(float(rng.uniform(1.0, 3.0)))  # a random moment: during start-up, ranking or (rarely) after
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ws2 = Workspace(ws.path)
    assert ws2.n_examples() == 400
    for key in ws2.rankings()["key"]:
        r = ws2.ranking(key)
        assert len(r.order) == 400 and len(set(r.order.tolist())) == 400
    r = run_selection(ws2, "kcenter", {"exact_head": 0}, seed=0)
    assert sorted(r.order.tolist()) == sorted(ws2.row_ids().tolist())
