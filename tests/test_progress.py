"""One progress calling style and one writer of job rows (curation/core/progress.py)."""
from __future__ import annotations

import ast
import json
from pathlib import Path

from curation.core.errors import CurationError
from curation.core.progress import JobReporter, TqdmProgress, run_job, stage_of

ROOT = Path(__file__).resolve().parent.parent


def test_only_the_reporter_writes_job_rows() -> None:
    """``Workspace.set_job`` is called from curation/core/progress.py only; pages and engine modules go through it."""
    callers = []
    for pkg in ("curation", "pages"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "set_job":
                    callers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    progress = "curation/core/progress.py"
    assert callers == [f"{progress}:{_line_of(progress, 'ws.set_job(')}"], callers


def _line_of(rel: str, text: str) -> int:
    lines = (ROOT / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_run_job_records_running_progress_done_and_the_result(tmp_ws) -> None:
    seen = []

    def fn(job: JobReporter) -> str:
        stage_of(job, "stage one")(3, 10)
        seen.append(tmp_ws.job("ui:x"))
        job(10, 10)
        return "result text"

    assert run_job(tmp_ws, "ui:x", "test", fn) == "result text"
    assert seen[0]["status"] == "running" and (seen[0]["done"], seen[0]["total"]) == (3, 10)
    assert seen[0]["message"] == "stage one"
    j = tmp_ws.job("ui:x")
    assert j["status"] == "done" and j["done"] == j["total"] == 10
    assert json.loads(j["params"])["result"] == "result text"


def test_run_job_records_a_failure_instead_of_raising(tmp_ws) -> None:
    def fn(job: JobReporter) -> None:
        raise CurationError("no embeddings yet; run embed first")

    assert run_job(tmp_ws, "ui:y", "test", fn) is None
    j = tmp_ws.job("ui:y")
    assert j["status"] == "failed" and j["message"] == "no embeddings yet; run embed first"


def test_stage_of_keeps_plain_callbacks_and_gives_bars_one_per_stage() -> None:
    calls = []

    def plain(done: int, total: int) -> None:
        calls.append((done, total))

    assert stage_of(plain, "x") is plain and stage_of(None, "x") is None
    bar = TqdmProgress("scoring")
    one = stage_of(bar, "response_length")
    assert isinstance(one, TqdmProgress) and one.desc == "response_length" and one is not bar
