"""Judge scorers against a local OpenAI-compatible server (tests/judge_server.py: SmolLM2-135M-Instruct through
transformers on CPU, requests arriving together batched): throughput at concurrency 1, 2 and 4, and agreement with
human preference on HH-RLHF pairs (helpful-base and harmless-base test tranches, short pairs only, seeded sample).

    python benchmarks/bench_judge.py [--pairs 100] [--threads 1] [--no-write]

Agreement: judge_askllm / judge_quality prefer the chosen reply when its value is higher (ties half);
judge_pairwise agrees when P(chosen better) > 0.5 (exactly 0.5 half). 95% Wilson intervals. SmolLM2-135M is a smoke
test, not a judge: its figures are near chance and are reported as they are. Requests go through the real path
(run_scorers: estimate, cache, commits), the texts never leave /tmp. CPU bounded: one torch thread in the server,
a few hundred short requests in all.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("OMP_NUM_THREADS", "1")

HH = ROOT.parent / "shared" / "datasets" / "hh-rlhf"
TRANCHES = ("helpful-base", "harmless-base")


def wilson(k: float, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (c - h, c + h)


def last_turn(text: str) -> tuple[str, str]:
    i = text.rfind("\n\nAssistant:")
    return text[:i], text[i + len("\n\nAssistant:"):].strip()


def sample_pairs(n: int, seed: int = 0, max_prompt: int = 500, max_reply: int = 400) -> list[dict]:
    """n pairs, half from each tranche, seeded; short ones only (prompt <= max_prompt, replies <= max_reply chars),
    chosen != rejected."""
    rng = np.random.default_rng(seed)
    out = []
    for t in TRANCHES:
        rows = []
        with gzip.open(HH / f"{t}.test.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                pc, c = last_turn(r["chosen"])
                pr, rj = last_turn(r["rejected"])
                if pc != pr or not c or not rj or c == rj or len(pc) > max_prompt or max(len(c), len(rj)) > max_reply:
                    continue
                rows.append({"prompt": pc.strip(), "chosen": c, "rejected": rj, "tranche": t})
        pick = rng.choice(len(rows), size=min(len(rows), n // 2), replace=False)
        out.extend(rows[i] | {"id": f"{t}-{i}"} for i in sorted(pick))
    return out


def throughput(srv, texts: list[str], levels=(1, 2, 4), delay: float = 0.0) -> list[dict]:
    """Ask-LLM requests per second at each concurrency (the same requests at each level); ``delay``: seconds the
    server waits before answering each request (its test knob), as a network round trip or a busy remote queue
    would."""
    from curation.scorers.judge import ASKLLM_INSTRUCT
    from curation.scorers.judge_client import JudgeClient

    rows = []
    srv.config(delay=delay, delay_count=10 ** 6 if delay else 0)
    for c in levels:
        cl = JudgeClient(base_url=srv.base_url, concurrency=c, timeout=300)
        cl.chat([{"role": "user", "content": "warm up"}], model="m", max_tokens=1)
        t0 = time.perf_counter()
        res = cl.map(lambda x: cl.chat([{"role": "user", "content": ASKLLM_INSTRUCT.replace("{example}", x)}],
                                       model="m", max_tokens=2, top_logprobs=20), texts)
        dt = time.perf_counter() - t0
        rows.append({"delay": delay, "concurrency": c, "requests": len(texts), "seconds": dt, "rps": len(texts) / dt,
                     "latency": float(np.mean([r.seconds for r in res])),
                     "prompt_tokens": float(np.mean([r.prompt_tokens for r in res]))})
        print(f"delay {delay:g} s, concurrency {c}: {len(texts) / dt:.2f} req/s, mean latency "
              f"{rows[-1]['latency']:.2f} s", flush=True)
    srv.config(delay=0, delay_count=0)
    return rows


def agreement(srv, pairs: list[dict], names: list[str], concurrency: int) -> list[dict]:
    from curation.ingest.run import ingest_file
    from curation.scorers import run_scorers
    from curation.scorers.run import pair_scores
    from curation.store import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="bench_judge_"))
    src = tmp / "pairs.jsonl"
    src.write_text("".join(json.dumps({"id": p["id"], "prompt": p["prompt"], "chosen": p["chosen"],
                                       "rejected": p["rejected"]}) + "\n" for p in pairs), encoding="utf-8")
    ws = Workspace(tmp / "w.duckdb")
    ingest_file(ws, src, name="hh")
    longer = np.mean([1.0 if len(p["chosen"]) > len(p["rejected"]) else 0.5 if len(p["chosen"]) == len(p["rejected"])
                      else 0.0 for p in pairs])
    out = [{"scorer": "longer reply wins (length rule)", "n": len(pairs), "agree": float(longer),
            "requests": 0, "seconds": 0.0, "nan": 0}]
    for name in names:
        before = srv.stats()["requests"]
        t0 = time.perf_counter()
        key = run_scorers(ws, [name], params={"base_url": srv.base_url, "concurrency": concurrency,
                                              "timeout": 300})[0]
        dt = time.perf_counter() - t0
        asked = srv.stats()["requests"] - before
        if name == "judge_pairwise":
            v = ws.scores([key])[key].to_numpy(np.float64)
            ok = np.isfinite(v)
            agree = np.where(v[ok] > 0.5, 1.0, np.where(v[ok] < 0.5, 0.0, 0.5))
            nan = int((~ok).sum())
        else:
            t = pair_scores(ws, key)
            agree = t["agree"].dropna().to_numpy()
            nan = int(t["agree"].isna().sum())
        out.append({"scorer": key, "n": len(agree), "agree": float(agree.mean()) if len(agree) else float("nan"),
                    "requests": asked, "seconds": dt, "nan": nan})
        print(f"{key}: {out[-1]['agree']:.3f} of {len(agree)} pairs ({nan} without an answer), {asked} requests in "
              f"{dt:.0f} s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the server")
    ap.add_argument("--throughput-requests", type=int, default=24)
    ap.add_argument("--concurrency", type=int, default=4, help="for the agreement runs")
    ap.add_argument("--scorers", default="judge_askllm,judge_pairwise",
                    help="comma-separated judge scorers for the agreement table (empty: none)")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--delay", type=float, default=1.0, help="the added server latency of the second throughput "
                                                             "table")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    if not HH.is_dir():
        sys.exit(f"{HH} not found: the benchmark needs the shared HH-RLHF test tranches")
    from judge_server import start_server

    pairs = sample_pairs(a.pairs)
    from curation.scorers.askllm import render_example

    texts = [render_example(p["prompt"], p["chosen"], max_chars=3000) for p in pairs[: a.throughput_requests]]
    load0 = os.getloadavg()[0]
    srv = start_server(threads=a.threads)
    saved = json.loads(OUT.read_text()) if OUT.is_file() else {}
    try:
        if not a.skip_throughput:
            tp = throughput(srv, texts) + throughput(srv, texts, delay=a.delay)
            saved["throughput"] = {"rows": tp, "load": [load0, os.getloadavg()[0]], "threads": a.threads}
        for r in agreement(srv, pairs, [s for s in a.scorers.split(",") if s], a.concurrency):
            saved.setdefault("agreement", {})[r["scorer"]] = r | {"load": os.getloadavg()[0], "pairs": len(pairs)}
    finally:
        srv.stop()
    if a.no_write:
        return
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(saved, indent=1))
    write(saved, a.concurrency)


OUT = ROOT / "benchmarks" / "out" / "bench_judge.json"


def write(saved: dict, concurrency: int) -> None:
    from _results import write_section

    th = saved.get("throughput") or {"rows": [], "load": [float("nan")] * 2, "threads": 1}
    tp = th["rows"]
    lines = [
        f"Local server: `tests/judge_server.py` (SmolLM2-135M-Instruct Q4_1 GGUF de-quantised, transformers, CPU, "
        f"{th['threads']} torch thread, requests that arrive together generated as one batch of up to 8), official "
        f"`openai` client, Ask-LLM requests (mean {tp[0]['prompt_tokens'] if tp else float('nan'):.0f} prompt "
        "tokens, 2 output tokens, top-20 logprobs). Shared 2-core machine under heavy load (1-min load average "
        f"{th['load'][0]:.1f} at the start, {th['load'][1]:.1f} at the end): absolute numbers are pessimistic, the "
        "ratios between rows come from the same run. The second block adds a fixed wait before each answer (the "
        "server's test knob), as a network round trip or a remote queue would: there the client's concurrency "
        "overlaps the waits. Without it the server's one CPU thread is the bottleneck, so more requests in flight "
        "only wait longer each; a GPU server (vLLM, TGI) batches parallel requests, which is where concurrency pays.",
        "",
        "| added server latency (s) | concurrency | requests | req/s | x concurrency 1 | mean latency (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in tp:
        base = next(b["rps"] for b in tp if b["delay"] == r["delay"] and b["concurrency"] == 1)
        lines.append(f"| {r['delay']:g} | {r['concurrency']} | {r['requests']} | {r['rps']:.2f} | "
                     f"{r['rps'] / base:.2f} | {r['latency']:.2f} |")
    ag = list((saved.get("agreement") or {}).values())
    n_pairs = max([r["pairs"] for r in ag] or [0])
    lines += [
        "",
        f"Agreement with human preference on {n_pairs} HH-RLHF test pairs ({n_pairs // 2} helpful-base, "
        f"{n_pairs // 2} harmless-base; seeded sample of the short pairs: prompt <= 500 and replies <= 400 "
        "characters), through `run_scorers` at concurrency "
        f"{concurrency} (each scorer its own run; load average at its end in the last column). Ask-LLM prefers "
        "the chosen reply when its P(yes) is higher (ties half; both replies asked); the pairwise judge agrees "
        "when P(chosen better), averaged over both orders, is above 0.5. "
        "\"no answer\": pairs where the judge gave none of the options (neither among its top-20 first tokens nor "
        "in its text).",
        "",
        "| scorer | pairs | agreement | 95% interval | no answer | requests | seconds | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in ag:
        lo, hi = wilson(r["agree"] * r["n"], r["n"])
        lines.append(f"| {r['scorer']} | {r['n']} | {r['agree']:.1%} | {lo:.1%}-{hi:.1%} | {r['nan']} | "
                     f"{r['requests']} | {r['seconds']:.0f} | {r.get('load', float('nan')):.1f} |")
    chance = [r["scorer"].split("(")[0] for r in ag if r["requests"] and
              wilson(r["agree"] * r["n"], r["n"])[0] <= 0.5 <= wilson(r["agree"] * r["n"], r["n"])[1]]
    lines += ["", (f"Interval includes 50% (no better than chance at this n): {', '.join(chance)}. " if chance else "")
              + "SmolLM2-135M stands in for a judge so that the tests and this benchmark run offline; the "
              "intended use is a 7B+ model on a GPU server: point this script's scorers at it (`--base-url`, "
              "`--judge-model`) to measure it."]
    write_section("bench_judge", "Judge scorers on an OpenAI-compatible server (bench_judge)", "\n".join(lines))


if __name__ == "__main__":
    main()
