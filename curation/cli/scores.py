"""CLI commands for quality scores: ``score``, ``scorers``, ``propose``, ``import-scores``."""
from __future__ import annotations

import argparse
import json
from typing import Any

from curation.core.commits import DEFAULT_COMMIT_SECONDS
from curation.core.errors import CurationError
from curation.core.progress import tqdm_progress
from curation.scorers import GROUPS, import_scores, run_scorers, scorer_table


def _parse_param(s: str) -> tuple[str, Any]:
    if "=" not in s:
        raise CurationError(f"--param {s!r} is not KEY=VALUE; e.g. --param max_chars=2000")
    k, v = s.split("=", 1)
    try:
        return k.strip(), json.loads(v)
    except ValueError:
        return k.strip(), v


def _cmd_score(args: argparse.Namespace, ws: Any) -> int:
    params: dict[str, Any] = dict(_parse_param(p) for p in (args.param or []))
    for opt in ("model", "endpoint", "prompt_format", "template", "timeout", "threads", "device"):
        v = getattr(args, opt, None)
        if v is not None:
            params[opt] = v
    names = _with_judges(args, ws, params)
    commit_every = args.commit_every if args.commit_every is not None else args.batch_size
    keys = run_scorers(ws, names, params=params, batch_size=args.batch_size, limit=args.limit,
                       commit_every=commit_every, commit_seconds=args.commit_seconds, ray=args.ray,
                       progress=None if args.quiet else tqdm_progress("scoring"))
    table = ws.scores(keys)
    for k in keys:
        col = table[k]
        n = int(col.notna().sum())
        summary = (f"mean {col.mean():.4g}, min {col.min():.4g}, max {col.max():.4g}" if n else "no values")
        jp = (ws.job(f"score:{k}") or {}).get("params") or {}
        device = (json.loads(jp) if isinstance(jp, str) else jp).get("device")
        print(f"{k}: {n} of {len(col)} examples scored ({summary}){f' on {device}' if device else ''}")
    return 0


def _with_judges(args: argparse.Namespace, ws: Any, params: dict[str, Any]) -> list[Any]:
    """The scorer names, with judge scorers built from the judge flags and, before a run that asks anything, the
    estimate printed (a run over --confirm-over requests needs --yes)."""
    from curation.scorers import REGISTRY, expand_names, get_scorer
    from curation.scorers.judge import JudgeScorer, describe_estimate, estimate

    jp = {"judge_model": args.judge_model, "base_url": args.base_url, "api_key": args.api_key,
          "concurrency": args.concurrency, "retries": args.retries, "timeout": args.timeout}
    names: list[Any] = []
    judges = []
    for n in expand_names(args.names):
        cls = REGISTRY.get(n) if isinstance(n, str) else None
        if cls is not None and issubclass(cls, JudgeScorer):
            sc = get_scorer(n, **{k: v for k, v in {**params, **jp}.items() if k in cls.defaults})
            judges.append(sc)
            names.append(sc)
        else:
            names.append(n)
    if judges:
        est = estimate(ws, judges, limit=args.limit)
        if est["requests"]:
            print("judge estimate:\n" + describe_estimate(est, price_in=args.price_in, price_out=args.price_out))
            if est["requests"] > args.confirm_over and not args.yes:
                raise CurationError(f"this judge run asks {est['requests']:,} requests (more than --confirm-over "
                                    f"{args.confirm_over:,}); check the estimate above and rerun with --yes, or "
                                    "try --limit N first")
    return names


def _cmd_scorers(args: argparse.Namespace, ws: Any) -> int:
    t = scorer_table()
    print(f"{'name':<22} {'direction':<14} {'needs':<10} {'validity (HH-RLHF agreement, n, 95%)':<38} description")
    for _, r in t.iterrows():
        arrow = "higher=better" if r["higher_is_better"] else "lower=better"
        print(f"{r['name']:<22} {arrow:<14} {r['needs']:<10} {r['validity']:<38} {r['description']}")
    print("\ngroups: " + "; ".join(f"{g} = {' '.join(v)}" for g, v in GROUPS.items()))
    return 0


def _cmd_propose(args: argparse.Namespace, ws: Any) -> int:
    from curation.scorers.learned import propose_rows

    t = propose_rows(ws, args.n, keep_tags=args.keep_tags or "", drop_tags=args.drop_tags or "")
    print(f"{len(t)} unpinned rows to judge next (the curator model is least sure about them; spread out; pin "
          "them, then rerun):")
    for r in t.itertuples():
        print(f"{r.example_id}\tP(keep)={r.p_keep:.2f}")
    return 0


def _cmd_import_scores(args: argparse.Namespace, ws: Any) -> int:
    key = import_scores(ws, args.source, name=args.name, id_column=args.id_column, score_column=args.score_column,
                        higher_is_better=not args.lower_is_better, description=args.description or "")
    col = ws.scores([key])[key]
    print(f"{key}: {int(col.notna().sum())} of {len(col)} examples have a value")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``score``, ``scorers``, ``propose`` and ``import-scores``."""
    p = sub.add_parser("score", help="compute quality scores (heuristics, Ask-LLM, IFD, preference signals)",
                       description="Score every example with the named scorers (see `scorers`); cached by content "
                                   "hash and resumable. Groups: heuristics, preference, model, cheap.")
    p.add_argument("names", nargs="+", help="scorer or group names, e.g. heuristics askllm ifd")
    p.add_argument("--model", help="local model directory, .gguf file or HF id; with --endpoint the served "
                                   "model name (default: packaged SmolLM2-135M-Instruct GGUF)")
    p.add_argument("--endpoint", help="OpenAI-compatible completions URL with logprobs (vLLM, llama.cpp, Ollama)")
    p.add_argument("--prompt-format", dest="prompt_format", help="endpoint prompt format: chatml, llama3, "
                                                                 "mistral, alpaca, plain (default chatml)")
    p.add_argument("--template", help="Ask-LLM template: paper, sft, or a text with {example}")
    p.add_argument("--timeout", type=float, help="endpoint request timeout in seconds (default 60)")
    p.add_argument("--threads", type=int, help="torch threads for a local model (default 2)")
    p.add_argument("--device", help="where a local model runs: cpu, cuda, cuda:N or mps (default: CUDA if present, "
                                    "then MPS, else CPU; printed and kept in the job record)")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="any other scorer parameter")
    p.add_argument("--batch-size", type=int, default=None,
                   help="examples per scorer call and, when given, per commit (default: 4096 for cheap scorers, 32 "
                        "for model scorers, committed every --commit-seconds; a commit costs ~20 ms, so small "
                        "values slow cheap scorers down a lot)")
    p.add_argument("--commit-every", type=int, default=None, metavar="N",
                   help="commit at least every N examples (default: --batch-size when given, else by time)")
    p.add_argument("--commit-seconds", type=float, default=DEFAULT_COMMIT_SECONDS, metavar="S",
                   help=f"commit computed values at least every S seconds (default {DEFAULT_COMMIT_SECONDS:g}): "
                        "a killed job loses at most that much work")
    p.add_argument("--limit", type=int, help="score only the first N examples (by row id), to try things out")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="score on Ray workers (Ray Data; one per GPU, else one per CPU); this process alone writes "
                        "the workspace as results arrive. No ADDRESS: start Ray on this machine; auto: the cluster "
                        "of this node; ray://HEAD:10001: a remote cluster. Corpus-level scorers and those that read "
                        "the "
                        "workspace (pref_embed_distance, learned heads) run here")
    j = p.add_argument_group("judge scorers (judge_askllm, judge_quality, judge_complexity, judge_pairwise; group "
                             "judge): your own OpenAI-compatible chat-completions server")
    j.add_argument("--base-url", dest="base_url", help="the server's /v1 address, e.g. http://localhost:8000/v1 "
                                                       "(default $OPENAI_BASE_URL)")
    j.add_argument("--judge-model", dest="judge_model", help="the served model name (default $JUDGE_MODEL, else "
                                                             "the first model the server lists); part of the key")
    j.add_argument("--api-key", dest="api_key", help="the server's key (default $OPENAI_API_KEY, which is better: a "
                                                     "flag shows in the process list); never stored")
    j.add_argument("--concurrency", type=int, help="requests in flight at most (default 4)")
    j.add_argument("--retries", type=int, help="retries per request on timeouts, 429 and 5xx, with exponential "
                                               "backoff or the server's Retry-After (default 4)")
    j.add_argument("--yes", action="store_true", help="run even when the estimate is over --confirm-over requests")
    j.add_argument("--confirm-over", dest="confirm_over", type=int, default=1000, metavar="N",
                   help="a judge run of more than N requests stops after printing its estimate unless --yes "
                        "(default 1000)")
    j.add_argument("--price-in", dest="price_in", type=float, help="price per million input tokens, for the "
                                                                    "estimate")
    j.add_argument("--price-out", dest="price_out", type=float, help="price per million output tokens")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("scorers", help="list the available scorers with direction and description")
    p.set_defaults(func=_cmd_scorers)

    p = sub.add_parser("propose", help="rows to judge next: unpinned rows the curator model is least sure "
                                       "about, spread out in embedding space (uncertainty sampling over your "
                                       "include / exclude pins)")
    p.add_argument("n", type=int, nargs="?", default=20, help="how many rows (default 20)")
    p.add_argument("--keep-tags", help="comma-separated tags that also mean keep")
    p.add_argument("--drop-tags", help="comma-separated tags that also mean drop")
    p.set_defaults(func=_cmd_propose)

    p = sub.add_parser("import-scores", help="import scores computed elsewhere (file of id -> score, or a "
                                             "field of the ingested records)")
    p.add_argument("source", help="a .parquet/.csv/.tsv/.jsonl file, or a record field such as reward or a.b")
    p.add_argument("--name", help="score name (key ext:NAME); default: the field or file name")
    p.add_argument("--id-column", help="id column of the file (default: example_id, id, uid or row_id)")
    p.add_argument("--score-column", help="score column of the file (default: its only numeric column)")
    p.add_argument("--lower-is-better", action="store_true", help="smaller values are better examples")
    p.add_argument("--description", help="one line of help text for the dashboard")
    p.set_defaults(func=_cmd_import_scores)


