"""Concurrent curators: two dashboard sessions (threads of one server process) and a CLI process pin, unpin and
tag the same examples at once. No decision is lost, the log keeps each curator's order, and decisions survive a
restart (a fresh process opening the file)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pandas as pd

from curation.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
N = 30


def _ws(path: Path) -> Workspace:
    ws = Workspace(path, lock_timeout=60)
    rows = pd.DataFrame({
        "example_id": [f"d/{i}" for i in range(10)], "dataset": "d", "source_line": range(10), "kind": "sft",
        "prompt": "p", "response": "r", "chosen": None, "rejected": None, "messages": None, "label": None,
        "embed_text": "t", "text_hash": [f"h{i}" for i in range(10)], "content_hash": [f"c{i}" for i in range(10)],
        "n_tokens": 2, "record": "{}"})
    ws.add_examples({"name": "d", "source": "mem"}, rows)
    return ws


ACTIONS = ("include", "tag", "exclude", "untag", "unpin")


def _session(ws: Workspace, who: str, errors: list) -> None:
    try:
        for i in range(N):
            ex = f"d/{i % 10}"
            action = ACTIONS[i % len(ACTIONS)]
            ws.add_decisions([ex], action, who=who, value=f"seq{i}" if action in ("tag", "untag") else None,
                             why=f"{who} step {i}")
    except Exception as exc:
        errors.append(exc)


def test_two_sessions_and_cli_at_once(tmp_path):
    ws = _ws(tmp_path / "w.duckdb")
    cli = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from curation.store import Workspace
        ws = Workspace({str(ws.path)!r}, lock_timeout=60)
        actions = {ACTIONS!r}
        for i in range({N}):
            a = actions[i % len(actions)]
            ws.add_decisions([f"d/{{i % 10}}"], a, who="cli", value=f"seq{{i}}" if a in ("tag", "untag") else None,
                             why=f"cli step {{i}}")
        print("cli done", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", cli], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors: list = []
    threads = [threading.Thread(target=_session, args=(ws, who, errors)) for who in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert not errors, errors
    # a restart: a fresh process reads the log from the file
    reader = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from curation.store import Workspace
        log = Workspace({str(ws.path)!r}).decisions()
        print(log.to_json(orient="records"))
    """)], capture_output=True, text=True, timeout=120)
    log = pd.read_json(__import__("io").StringIO(reader.stdout))
    assert len(log) == 3 * N
    for who in ("alice", "bob", "cli"):
        mine = log[log["who"] == who]
        assert len(mine) == N
        # each curator's decisions appear in the order they were made
        assert list(mine["why"]) == [f"{who} step {i}" for i in range(N)]
    assert log["id"].is_unique and log["id"].is_monotonic_increasing
    # the current pin of each example is the last pin-type decision in the log
    pins = ws.pins().set_index("example_id")["pin"].to_dict()
    last = (log[log["action"].isin(["include", "exclude", "unpin"])].groupby("example_id")["action"].last())
    expected = {k: v for k, v in last.items() if v != "unpin"}
    assert pins == expected
