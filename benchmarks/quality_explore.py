"""Two follow-up experiments on the preference head (reproduces the second table of quality_variants.md).

1. **Prompt view.** MiniLM reads at most 256 word pieces. The features embed a prompt's last 1,500 characters, so
   on a long conversation the tokenizer cuts the *end* of that window: the last user turn, the one being answered,
   is lost (38% of helpful-online prompts, 19% rejection-sampled, 12% helpful-base, 10% harmless-base exceed 256
   pieces). Variants: the last 1,500 characters (what ships), the last 800, and the last user turn first followed
   by the earlier conversation (so truncation drops the oldest context). Each variant is run on the three splits of
   bench_quality and as an in-workspace head on every pair of each tranche (grouped 5-fold CV).
2. **Adapting a head with a few in-tranche pairs**: the forward split's head (helpful-base + 70% of harmless-base,
   so it never saw helpful-online or helpful-rejection-sampled). k pairs (by prompt) of one of those tranches
   train, the rest report, 3 draws per k: the forward head as is; a head trained on the k pairs alone (L2 towards
   0); the same shrunk towards the forward head's weights (L2 on w - w_forward); a 2-parameter head on (forward
   score, log length) differences. The strength of each is picked by grouped 5-fold CV on the k pairs.

Uses bench_quality's pairs and embedding cache (--cache DIR); embeds only the prompt views not cached yet.

    nice .venv/bin/python benchmarks/quality_explore.py --cache DIR [--part prompt|adapt|both]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_quality as bq

TRANCHES = ("helpful-online", "helpful-rejection-sampled", "helpful-base", "harmless-base")
GRID = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03)


def last_turn_first(p: str | None, chars: int = 1500) -> str:
    p = p or ""
    i = p.rfind("\n\nuser: ")
    return p[-chars:] if i < 0 else (p[i + 2:] + "\n\n" + p[:i])[:chars]


VIEWS = {"last 1,500 chars (shipped)": None, "last 800 chars": lambda p: (p or "")[-800:],
         "last user turn first": last_turn_first}


def acc(d: np.ndarray) -> float:
    return float(((d > 0).sum() + 0.5 * (d == 0).sum()) / len(d))


def prompt_views(pairs, cache) -> list[dict]:
    import curation.scorers.features as F
    from curation.scorers.features import text_columns
    from curation.scorers.learned import DEFAULT_HEAD, LinearHead, train_bradley_terry

    shipped = LinearHead.load_npz(DEFAULT_HEAD)
    orig = F.prompt_text
    rows = []
    for name, fn in VIEWS.items():
        F.prompt_text = fn or orig
        try:
            row = {"view": name}
            for sp in bq.SPLITS:
                train, reports = bq.split(pairs, sp)
                h = bq.train_head(train, cache)
                row[f"{sp} CV"] = h.meta["cv_accuracy"]
                for rn, df in reports.items():
                    row[f"{sp}: {rn}"] = bq.agreement(h.decision(bq.features(df, "chosen", cache, h.gate)),
                                                      h.decision(bq.features(df, "rejected", cache, h.gate)))["acc"]
            for t in TRANCHES:
                df = pairs[pairs["tranche"] == t]
                Xc, Xr = (bq.features(df, c, cache, shipped.gate) for c in ("chosen", "rejected"))
                h = train_bradley_terry(Xc, Xr, df["prompt"].map(bq.prompt_group).to_numpy(),   # as pref_head trains
                                        boost_cols=text_columns(Xc.shape[1], shipped.gate is not None))
                row[f"in-workspace {t}"] = h.meta["cv_accuracy"]
        finally:
            F.prompt_text = orig
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def cv_fit(D: np.ndarray, g: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """The head shrunk towards ``w0``, its strength picked by grouped 5-fold CV on (D, g)."""
    from sklearn.model_selection import GroupKFold

    from curation.scorers.learned import _fit_bt

    def fit_towards(D: np.ndarray, C: float) -> np.ndarray:
        return _fit_bt(D, C, start=w0, centre=w0)

    k = min(5, len(np.unique(g)))
    best = (-1.0, GRID[0])
    for C in GRID:
        a = sum(acc(D[te] @ fit_towards(D[tr], C)) * len(te) for tr, te in GroupKFold(k).split(D, groups=g))
        best = max(best, (a / len(D), C))
    return fit_towards(D, best[1])


def adapt(pairs, cache) -> list[dict]:
    # the head to adapt is trained on the forward split (helpful-base + 70% of harmless-base), so neither tranche
    # below was seen; the shipped head (mixed split) was trained on both and cannot stand in for it
    head0 = bq.train_head(bq.split(pairs, "forward")[0], cache)
    rows = []
    for t in ("helpful-online", "helpful-rejection-sampled"):
        df = pairs[pairs["tranche"] == t].reset_index(drop=True)
        D = (bq.features(df, "chosen", cache, head0.gate) - bq.features(df, "rejected", cache, head0.gate)
             ) / head0.scale
        L = np.log1p(df["chosen"].str.len().to_numpy()) - np.log1p(df["rejected"].str.len().to_numpy())
        S = np.column_stack([D @ head0.w, L])
        g = df["prompt"].map(bq.prompt_group).to_numpy()
        for k in (50, 100, 200, 400, 800):
            out: dict[str, list[float]] = {m: [] for m in ("forward head", "own pairs", "towards forward head",
                                                           "2-param", "longer wins")}
            for rep in range(3):
                sel = set(np.random.default_rng(rep).permutation(np.unique(g))[:k])
                tr = np.array([x in sel for x in g])
                te = ~tr
                out["forward head"].append(acc(D[te] @ head0.w))
                out["own pairs"].append(acc(D[te] @ cv_fit(D[tr], g[tr], np.zeros(D.shape[1]))))
                out["towards forward head"].append(acc(D[te] @ cv_fit(D[tr], g[tr], head0.w)))
                out["2-param"].append(acc(S[te] @ cv_fit(S[tr], g[tr], np.zeros(2))))
                out["longer wins"].append(acc(L[te]))
            row = {"tranche": t, "k": k, **{m: float(np.mean(v)) for m, v in out.items()}}
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows.append(row)
    return rows


def pct(x) -> str:
    return f"{100 * x:.1f}" if isinstance(x, float) else str(x)


def print_table(rows: list[dict]) -> None:
    cols = list(rows[0])
    print("\n| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(pct(r[c]) for c in cols) + " |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--part", choices=("prompt", "adapt", "both"), default="both")
    a = ap.parse_args()
    from curation.embedding.embed import DEFAULT_MODEL

    pairs = bq.load_pairs(0)
    cache = bq.EmbCache(DEFAULT_MODEL, folder=a.cache)
    t0 = time.time()
    for part, run in (("prompt", prompt_views), ("adapt", adapt)):
        if a.part in (part, "both"):
            print_table(run(pairs, cache))
    print(f"\n{time.time() - t0:.0f} s wall", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
