"""Full-text search (BM25) candidates side by side at 100k and 1M rows: tantivy, bm25s, a plain DuckDB scan, and the
engine as shipped (curation.search: tantivy over the workspace, including the DuckDB read and the row-id mapping).

Texts are generated: words drawn Zipf-like from the vocabulary of the real Alpaca 9k texts when
../shared/datasets is present (else synthetic tokens), a prompt of ~15 and a reply of ~60 words per row, and the
phrase "as an ai language model" planted in 1% of replies so phrase queries have hits. Each (candidate, n) runs in a
fresh child process, single-threaded (OMP_NUM_THREADS=1, DuckDB threads=1, tantivy writer 1 thread), so its peak
memory is its own: ``peak MB`` is the child's peak RSS minus its RSS after generating the texts.

Queries (warm: each run once first, then the median of 5 runs): a term (``recipe``), two terms ranked by BM25
(``water bottle``), a phrase (``"as an ai language model"``), a boolean (``recipe AND -chicken``, i.e. AND NOT);
each returns the top 20 and the number of matches (a query slower than 1 s:
the median of 2 runs). bm25s has no phrases or boolean operators (n/a).
The embedding comparison: MiniLM (the workspace's default model) on 256 of the same texts, one thread, scaled to n.

Usage: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_search.py [--sizes 100000 1000000] [--only NAME ...]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = {"term": "recipe", "two terms": "water bottle", "phrase": '"as an ai language model"',
           "boolean": "recipe AND -chicken"}
CANDIDATES = ("tantivy", "bm25s", "duckdb_scan", "engine")

CHILD = r'''
import gzip, json, os, re, resource, sys, tempfile, time
import numpy as np
sys.path.insert(0, {root!r})
n, cand = {n}, {cand!r}
QUERIES = {queries!r}

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

def hwm_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

def vocabulary():
    p = os.path.join({root!r}, "..", "shared", "datasets", "alpaca-9k-random", "alpaca_random_9k.jsonl.gz")
    counts = {{}}
    if os.path.exists(p):
        with gzip.open(p, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                for w in re.findall(r"[a-z]+", (r["instruction"] + " " + r["output"]).lower()):
                    counts[w] = counts.get(w, 0) + 1
    words = sorted(counts, key=lambda w: -counts[w]) if counts else [f"w{{i}}" for i in range(20000)]
    for w in ("recipe", "chicken", "water", "bottle"):
        if w not in counts:
            words.append(w)
    return np.array(words, dtype=object)

rng = np.random.default_rng(0)
V = vocabulary()
p = 1.0 / np.arange(1, len(V) + 1) ** 1.05
p /= p.sum()
def texts(m, length):
    lens = rng.integers(length // 2, length * 3 // 2, m)
    flat = V[rng.choice(len(V), size=int(lens.sum()), p=p)]
    cuts = np.cumsum(lens)[:-1]
    return [" ".join(x) for x in np.split(flat, cuts)]
prompts = texts(n, 15)
replies = texts(n, 60)
for i in rng.choice(n, n // 100, replace=False):
    replies[i] = "as an ai language model " + replies[i]
base = rss_mb()
out = {{"n": n, "candidate": cand}}
tmp = tempfile.mkdtemp(prefix="bench_search_")

def timed(fn):
    t = time.perf_counter(); fn(); first = time.perf_counter() - t
    ts = []
    for _ in range(5 if first < 1.0 else 2):
        t = time.perf_counter(); r = fn(); ts.append(time.perf_counter() - t)
    return float(np.median(ts)) * 1000, r

if cand == "tantivy":
    import tantivy
    t0 = time.perf_counter()
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("row_id", stored=True, indexed=True, fast=True)
    sb.add_text_field("prompt", tokenizer_name="default")
    sb.add_text_field("response", tokenizer_name="default")
    schema = sb.build()
    index = tantivy.Index(schema, path=tmp)
    w = index.writer(heap_size=128_000_000, num_threads=1)
    for i in range(n):
        w.add_document(tantivy.Document(row_id=i, prompt=prompts[i], response=replies[i]))
    w.commit(); w.wait_merging_threads()
    index.reload()
    out["build_s"] = time.perf_counter() - t0
    searcher = index.searcher()
    def q(s):
        def fn():
            r = searcher.search(index.parse_query(s, ["prompt", "response"]), limit=20, count=True)
            ids = searcher.fast_field_values("row_id", [a for _, a in r.hits])
            return r.count, ids
        return fn
    for name, s in QUERIES.items():
        out[name] = timed(q(s))[0]
        out[name + "_n"] = q(s)()[0]
elif cand == "bm25s":
    import bm25s
    t0 = time.perf_counter()
    corpus = [a + " " + b for a, b in zip(prompts, replies)]
    tok = bm25s.tokenize(corpus, stopwords=None, show_progress=False)
    r = bm25s.BM25()
    r.index(tok, show_progress=False)
    out["build_s"] = time.perf_counter() - t0
    del corpus
    for name, s in QUERIES.items():
        if name in ("phrase", "boolean"):
            out[name] = None
            continue
        qt = bm25s.tokenize([s], stopwords=None, show_progress=False)
        def fn():
            return r.retrieve(qt, k=20, show_progress=False, n_threads=1)
        out[name] = timed(fn)[0]
elif cand == "duckdb_scan":
    import duckdb, pandas as pd
    t0 = time.perf_counter()
    con = duckdb.connect(os.path.join(tmp, "t.duckdb"))
    con.execute("set threads=1")
    con.execute("set enable_progress_bar=false")
    con.register("_t", pd.DataFrame({{"row_id": np.arange(n), "prompt": prompts, "response": replies}}))
    con.execute("create table t as select * from _t")
    con.unregister("_t")
    out["build_s"] = time.perf_counter() - t0
    def where(s):
        if s.startswith('"'):
            return "regexp_matches(prompt || ' ' || response, '\\b' || ? || '\\b', 'i')", [s.strip('"')]
        if " AND -" in s:
            a, b = s.split(" AND -")
            return ("regexp_matches(prompt || ' ' || response, '\\b' || ? || '\\b', 'i') and not "
                    "regexp_matches(prompt || ' ' || response, '\\b' || ? || '\\b', 'i')"), [a, b]
        ws = s.split()
        return " or ".join(["regexp_matches(prompt || ' ' || response, '\\b' || ? || '\\b', 'i')"] * len(ws)), ws
    for name, s in QUERIES.items():
        cond, params = where(s)
        first = s.strip('"').split(" AND -")[0].split()[0]
        sql = (f"select row_id, len(regexp_extract_all(lower(prompt || ' ' || response), '\\b' || ? || '\\b')) tf, "
               f"count(*) over () from t where {{cond}} order by tf desc limit 20")
        def fn(sql=sql, params=params, first=first):
            return con.execute(sql, [first] + params).fetchall()
        out[name] = timed(fn)[0]
elif cand == "engine":
    import pandas as pd
    from curation.store import Workspace
    from curation.search import search
    from curation.search.words import build_index
    ws = Workspace(os.path.join(tmp, "ws.duckdb"))
    for s in range(0, n, 200_000):
        m = min(200_000, n - s)
        ids = [f"b/{{i}}" for i in range(s, s + m)]
        ws.add_examples({{"name": f"b{{s}}", "kind": "sft"}}, pd.DataFrame({{
            "example_id": ids, "dataset": f"b{{s}}", "source_line": np.arange(s, s + m), "kind": "sft",
            "prompt": prompts[s:s + m], "response": replies[s:s + m], "chosen": None, "rejected": None,
            "messages": None, "label": None, "embed_text": "x", "text_hash": ids, "content_hash": ids,
            "n_tokens": 0, "record": "{{}}"}}))
    del prompts, replies
    base = rss_mb()
    t0 = time.perf_counter()
    build_index(ws)
    out["build_s"] = time.perf_counter() - t0
    for name, s in QUERIES.items():
        def fn(s=s):
            return search(ws, s, mode="words", limit=20)
        out[name] = timed(fn)[0]
        out[name + "_n"] = fn().n_matches
if cand in ("tantivy", "engine"):
    size = 0
    for dp, _, fs in os.walk(tmp):
        size += sum(os.path.getsize(os.path.join(dp, f)) for f in fs if not f.endswith(".duckdb")
                    and not f.endswith(".wal"))
    out["disk_mb"] = size / 1e6
out["peak_mb"] = hwm_mb() - base
print(json.dumps(out))
'''


def embed_seconds(n_texts: int = 256) -> float:
    """Seconds per text for MiniLM on one thread, over generated texts of the benchmark's lengths."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from curation.embedding.embed import encode_texts

    import gzip

    src = ROOT.parent / "shared" / "datasets" / "alpaca-9k-random" / "alpaca_random_9k.jsonl.gz"
    if src.exists():      # real instruction + reply texts (what a workspace embeds)
        with gzip.open(src, "rt", encoding="utf-8") as f:
            texts = [(lambda r: r["instruction"] + "\n\n" + r["output"])(json.loads(line)) for _, line in
                     zip(range(n_texts), f)]
    else:
        rng = np.random.default_rng(1)
        words = [f"word{i}" for i in range(3000)]
        texts = [" ".join(rng.choice(words, 75)) for _ in range(n_texts)]
    encode_texts(texts[:16])
    t = time.perf_counter()
    encode_texts(texts)
    return (time.perf_counter() - t) / n_texts


def run(n: int, cand: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", RAYON_NUM_THREADS="1", MKL_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), n=n, cand=cand, queries=QUERIES)],
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return {"n": n, "candidate": cand, "error": p.stderr.strip().splitlines()[-1][:200]}
    return json.loads([line for line in p.stdout.splitlines() if line.startswith("{")][-1])


def fmt(v: object, digits: int = 1) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def table(rows: list[dict], per_text_s: float | None) -> str:
    head = ("| rows | candidate | index build s | peak MB | disk MB | term ms | two terms ms | phrase ms | "
            "boolean ms | MiniLM embedding of the same rows (1 thread, scaled) |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    out = [head]
    for r in rows:
        if "error" in r:
            out.append(f"| {r['n']:,} | {r['candidate']} | failed: {r['error']} |||||||")
            continue
        emb = f"{r['n'] * per_text_s / 60:,.0f} min" if per_text_s else "-"
        out.append(f"| {r['n']:,} | {r['candidate']} | {fmt(r.get('build_s'))} | {fmt(r.get('peak_mb'), 0)} | "
                   f"{fmt(r.get('disk_mb'), 0) if 'disk_mb' in r else '-'} | {fmt(r.get('term'), 2)} | "
                   f"{fmt(r.get('two terms'), 2)} | {fmt(r.get('phrase'), 2)} | {fmt(r.get('boolean'), 2)} | {emb} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--only", nargs="+", choices=CANDIDATES, default=list(CANDIDATES))
    ap.add_argument("--json", default=None, help="also append each result as a JSON line to this file")
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/RESULTS.md")
    ap.add_argument("--from-json", default=None, help="build the table from results saved with --json (no rerun)")
    ap.add_argument("--note", default="", help="a line about the machine's load, put under the table")
    args = ap.parse_args()
    rows = []
    if args.from_json:
        rows = [json.loads(line) for line in open(args.from_json) if line.strip()]
    else:
        for n in args.sizes:
            for c in args.only:
                r = run(n, c)
                print(json.dumps(r), flush=True)
                rows.append(r)
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(r) + "\n")
    per_text = embed_seconds()
    print(f"MiniLM: {per_text * 1000:.1f} ms per text (1 thread)")
    body = table(rows, per_text) + "\n\nMeaning search (the vectors, not this index) is measured in bench_meaning.py."
    if args.note:
        body += "\n\n" + args.note
    if not args.no_write:
        from benchmarks._results import write_section
        write_section("bench_search", "Search: full-text (BM25) candidates at 100k and 1M rows (bench_search.py)",
                      body)
    print(body)


if __name__ == "__main__":
    main()
