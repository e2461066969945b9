"""A meaning search as a person feels it: headless Chromium (Playwright, /usr/bin/chromium) on the Search page of a
real ``streamlit run`` server, at 100k and 1M rows.

The workspace is written through the store API: synthetic records (the demo's templates) and, under the default
model's key, 384-d vectors standing in for MiniLM embeddings: the real MiniLM embeddings of 200 of the texts, plus
noise (embedding 1M rows with MiniLM takes a day on this machine; the query is embedded with the real MiniLM).
Measured per size:

* **first query**: Enter in the query box until the results table is drawn, in a fresh server: reading the vectors
  from DuckDB and building the scan index, loading MiniLM, embedding the query, scanning, drawing;
* **warm query**: the same for 6 further queries (each new, so nothing is cached): embedding + scan + the page's
  rerun and drawing; median and worst.

Usage: nice .venv/bin/python benchmarks/bench_search_browser.py [--sizes 100000,1000000] [--no-write]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

def build(path: Path, n: int, seed: int = 0) -> list[str]:
    """Write the workspace; returns 7 queries, each the instruction of a template of another category (so each has
    hits, and the best hit changes from one query to the next)."""
    from curation.core.keys import DEFAULT_MODEL, model_key
    from curation.demo import synthetic_records
    from curation.store import Workspace

    ws = Workspace(path)
    rng = np.random.default_rng(seed)
    base = list(synthetic_records(min(n, 50_000), seed=seed))
    recs = [base[i] for i in np.arange(n) % len(base)]
    prompt = [r["instruction"] + ("\n\n" + r["input"] if r["input"] else "") for r in recs]
    response = [r["output"] for r in recs]
    embed = [p + "\n" + q + f" #{i}" for i, (p, q) in enumerate(zip(prompt, response))]
    hashes = [hashlib.sha1(t.encode()).hexdigest() for t in embed]
    ws.add_examples({"name": "synthetic", "source": "synthetic", "shape": "alpaca", "kind": "sft"}, pd.DataFrame({
        "example_id": [f"synthetic/{i:07d}" for i in range(n)], "dataset": "synthetic",
        "source_line": np.arange(1, n + 1, dtype=np.int64), "kind": "sft", "prompt": prompt, "response": response,
        "chosen": None, "rejected": None, "messages": None, "label": [r["category"] for r in recs],
        "embed_text": embed, "text_hash": hashes, "content_hash": hashes,
        "n_tokens": np.array([len(t.split()) for t in embed], dtype=np.int64),
        "record": [json.dumps(r) for r in recs]}))
    from curation.embedding.embed import encode_texts

    # each row: the real MiniLM embedding of one of 200 template texts plus noise (cosine ~0.85 to its centre)
    centres = encode_texts(embed[:200], DEFAULT_MODEL).astype(np.float32)
    mk = model_key(DEFAULT_MODEL)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        X = centres[rng.integers(0, 200, m)] + 0.03 * rng.standard_normal((m, 384), dtype=np.float32)
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        ws.put_embeddings(mk, hashes[s:s + m], X)
    queries, seen = [], set()
    for r in base[:200]:
        if r["category"] not in seen and len(queries) < 7:
            seen.add(r["category"])
            queries.append(r["instruction"])
    return queries


def measure(ws_path: Path, queries: list[str], timeout: float) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.browser_support import ARGS, CHROMIUM, StreamlitServer, wait_idle

    times: list[float] = []
    with StreamlitServer(ws_path) as srv, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(timeout * 1000)
        page.goto(f"{srv.url}/search")
        wait_idle(page)
        page.get_by_role("combobox", name="Mode").click()        # the Mode selectbox: meaning
        page.get_by_role("option", name="meaning").click()
        wait_idle(page)
        box = page.get_by_role("textbox", name="Query")
        head = page.locator('[data-testid="stHeading"]', has_text="matching rows")
        first_cell = page.locator("table.srch tbody tr td:nth-child(2)").first
        prev = None
        print("search page ready", flush=True)
        for q in queries:
            box.fill(q)
            t = time.perf_counter()
            box.press("Enter")
            deadline = t + timeout
            while time.perf_counter() < deadline:
                try:
                    if head.count() and first_cell.count() and (cell := first_cell.inner_text()) != prev:
                        prev = cell
                        break
                except Exception:  # redrawn under us
                    pass
                time.sleep(0.01)
            times.append(time.perf_counter() - t)
            print(f"{q!r}: {times[-1]:.3f} s", flush=True)
            wait_idle(page)
        browser.close()
    return {"first_s": times[0], "warm_ms": [1000 * x for x in times[1:]]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    lines = ["| rows | first query (fresh server) s | warm query median ms | warm query worst ms | build s |",
             "|---|---|---|---|---|"]
    for n in (int(x) for x in args.sizes.split(",")):
        d = Path(tempfile.mkdtemp(prefix="bench-search-browser-"))
        t = time.perf_counter()
        queries = build(d / "w.duckdb", n)
        b = time.perf_counter() - t
        r = measure(d / "w.duckdb", queries, args.timeout)
        print(json.dumps({"n": n, "build_s": b, **r}), flush=True)
        lines.append(f"| {n:,} | {r['first_s']:.1f} | {statistics.median(r['warm_ms']):.0f} | "
                     f"{max(r['warm_ms']):.0f} | {b:.0f} |")
    load = os.getloadavg()
    body = "\n".join(lines) + (
        "\n\nEnter in the Search page's query box (mode: meaning, min cosine 0.5, 50 rows shown) until the results "
        "table shows the new hits, in headless Chromium against `streamlit run`; warm = 6 new queries after the "
        "first (instructions of templates of 7 categories), each embedded with the real MiniLM and scanned over "
        "every row (benchmarks/bench_meaning.py has the "
        f"scan alone). Load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on the "
        "project's 2-core VM. Target: <= 300 ms warm at 1M rows.")
    if not args.no_write:
        from benchmarks._results import write_section
        write_section("bench_search_browser", "Meaning search in the browser at 100k and 1M rows "
                      "(bench_search_browser.py)", body)
    print(body)


if __name__ == "__main__":
    main()
