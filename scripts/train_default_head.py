"""Train the shipped preference head (``pref_head_default``) on public HH-RLHF test tranches (MIT licence) and
write its weights to curation/scorers/weights/pref_head_default.npz (numpy arrays + a JSON record; no pickle).

Training data = the *forward* split of benchmarks/bench_quality.py: helpful-base plus the 70% of harmless-base
whose prompts hash into the training part (at most ``--cap`` random pairs per tranche, seeded). helpful-online,
helpful-rejection-sampled and the other 30% of harmless-base prompts are never seen, so bench_quality reports the
head on them only. The weights file records the source files' sha256, the split, the caps, a hash of the exact
training pairs, the feature version, the embedding model and the cross-validated accuracy.

    nice .venv/bin/python scripts/train_default_head.py [--cap 1200] [--seed 0]

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cap", type=int, default=1200, help="pairs per tranche (random, seeded; as bench_quality)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="weights file (default: the shipped one)")
    args = ap.parse_args()
    import bench_quality as bq

    if not bq.HH.is_dir():
        print(f"{bq.HH} not found: training needs ../shared/datasets/hh-rlhf", file=sys.stderr)
        return 1
    import sklearn
    import torch

    torch.set_num_threads(2)
    from curation.embed import DEFAULT_MODEL, text_hash
    from curation.scorers.learned import DEFAULT_HEAD

    pairs = bq.load_pairs(args.cap, seed=0)
    cache = bq.EmbCache(DEFAULT_MODEL)
    train, reports = bq.split(pairs, "forward")
    bq.embed_all(train, cache)
    t0 = time.process_time()
    head = bq.train_head(train, cache, seed=args.seed)
    files = {t: hashlib.sha256((bq.HH / f"{t}.test.jsonl.gz").read_bytes()).hexdigest() for t in bq.TRANCHES}
    pair_hash = hashlib.sha256("\n".join(text_hash(p) + text_hash(c) + text_hash(r) for p, c, r in zip(
        train["prompt"], train["chosen"], train["rejected"])).encode()).hexdigest()
    head.meta.update({
        "name": "pref_head_default", "embed_model": DEFAULT_MODEL, "trained_by": "scripts/train_default_head.py",
        "data": "Anthropic HH-RLHF test tranches (MIT), ../shared/datasets/hh-rlhf", "source_sha256": files,
        "split": "forward: helpful-base + harmless-base prompts with sha1(normalised prompt)[:8] % 1000 < 700; "
                 "never seen: helpful-online, helpful-rejection-sampled, the other harmless-base prompts",
        "cap_per_tranche": args.cap, "sample_seed": 0, "n_by_tranche": train.groupby("tranche").size().to_dict(),
        "train_pairs_sha256": pair_hash, "sklearn": sklearn.__version__,
        "train_cpu_s": round(time.process_time() - t0, 1)})
    out = Path(args.out) if args.out else DEFAULT_HEAD
    head.save_npz(out)
    print(f"wrote {out} ({out.stat().st_size:,} bytes): {len(train)} pairs, CV accuracy "
          f"{head.meta['cv_accuracy']:.3f} (C={head.meta['C']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
