"""Server-side time of the dashboard's two hot interactions at 100k examples: a budget change on the Select page
and a pin of a map selection on the Map page, measured with Streamlit's AppTest (the whole script run, which is
an upper bound of the fragment that reruns in the browser).

Compared, in the same run, with a naive recompute of the same interaction: no caches (every loader rereads the
workspace) and the ranking recomputed from scratch (``run_selection(..., force=True)``), which is what an app without
prefix rankings and cached loaders would do on every change. Reported as the ratio naive / dashboard.

The workspace is synthetic: ``curation.demo.synthetic_records`` ingested, random unit embeddings, a random 2-D
projection, three random scores and a top-k ranking (no model runs).

    .venv/bin/python benchmarks/bench_app.py [--quick] [--n 100000]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def build(path: Path, n: int, seed: int = 0):  # Workspace
    from curation.demo import synthetic_records
    from curation.embedding.embed import DEFAULT_MODEL
    from curation.ingest.run import ingest_file
    from curation.core.keys import score_key
    from curation.select import run_selection
    from curation.store import Workspace

    ws = Workspace(path)
    src = path.parent / "synthetic.jsonl"
    with src.open("w") as fh:
        for r in synthetic_records(n, seed=seed):
            fh.write(json.dumps(r) + "\n")
    ingest_file(ws, src, name="synthetic")
    rng = np.random.default_rng(seed)
    ids = ws.id_map()
    hashes = ids["text_hash"].drop_duplicates().tolist()
    X = rng.standard_normal((len(hashes), 384)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    ws.put_embeddings(DEFAULT_MODEL, hashes, X)
    ws.put_projection(score_key("umap", model=DEFAULT_MODEL), ids["row_id"].to_numpy(),
                      rng.standard_normal((len(ids), 2)), method="umap", model=DEFAULT_MODEL)
    for name, hib in (("quality", True), ("length_z", False), ("novelty", True)):
        ws.put_scores(f"bench_{name}", ids["example_id"].tolist(), rng.random(len(ids)), name=name,
                      higher_is_better=hib, description=f"random {name} for the benchmark")
    run_selection(ws, "topk", {"score": "bench_quality"}, seed=0, model=DEFAULT_MODEL)
    return ws


def app(page: str, ws, **state):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=600)
    at.session_state["workspace_path"] = str(ws.path)
    at.session_state["curator"] = "bench"
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def timed(fn, repeat: int) -> float:
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k examples, 2 repeats")
    ap.add_argument("--n", type=int, default=None)
    args = ap.parse_args()
    n = args.n or (10_000 if args.quick else 100_000)
    repeat = 2 if args.quick else 5
    import streamlit as st
    import torch

    from curation.embedding.embed import DEFAULT_MODEL
    from curation.select import run_selection

    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="bench_app_"))
    t0 = time.perf_counter()
    ws = build(tmp / "ws.duckdb", n)
    print(f"built a {n:,}-example workspace in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    # ---- budget change
    at = app("select", ws, budget_unit="%", budget_value=10.0)
    values = iter(np.linspace(11, 60, 4 * repeat + 4).tolist())
    budget_fast = timed(lambda: at.slider(key="select:budget:pct").set_value(float(next(values))).run(), repeat)
    assert not at.exception

    def naive_budget() -> None:
        st.cache_data.clear()
        st.cache_resource.clear()
        run_selection(ws, "topk", {"score": "bench_quality"}, seed=0, model=DEFAULT_MODEL, force=True)
        at.slider(key="select:budget:pct").set_value(float(next(values))).run()
    budget_naive = timed(naive_budget, repeat)

    # ---- pin a map selection of 200 points
    rng = np.random.default_rng(1)
    row_ids = ws.row_ids()
    mp = app("map", ws)
    actions = iter(["include", "exclude"] * (2 * repeat + 2))

    def pin(clear: bool = False) -> float:
        """Select 200 points (untimed run that draws them), then time the click on a pin button."""
        mp.session_state["map_selection"] = sorted(rng.choice(row_ids, 200, replace=False).tolist())
        mp.run()
        if clear:  # naive: nothing cached, and the ranking recomputed, on the interaction itself
            st.cache_data.clear()
            st.cache_resource.clear()
        t0 = time.perf_counter()
        if clear:
            run_selection(ws, "topk", {"score": "bench_quality"}, seed=0, model=DEFAULT_MODEL, force=True)
        mp.button(key=f"map:{next(actions)}").click().run()
        assert not mp.exception, [e.value for e in mp.exception]
        return time.perf_counter() - t0

    pin_fast = statistics.median(pin() for _ in range(repeat))
    pin_naive = statistics.median(pin(clear=True) for _ in range(repeat))

    rows = [("budget change (Select page)", budget_fast, budget_naive),
            ("pin 200 map points (Map page, 50k drawn)", pin_fast, pin_naive)]
    table = ["| interaction | dashboard (s) | naive recompute (s) | naive / dashboard |", "|---|---:|---:|---:|"]
    table += [f"| {name} | {a:.3f} | {b:.3f} | {b / a:.1f}× |" for name, a, b in rows]
    body = (f"{n:,} synthetic examples (random 384-d embeddings and projection, 3 scores, a top-k ranking); median of "
            f"{repeat} AppTest script runs each (server side: the whole page script, an upper bound of the fragment "
            "the browser reruns). Naive = caches cleared and the ranking recomputed (`force=True`) on every "
            "interaction.\n\n" + "\n".join(table))
    print(body)
    if not args.quick or args.n:
        from benchmarks._results import write_section

        write_section("bench_app", "Dashboard interactions (bench_app)", body)


if __name__ == "__main__":
    main()
