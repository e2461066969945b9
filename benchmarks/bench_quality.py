"""Validity of every quality scorer on human preference pairs, with a clean train / report split.

HH-RLHF test pairs (../shared/datasets/hh-rlhf, MIT), four tranches. Agreement = share of pairs where a scorer
rates the human-chosen reply above the rejected one (its declared direction; ties count half; 50% = chance), with a
95% Wilson interval, reported per tranche and for helpful / harmless separately, next to "longer reply wins".

Splits (a pair's prompt never appears on both sides):
* forward: learned heads train on helpful-base + 70% of harmless-base (grouped by prompt); report on helpful-online,
  helpful-rejection-sampled (tranches never seen) and the other 30% of harmless-base (prompts never seen);
* reverse: train on helpful-online + helpful-rejection-sampled; report on helpful-base and harmless-base (harmless
  data never seen at all);
* mixed: train on helpful-online + helpful-rejection-sampled + the same 70% of harmless-base; report on helpful-base
  and the other 30% of harmless-base.
Every pair is used by default (--cap N: at most N per tranche, seeded). Embeddings (~25k texts) are cached under
benchmarks/out/ (gitignored; --cache DIR for another folder), so a rerun embeds nothing; filling the cache is the
slow part (about 40 minutes of MiniLM on a busy 2-core machine, --embed-only does just that). With the cache, a run
takes minutes: three trainings of 10-25 s CPU each, the heuristics, and four in-workspace trainings of ~2 s CPU
each plus their ingest.

    nice .venv/bin/python benchmarks/bench_quality.py [--cap 0] [--eval-cap 0] [--cache DIR] [--embed-only]
        [--no-write]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
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

HH = ROOT.parent / "shared" / "datasets" / "hh-rlhf"
OUT = ROOT / "benchmarks" / "out"
TRANCHES = ("helpful-base", "harmless-base", "helpful-online", "helpful-rejection-sampled")


def load_pairs(cap: int, seed: int = 0) -> pd.DataFrame:
    """Up to ``cap`` pairs per tranche (random, seeded; 0 = all), columns tranche, prompt, chosen, rejected."""
    from curation.ingest.run import render_messages, split_hh_transcript

    rows = []
    for t in TRANCHES:
        f = HH / f"{t}.test.jsonl.gz"
        recs = []
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                try:
                    msgs, c, r = split_hh_transcript(rec["chosen"], rec["rejected"])
                except Exception:  # malformed transcripts are skipped
                    continue
                prompt = msgs[0]["content"] if len(msgs) == 1 else render_messages(msgs)
                recs.append({"tranche": t, "prompt": prompt, "chosen": c, "rejected": r})
        idx = np.random.default_rng(seed).permutation(len(recs))[:cap or len(recs)]
        rows.extend(recs[i] for i in sorted(idx))
    return pd.DataFrame(rows)


class EmbCache:
    """(text hash -> vector) cache of one embedding model in benchmarks/out/, saved as .npz (no pickle)."""

    def __init__(self, model: str, name: str = "quality", folder: Path | None = None) -> None:
        from curation.embedding.embed import model_key

        self.model = model_key(model)
        self.folder = folder or OUT
        self.path = self.folder / f"{name}_emb_{hashlib.sha1(self.model.encode()).hexdigest()[:8]}.npz"
        self.vec: dict[str, np.ndarray] = {}
        if self.path.exists():
            z = np.load(self.path, allow_pickle=False)
            self.vec = dict(zip(z["hashes"].tolist(), z["vectors"]))
        self.n_embedded = 0
        self.seconds = 0.0

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        hs = list(self.vec)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, hashes=np.array(hs), vectors=np.stack([self.vec[h] for h in hs]).astype(np.float32))
        tmp.replace(self.path)

    def __call__(self, texts) -> np.ndarray:
        from curation.embedding.embed import encode_texts, text_hash

        hs = [text_hash(t) for t in texts]
        todo = list(dict.fromkeys(h for h in hs if h not in self.vec))
        if todo:
            first = dict(zip(hs, texts))
            order = sorted(todo, key=lambda h: -len(first[h]))
            for s in range(0, len(order), 512):
                chunk = order[s:s + 512]
                t0 = time.perf_counter()
                v = encode_texts([first[h] for h in chunk], self.model)
                self.seconds += time.perf_counter() - t0
                self.n_embedded += len(chunk)
                self.vec.update(zip(chunk, v))
                self.save()
                print(f"  embedded {self.n_embedded}/{len(todo)} ({self.n_embedded / self.seconds:.0f}/s)",
                      file=sys.stderr)
        return np.stack([self.vec[h] for h in hs]) if hs else np.zeros((0, 384), np.float32)


def embed_all(pairs: pd.DataFrame, cache: EmbCache) -> None:
    from curation.scorers.features import prompt_text, reply_text

    texts = ([prompt_text(p) for p in pairs["prompt"]] + [reply_text(r) for r in pairs["chosen"]]
             + [reply_text(r) for r in pairs["rejected"]])
    cache(texts)


def prompt_group(p: str) -> str:
    return " ".join(p.lower().split())


def in_train_part(p: str, share: float = 0.7) -> bool:
    """Deterministic split of a tranche by prompt: a prompt's pairs all land on the same side."""
    return int(hashlib.sha1(prompt_group(p).encode()).hexdigest()[:8], 16) % 1000 < share * 1000


SPLITS = ("forward", "reverse", "mixed")


def split(pairs: pd.DataFrame, name: str) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(training pairs, {report name: pairs}) of a named split."""
    t = pairs["tranche"]
    if name == "mixed":
        hb = pairs[t == "harmless-base"]
        part = hb["prompt"].map(in_train_part).to_numpy()
        train = pd.concat([pairs[t.isin(["helpful-online", "helpful-rejection-sampled"])], hb[part]])
        return train, {"helpful-base": pairs[t == "helpful-base"], "harmless-base (held-out prompts)": hb[~part]}
    if name == "forward":
        hb = pairs[t == "harmless-base"]
        part = hb["prompt"].map(in_train_part).to_numpy()
        train = pd.concat([pairs[t == "helpful-base"], hb[part]])
        return train, {"helpful-online": pairs[t == "helpful-online"],
                       "helpful-rejection-sampled": pairs[t == "helpful-rejection-sampled"],
                       "harmless-base (held-out prompts)": hb[~part]}
    if name == "reverse":
        train = pairs[t.isin(["helpful-online", "helpful-rejection-sampled"])]
        return train, {"helpful-base": pairs[t == "helpful-base"], "harmless-base": pairs[t == "harmless-base"]}
    raise ValueError(name)


def features(df: pd.DataFrame, col: str, emb, gate=None) -> np.ndarray:
    from curation.scorers.features import build_features

    return build_features(df["prompt"].tolist(), df[col].tolist(), emb, gate)


def train_head(train: pd.DataFrame, emb, seed: int = 0, gated: bool = True):
    """Bradley-Terry head on the training pairs. gated: with a prompt gate learned from which tranche a training
    prompt came from (harmless-base = 1), when the training pairs hold both kinds (cross-fitted gate values for the
    training features, the gate fitted on every training prompt for new prompts); else without a gate."""
    from curation.scorers.features import embed_pairs, text_columns
    from curation.scorers.learned import cv_length_figures, fit_gate, train_bradley_terry

    groups = train["prompt"].map(prompt_group).to_numpy()
    y = (train["tranche"] == "harmless-base").to_numpy(float)
    gate, vals = None, None
    if gated and 0 < y.sum() < len(y):
        P, _ = embed_pairs(train["prompt"].tolist(), [], emb)
        gate, vals = fit_gate(P, y, groups)
    Xc, Xr = features(train, "chosen", emb, vals), features(train, "rejected", emb, vals)
    head = train_bradley_terry(Xc, Xr, groups, seed=seed, boost_cols=text_columns(Xc.shape[1], gate is not None),
                               gated=gate is not None)
    head.gate = gate
    head.meta["lc"] = cv_length_figures(head, train["chosen"].tolist(), train["rejected"].tolist())
    head.meta["gate"] = ("prompt gate: logistic on the prompt embedding, harmless-base prompts = 1, cross-fitted"
                         if gate is not None else "none")
    return head


def agreement(c: np.ndarray, r: np.ndarray, higher: bool = True) -> dict:
    from curation.scorers.learned import wilson

    ok = ~(np.isnan(c) | np.isnan(r))
    d = (c - r)[ok] * (1 if higher else -1)
    n = int(ok.sum())
    k = float((d > 0).sum() + 0.5 * (d == 0).sum())
    lo, hi = wilson(k, n)
    return {"n": n, "acc": k / n if n else math.nan, "lo": lo, "hi": hi}


def sft(df: pd.DataFrame, col: str) -> pd.DataFrame:
    return pd.DataFrame({"kind": "sft", "prompt": df["prompt"].to_numpy(), "response": df[col].to_numpy()})


def fmt(a: dict) -> str:
    if not a["n"]:
        return "–"
    return f"{100 * a['acc']:.1f}% [{100 * a['lo']:.0f}-{100 * a['hi']:.0f}]"


def evaluate(pairs: pd.DataFrame, emb, eval_cap: int) -> tuple[list[dict], dict]:
    """Rows of the table: every scorer on every report set of every split."""
    from curation.scorers import GROUPS, get_scorer
    from curation.scorers.learned import DEFAULT_HEAD, LinearHead

    rows: list[dict] = []
    info: dict = {}
    shipped = LinearHead.load_npz(DEFAULT_HEAD) if DEFAULT_HEAD.is_file() else None
    shipped_split = str((shipped.meta if shipped else {}).get("split", "")).split(":")[0]
    for split_name in SPLITS:
        train, reports = split(pairs, split_name)
        t0 = time.process_time()
        head = train_head(train, emb)
        info[split_name] = {"n_train": len(train), "cv": head.meta["cv_accuracy"], "C": head.meta["C"],
                            "cpu_s": time.process_time() - t0, "gate": head.gate is not None}
        print(f"{split_name}: trained on {len(train)} pairs, CV {head.meta['cv_accuracy']:.3f} "
              f"(C={head.meta['C']}, gate {head.gate is not None}), {info[split_name]['cpu_s']:.1f} s CPU",
              file=sys.stderr)
        for rep_name, df in reports.items():
            df = df.iloc[:eval_cap] if eval_cap else df
            res: dict[str, dict] = {}
            C, R = sft(df, "chosen"), sft(df, "rejected")
            for name in GROUPS["heuristics"]:
                sc = get_scorer(name)
                res[name] = agreement(sc.score(C), sc.score(R), sc.higher_is_better)
            res["longer reply wins (chars)"] = agreement(df["chosen"].str.len().to_numpy(float),
                                                         df["rejected"].str.len().to_numpy(float))
            res[f"BT head trained on the {split_name} split"] = agreement(
                head.decision(features(df, "chosen", emb, head.gate)),
                head.decision(features(df, "rejected", emb, head.gate)))
            if shipped is not None and split_name == shipped_split:
                res["pref_head_default (shipped weights)"] = agreement(
                    shipped.decision(features(df, "chosen", emb, shipped.gate)),
                    shipped.decision(features(df, "rejected", emb, shipped.gate)))
            for sc_name, a in res.items():
                rows.append({"split": split_name, "report": rep_name, "scorer": sc_name, **a})
    return rows, info


WS_CAP = 1200


def in_workspace(pairs: pd.DataFrame, cache: EmbCache, tmp: Path) -> list[dict]:
    """pref_head through the workspace code path: one workspace per tranche, trained on its own pairs (at most
    WS_CAP, seeded sample); its validity is its cross-validated accuracy (folds grouped by prompt, so held-out
    prompts)."""
    from curation.embedding.embed import model_key, text_hash
    from curation.ingest.run import ingest_file
    from curation.scorers.features import prompt_text, reply_text
    from curation.scorers.learned import PrefHead, train_pref_head, wilson
    from curation.store import Workspace

    out = []
    for t in TRANCHES:
        df = pairs[pairs["tranche"] == t]
        df = df.sample(n=min(WS_CAP, len(df)), random_state=0).sort_index()
        f = tmp / f"{t}.jsonl"
        f.write_text("".join(json.dumps({"prompt": p, "chosen": c, "rejected": r}) + "\n"
                             for p, c, r in zip(df["prompt"], df["chosen"], df["rejected"])), encoding="utf-8")
        ws = Workspace(tmp / f"{t}.duckdb")
        ingest_file(ws, f, name=t, shape="dpo")
        texts = list(dict.fromkeys([prompt_text(p) for p in df["prompt"]] + [reply_text(x) for x in df["chosen"]]
                                   + [reply_text(x) for x in df["rejected"]]))
        ws.put_embeddings(model_key(cache.model), [text_hash(x) for x in texts], cache(texts))
        t0 = time.process_time()
        head = train_pref_head(ws, PrefHead())
        n = head.meta["n_pairs"]
        lo, hi = wilson(head.meta["cv_accuracy"] * n, n)
        out.append({"tranche": t, "n": n, "acc": head.meta["cv_accuracy"], "lo": lo, "hi": hi,
                    "cpu_s": time.process_time() - t0, "folds": head.meta["cv_folds"],
                    "longer_wins": head.meta.get("longer_wins", math.nan), "boost": head.meta.get("boost")})
        print(f"  in-workspace {t}: CV {head.meta['cv_accuracy']:.3f} on {n} pairs", file=sys.stderr)
    return out


# Feature variants measured on the same splits while choosing the features (exploration runs of the same training
# code on every pair of the training tranches; report sets = every held-out pair): benchmarks/quality_variants.md.
VARIANTS_MD = (Path(__file__).with_name("quality_variants.md").read_text(encoding="utf-8").strip()
               if Path(__file__).with_name("quality_variants.md").is_file() else "")


def report(rows: list[dict], info: dict, ws_rows: list[dict], args: argparse.Namespace, load: str) -> str:
    import platform

    from curation.scorers.learned import DEFAULT_HEAD, LinearHead
    from curation.scorers.validity import length_rule

    meta = LinearHead.load_npz(DEFAULT_HEAD).meta if DEFAULT_HEAD.is_file() else {}
    lines = [
        f"Run: `{' '.join(['benchmarks/bench_quality.py'] + sys.argv[1:])}` on {platform.machine()} "
        f"({os.cpu_count()} cores, shared; load average {load}), {time.strftime('%Y-%m-%d')}. HH-RLHF test pairs, "
        + (f"{args.cap} random pairs per tranche at most (seeded)" if args.cap else "every pair of every tranche")
        + (f", at most {args.eval_cap} reported per set. " if args.eval_cap else ", every held-out pair reported. ")
        + "Agreement = share of pairs where the scorer ranks the human-chosen reply above the rejected one (ties "
        "half; 50% = chance), [95% Wilson interval]. Heads: Bradley-Terry (curation/scorers/learned.py, trainer "
        "2: the text-feature columns are penalised 1, 3 or 10 times less than the embedding columns, picked with "
        "the L2 strength by grouped 5-fold CV). Features (curation/scorers/features.py, version 2): MiniLM "
        "(all-MiniLM-L6-v2) embeddings of the prompt's last 1,500 and the reply's first 1,500 characters, their "
        "product and cosine, lengths, the text heuristics, the prompt embedding times the reply's log length, and "
        "a prompt gate g (logistic probe on the prompt embedding: does the prompt look like a harmless-base "
        "red-team request?) times the reply embedding and the text features. The gate is learned from which "
        "tranche a training prompt came from, so it exists only where the training split holds harmless-base "
        "prompts (forward, mixed); the reverse split's head has no gate.",
        "",
        "Splits (no prompt on both sides; harmless-base prompts split 70/30 by a hash of the prompt): **forward** "
        f"trains on helpful-base + 70% of harmless-base ({info['forward']['n_train']} pairs; CV "
        f"{100 * info['forward']['cv']:.1f}%), reports on helpful-online and helpful-rejection-sampled (tranches "
        "never seen) and the other 30% of harmless-base; **reverse** trains on helpful-online + "
        f"helpful-rejection-sampled ({info['reverse']['n_train']} pairs; CV {100 * info['reverse']['cv']:.1f}%), "
        "reports on helpful-base and harmless-base (harmless data never seen); **mixed** trains on "
        f"helpful-online + helpful-rejection-sampled + 70% of harmless-base ({info['mixed']['n_train']} pairs; CV "
        f"{100 * info['mixed']['cv']:.1f}%), reports on helpful-base (never seen) and the other 30% of "
        f"harmless-base. The shipped head (`pref_head_default`) is trained by scripts/train_default_head.py on "
        f"the **{str(meta.get('split', '?')).split(':')[0]}** split, so it appears only in that split's table.",
        "",
    ]
    for split_name in SPLITS:
        sub = [r for r in rows if r["split"] == split_name]
        reps = list(dict.fromkeys(r["report"] for r in sub))
        lines += [f"**{split_name}**", "", "| scorer | " + " | ".join(reps) + " |",
                  "|---|" + "---|" * len(reps)]
        for sc in dict.fromkeys(r["scorer"] for r in sub):
            cells = [fmt(next((r for r in sub if r["scorer"] == sc and r["report"] == rp),
                              {"n": 0})) for rp in reps]
            name = f"**{sc}**" if sc.startswith(("BT", "pref_head", "longer")) else sc
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        ns = {rp: next(r["n"] for r in sub if r["report"] == rp and r["scorer"].startswith("longer")) for rp in reps}
        lines += ["", "pairs per set: " + ", ".join(f"{k} {v}" for k, v in ns.items()), ""]
    lines += [
        "**In-workspace head** (`pref_head`, trained through the workspace code path on one tranche's own pairs, "
        f"at most {WS_CAP} per tranche; 5-fold cross-validation grouped by prompt, so every number is on prompts "
        "the fold never saw; features with the shipped head's gate; text-feature boost picked by the same CV), "
        "beside the better length rule on the same pairs (what the Scores page compares it with):", "",
        "| workspace | pairs | CV agreement | better length rule | boost | train CPU s |", "|---|---|---|---|---|---|"]
    for r in ws_rows:
        lw, rule = r.get("longer_wins", math.nan), "–"
        if lw == lw:
            name, share = length_rule(lw)
            rule = f"{name.replace(' reply', '')} {100 * share:.1f}%"
        lines.append(f"| {r['tranche']} | {r['n']} | {fmt(r)} | {rule} | {r.get('boost')} | {r['cpu_s']:.1f} |")
    lines += ["", VARIANTS_MD, "",
              "Model judges on the packaged SmolLM2-135M (not rerun here: ~1 s CPU per reply on this machine; "
              "numbers measured by bench_scorers.py on 206-298 short pairs of all tranches): Ask-LLM 50.0% (paper "
              "prompt) and 47.0% (sft prompt), IFD 56.0%, each ± 6-7 points: no better than the length baseline."]
    return "\n".join(lines)


# ============================================================================================== length control
def _lens(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return df["chosen"].str.len().to_numpy(float), df["rejected"].str.len().to_numpy(float)


def _lc_row(who: str, split_name: str, rep: str, c: np.ndarray, r: np.ndarray, df: pd.DataFrame) -> dict:
    from curation.scorers.validity import length_controlled

    lc_, lr_ = _lens(df)
    got = length_controlled(c, r, lc_, lr_)
    ok = np.isfinite(c) & np.isfinite(r) & (lc_ != lr_)
    same = np.where(c == r, 0.5, (np.sign(c - r) == np.sign(lc_ - lr_)).astype(float))
    longer = float(same[ok].mean()) if ok.any() else math.nan
    return {"scorer": who, "split": split_name, "report": rep, "lc": got, "picks_longer": longer,
            "c": c, "r": r, "lc_len": lc_, "lr_len": lr_}


def curator_features(df: pd.DataFrame, col: str, emb) -> np.ndarray:
    """The curator model's row features (learned.row_features) for replies outside a workspace: the reply's
    MiniLM embedding (the workspace embeds the row's text instead), log reply / prompt words, their difference and
    the text heuristics."""
    from curation.scorers.features import _heuristics, embed_pairs

    prom, resp = df["prompt"].tolist(), df[col].tolist()
    _, R = embed_pairs(prom, resp, emb)
    lw = np.log1p([len(x.split()) for x in resp])
    lp = np.log1p([len(x.split()) for x in prom])
    return np.hstack([R.astype(np.float64), np.column_stack([lw, lp, lw - lp, _heuristics(prom, resp)])])


CURATOR_PINS = 100


def length_eval(pairs: pd.DataFrame, emb, tmp: Path) -> tuple[list[dict], dict]:
    """Raw and length-controlled agreement of every learned head (and the length rule) on every report set it did
    not train on: the three split heads (raw and length=controlled), the shipped head, the in-workspace head of
    each tranche on the other tranches, and a curator model trained on 100 pins of one tranche (50 chosen replies
    kept, 50 rejected replies of other pairs dropped) on the other tranches."""
    from curation.embedding.embed import model_key, text_hash
    from curation.ingest.run import ingest_file
    from curation.scorers.features import prompt_text, reply_text
    from curation.scorers.learned import (CURATOR_TEXT_COLS, DEFAULT_HEAD, LENGTH_MODES, LinearHead, PrefHead,
                                          curator_length_columns, neutral_length, train_curator, train_pref_head)
    from curation.store import Workspace

    rows: list[dict] = []
    info: dict = {}
    shipped = LinearHead.load_npz(DEFAULT_HEAD)
    for split_name in SPLITS:
        train, reports = split(pairs, split_name)
        t0 = time.process_time()
        head = train_head(train, emb)
        info[split_name] = {"n_train": len(train), "cpu_s": time.process_time() - t0}
        for rep, df in reports.items():
            Fc, Fr = features(df, "chosen", emb, head.gate), features(df, "rejected", emb, head.gate)
            for mode in LENGTH_MODES:
                rows.append(_lc_row(f"BT head, {split_name} split, length={mode}", split_name, rep,
                                    head.decision(Fc, mode), head.decision(Fr, mode), df))
            if split_name == "mixed":              # the shipped head's split: what it never saw
                Sc, Sr = features(df, "chosen", emb, shipped.gate), features(df, "rejected", emb, shipped.gate)
                for mode in LENGTH_MODES:
                    rows.append(_lc_row(f"pref_head_default, length={mode}", split_name, rep,
                                        shipped.decision(Sc, mode), shipped.decision(Sr, mode), df))
            lc_, lr_ = _lens(df)
            rows.append(_lc_row("longer reply wins (chars)", split_name, rep, lc_, lr_, df))
        print(f"  length control: {split_name} done", file=sys.stderr)
    # text heuristics (nothing trained): every sampled pair, per tranche
    from curation.scorers import GROUPS, get_scorer

    for t in TRANCHES:
        df = pairs[pairs["tranche"] == t]
        C, R = sft(df, "chosen"), sft(df, "rejected")
        for name in GROUPS["heuristics"]:
            sc = get_scorer(name)
            sgn = 1.0 if sc.higher_is_better else -1.0
            rows.append(_lc_row(name, "heuristics", t, sgn * sc.score(C), sgn * sc.score(R), df))
        lc_, lr_ = _lens(df)
        rows.append(_lc_row("longer reply wins (chars)", "heuristics", t, lc_, lr_, df))
    # in-workspace heads and curator models: trained on one tranche, reported on each other tranche
    for t in TRANCHES:
        own = pairs[pairs["tranche"] == t]
        f = tmp / f"lc-{t}.jsonl"
        f.write_text("".join(json.dumps({"prompt": p, "chosen": c, "rejected": r}) + "\n"
                             for p, c, r in zip(own["prompt"], own["chosen"], own["rejected"])), encoding="utf-8")
        ws = Workspace(tmp / f"lc-{t}.duckdb")
        ingest_file(ws, f, name=t, shape="dpo")
        texts = list(dict.fromkeys([prompt_text(p) for p in own["prompt"]] + [reply_text(x) for x in own["chosen"]]
                                   + [reply_text(x) for x in own["rejected"]]))
        ws.put_embeddings(model_key(emb.model), [text_hash(x) for x in texts], emb(texts))
        head = train_pref_head(ws, PrefHead())
        half = min(CURATOR_PINS // 2, len(own) // 2)
        pins = pd.concat([own.iloc[:half].assign(reply=own["chosen"].iloc[:half], y=1.0),
                          own.iloc[half:2 * half].assign(reply=own["rejected"].iloc[half:2 * half], y=0.0)])
        Xp = curator_features(pins, "reply", emb)
        cols = curator_length_columns(Xp.shape[1], Xp.shape[1] - CURATOR_TEXT_COLS)
        cur, cmeta = train_curator(pins["y"].to_numpy(), Xp, length=pins["reply"].str.len().to_numpy(float),
                                   length_cols=cols)
        info[f"curator {t}"] = cmeta.get("lc", {})
        for other in TRANCHES:
            if other == t:
                continue
            df = pairs[pairs["tranche"] == other]
            Fc, Fr = features(df, "chosen", emb, head.gate), features(df, "rejected", emb, head.gate)
            for mode in LENGTH_MODES:
                rows.append(_lc_row(f"pref_head on {t}, length={mode}", "workspace", other,
                                    head.decision(Fc, mode), head.decision(Fr, mode), df))
            Cc, Cr = curator_features(df, "chosen", emb), curator_features(df, "rejected", emb)
            for mode in LENGTH_MODES:
                pc = cur.predict_proba(Cc if mode == "raw" else neutral_length(cur, Cc, cols))[:, 1]
                pr = cur.predict_proba(Cr if mode == "raw" else neutral_length(cur, Cr, cols))[:, 1]
                rows.append(_lc_row(f"curator_model on {CURATOR_PINS} pins of {t}, length={mode}", "curator",
                                    other, pc, pr, df))
        print(f"  length control: workspace heads on {t} done", file=sys.stderr)
    return rows, info


def shipped_eval(reports: dict[str, pd.DataFrame], emb) -> list[dict]:
    """The shipped head (raw and length=controlled) and the length rule on its own held-out sets, every pair."""
    from curation.scorers.learned import DEFAULT_HEAD, LENGTH_MODES, LinearHead

    shipped = LinearHead.load_npz(DEFAULT_HEAD)
    rows = []
    for rep, df in reports.items():
        Sc, Sr = features(df, "chosen", emb, shipped.gate), features(df, "rejected", emb, shipped.gate)
        for mode in LENGTH_MODES:
            rows.append(_lc_row(f"pref_head_default, length={mode}", "shipped", rep, shipped.decision(Sc, mode),
                                shipped.decision(Sr, mode), df))
        lc_, lr_ = _lens(df)
        rows.append(_lc_row("longer reply wins (chars)", "shipped", rep, lc_, lr_, df))
    return rows


def _cell(lc: dict) -> str:
    if not lc["raw"]["n"]:
        return "–"
    raw, m = lc["raw"], lc["matched"]
    mm = f"{100 * m['agreement']:.1f}% [{100 * m['lo']:.0f}-{100 * m['hi']:.0f}] of {m['n']}" if m["n"] else "–"
    return f"{100 * raw['agreement']:.1f}% / {mm}"


def pooled(rows: list[dict]) -> dict:
    """length_controlled over the concatenation of several report sets."""
    from curation.scorers.validity import length_controlled

    cat = {k: np.concatenate([r[k] for r in rows]) for k in ("c", "r", "lc_len", "lr_len")}
    return length_controlled(cat["c"], cat["r"], cat["lc_len"], cat["lr_len"])


def length_report(rows: list[dict], info: dict, args: argparse.Namespace, load: str) -> str:
    import platform

    from curation.scorers.validity import NEAR_CHANCE, length_inconclusive, mostly_length, strata_label

    lines = [
        f"Run: `{' '.join(['benchmarks/bench_quality.py'] + sys.argv[1:])}` on {platform.machine()} "
        f"({os.cpu_count()} cores, shared with ~7 other engineers' jobs; load average {load}), "
        f"{time.strftime('%Y-%m-%d')}, one thread. HH-RLHF test pairs, "
        + (f"{args.cap} random pairs per tranche (seeded; the embedding time on the loaded machine allowed no "
           "more), except the shipped head's first table" if args.cap else "every pair")
        + ". Each cell: **raw agreement / length-matched agreement** [95% Wilson] of the n length-matched pairs "
        "(chosen and rejected reply within 20% of each other's length in characters; "
        "curation.scorers.validity.length_controlled). `length=controlled`: the same head with its "
        "length features' weights set to 0 (log words / chars / reply-prompt ratio, prompt × log length, gate × "
        "those; fitted jointly, then dropped, as in length-controlled win rates). Never a set the head trained on. "
        "*mostly length* = the length-matched interval holds 50% but not the raw figure, or the length rule does "
        "as well; *too few matched pairs to tell* = the interval holds both "
        "(validity.mostly_length), computed on the pooled held-out pairs; *picks longer* = share of pairs of "
        "unequal length where the score prefers the longer reply.", ""]

    def table(title: str, sub: list[dict]) -> None:
        reps = list(dict.fromkeys(r["report"] for r in sub))
        lines.extend([title, "", "| scorer | " + " | ".join(reps) + " | pooled | picks longer | verdict |",
                      "|---|" + "---|" * (len(reps) + 3)])
        for sc in dict.fromkeys(r["scorer"] for r in sub):
            mine = [r for r in sub if r["scorer"] == sc]
            cells = [_cell(next((r["lc"] for r in mine if r["report"] == rp), {"raw": {"n": 0}}))
                     for rp in reps]
            pool = pooled(mine)
            pl = float(np.nanmean([r["picks_longer"] for r in mine]))
            verdict = "" if sc.startswith("longer") else (
                "mostly length" if mostly_length({"length": pool}) else
                "near chance" if abs(pool["raw"]["agreement"] - 0.5) < NEAR_CHANCE else
                "below chance" if pool["raw"]["agreement"] < 0.5 else
                "too few matched pairs to tell" if length_inconclusive({"length": pool}) else "not length")
            name = f"**{sc}**" if sc.startswith(("pref_head_default", "longer")) else sc
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {_cell(pool)} | {100 * pl:.0f}% | {verdict} |")
        lines.append("")

    shipped = [r for r in rows if r["split"] == "shipped"]
    if shipped:
        table("**pref_head_default (shipped weights, mixed split) on every pair it never saw** (not capped)", shipped)
        got = {sc: pooled([r for r in shipped if r["scorer"] == sc]) for sc in dict.fromkeys(r["scorer"]
                                                                                            for r in shipped)}
        raw, ctl = got["pref_head_default, length=raw"], got["pref_head_default, length=controlled"]
        rule = got["longer reply wins (chars)"]
        lines += [
            f"Reading: on length-matched pairs the shipped head keeps {100 * raw['matched']['agreement']:.1f}% "
            f"(raw {100 * raw['raw']['agreement']:.1f}%), where \"longer reply wins\" falls to "
            f"{100 * rule['matched']['agreement']:.1f}% (raw {100 * rule['raw']['agreement']:.1f}%): about "
            f"{100 * (raw['matched']['agreement'] - 0.5) / max(raw['raw']['agreement'] - 0.5, 1e-9):.0f}% of its "
            "margin over chance survives with length held fixed. `length=controlled` gets "
            f"{100 * ctl['matched']['agreement']:.1f}% length-matched (raw {100 * ctl['raw']['agreement']:.1f}%) "
            "and no longer prefers the longer reply (column *picks longer*). Raw head "
            f"{strata_label(raw)}; \"longer reply wins\" {strata_label(rule)}. The heads trained here on 400 pairs "
            "per tranche (the shipped head saw ~6,000), the in-workspace heads and the 100-pin curator models "
            "carry over to other tranches at or below chance, raw and length-matched alike: HH-RLHF tranches "
            "disagree about what a better reply is. "
            "The shipped head was not retrained: no recipe measured here improves its length-matched figure "
            "beyond its interval.", ""]
    for split_name in SPLITS:
        table(f"**{split_name} split** (trained on {info[split_name]['n_train']} pairs; reported on what it never "
              "saw)", [r for r in rows if r["split"] == split_name])
    table("**Text heuristics** (nothing trained; every sampled pair of each tranche)",
          [r for r in rows if r["split"] == "heuristics"])
    table("**In-workspace head** (`pref_head` trained through the workspace path on one tranche's sample, "
          "reported on each other tranche)", [r for r in rows if r["split"] == "workspace"])
    table(f"**Curator model** (logistic on {CURATOR_PINS} pins of one tranche: 50 chosen replies kept, 50 rejected "
          "replies of other pairs dropped; reply embedding + log lengths + heuristics, as learned.row_features "
          "but with the reply's embedding; scored on each other tranche's pairs)",
          [r for r in rows if r["split"] == "curator"])
    cv = [(k.split(" ", 1)[1], v) for k, v in info.items() if k.startswith("curator ") and v]
    if cv:
        lines += ["Curator model's own cross-validated ROC AUC on its 100 pins (raw / length-matched, "
                  "kept/dropped pairs): " + "; ".join(
                      f"{t}: {100 * v['raw']['lc_raw']:.1f}% / {100 * v['raw']['lc_matched']:.1f}%"
                      for t, v in cv) + ".", ""]
    return "\n".join(lines)


def write_length_validity(rows: list[dict], args: argparse.Namespace) -> None:
    """The shipped head's length figures, pooled over its held-out sets, into its validity file (read by
    curation.scorers.validity): "length" beside the raw figure, "controlled" for length=controlled."""
    from curation.scorers.learned import DEFAULT_HEAD

    f = DEFAULT_HEAD.with_suffix(".validity.json")
    v = json.loads(f.read_text(encoding="utf-8")) if f.is_file() else {}

    def jsonable(lc: dict) -> dict:
        return {"raw": lc["raw"], "matched": lc["matched"], "strata": lc["strata"],
                "rule": list(lc["rule"]) if lc["rule"] else None, "unit": lc["unit"]}

    full = any(r["split"] == "shipped" for r in rows)
    sample = f"{args.cap} pairs per tranche, seeded" if args.cap and not full else "every pair"
    for mode in ("raw", "controlled"):
        mine = [r for r in rows if r["scorer"] == f"pref_head_default, length={mode}"
                and (r["split"] == "shipped" or not full)]
        if not mine:
            return
        lc = jsonable(pooled(mine))
        if mode == "raw":
            v["length"] = lc
            if not v:
                v.update({"agreement": lc["raw"]["agreement"], "n": lc["raw"]["n"]})
        else:
            v["controlled"] = {"agreement": round(lc["raw"]["agreement"], 4), "n": lc["raw"]["n"], "length": lc,
                               "source": f"HH-RLHF pairs it never saw ({sample}: helpful-base, held-out "
                                         "harmless-base prompts), length features dropped; benchmarks/bench_quality.py"}
    f.write_text(json.dumps(v, indent=1) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cap", type=int, default=0, help="pairs per tranche (random, seeded); 0 = all")
    ap.add_argument("--eval-cap", type=int, default=0, help="pairs reported per set at most; 0 = all")
    ap.add_argument("--cache", default=None, help=f"embedding cache folder (default {OUT})")
    ap.add_argument("--embed-only", action="store_true", help="fill the embedding cache and stop")
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    ap.add_argument("--shipped-full", action="store_true",
                    help="with --length: also the shipped head on every pair of its held-out sets (embeds them)")
    ap.add_argument("--length", action="store_true",
                    help="only the length-control tables (own RESULTS.md section; the shipped head's length figures "
                         "into its validity file)")
    args = ap.parse_args()
    if not HH.is_dir():
        print(f"{HH} not found: the benchmark needs ../shared/datasets/hh-rlhf", file=sys.stderr)
        return 1
    import tempfile

    import torch

    torch.set_num_threads(1)
    from curation.embedding.embed import DEFAULT_MODEL

    pairs = load_pairs(args.cap)
    print(pairs.groupby("tranche").size().to_string(), file=sys.stderr)
    cache = EmbCache(DEFAULT_MODEL, folder=Path(args.cache) if args.cache else None)
    embed_all(pairs, cache)
    full_reports = split(load_pairs(0), "mixed")[1] if args.shipped_full else {}
    if full_reports:
        embed_all(pd.concat(list(full_reports.values())), cache)
    if args.embed_only:
        return 0
    if args.length:
        with tempfile.TemporaryDirectory() as tmp:
            lrows, linfo = length_eval(pairs, cache, Path(tmp))
        lrows += shipped_eval(full_reports, cache)
        md = length_report(lrows, linfo, args, " ".join(f"{x:.1f}" for x in os.getloadavg()))
        print(md)
        if not args.no_write:
            write_length_validity(lrows, args)
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from _results import write_section

            write_section("bench_quality_length", "Quality scores with length controlled (bench_quality --length)",
                          md)
        return 0
    rows, info = evaluate(pairs, cache, args.eval_cap)
    with tempfile.TemporaryDirectory() as tmp:
        ws_rows = in_workspace(pairs, cache, Path(tmp))
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    md = report(rows, info, ws_rows, args, load)
    print(md)
    shipped = [r for r in rows if r["scorer"].startswith("pref_head_default")]
    if shipped and not args.no_write:
        # the shipped head's validity, pooled over the report sets it never saw (read by curation.scorers.validity)
        from curation.scorers.learned import DEFAULT_HEAD

        k = sum(r["acc"] * r["n"] for r in shipped)
        n = sum(r["n"] for r in shipped)
        per = "; ".join(f"{r['report']} {100 * r['acc']:.1f}%" for r in shipped)
        DEFAULT_HEAD.with_suffix(".validity.json").write_text(json.dumps({
            "agreement": round(k / n, 4), "n": int(n),
            "source": f"HH-RLHF pairs it never saw ({per}); benchmarks/bench_quality.py"}, indent=1) + "\n",
            encoding="utf-8")
    if not args.no_write:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from _results import write_section

        write_section("bench_quality", "Quality scorers vs human preference (bench_quality)", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
