"""End to end at scale: every stage of a curation session on N generated records with imported vectors.

Records: the project's synthetic Alpaca-shaped generator (``curation.demo.synthetic_records``). Vectors: synthetic,
clustered 384-d (one centre per category plus a sub-centre per record template family, plus noise), written to a
Parquet file keyed by the records' own ids and brought in with ``import-embeddings`` (no model runs here: at 1M rows
embedding would take a day on 2 cores, which is what importing vectors is for).

Stages (each in its own Python process, so its peak RSS is its own): ingest, import vectors, neighbour graph, UMAP
map, density + near/exact duplicates + clusters, text heuristics, facility-location ranking, report card, export of
a 10% subset (JSONL + manifest + datasheet). Wall time is measured inside the process (interpreter start-up and
imports excluded, reported apart), next to its CPU time (user + system, all threads: on a machine shared with other
jobs the wall time stretches, the CPU time much less); peak RSS is the process's ``ru_maxrss``. Generating the input
files is setup, not
counted. Targets on 2 cores: 100k end to end <= 5 min; 1M <= 30 min with peak RSS <= 16 GB.

Usage: nice .venv/bin/python benchmarks/bench_scale.py [--rows 100000] [--keep DIR] [--stage-timeout S]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("CURATION_EMBED_CACHE", "off")

MODEL = "synthetic-clustered-384"
DIM = 384
STAGES = ["ingest", "import vectors", "graph", "UMAP", "density/dedup/clusters", "heuristics", "facility ranking",
          "report card", "export"]


# ---------------------------------------------------------------------------------------------- setup
def generate(d: Path, n: int, seed: int = 0):  # -> np.ndarray
    """records.jsonl and vectors.parquet (id, embedding) for ``n`` records; returns each record's template family
    (n,) int64, the finest structure of the vectors (bench_umap measures maps against it)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curation.demo import synthetic_records

    rng = np.random.default_rng(seed)
    ids, cats, fams = [], [], []
    with open(d / "records.jsonl", "w", encoding="utf-8") as fh:
        for r in synthetic_records(n, seed=seed):
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            ids.append(r["id"])
            cats.append(r.get("category") or "")
            fams.append(r["instruction"].split(" ")[0] + str(len(r["instruction"]) // 40))   # a template family
    cat_codes = np.unique(np.asarray(cats), return_inverse=True)[1]
    fam_codes = np.unique(np.asarray(fams), return_inverse=True)[1]
    centres = rng.normal(size=(cat_codes.max() + 1, DIM)).astype(np.float32)
    sub = rng.normal(size=(fam_codes.max() + 1, DIM)).astype(np.float32)
    X = np.empty((n, DIM), dtype=np.float32)
    for s in range(0, n, 100_000):
        e = min(n, s + 100_000)
        X[s:e] = centres[cat_codes[s:e]] + 0.6 * sub[fam_codes[s:e]] + 0.5 * rng.standard_normal(
            (e - s, DIM), dtype=np.float32)
    vec = pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), DIM)
    pq.write_table(pa.table({"id": pa.array(ids), "embedding": vec}), d / "vectors.parquet", row_group_size=65_536)
    return fam_codes.astype(np.int64)


# ---------------------------------------------------------------------------------------------- stages
def run_stage(stage: str, d: Path, n: int) -> dict:
    from curation.store import Workspace

    ws = Workspace(d / "ws.duckdb", lock_timeout=120)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = ru.ru_utime + ru.ru_stime
    t = time.perf_counter()
    info: dict = {}
    if stage == "ingest":
        from curation.ingest.run import ingest_file

        rep = ingest_file(ws, d / "records.jsonl")
        info["rows"] = rep.n_inserted
    elif stage == "import vectors":
        from curation.embedding.importer import import_embeddings

        rep = import_embeddings(ws, d / "vectors.parquet", model=MODEL)
        info["vectors"] = rep.n_vectors
    elif stage == "graph":
        from curation.neighbours.graph import build_graph

        info["key"] = build_graph(ws, model=MODEL)
    elif stage == "UMAP":
        from curation.neighbours.projection import umap_projection

        info["key"] = umap_projection(ws, model=MODEL)
    elif stage == "density/dedup/clusters":
        from curation.neighbours import clusters, dedup, density

        density.density_scores(ws, model=MODEL)
        dedup.near_duplicates(ws, model=MODEL)
        dedup.exact_duplicates(ws)
        clusters.cluster(ws, model=MODEL)
    elif stage == "heuristics":
        from curation.scorers import run_scorers

        info["keys"] = len(run_scorers(ws, ["heuristics"]))
    elif stage == "facility ranking":
        from curation.select import run_selection

        r = run_selection(ws, "facility", {}, model=MODEL, seed=0)
        info["key"] = r.method
    elif stage == "report card":
        from curation.diagnostics.report import ReportContext

        key = _facility_key(ws)
        card = ReportContext.build(ws, model=MODEL, label_column="label").report(ws.ranking(key).order[: n // 10])
        info["sections"] = len(card.to_dict())
    elif stage == "export":
        from curation.export import export_subset

        res = export_subset(ws, ranking_key=_facility_key(ws), budget_rows=n // 10, fmt="jsonl", name="subset",
                            overwrite=True)
        info["rows"] = getattr(res, "n_rows", None)
    else:
        raise SystemExit(f"unknown stage {stage!r}")
    info["seconds"] = time.perf_counter() - t
    ru = resource.getrusage(resource.RUSAGE_SELF)
    info["cpu_s"] = ru.ru_utime + ru.ru_stime - cpu0
    info["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return info


def _facility_key(ws) -> str:
    r = ws.rankings()
    keys = [k for k in r["key"] if k.startswith("facility")]
    if not keys:
        raise SystemExit("no facility ranking in the workspace; run the 'facility ranking' stage first")
    return keys[-1]


# ---------------------------------------------------------------------------------------------- driver
def drive(n: int, d: Path, stage_timeout: float | None, report=None) -> list[dict]:
    """Run every stage in its own process; ``report(rows)`` after each (so a stopped run keeps what finished)."""
    rows: list[dict] = []
    t = time.perf_counter()
    generate(d, n)
    print(f"generated {n:,} records and vectors in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    for stage in STAGES:
        t = time.perf_counter()
        cmd = [sys.executable, __file__, "--stage", stage, "--dir", str(d), "--rows", str(n)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=stage_timeout, cwd=ROOT, check=False)
        except subprocess.TimeoutExpired:
            rows.append({"stage": stage, "status": f"stopped after {stage_timeout:.0f} s (too slow)",
                         "process_s": time.perf_counter() - t})
            print(f"{stage}: stopped after {stage_timeout:.0f} s", file=sys.stderr)
            break
        wall = time.perf_counter() - t
        if out.returncode != 0:
            rows.append({"stage": stage, "status": "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:200],
                         "process_s": wall})
            print(out.stderr[-3000:], file=sys.stderr)
            break
        info = json.loads(out.stdout.strip().splitlines()[-1])
        info.update(stage=stage, status="ok", process_s=wall)
        rows.append(info)
        if report is not None:
            report(rows)
        print(f"{stage}: {info['seconds']:.1f} s ({info['cpu_s']:.1f} s CPU), "
              f"peak RSS {info['peak_rss_mb']:,.0f} MB", file=sys.stderr)
    return rows


def table(n: int, rows: list[dict], load: tuple[float, float], total_wall: float) -> str:
    ok = [r for r in rows if r["status"] == "ok"]
    total = sum(r["seconds"] for r in ok)
    peak = max((r["peak_rss_mb"] for r in ok), default=0.0)
    target_s, target_rss = (300, None) if n <= 100_000 else (1800, 16_000)
    lines = [
        f"{n:,} generated records, synthetic clustered {DIM}-d vectors imported with `import-embeddings`; "
        f"{os.cpu_count()} CPU cores shared with other jobs (load average {load[0]:.1f} at start, {load[1]:.1f} at "
        f"end). Run: `python benchmarks/bench_scale.py --rows {n}` on {time.strftime('%Y-%m-%d')}.",
        "",
        "| stage | wall (s) | CPU time, all threads (s) | peak RSS (MB) | process incl. start-up (s) | status |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        sec = f"{r['seconds']:.1f}" if "seconds" in r else "–"
        rss = f"{r['peak_rss_mb']:,.0f}" if "peak_rss_mb" in r else "–"
        cpu = f"{r['cpu_s']:.1f}" if "cpu_s" in r else "–"
        lines.append(f"| {r['stage']} | {sec} | {cpu} | {rss} | {r['process_s']:.1f} | {r['status']} |")
    done = len(ok) == len(STAGES)
    verdict = ("met" if total <= target_s and (target_rss is None or peak <= target_rss) else "MISSED") if done \
        else "not finished"
    slowest = max(ok, key=lambda r: r["seconds"])["stage"] if ok else "–"
    cpu_total = sum(r["cpu_s"] for r in ok)
    lines.append(f"| **total** | **{total:.0f}** | {cpu_total:.0f} | **{peak:,.0f}** (max) | "
                 f"{total_wall:.0f} (whole run) | target "
                 f"<= {target_s // 60} min{'' if target_rss is None else f', <= {target_rss // 1000} GB'}: "
                 f"**{verdict}**; slowest stage: {slowest} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    ap.add_argument("--stage-timeout", type=float, default=None, help="stop a stage running longer (seconds)")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.dir, args.rows)))
        return
    load0 = os.getloadavg()[0]
    t = time.perf_counter()

    def report(rows: list[dict]) -> str:
        md = table(args.rows, rows, (load0, os.getloadavg()[0]), time.perf_counter() - t)
        if not args.no_write:
            from benchmarks._results import write_section

            write_section(f"bench_scale_{args.rows}", f"End to end at {args.rows:,} rows (bench_scale.py)", md)
        return md

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        rows = drive(args.rows, args.keep, args.stage_timeout, report)
    else:
        with tempfile.TemporaryDirectory(prefix="bench_scale_") as d:
            rows = drive(args.rows, Path(d), args.stage_timeout, report)
    print(report(rows))


if __name__ == "__main__":
    main()
