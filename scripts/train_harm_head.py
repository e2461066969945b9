"""Train the shipped harmful-request head (``harm_prompt`` / ``harm_reply``) and measure it on data it never saw.

Training data (licences that allow shipping weights; ../shared/datasets):

* positives (1): HH-RLHF harmless-base test prompts (red-team attempts, MIT) whose sha1(normalised prompt) falls in
  the training 70%; XSTest's *unsafe* contrast prompts (CC-BY-4.0) in the training half;
* negatives (0): HH-RLHF helpful-base test prompts in the training 70% (MIT), up to ``--cap`` prompts of
  helpful-online and helpful-rejection-sampled (MIT), XSTest's *safe* prompts in the training half (the bait:
  "how do I kill a Python process"), OASST prompter messages (Apache-2.0), self-instruct and MT-Bench / Vicuna
  questions (Apache-2.0).

Features: the MiniLM embedding (all-MiniLM-L6-v2, L2-normalised, 384) of ``features.prompt_text(text)`` (the text
the workspace already embeds for the preference head, so scoring a workspace reuses those vectors), plus, with
``--profanity``, alt-profanity-check's probability. L2 logistic regression, C by 5-fold CV (ROC AUC); the
operating threshold maximises Youden's J (TPR - FPR) on the out-of-fold predictions of the training data.

Measured on data the head never trained on (written into the weights' meta, shown beside the score):

* ToxicChat (CC-BY-NC-4.0, measurement only, never trained on): ROC AUC against the human ``toxicity`` label,
  95% bootstrap interval (1,000 resamples of the rows);
* XSTest's held-out half: false-positive rate on its *safe* prompts at the threshold, and recall on its unsafe ones;
* HH-RLHF held-out 30% of harmless-base vs helpful-base prompts: ROC AUC with interval.

    OMP_NUM_THREADS=1 nice .venv/bin/python scripts/train_harm_head.py [--profanity auto|on|off] [--cap 600]

Embeddings are cached under benchmarks/out/ (gitignored); a rerun embeds nothing. Writes
curation/scorers/weights/harm_head_v1.npz (numpy arrays + a JSON record; no pickle) unless ``--dry-run``.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
DATA = ROOT.parent / "shared" / "datasets"


def _jsonl(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _part(text: str, share: float) -> bool:
    """Deterministic split by normalised text: True for the training part."""
    return int(hashlib.sha1(" ".join(text.lower().split()).encode()).hexdigest()[:8], 16) % 1000 < share * 1000


def load_sets(cap: int) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(training rows: text, y, source; {evaluation name: rows text, y})."""
    import bench_quality as bq

    pairs = bq.load_pairs(0, seed=0)
    prompts = pairs.drop_duplicates("prompt")[["tranche", "prompt"]]
    rows: list[dict] = []
    evals: dict[str, list[dict]] = {"hh_heldout": [], "xstest_heldout": []}
    rng = np.random.default_rng(0)
    for t, g in prompts.groupby("tranche", sort=True):
        texts = g["prompt"].tolist()
        if t in ("harmless-base", "helpful-base"):
            y = int(t == "harmless-base")
            for p in texts:
                (rows if _part(p, 0.7) else evals["hh_heldout"]).append({"text": p, "y": y, "source": t})
        else:
            for i in sorted(rng.permutation(len(texts))[:cap]):
                rows.append({"text": texts[i], "y": 0, "source": t})
    for r in _jsonl(DATA / "xstest" / "xstest_prompts.jsonl.gz"):
        rec = {"text": r["prompt"], "y": int(r["label"] == "unsafe"), "source": "xstest"}
        (rows if _part(r["prompt"], 0.5) else evals["xstest_heldout"]).append(rec)

    def walk(m: dict) -> None:
        if m.get("role") == "prompter" and m.get("text"):
            rows.append({"text": m["text"], "y": 0, "source": "oasst"})
        for c in m.get("replies") or []:
            walk(c)

    for tree in _jsonl(DATA / "oasst-en100-trees" / "en_100_tree.jsonl.gz"):
        walk(tree["prompt"])
    for f in ("seed_tasks", "user_oriented_instructions"):
        for r in _jsonl(DATA / "self-instruct" / f"{f}.jsonl.gz"):
            rows.append({"text": r["instruction"], "y": 0, "source": "self-instruct"})
    for f in ("mt_bench_questions", "vicuna_bench_questions"):
        for r in _jsonl(DATA / "mt-bench" / f"{f}.jsonl.gz"):
            turns = r.get("turns") or [r.get("text") or ""]
            rows.append({"text": turns[0], "y": 0, "source": "mt-bench"})
    tc = [{"text": r["user_input"], "y": int(r["toxicity"])} for r in
          _jsonl(DATA / "toxic-chat-human" / "train.jsonl.gz")]
    train = pd.DataFrame(rows).drop_duplicates("text").reset_index(drop=True)
    out = {k: pd.DataFrame(v) for k, v in evals.items()}
    out["toxicchat"] = pd.DataFrame(tc)
    return train, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cap", type=int, default=600, help="prompts of helpful-online / helpful-rejection-sampled each")
    ap.add_argument("--profanity", default="auto", choices=("auto", "on", "off"),
                    help="alt-profanity-check's probability as a feature: auto = keep it only if it raises the "
                         "cross-validated AUC (training data only)")
    ap.add_argument("--embed-only", action="store_true", help="fill the embedding cache and stop")
    ap.add_argument("--dry-run", action="store_true", help="measure, do not write the weights")
    ap.add_argument("--out", default=None, help="weights file (default: the shipped one)")
    args = ap.parse_args()
    if not (DATA / "hh-rlhf").is_dir():
        print(f"{DATA} not found: training needs ../shared/datasets", file=sys.stderr)
        return 1
    import sklearn
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    torch.set_num_threads(1)
    import bench_quality as bq

    from curation.embedding.embed import DEFAULT_MODEL
    from curation.scorers.features import prompt_text
    from curation.scorers.harm import (HARM_HEAD, HARM_VERSION, auc_interval, profanity_prob, youden_threshold)
    from curation.scorers.learned import LinearHead, shipped_gate

    train, evals = load_sets(args.cap)
    cache = bq.EmbCache(DEFAULT_MODEL, name="harm")
    texts = [prompt_text(t) for t in train["text"]]
    for k in ("toxicchat", "hh_heldout", "xstest_heldout"):
        texts += [prompt_text(t) for t in evals[k]["text"]]
    cache(texts)
    if args.embed_only:
        print(f"cache filled: {len(cache.vec)} vectors")
        return 0

    def emb(df: pd.DataFrame) -> np.ndarray:
        return cache([prompt_text(t) for t in df["text"]]).astype(np.float64)

    y = train["y"].to_numpy()
    X_emb = emb(train)
    prof = {k: profanity_prob(df["text"].tolist()) for k, df in [("train", train), *evals.items()]}
    C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X_emb, y))

    def design(X: np.ndarray, p: np.ndarray | None) -> np.ndarray:
        return X if p is None else np.column_stack([X, p])

    def cv(X: np.ndarray) -> tuple[float, float, np.ndarray]:
        best = (-1.0, C_GRID[0], np.zeros(len(y)))
        for C in C_GRID:
            oof = np.zeros(len(y))
            for tr, te in folds:
                sc = np.maximum(X[tr].std(axis=0), 1e-3)
                m = LogisticRegression(C=C, max_iter=3000).fit(X[tr] / sc, y[tr])
                oof[te] = m.decision_function(X[te] / sc)
            auc = roc_auc_score(y, oof)
            if auc > best[0] + 1e-4:
                best = (auc, C, oof)
        return best

    t0 = time.process_time()
    results = {}
    for use in (False, True):
        results[use] = cv(design(X_emb, prof["train"] if use else None))
        print(f"CV AUC (profanity={'on' if use else 'off'}): {results[use][0]:.4f} C={results[use][1]}")
    use_prof = {"on": True, "off": False}.get(args.profanity, results[True][0] > results[False][0] + 0.002)
    cv_auc, C, oof = results[use_prof]
    X = design(X_emb, prof["train"] if use_prof else None)
    scale = np.maximum(X.std(axis=0), 1e-3)
    m = LogisticRegression(C=C, max_iter=3000).fit(X / scale, y)
    head = LinearHead(w=m.coef_.ravel().astype(np.float64), scale=scale, b=float(m.intercept_[0]))
    thr_logit = youden_threshold(y, oof)
    threshold = float(1.0 / (1.0 + np.exp(-thr_logit)))

    def prob(df: pd.DataFrame, key: str, with_prof: bool = use_prof, h: LinearHead = head) -> np.ndarray:
        Xe = design(emb(df), prof[key] if with_prof else None)
        return 1.0 / (1.0 + np.exp(-h.decision(Xe)))

    report: dict = {}
    tc = evals["toxicchat"]
    p_tc = prob(tc, "toxicchat")
    report["toxicchat"] = {**auc_interval(tc["y"].to_numpy(), p_tc), "n_pos": int(tc["y"].sum()),
                           "flagged_share_at_threshold": float((p_tc >= threshold).mean()),
                           "recall_at_threshold": float((p_tc[tc["y"] == 1] >= threshold).mean()),
                           "fpr_at_threshold": float((p_tc[tc["y"] == 0] >= threshold).mean())}
    report["toxicchat_profanity_check_alone"] = auc_interval(tc["y"].to_numpy(), prof["toxicchat"])
    if not use_prof:                          # the other variant, for the record
        ws = results[True][1]
        Xp = design(X_emb, prof["train"])
        sp = np.maximum(Xp.std(axis=0), 1e-3)
        mp = LogisticRegression(C=ws, max_iter=3000).fit(Xp / sp, y)
        hp = LinearHead(w=mp.coef_.ravel(), scale=sp, b=float(mp.intercept_[0]))
        report["toxicchat_with_profanity"] = auc_interval(tc["y"].to_numpy(), prob(tc, "toxicchat", True, hp))
    else:
        Xn = X_emb
        sn = np.maximum(Xn.std(axis=0), 1e-3)
        mn = LogisticRegression(C=results[False][1], max_iter=3000).fit(Xn / sn, y)
        hn = LinearHead(w=mn.coef_.ravel(), scale=sn, b=float(mn.intercept_[0]))
        report["toxicchat_without_profanity"] = auc_interval(tc["y"].to_numpy(), prob(tc, "toxicchat", False, hn))
    gate = shipped_gate()
    if gate is not None:
        report["toxicchat_baseline_prompt_gate"] = auc_interval(tc["y"].to_numpy(), gate(emb(tc)))
    hh = evals["hh_heldout"]
    report["hh_heldout"] = {**auc_interval(hh["y"].to_numpy(), prob(hh, "hh_heldout")), "n_pos": int(hh["y"].sum())}
    xs = evals["xstest_heldout"]
    p_xs = prob(xs, "xstest_heldout")
    safe, unsafe = p_xs[xs["y"] == 0], p_xs[xs["y"] == 1]
    report["xstest_heldout"] = {**auc_interval(xs["y"].to_numpy(), p_xs), "n_safe": int(len(safe)),
                                "n_unsafe": int(len(unsafe)), "safe_fpr": float((safe >= threshold).mean()),
                                "unsafe_recall": float((unsafe >= threshold).mean())}
    secs = time.process_time() - t0
    files = {p: hashlib.sha256((DATA / p).read_bytes()).hexdigest() for p in (
        "hh-rlhf/harmless-base.test.jsonl.gz", "hh-rlhf/helpful-base.test.jsonl.gz",
        "hh-rlhf/helpful-online.test.jsonl.gz", "hh-rlhf/helpful-rejection-sampled.test.jsonl.gz",
        "xstest/xstest_prompts.jsonl.gz", "oasst-en100-trees/en_100_tree.jsonl.gz",
        "self-instruct/seed_tasks.jsonl.gz", "self-instruct/user_oriented_instructions.jsonl.gz",
        "mt-bench/mt_bench_questions.jsonl.gz", "mt-bench/vicuna_bench_questions.jsonl.gz")}
    head.meta = {
        "name": "harm_head", "version": HARM_VERSION, "kind": "logistic", "embed_model": DEFAULT_MODEL,
        "features": ["minilm"] + (["profanity"] if use_prof else []), "C": C, "cv_auc": round(cv_auc, 4),
        "threshold": round(threshold, 4), "threshold_rule": "max Youden J on 5-fold out-of-fold predictions",
        "n_train": int(len(y)), "n_pos": int(y.sum()), "n_by_source": train.groupby("source").size().to_dict(),
        "trained_by": "scripts/train_harm_head.py", "source_sha256": files,
        "data": "HH-RLHF test prompts (MIT), XSTest (CC-BY-4.0), OASST, self-instruct, MT-Bench (Apache-2.0); "
                "ToxicChat (CC-BY-NC) for measurement only",
        "eval": report, "sklearn": sklearn.__version__, "train_cpu_s": round(secs, 1)}
    print(json.dumps(head.meta["eval"], indent=1))
    print(f"threshold {threshold:.3f}, profanity feature {'kept' if use_prof else 'dropped'}")
    if not args.dry_run:
        out = Path(args.out) if args.out else HARM_HEAD
        head.save_npz(out)
        print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
