"""Demo map readability: the generated demo texts before and after the text-variety change, side by side.

Both generators (``curation/demo`` as of :data:`BEFORE_COMMIT`, read from the git history, and today's
``curation.demo``) build the
demo the way ``python -m curation demo`` does (write the files, ingest SFT and preference sets, embed with the
default MiniLM, neighbour graph and UMAP map with the analyze defaults), then, on the SFT rows:

- **k-NN topic purity**: the share of each row's 10 nearest neighbours (cosine, embedding space) in its category;
- **silhouette (2-D)**: silhouette of the categories on the UMAP map (-1..1; regions, not interleaved blobs);
- **distinct 3-grams**: distinct word 3-grams / all word 3-grams over the SFT texts (lexical variety);
- **map cells occupied**: the share of a 64 x 64 grid over the box holding the middle 98% of the map's points that
  holds at least one SFT row (a few tight blobs occupy few cells; regions occupy many);
- **2-D distances**: the median distance of clean rows to their 10th nearest 2-D neighbour, and of planted copies
  to their original, in % of that box's diagonal (regions: the first grows; duplicates: the second stays small);
- **unplanted pairs >= 0.95**: pairs of SFT rows at cosine >= 0.95 that are not planted duplicates;
- **planted copy -> original**: the share of planted copies whose nearest neighbour is their original (or another
  member of their group);
- **outliers in low-density 10%**: the share of empty and repetitive answers whose mean 10-NN similarity is in the
  lowest 10% of all rows (outliers apart from the rest).

Usage: nice .venv/bin/python benchmarks/bench_demo_map.py [--n-sft 3000 --n-pref 300] [--png DIR]
"""
from __future__ import annotations

import argparse
import importlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks._results import write_section  # noqa: E402

TOKEN = re.compile(r"[a-z0-9']+")
BEFORE_COMMIT = "b5c41be2709407b6cd9cfd80344c559312272e4f"
"""``curation/demo`` split into a package, before the text-variety change (the same records as the old demo.py)."""


def load_before(tmp: Path):
    """The demo generator as of :data:`BEFORE_COMMIT`, extracted from the git history into ``tmp`` and imported
    as the package ``demo_before`` (its ``curation.demo`` imports renamed)."""
    out = subprocess.run(["git", "-C", str(ROOT), "archive", BEFORE_COMMIT, "curation/demo"], capture_output=True)
    if out.returncode != 0:
        sys.exit(f"bench_demo_map: the 'before' generator is read from commit {BEFORE_COMMIT[:7]}, which this "
                 f"checkout lacks ({out.stderr.decode().strip()}); run it in a full clone (git fetch --unshallow)")
    root = tmp / "before_src"
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        tar.extractall(root, filter="data")
    pkg = (root / "curation" / "demo").rename(root / "demo_before")
    for f in pkg.glob("*.py"):
        f.write_text(f.read_text(encoding="utf-8").replace("curation.demo", "demo_before"), encoding="utf-8")
    sys.path.insert(0, str(root))
    return importlib.import_module("demo_before")


def build(gen, tmp: Path, name: str, n_sft: int, n_pref: int) -> dict:
    """Write, ingest, embed and map one generator's demo; return arrays for the metrics."""
    import numpy as np

    from curation.embedding.embed import DEFAULT_MODEL, embed_workspace
    from curation.ingest.run import ingest_file
    from curation.neighbours.graph import embeddings_of
    from curation.neighbours.projection import umap_projection
    from curation.store import Workspace

    t0 = time.perf_counter()
    paths = gen.write_demo(tmp / name, n_sft=n_sft, n_pref=n_pref, seed=0)
    data = gen.generate_demo(n_sft=n_sft, n_pref=n_pref, seed=0)
    ws = Workspace(tmp / f"{name}.duckdb")
    ingest_file(ws, paths["sft"], name="demo_sft")
    ingest_file(ws, paths["pref"], name="demo_pref")
    t1 = time.perf_counter()
    embed_workspace(ws, DEFAULT_MODEL)
    t2 = time.perf_counter()
    key = umap_projection(ws, model=DEFAULT_MODEL, k=30, n_neighbors=15, seed=0)
    t3 = time.perf_counter()
    ex = ws.examples(["row_id", "example_id", "dataset", "label", "n_tokens"])
    rows_v, X = embeddings_of(ws, DEFAULT_MODEL)
    rows_p, xy = ws.projection(key)
    pos_v = {int(r): i for i, r in enumerate(rows_v)}
    pos_p = {int(r): i for i, r in enumerate(rows_p)}
    sft = ex[ex["dataset"] == "demo_sft"].reset_index(drop=True)
    rid = sft["row_id"].astype(int).tolist()
    local = {e.split("/", 1)[1]: i for i, e in enumerate(sft["example_id"])}
    texts = {r["id"]: " ".join((r["instruction"], r["input"], r["output"])) for r in data.sft}
    return {"X": X[[pos_v[r] for r in rid]], "xy": np.asarray(xy)[[pos_p[r] for r in rid]],
            "xy_all": np.asarray(xy), "label": sft["label"].astype(str).to_numpy(), "local": local,
            "texts": [texts[e.split("/", 1)[1]] for e in sft["example_id"]], "truth": data.truth,
            "tokens": int(ex["n_tokens"].sum()),
            "secs": {"generate+ingest": t1 - t0, "embed": t2 - t1, "graph+umap": t3 - t2}}


def metrics(b: dict) -> dict:
    import numpy as np
    from sklearn.metrics import silhouette_score

    X, xy, lab, truth, local = b["X"], b["xy"], b["label"], b["truth"], b["local"]
    n = len(X)
    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    nn10 = np.argsort(-S, axis=1)[:, :10]
    purity = float((lab[nn10] == lab[:, None]).mean())
    sil = float(silhouette_score(xy, lab, sample_size=min(n, 3000), random_state=0))
    grams_all, grams = 0, set()
    for t in b["texts"]:
        toks = TOKEN.findall(t.lower())
        g = [tuple(toks[i:i + 3]) for i in range(len(toks) - 2)]
        grams_all += len(g)
        grams.update(g)
    # planted pairs (copy, original-or-group-member)
    groups: list[list[int]] = [[local[i] for i in g] for g in truth["exact_duplicates"]]
    groups += [[local[a], local[bb]] for a, bb in truth["near_duplicates"]]
    planted = {i for g in groups for i in g}
    same = {}
    for g in groups:
        for i in g:
            same.setdefault(i, set()).update(set(g) - {i})
    top1 = np.argmax(S, axis=1)
    copies = [i for g in groups for i in g[1:]]
    copy_hit = float(np.mean([top1[i] in same[i] for i in copies])) if copies else float("nan")
    iu = np.triu_indices(n, 1)
    hi = S[iu] >= 0.95
    pairs = [(int(a), int(c)) for a, c in zip(iu[0][hi], iu[1][hi])]
    unplanted = sum(1 for a, c in pairs if c not in same.get(a, ()))
    # 2-D spread: distances as % of the diagonal of the box holding the middle 98% of the map (far blobs ignored)
    lo, hi = np.quantile(b["xy_all"], 0.01, axis=0), np.quantile(b["xy_all"], 0.99, axis=0)
    diag = float(np.linalg.norm(hi - lo))
    D2 = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(D2, np.inf)
    d10 = np.sort(D2, axis=1)[:, 9] / diag * 100
    clean_mask = np.ones(n, bool)
    defect = {local[i] for k in ("empty", "truncated", "repetitive", "off_topic", "html") for i in truth[k]}
    clean_mask[list(planted | defect)] = False
    pair_d = [D2[c, g[0]] / diag * 100 for g in groups for c in g[1:]]
    inside = ((xy >= lo) & (xy <= hi)).all(1)
    cell = np.floor((xy[inside] - lo) / (hi - lo) * 63.999).astype(int)
    cells = len({(int(a), int(c)) for a, c in cell}) / 64 ** 2
    dens = np.sort(S, axis=1)[:, ::-1][:, :10].mean(1)
    low = dens <= np.quantile(dens, 0.10)
    outl = [local[i] for k in ("empty", "repetitive") for i in truth[k]]
    return {"knn_purity": purity, "silhouette_2d": sil, "distinct_3grams": len(grams) / max(1, grams_all),
            "d10_clean": float(np.median(d10[clean_mask])), "copy_2d": float(np.median(pair_d)) if pair_d else 0.0,
            "cells": cells,
            "unplanted_095": unplanted, "copy_to_original": copy_hit,
            "outliers_low10": float(low[outl].mean()) if outl else float("nan"),
            "mean_words": float(np.mean([len(t.split()) for t in b["texts"]]))}


def png(b: dict, path: Path) -> None:
    """A quick scatter of the SFT rows coloured by category (for looking, not for the report)."""
    import numpy as np
    from PIL import Image, ImageDraw

    colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
               (227, 119, 194), (23, 190, 207)]
    cats = sorted(set(b["label"]))
    xy = b["xy"]
    lo, hi = xy.min(0), xy.max(0)
    size = 900
    p = (xy - lo) / (hi - lo) * (size - 40) + 20
    im = Image.new("RGB", (size, size + 30), "white")
    d = ImageDraw.Draw(im)
    for (x, y), lab in zip(p, b["label"]):
        c = colours[cats.index(lab) % len(colours)]
        d.ellipse([x - 2, y - 2, x + 2, y + 2], fill=c)
    for i, c in enumerate(cats):
        d.rectangle([10 + i * 110, size + 8, 20 + i * 110, size + 18], fill=colours[i % len(colours)])
        d.text((24 + i * 110, size + 6), c, fill="black")
    im.save(path)
    _ = np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-sft", type=int, default=3000)
    ap.add_argument("--n-pref", type=int, default=300)
    ap.add_argument("--png", type=Path, default=None, help="also draw both maps as PNG files into this folder")
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    import curation.demo as after

    res = {}
    with tempfile.TemporaryDirectory() as td:
        before = load_before(Path(td))
        for name, gen in (("before", before), ("after", after)):
            b = build(gen, Path(td), name, args.n_sft, args.n_pref)
            res[name] = metrics(b)
            res[name]["secs"], res[name]["tokens"] = b["secs"], b["tokens"]
            if args.png:
                args.png.mkdir(parents=True, exist_ok=True)
                png(b, args.png / f"demo_map_{name}.png")
    load = os.getloadavg()
    rows = [("k-NN topic purity (10 neighbours, embedding space)", "knn_purity", "{:.3f}"),
            ("silhouette of topics on the 2-D map", "silhouette_2d", "{:.3f}"),
            ("distinct word 3-grams / all 3-grams", "distinct_3grams", "{:.3f}"),
            ("map cells occupied (64 x 64 grid over the middle 98% box)", "cells", "{:.3f}"),
            ("clean rows: median 2-D distance to 10th neighbour, % of box diagonal", "d10_clean", "{:.2f}"),
            ("planted copies: median 2-D distance to the original, % of box diagonal", "copy_2d", "{:.3f}"),
            ("unplanted SFT pairs at cosine >= 0.95", "unplanted_095", "{:d}"),
            ("planted copy's nearest neighbour is its original", "copy_to_original", "{:.3f}"),
            ("empty/repetitive answers in the lowest-density 10%", "outliers_low10", "{:.3f}"),
            ("mean words per SFT record", "mean_words", "{:.0f}"),
            ("WordPiece tokens of all rows (what the build embeds)", "tokens", "{:,d}")]
    lines = ["| measure | before | after |", "|---|---|---|"]
    for title, k, fmt in rows:
        lines.append(f"| {title} | {fmt.format(res['before'][k])} | {fmt.format(res['after'][k])} |")
    table = "\n".join(lines)
    print(table)
    # seconds are printed, not kept: on a shared machine, and with vectors from the embedding cache, they are noise
    for k in res["before"]["secs"]:
        print(f"seconds, {k}: before {res['before']['secs'][k]:.1f}, after {res['after']['secs'][k]:.1f}")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if not args.no_write:
        body = (f"`nice .venv/bin/python benchmarks/bench_demo_map.py` (demo {args.n_sft} SFT + {args.n_pref} "
                f"preference rows, seed 0; MiniLM embeddings, UMAP with the analyze defaults; both generators in the "
                f"same run; load average {load[0]:.2f} at the end). Before: the generator `curation/demo` at commit "
                f"{BEFORE_COMMIT[:7]} (read from git); after: `curation.demo` (80% of each category composed from "
                f"per-topic vocabularies). The build's cost follows the token count (same rows).\n\n{table}\n\n"
                "Topics read as regions (silhouette up, more of the map occupied, fewer accidental near-duplicates) "
                "while planted copies stay next to their originals. Distinct 3-grams fall: composed answers reuse "
                "each subtopic's sentences (8 steps, 4-5 facts per subtopic); longer lists would raise it.\n")
        write_section("demo_map", "Demo map readability (generated demo texts, before/after)", body)


if __name__ == "__main__":
    main()
