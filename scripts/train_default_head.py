"""Train the shipped preference head (``pref_head_default``) on public HH-RLHF test tranches (MIT licence) and
write its weights to curation/scorers/weights/pref_head_default.npz (numpy arrays + a JSON record; no pickle).

Training data = one split of benchmarks/bench_quality.py (``--split``, every pair of its training tranches unless
``--cap``): *forward* = helpful-base plus the 70% of harmless-base whose prompts hash into the training part;
*mixed* = helpful-online + helpful-rejection-sampled plus the same 70% of harmless-base. The rest (forward:
helpful-online, helpful-rejection-sampled; mixed: helpful-base; both: the other 30% of harmless-base prompts) is
never seen, so bench_quality reports the head on it only. The weights record the cross-validated agreement on the
training pairs whose replies are within 20% of each other's length (meta "lc", raw and length=controlled); retrain
the shipped head only when that length-matched figure improves on held-out pairs (bench_quality --length).
The head has a prompt gate (curation.scorers.features): a logistic probe on the prompt embedding learned from
which tranche a training prompt came from. The weights file records the source files' sha256, the split, the
caps, a hash of the exact training pairs, the feature version, the embedding model and the cross-validated accuracy.

    nice .venv/bin/python scripts/train_default_head.py [--split mixed] [--cap 0] [--seed 0] [--cache DIR]

Needs ../shared/datasets/hh-rlhf (see its README for the sources). Embeddings are cached under benchmarks/out/.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


SPLIT_TEXT = {
    "forward": "forward: helpful-base + harmless-base prompts with sha1(normalised prompt)[:8] % 1000 < 700; "
               "never seen: helpful-online, helpful-rejection-sampled, the other harmless-base prompts",
    "mixed": "mixed: helpful-online + helpful-rejection-sampled + harmless-base prompts with sha1(normalised "
             "prompt)[:8] % 1000 < 700; never seen: helpful-base, the other harmless-base prompts",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="mixed", choices=("forward", "mixed"), help="training split (bench_quality)")
    ap.add_argument("--cap", type=int, default=0, help="pairs per tranche (random, seeded; 0 = all)")
    ap.add_argument("--cache", default=None, help="embedding cache folder (as bench_quality --cache)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--encoder", default="minilm", choices=("minilm", "static"),
                    help="minilm: all-MiniLM-L6-v2 (the shipped pref_head_default.npz); static: its model2vec "
                         "distillation, 100x faster to embed (measured, not shipped: needs --out)")
    ap.add_argument("--out", default=None, help="weights file (default: the shipped one)")
    args = ap.parse_args()
    import bench_quality as bq

    if not bq.HH.is_dir():
        print(f"{bq.HH} not found: training needs ../shared/datasets/hh-rlhf", file=sys.stderr)
        return 1
    import sklearn
    import torch

    torch.set_num_threads(1)
    from curation.embedding.embed import DEFAULT_MODEL, text_hash
    from curation.core.keys import STATIC_MODEL
    from curation.scorers.learned import DEFAULT_HEAD

    if args.encoder == "static" and not args.out:
        print("no static head is shipped (pref_head_default reads MiniLM features); give --out FILE", file=sys.stderr)
        return 2
    model = STATIC_MODEL if args.encoder == "static" else DEFAULT_MODEL
    pairs = bq.load_pairs(args.cap, seed=0)
    cache = bq.EmbCache(model, folder=Path(args.cache) if args.cache else None)
    train, reports = bq.split(pairs, args.split)
    bq.embed_all(train, cache)
    t0 = time.process_time()
    head = bq.train_head(train, cache, seed=args.seed)
    files = {t: hashlib.sha256((bq.HH / f"{t}.test.jsonl.gz").read_bytes()).hexdigest() for t in bq.TRANCHES}
    pair_hash = hashlib.sha256("\n".join(text_hash(p) + text_hash(c) + text_hash(r) for p, c, r in zip(
        train["prompt"], train["chosen"], train["rejected"])).encode()).hexdigest()
    head.meta.update({
        "name": "pref_head_default", "embed_model": model, "trained_by": "scripts/train_default_head.py",
        "data": "Anthropic HH-RLHF test tranches (MIT), ../shared/datasets/hh-rlhf", "source_sha256": files,
        "split": SPLIT_TEXT[args.split],
        "cap_per_tranche": args.cap or "all", "gate": head.meta.get("gate"), "sample_seed": 0,
        "n_by_tranche": train.groupby("tranche").size().to_dict(),
        "train_pairs_sha256": pair_hash, "sklearn": sklearn.__version__,
        "train_cpu_s": round(time.process_time() - t0, 1)})
    out = Path(args.out) if args.out else DEFAULT_HEAD
    head.save_npz(out)
    lc = head.meta.get("lc") or {}
    print(f"wrote {out} ({out.stat().st_size:,} bytes): {len(train)} pairs, CV accuracy "
          f"{head.meta['cv_accuracy']:.3f} (C={head.meta['C']}); CV on length-matched pairs (within 20%): "
          + ", ".join(f"length={m} {v.get('lc_matched')} of {v.get('lc_n_matched')}" for m, v in lc.items())
          + ". Ship it only if `bench_quality.py --length --shipped-full` shows a better length-matched figure "
            "than the weights it replaces")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
