"""The curator-model loop on real data: how fast does it learn a rule the curator applies but never states?

Dolly 3k (../shared/datasets/dolly-3k-alpagasus, 2,996 human-written records, 8 categories). Hidden rule: keep
the context-grounded tasks (closed_qa, information_extraction, summarization), drop the rest. The "curator" pins
rows by that rule; the model (curation.scorers.learned: stored MiniLM row embeddings + text features, logistic
regression) sees only the pins. After 20, 50 and 100 pins (about 5% of the rows at 150), ROC AUC of P(keep) on the
rows not pinned, for three pin orders after the same 10 random pins: random; uncertainty (batches of 10 of the
rows the model is least sure about); spread (what `propose` suggests: batches of 10 picked farthest-first in
embedding space among the 50 least sure, curation.scorers.learned.pick_proposals). Mean over seeds; training time
per fit.

    nice .venv/bin/python benchmarks/bench_curator.py [--seeds 3] [--no-write]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DOLLY = ROOT.parent / "shared" / "datasets" / "dolly-3k-alpagasus" / "dolly_3k.jsonl.gz"
KEEP = ("closed_qa", "information_extraction", "summarization")
STEPS = (20, 50, 100, 150)


def loop(y: np.ndarray, X: np.ndarray, order: str, seed: int, fit_s: list[float], E: np.ndarray) -> dict[int, float]:
    """order: random; uncertainty (the 10 least sure); spread (what `propose` does: farthest-first among the 50
    least sure, E = unit row embeddings)."""
    from sklearn.metrics import roc_auc_score

    from curation.scorers.learned import pick_proposals, train_curator

    rng = np.random.default_rng(seed)
    n = len(y)
    perm = rng.permutation(n)
    pinned: list[int] = []
    out = {}
    # start: 10 random rows, with at least one of each class (a curator has seen both kinds)
    while len(pinned) < 10 or len(set(y[pinned])) < 2:
        pinned.append(int(perm[len(pinned)]))
    for step in STEPS:
        while len(pinned) < step:
            if order == "random":
                nxt = [int(i) for i in perm if i not in set(pinned)][: min(10, step - len(pinned))]
            else:
                t0 = time.perf_counter()
                model, _ = train_curator(y[pinned], X[pinned], seed=seed)
                fit_s.append(time.perf_counter() - t0)
                p = model.predict_proba(X)[:, 1]
                free = np.setdiff1d(np.arange(n), pinned)
                k = min(10, step - len(pinned))
                if order == "spread":
                    nxt = free[pick_proposals(p[free], E[free], E[pinned], k)].tolist()
                else:
                    nxt = free[np.lexsort((free, np.abs(p[free] - 0.5)))][:k].tolist()
            pinned.extend(nxt)
        t0 = time.perf_counter()
        model, _ = train_curator(y[pinned], X[pinned], seed=seed)
        fit_s.append(time.perf_counter() - t0)
        free = np.setdiff1d(np.arange(n), pinned)
        out[step] = float(roc_auc_score(y[free], model.predict_proba(X[free])[:, 1]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if not DOLLY.is_file():
        print(f"{DOLLY} not found: the benchmark needs ../shared/datasets", file=sys.stderr)
        return 1
    import torch

    torch.set_num_threads(2)
    import bench_quality as bq

    from curation.embedding.embed import DEFAULT_MODEL, model_key
    from curation.ingest.run import ingest_file
    from curation.scorers.learned import row_features
    from curation.store import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "dolly.duckdb")
        ingest_file(ws, DOLLY, name="dolly")
        todo = ws.missing_text_hashes(model_key(DEFAULT_MODEL))
        cache = bq.EmbCache(DEFAULT_MODEL, "dolly")        # cached under benchmarks/out/, so reruns embed nothing
        ws.put_embeddings(model_key(DEFAULT_MODEL), todo["text_hash"].tolist(), cache(todo["embed_text"].tolist()))
        rid, X, ex = row_features(ws)
        cat = ws.examples(["row_id", "label"]).set_index("row_id").loc[rid, "label"].to_numpy()
        erid, E = ws.embeddings(model_key(DEFAULT_MODEL))     # unit vectors, the rows of X in the same order
        assert np.array_equal(erid, rid)
    y = np.isin(cat, KEEP).astype(float)
    res: dict[str, list[dict[int, float]]] = {"random": [], "uncertainty": [], "spread": []}
    fit_s: list[float] = []
    for seed in range(args.seeds):
        for order in res:
            res[order].append(loop(y, X, order, seed, fit_s, E))
            print(f"seed {seed} {order}: {res[order][-1]}", file=sys.stderr)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"Run: `{' '.join(['benchmarks/bench_curator.py'] + sys.argv[1:])}` ({os.cpu_count()} cores, shared; load "
        f"average {load}), {time.strftime('%Y-%m-%d')}. Dolly 3k: {len(y):,} rows, {int(y.sum()):,} kept by the "
        f"hidden rule (category in {', '.join(KEEP)}). ROC AUC of `curator_model`'s P(keep) on the rows not "
        f"pinned; mean [min-max] over {args.seeds} seeds. Features: stored MiniLM row embedding, log lengths, text "
        "heuristics; standardised logistic regression, strength by cross-validated log-loss.",
        "",
        "| pins | " + " | ".join(res) + " |", "|---|" + "---|" * len(res)]
    for step in STEPS:
        cells = []
        for order in res:
            v = np.array([r[step] for r in res[order]])
            cells.append(f"{v.mean():.3f} [{v.min():.3f}-{v.max():.3f}]")
        lines.append(f"| {step} ({100 * step / len(y):.1f}%) | " + " | ".join(cells) + " |")
    lines += ["", f"One fit (with its cross-validation): median {np.median(fit_s):.2f} s, max {np.max(fit_s):.2f} s "
              f"wall over {len(fit_s)} fits."]
    md = "\n".join(lines)
    print(md)
    if not args.no_write:
        from _results import write_section

        write_section("bench_curator", "Curator model: learning a hidden keep rule from pins (bench_curator)", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
