"""Validity and cost of the quality scorers on HH-RLHF test pairs (../shared/datasets/hh-rlhf).

Validity: for each quality scorer, the share of pairs where it rates the human-chosen reply above the rejected
one (direction taken into account; ties count half; 50% = chance), with a 95% interval, overall and for the
harmless / helpful tranches. Cost: CPU seconds (process time, all threads) and wall time per example; heuristics
timed on 10k examples. Model-based scorers (packaged SmolLM2-135M GGUF, 2 torch threads) run on a random sample of
pairs under a time budget each, so the run stays within minutes on a shared 2-core machine.

Peer: the one-example-at-a-time reference loop of the papers' scripts (full causal-LM forward with all logits per
example, as in Superfiltering's / Ask-LLM's code) is run on a few examples side by side: time ratio and largest
difference in the values. No peer library for the heuristics is installed (datatrove is not a dependency).

    .venv/bin/python benchmarks/bench_scorers.py [--quick] [--pairs 300] [--budget 150]
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HH = ROOT.parent / "shared" / "datasets" / "hh-rlhf"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- bench_scorers:start -->", "<!-- bench_scorers:end -->"


def load_pairs() -> pd.DataFrame:
    from curation.core.errors import CurationError
    from curation.ingest.run import render_messages, split_hh_transcript

    rows = []
    for f in sorted(HH.glob("*.test.jsonl.gz")):
        tranche = f.name.split(".")[0]
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                try:
                    msgs, c, r = split_hh_transcript(rec["chosen"], rec["rejected"])
                except (CurationError, Exception):  # malformed transcripts are skipped
                    continue
                prompt = msgs[0]["content"] if len(msgs) == 1 else render_messages(msgs)
                rows.append({"tranche": tranche, "prompt": prompt, "chosen": c, "rejected": r})
    return pd.DataFrame(rows)


def sft(df: pd.DataFrame, col: str) -> pd.DataFrame:
    return pd.DataFrame({"kind": "sft", "prompt": df["prompt"].to_numpy(), "response": df[col].to_numpy(),
                         "chosen": None, "rejected": None})


def agreement(c: np.ndarray, r: np.ndarray, higher_is_better: bool) -> dict:
    ok = ~(np.isnan(c) | np.isnan(r))
    d = (c - r)[ok] * (1 if higher_is_better else -1)
    n = int(ok.sum())
    if n == 0:
        return {"n": 0, "acc": math.nan, "ci": math.nan, "wins": math.nan, "ties": math.nan}
    wins, ties = float((d > 0).mean()), float((d == 0).mean())
    acc = wins + ties / 2
    return {"n": n, "acc": acc, "ci": 1.96 * math.sqrt(max(acc * (1 - acc), 1e-9) / n), "wins": wins, "ties": ties}


def timed(fn, *a, **k):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0, time.process_time() - c0


def pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.1f}%"


def run(args: argparse.Namespace) -> str:
    import torch

    torch.set_num_threads(2)
    from curation.scorers import GROUPS, get_scorer

    pairs = load_pairs()
    rng = np.random.default_rng(0)
    n_all = len(pairs)
    if args.quick:
        pairs = pairs.iloc[rng.permutation(n_all)[:1000]].reset_index(drop=True)
    harmless = (pairs["tranche"] == "harmless-base").to_numpy()
    print(f"{len(pairs)} HH-RLHF test pairs ({n_all} in the files)", file=sys.stderr)
    C, R = sft(pairs, "chosen"), sft(pairs, "rejected")
    rows = []

    def add(label: str, sc, c: np.ndarray, r: np.ndarray, wall: float, cpu: float, n_ex: int, mask=None) -> None:
        a = agreement(c, r, sc.higher_is_better)
        hm = harmless if mask is None else harmless[mask]
        ah = agreement(c[hm], r[hm], sc.higher_is_better)
        ap = agreement(c[~hm], r[~hm], sc.higher_is_better)
        rows.append({"scorer": label, "dir": "↑" if sc.higher_is_better else "↓", "pairs": a["n"],
                     "agree": a["acc"], "ci": a["ci"], "ties": a["ties"], "harmless": ah["acc"],
                     "helpful": ap["acc"], "cpu_ms": 1000 * cpu / max(1, n_ex), "wall_ms": 1000 * wall / max(1, n_ex)})
        print(f"  {label}: {pct(a['acc'])} ± {pct(a['ci'])} (n={a['n']}), {1000 * cpu / max(1, n_ex):.2f} ms CPU/ex",
              file=sys.stderr)

    # ------------------------------------------------------------------ heuristics on every pair
    for name in GROUPS["heuristics"]:
        sc = get_scorer(name)
        (c, w1, p1), (r, w2, p2) = timed(sc.score, C), timed(sc.score, R)
        add(name, sc, c, r, w1 + w2, p1 + p2, 2 * len(pairs))
    sc = get_scorer("pref_length_gap")
    P = pd.DataFrame({"kind": "preference", "prompt": pairs["prompt"], "chosen": pairs["chosen"],
                      "rejected": pairs["rejected"], "response": None})
    gap, wg, pg = timed(sc.score, P)
    conflict = get_scorer("pref_conflict").score(P)
    extra = {"chosen_longer": float((gap > 0).mean()), "chosen_shorter": float((gap < 0).mean()),
             "repeated_prompt_pairs": int(np.isfinite(conflict).sum()),
             "conflicting_pairs": int((np.nan_to_num(conflict) > 0).sum())}

    # ------------------------------------------------------------------ 10k examples, all heuristics
    big = pd.concat([C, R], ignore_index=True).iloc[:10_000].reset_index(drop=True)
    t0, c0 = time.perf_counter(), time.process_time()
    for name in GROUPS["heuristics"]:
        get_scorer(name).score(big)
    heur10k = (time.perf_counter() - t0, time.process_time() - c0, len(big))

    # ------------------------------------------------------------------ model-based, on a sample, time-boxed
    n_model = 12 if args.quick else args.pairs
    budget = 25.0 if args.quick else args.budget
    # short pairs only (prompt + longer reply < 800 characters): a 135M model costs ~1-2 s CPU per 400 tokens
    short = ((pairs["prompt"].str.len() + np.maximum(pairs["chosen"].str.len(), pairs["rejected"].str.len()))
             < 800).to_numpy()
    sample = rng.permutation(np.flatnonzero(short))[:n_model]
    extra_short = (int(short.sum()), len(pairs))
    model_specs = [("askllm", {"max_chars": 1500}, "askllm (paper prompt)"),
                   ("askllm", {"max_chars": 1500, "template": "sft"}, "askllm (sft prompt)"),
                   ("ifd", {"max_prompt_tokens": 256, "max_response_tokens": 128}, "ifd")]
    load_s = None
    for name, params, label in model_specs:
        sc = get_scorer(name, threads=2, **params)
        if load_s is None:
            _, load_s, _ = timed(lambda: sc.lm)
        cs, rs, used, wall, cpu = [], [], [], 0.0, 0.0
        for start in range(0, len(sample), 8):
            idx = sample[start:start + 8]
            (c, w1, p1), (r, w2, p2) = timed(sc.score, C.iloc[idx]), timed(sc.score, R.iloc[idx])
            cs.append(c)
            rs.append(r)
            used.extend(idx.tolist())
            wall += w1 + w2
            cpu += p1 + p2
            if wall > budget:
                break
        mask = np.asarray(used)
        add(label, sc, np.concatenate(cs), np.concatenate(rs), wall, cpu, 2 * len(used), mask=mask)

    # embedding distance on the same sample (sentence embeddings, no LM)
    ed = get_scorer("pref_embed_distance")
    dist, wd, pd_ = timed(ed.score, P.iloc[sample[:100]].reset_index(drop=True))
    extra["embed_distance_median"] = float(np.nanmedian(dist))
    extra["embed_distance_ms"] = 1000 * pd_ / len(dist)

    # ------------------------------------------------------------------ peer: reference per-example loop
    peer = reference_check(C.iloc[sample[:4]].reset_index(drop=True))
    extra["short"] = extra_short

    return report(rows, extra, heur10k, load_s, peer, len(pairs), n_all, args)


def reference_check(df: pd.DataFrame) -> dict:
    """The papers' loop: one example at a time, full model forward with all logits (labels for IFD)."""
    import torch

    from curation.scorers import get_scorer
    from curation.scorers.askllm import NO, YES

    out = {}
    a = get_scorer("askllm", threads=2, max_chars=1500)
    lm = a.lm
    texts = [lm.chat_prompt(a.fill(p, r)) for p, r in zip(df["prompt"], df["response"])]
    ours, w_ours, c_ours = timed(a.score, df)

    def ref_askllm() -> np.ndarray:
        yes = sorted({lm._single_token(s) for s in YES} - {None})
        no = sorted({lm._single_token(s) for s in NO} - {None})
        vals = []
        with torch.inference_mode():
            for t in texts:
                ids = torch.tensor([lm._encode(t, special=False)])
                lp = torch.log_softmax(lm.model(input_ids=ids).logits[0, -1].float(), -1)
                ly, ln = torch.logsumexp(lp[yes], 0), torch.logsumexp(lp[no], 0)
                vals.append(float(torch.sigmoid(ly - ln)))
        return np.array(vals)

    ref, w_ref, c_ref = timed(ref_askllm)
    out["askllm"] = {"ratio_cpu": c_ref / c_ours, "ratio_wall": w_ref / w_ours,
                     "maxdiff": float(np.max(np.abs(ref - ours)))}

    i = get_scorer("ifd", threads=2, max_prompt_tokens=256, max_response_tokens=128)
    ours, w_ours, c_ours = timed(i.score, df)

    def ref_ifd() -> np.ndarray:
        vals = []
        with torch.inference_mode():
            for p, r in zip(df["prompt"], df["response"]):
                ctx = lm._encode(lm.chat_prompt(p), special=False)[-256:]
                cont = lm._encode(r, special=False)[:128]
                ids = torch.tensor([ctx + cont])
                labels = ids.clone()
                labels[0, :len(ctx)] = -100
                cond = float(lm.model(input_ids=ids, labels=labels).loss)
                u = torch.tensor([lm.start_ids + cont])        # the response after the start-of-text token
                ul = u.clone()
                ul[0, :len(lm.start_ids)] = -100
                unc = float(lm.model(input_ids=u, labels=ul).loss)
                vals.append(math.exp(cond - unc))
        return np.array(vals)

    ref, w_ref, c_ref = timed(ref_ifd)
    ok = ~np.isnan(ours)
    out["ifd"] = {"ratio_cpu": c_ref / c_ours, "ratio_wall": w_ref / w_ours,
                  "maxdiff": float(np.max(np.abs(ref[ok] - ours[ok]) / ref[ok]))}
    return out


def report(rows: list[dict], extra: dict, heur10k: tuple, load_s: float, peer: dict, n: int, n_all: int,
           args: argparse.Namespace) -> str:
    import platform

    lines = [
        f"Run: `{' '.join(['benchmarks/bench_scorers.py'] + sys.argv[1:])}` on {platform.machine()} "
        f"({os.cpu_count()} cores, shared with other jobs; 2 torch threads), {time.strftime('%Y-%m-%d')}. "
        f"HH-RLHF test pairs: {n} of {n_all} for the heuristics; model-based scorers on a random sample of the "
        f"{extra['short'][0]} short pairs (prompt + longer reply < 800 characters), as many as fit in "
        f"{args.budget if not args.quick else 25:.0f} s of scoring each (see *pairs*).",
        "",
        "Agreement = share of pairs where the scorer (in its declared direction) rates the human-chosen reply above "
        "the rejected one, ties counted half; 50% is chance. ± is a 95% interval. CPU = process time (all "
        "threads) per scored reply; wall is noisier on this shared machine.",
        "",
        "| scorer | dir | pairs | agreement | ties | harmless | helpful | CPU ms/ex | wall ms/ex |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['scorer']} | {r['dir']} | {r['pairs']} | {pct(r['agree'])} ± {pct(r['ci'])} | "
                     f"{pct(r['ties'])} | {pct(r['harmless'])} | {pct(r['helpful'])} | {r['cpu_ms']:.3g} | "
                     f"{r['wall_ms']:.3g} |")
    w, c, k = heur10k
    lines += [
        "",
        f"- All {len([r for r in rows if r['scorer'][:3] not in ('ask', 'ifd')])} heuristics on {k:,} examples: "
        f"**{w:.1f} s wall, {c:.1f} s CPU** (one core).",
        f"- Model load (packaged SmolLM2-135M GGUF; de-quantised once, then cached under ~/.cache/curation): "
        f"{load_s:.1f} s.",
        f"- Length bias of the labels: the chosen reply is longer in {pct(extra['chosen_longer'])} of pairs, "
        f"shorter in {pct(extra['chosen_shorter'])} (`pref_length_gap`).",
        f"- `pref_conflict`: {extra['repeated_prompt_pairs']} pairs share their prompt with another pair, "
        f"{extra['conflicting_pairs']} of them with a contradicting preference.",
        f"- `pref_embed_distance`: median {extra['embed_distance_median']:.3f}, "
        f"{extra['embed_distance_ms']:.1f} ms CPU per pair (two MiniLM embeddings).",
        "",
        "Peer (the papers' one-example-at-a-time loop, full forward with all logits) vs this engine (length-sorted, "
        "left-padded batches, LM head only where needed), same 4 examples:",
        "",
        "| scorer | reference / ours, CPU | reference / ours, wall | largest difference |",
        "|---|---|---|---|",
    ]
    for k2, v in peer.items():
        lines.append(f"| {k2} | {v['ratio_cpu']:.2f}× | {v['ratio_wall']:.2f}× | {v['maxdiff']:.1e}"
                     f"{' (relative)' if k2 == 'ifd' else ''} |")
    return "\n".join(lines)


def write_results(md: str) -> None:
    block = f"{START}\n## Quality scorers (bench_scorers)\n\n{md}\n{END}"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if START in text and END in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1000 pairs, 12 for model scorers (smoke run)")
    ap.add_argument("--pairs", type=int, default=300, help="pairs sampled for the model-based scorers")
    ap.add_argument("--budget", type=float, default=120.0, help="seconds of scoring per model-based scorer")
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = ap.parse_args()
    if not HH.is_dir():
        print(f"{HH} not found: the benchmark needs ../shared/datasets/hh-rlhf", file=sys.stderr)
        return 1
    md = run(args)
    print(md)
    if not args.no_write and not args.quick:
        write_results(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
