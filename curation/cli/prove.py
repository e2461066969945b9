"""``python -m curation prove``: train reward heads on a ranking's prefixes (or a saved subset), random subsets and
the pool, and store the downstream curve (engine: :mod:`curation.workflows.prove`)."""
from __future__ import annotations

import argparse
import json

from curation.store import Workspace


def _pct(v: float) -> str:
    return "–" if v != v else f"{100 * v:.1f}%"


def _cmd_prove(args: argparse.Namespace, ws: Workspace) -> int:
    from curation.core.progress import TqdmProgress
    from curation.workflows.prove import prove

    bar = TqdmProgress("prove", unit="step")
    try:
        res = prove(ws, ranking=args.ranking, subset=args.subset, budgets=args.budgets, seeds=args.seeds,
                    holdout=args.holdout, model=args.model, progress=bar)
    finally:
        bar.close()
    t = res.table()
    if args.json:
        print(json.dumps({"result": res.to_dict(), "table": t.to_dict("records")}, default=str))
        return 0
    print(f"{res.source}: {res.n_train:,} training pairs, {res.n_held:,} held-out pairs (prompts held out: "
          f"{res.holdout:.0%}), {res.cpu_s:.0f} s CPU")
    print(f"{'budget':>7} {'rows':>6} {'accuracy':>9} {'random (mean ± sd)':>20} {'agrees w/ pool':>15} "
          f"{'random':>16}")
    for r in t.itertuples():
        rnd = f"{_pct(r.random_accuracy)} ± {_pct(r.random_accuracy_sd)}"
        rag = f"{_pct(r.random_agree_pool)} ± {_pct(r.random_agree_pool_sd)}"
        print(f"{r.budget:>7.0%} {r.rows:>6,} {_pct(r.accuracy):>9} {rnd:>20} {_pct(r.agree_pool):>15} {rag:>16}")
    if len(t):
        print(f"pool ({res.n_train:,} pairs): accuracy {_pct(float(t['pool_accuracy'].iloc[0]))} on the held-out "
              "pairs (50% = chance)")
        print(res.sentence())
    print(f"stored as workspace artifact prove:{res.source} (the Select page's budget advisor and export "
          "datasheets read it)")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``prove``."""
    from curation.workflows.prove import DEFAULT_BUDGETS, DEFAULT_HOLDOUT, DEFAULT_SEEDS

    p = sub.add_parser(
        "prove", help="proof by training: does a subset train a reward head as well as the whole pool?",
        description="On the workspace's preference pairs (prompt, chosen, rejected), hold out a share of the "
                    "prompts, train the Bradley-Terry reward head (pref_head's features and trainer) on the ranking's "
                    "prefix at each budget (or on the saved subset), on random subsets of the same size (one per "
                    "seed) and on every training pair, and report each head's accuracy on the held-out pairs and its "
                    "agreement with the pool's head. The curve is stored in the workspace (the Select page draws "
                    "it, export datasheets quote it). CPU, minutes: embeddings of prompts and replies are cached in "
                    "the workspace.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--ranking", metavar="ID", help="a stored ranking (short id such as facility-1, or its key)")
    src.add_argument("--subset", metavar="NAME[@VERSION]", help="a saved subset (newest version, or @VERSION)")
    p.add_argument("--budgets", type=float, nargs="+", default=list(DEFAULT_BUDGETS), metavar="SHARE",
                   help="with --ranking: shares of the training pairs to train on (default: %(default)s)")
    p.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS), metavar="SEED",
                   help="random baseline seeds, one random subset per seed and budget (default: %(default)s)")
    p.add_argument("--holdout", type=float, default=DEFAULT_HOLDOUT,
                   help="share of the prompts held out for scoring the heads (default: %(default)s)")
    p.add_argument("--model", default=None, help="embedding model of the head's features (default: MiniLM)")
    p.add_argument("--json", action="store_true", help="print the curve as JSON")
    p.set_defaults(func=_cmd_prove)
