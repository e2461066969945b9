"""Export benchmark: writing the subset, the datasheet and reproducing from a manifest, at N rows.

1. ``export_subset`` (subset from a ranking + pins, styled records from DuckDB, atomic write, sha256, manifest) for
   each format, original and chat-messages styles, next to the peer writers from the same in-memory records
   (Hugging Face ``datasets``: ``Dataset.from_list(...).to_json / to_parquet / to_csv / save_to_disk``). The peer
   does not read the workspace, compute hashes or write a manifest, so the ratio is conservative.
2. The datasheet (drop reasons, diagnostics report card over N embedded rows, SVG map) — absolute time; the
   embeddings are random unit vectors put in the workspace (the cost does not depend on their values).
3. ``reproduce`` from a manifest (fresh workspace, re-ingest, random ranking, export, compare) vs the original
   ingest + export.

Usage: .venv/bin/python benchmarks/bench_export.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks._results import write_section  # noqa: E402


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _peer(fmt: str, records: list[dict], out: Path) -> float:
    import datasets
    from datasets.utils import logging as ds_logging

    ds_logging.disable_progress_bar()
    t = time.perf_counter()
    ds = datasets.Dataset.from_list(records)
    if fmt == "jsonl":
        ds.to_json(str(out / "peer.jsonl"), lines=True, force_ascii=False)
    elif fmt == "parquet":
        ds.to_parquet(str(out / "peer.parquet"))
    elif fmt == "csv":
        ds.to_csv(str(out / "peer.csv"), index=False)
    else:
        ds.save_to_disk(str(out / "peer_hf"))
    return time.perf_counter() - t


def run(n: int, tmp: Path) -> dict:
    import numpy as np

    from curation.demo import synthetic_records
    from curation.embedding.embed import DEFAULT_MODEL
    from curation.export.writer import _write_data
    from curation.export import export_subset, styled_records, subset_row_ids
    from curation.workflows.reproduce import reproduce
    from curation.ingest.run import ingest_file
    from curation.select import run_selection
    from curation.store import Workspace

    src = tmp / f"synthetic_{n}.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        for r in synthetic_records(n, seed=0):
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    ws = Workspace(tmp / "bench.duckdb")
    _, t_ingest = _timed(lambda: ingest_file(ws, src, name="syn"))
    key = run_selection(ws, "random", {}, seed=0).method
    ids = ws.examples(["example_id"])["example_id"].tolist()
    ws.add_decisions(ids[:50], "include", who="bench")
    ws.add_decisions(ids[50:100], "exclude", who="bench")
    budget = n // 2
    rows = []
    for style in ("original", "messages"):
        sel = subset_row_ids(ws, ranking_key=key, budget_rows=budget)
        records, _, _ = styled_records(ws, sel, style)
        for fmt in ("jsonl", "parquet", "csv", "hf"):
            res, t_ours = _timed(lambda: export_subset(ws, ranking_key=key, budget_rows=budget, fmt=fmt, style=style,
                                                       name=f"b_{style}_{fmt}", datasheet=False, overwrite=True))
            peer_dir = tmp / f"peer_{style}_{fmt}"
            peer_dir.mkdir()
            _, t_write = _timed(lambda: _write_data(records, fmt, peer_dir / f"ours{'' if fmt == 'hf' else '.x'}"))
            t_peer = _peer(fmt, records, peer_dir)
            rows.append({"style": style, "fmt": fmt, "rows": res.n_rows, "ours_s": t_ours, "write_s": t_write,
                         "peer_s": t_peer, "ratio": t_ours / t_peer, "wratio": t_write / t_peer})
            shutil.rmtree(peer_dir)
    # datasheet with N embedded rows (random unit vectors; the report card's cost does not depend on values)
    hashes = ws.examples(["text_hash"])["text_hash"].unique().tolist()
    X = np.random.default_rng(0).normal(size=(len(hashes), 384)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    ws.put_embeddings(DEFAULT_MODEL, hashes, X)
    _, t_sheet_total = _timed(lambda: export_subset(ws, ranking_key=key, budget_rows=budget, name="sheet",
                                                    style="messages", overwrite=True))
    _, t_nosheet = _timed(lambda: export_subset(ws, ranking_key=key, budget_rows=budget, name="nosheet",
                                                style="messages", overwrite=True, datasheet=False))
    sheet_kb = (ws.export_dir / "sheet.jsonl.datasheet.html").stat().st_size / 1e3
    # reproduce (random ranking needs no embeddings)
    man = ws.export_dir / "b_original_jsonl.jsonl.manifest.json"
    rep, t_rep = _timed(lambda: reproduce(man, out_dir=tmp / "repro"))
    assert rep.identical, rep.messages
    t_orig = t_ingest + next(r["ours_s"] for r in rows if r["style"] == "original" and r["fmt"] == "jsonl")
    return {"n": n, "budget": budget, "ingest_s": t_ingest, "rows": rows, "datasheet_s": t_sheet_total - t_nosheet,
            "sheet_kb": sheet_kb, "reproduce_s": t_rep, "orig_s": t_orig}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="10k rows instead of 100k")
    ap.add_argument("--n", type=int, default=None)
    args = ap.parse_args()
    n = args.n or (10_000 if args.quick else 100_000)
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="bench_export_") as d:
        r = run(n, Path(d))
    lines = [f"Pool of {r['n']:,} generated Alpaca-shaped rows; subset = random ranking prefix of {r['budget']:,} "
             "plus 50 include / 50 exclude pins. *ours* = `export_subset` end to end (subset, styled records from "
             "DuckDB, atomic write, sha256, manifest; no datasheet); *ours, write only* = our deterministic atomic "
             "writer on the records already in memory; *peer* = `datasets.Dataset.from_list(records)` + its writer "
             "on the same in-memory records.", "",
             "| style | format | rows | ours end to end (s) | ours, write only (s) | peer datasets (s) | "
             "end to end / peer | write only / peer |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for x in r["rows"]:
        lines.append(f"| {x['style']} | {x['fmt']} | {x['rows']:,} | {x['ours_s']:.2f} | {x['write_s']:.2f} | "
                     f"{x['peer_s']:.2f} | {x['ratio']:.2f} | {x['wratio']:.2f} |")
    lines += ["", f"- datasheet (report card over {r['n']:,} embedded rows, drop reasons, map): "
              f"{r['datasheet_s']:.1f} s extra, {r['sheet_kb']:.0f} kB self-contained HTML",
              f"- reproduce from the manifest (fresh workspace, re-ingest {r['n']:,} rows, re-rank, export, compare "
              f"sha256): {r['reproduce_s']:.1f} s vs {r['orig_s']:.1f} s for the original ingest + export "
              f"(ratio {r['reproduce_s'] / r['orig_s']:.2f}); identical bytes"]
    body = "\n".join(lines)
    print(body)
    write_section("bench_export", "Export, datasheet and reproduce (bench_export.py)", body)


if __name__ == "__main__":
    main()
