"""CLI commands on the workspace itself: ``ingest``, ``embed``, ``info``, ``demo``, ``remove``, ``decide``."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from curation.core.commits import DEFAULT_COMMIT_SECONDS
from curation.core.errors import CurationError
from curation.workflows.demo import build_demo_workspace
from curation.embedding.embed import embed_workspace
from curation.workflows.ingest import ingest
from curation.core.keys import DEFAULT_MODEL, STATIC_MODEL
from curation.core.progress import tqdm_progress
from curation.embedding.static import STATIC_LABEL
from curation.store import Workspace

DEVICE_HELP = ("where the model runs: cpu, cuda, cuda:N or mps (default: CUDA if present, then MPS, else CPU; "
               "the device used is printed and kept in the job record)")

RAY_HELP = ("compute on Ray workers (Ray Data; one per GPU, else one per CPU); this process alone writes the "
            "workspace, committing as results arrive. No ADDRESS: start Ray on this machine; auto: the cluster of "
            "this node; ray://HEAD:10001: a remote cluster (Ray Client)")

STATIC_HELP = ("a model2vec distillation of MiniLM, ~80-150x faster on a CPU, stored under its own model key; "
               "first look, 33%% neighbour agreement with MiniLM: the pages and selection keep using MiniLM")


def _cmd_ingest(args: argparse.Namespace, ws: Workspace) -> int:
    try:
        return _ingest(args, ws)
    except CurationError:
        _remove_if_created_empty(args, ws)
        raise


def _remove_if_created_empty(args: argparse.Namespace, ws: Workspace) -> None:
    """A workspace this very command created and that holds no dataset is removed again (nothing left behind)."""
    if not getattr(args, "created_workspace", False):
        return
    try:
        if len(ws.datasets()):
            return
    except CurationError:
        pass
    for p in (ws.path, ws.path.with_name(ws.path.name + ".wal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _ingest(args: argparse.Namespace, ws: Workspace) -> int:
    mapping = {k: getattr(args, f"{k}_column") for k in ("prompt", "input", "response", "chosen", "rejected",
                                                           "messages", "label", "id")}
    rc = 0
    for path in args.paths:
        report = ingest(ws, path, name=args.name if len(args.paths) == 1 else None, fmt=args.format,
                             split=args.split, shape=args.shape, mapping=mapping, skip_bad=args.skip_bad,
                             allow_empty=not args.no_empty, max_uncompressed=args.max_uncompressed)
        print(report.summary())
        for p in report.problems[:20]:
            field = f" field '{p['field']}'" if p.get("field") else ""
            print(f"  skipped {p['file']} line {p['line']}{field}: {p['message']}", file=sys.stderr)
        if len(report.problems) > 20:
            print(f"  ... and {len(report.problems) - 20} more", file=sys.stderr)
    if args.embed:
        rc = _cmd_embed(args, ws)
    return rc


def _cmd_embed(args: argparse.Namespace, ws: Workspace) -> int:
    model = STATIC_MODEL if getattr(args, "fast", False) else args.model
    report = embed_workspace(ws, model, batch_size=args.batch_size, limit=getattr(args, "limit", None),
                             commit_every=getattr(args, "commit_every", None), device=args.device,
                             commit_seconds=getattr(args, "commit_seconds", DEFAULT_COMMIT_SECONDS),
                             cache=not getattr(args, "no_cache", False),
                             ray=getattr(args, "ray", None),
                             progress=tqdm_progress("embedding", "text"))
    print(report.summary())
    return 0


def _cmd_info(args: argparse.Namespace, ws: Workspace) -> int:
    s = ws.summary()
    ds = ws.datasets()
    same = ws.identical_pairs()
    if args.json:
        s["identical_pairs"] = same
        s["datasets"] = json.loads(ds.drop(columns=["mapping", "options"]).to_json(orient="records",
                                                                                  date_format="iso"))
        print(json.dumps(s, indent=2, default=str))
        return 0
    print(f"workspace  {s['path']}  (schema v{s['schema_version']})")
    print(f"examples   {s['examples']} in {len(ds)} dataset(s)")
    dups: dict[str, list[str]] = {}
    for d in s["duplicate_content"]:
        dups.setdefault(d["dataset"], []).append(f"{d['n']} duplicate content of {d['duplicates_of']} (kept)")
    for _, d in ds.iterrows():
        extra = f"; {', '.join(dups[d['name']])}" if d["name"] in dups else ""
        if same.get(d["name"]):
            extra += f"; warning: {same[d['name']]} pairs with chosen == rejected"
        print(f"  - {d['name']}: {d['n_rows']} {d['kind']} ({d['shape']}) from {d['source']}{extra}")
    if s["labels"]:
        shown = ", ".join(f"{k} {n}" for k, n in list(s["labels"].items())[:12])
        more = f" and {len(s['labels']) - 12} more" if len(s["labels"]) > 12 else ""
        none = f"; {s['unlabelled']} examples without a label" if s["unlabelled"] else ""
        print(f"labels     {shown}{more}{none}")
    else:
        print("labels     none (the report card groups by embedding clusters)")
    for m, n in s["embedding_models"].items():
        print(f"embedded   {n}/{s['examples']} with {m}" + (f"  [{STATIC_LABEL}]" if m == STATIC_MODEL else ""))
    for k in ("scores", "projections", "graphs", "rankings", "decisions", "exports"):
        print(f"{k:<10} {s[k]}")
    return 0


def _cmd_demo(args: argparse.Namespace, ws: Workspace) -> int:
    build_demo_workspace(ws, n_sft=args.n_sft, n_pref=args.n_pref, seed=args.seed, embed=not args.no_embed,
                         analyze=not args.no_analyze, progress=tqdm_progress("demo"))
    print(f"demo workspace ready: {ws.path}")
    return 0


def _cmd_remove(args: argparse.Namespace, ws: Workspace) -> int:
    from curation.search.words import sync_if_built

    n = ws.remove_dataset(args.dataset)
    sync_if_built(ws)  # drop its rows from the full-text index now (a search would notice on its next use)
    print(f"removed dataset {args.dataset} ({n} examples)")
    return 0


def _cmd_decide(args: argparse.Namespace, ws: Workspace) -> int:
    ids = list(args.ids)
    if args.ids_file:
        ids += [x.strip() for x in Path(args.ids_file).read_text(encoding="utf-8").splitlines() if x.strip()]
    who = args.who or os.environ.get("USER") or "cli"
    new = ws.add_decisions(ids, args.action, who=who, value=args.value, why=args.why)
    print(f"recorded {len(new)} {args.action} decision(s) by {who}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``ingest`` and ``demo`` (the two commands that may create a workspace), ``embed``, ``info``,
    ``remove`` and ``decide``."""
    i = sub.add_parser("ingest", help="add datasets from files (JSONL, JSON, CSV, Parquet, .gz, HF datasets)",
                       description="Read files, recognise their shape, and store normalised examples. Nothing is "
                       "written when any record is bad, unless --skip-bad.")
    i.add_argument("paths", nargs="+", help="files, folders saved by datasets.save_to_disk, or hub names")
    i.add_argument("--name", help="dataset name (default: the file name without extensions)")
    i.add_argument("--format", choices=["jsonl", "json", "csv", "parquet", "hf"], help="override format detection")
    i.add_argument("--split", help="split of a Hugging Face dataset (default: train)")
    i.add_argument("--shape", choices=["hh_rlhf", "dpo", "messages", "sharegpt", "dolly", "alpaca",
                                       "prompt_response", "prompt_only"], help="override shape detection")
    for f in ("prompt", "input", "response", "chosen", "rejected", "messages", "label", "id"):
        i.add_argument(f"--{f}-column", dest=f"{f}_column", metavar="COL", help=f"column holding the {f}")
    i.add_argument("--skip-bad", action="store_true", help="leave bad records out and list them (default: reject)")
    i.add_argument("--no-empty", action="store_true",
                   help="treat an empty response as a bad record (default: keep it; scorers flag it)")
    i.add_argument("--max-uncompressed", metavar="SIZE", default=None,
                   help="most bytes a reader decompresses from one file, e.g. 8GiB (default 2GiB or "
                        "$CURATION_MAX_UNCOMPRESSED): a larger .gz is refused, protecting memory from a gzip bomb")
    i.add_argument("--embed", action="store_true", help="embed the new examples afterwards")
    i.add_argument("--model", default=DEFAULT_MODEL, help="embedding model for --embed")
    i.add_argument("--batch-size", type=int, default=None, help="texts per forward pass (default: 64 on the "
                   "CPU, more on a GPU)")
    i.add_argument("--device", default=None, help=DEVICE_HELP)
    i.add_argument("--no-cache", action="store_true", help="neither read nor fill the embedding cache shared by "
                   "all workspaces (~/.cache/curation/embeddings.duckdb; $CURATION_EMBED_CACHE=off turns it off)")
    i.set_defaults(func=_cmd_ingest, creates_workspace=True)

    e = sub.add_parser("embed", help="embed examples that have no vector yet (resumable)")
    e.add_argument("--model", default=DEFAULT_MODEL,
                   help="sentence-transformers model: the default loads offline; or a local folder / hub name; "
                   f"or `static` ({STATIC_HELP})")
    e.add_argument("--fast", action="store_true", help=f"same as --model static: {STATIC_HELP}")
    e.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS", help=RAY_HELP)
    e.add_argument("--batch-size", type=int, default=None, help="texts per forward pass (default: 64 on the "
                   "CPU, more on a GPU)")
    e.add_argument("--device", default=None, help=DEVICE_HELP)
    e.add_argument("--no-cache", action="store_true", help="neither read nor fill the embedding cache shared by "
                   "all workspaces (~/.cache/curation/embeddings.duckdb; $CURATION_EMBED_CACHE=off turns it off)")
    e.add_argument("--limit", type=int, default=None, help="stop after this many texts (resume later)")
    e.add_argument("--commit-every", type=int, default=None, metavar="N",
                   help="commit at least every N texts (default: by time, see --commit-seconds)")
    e.add_argument("--commit-seconds", type=float, default=DEFAULT_COMMIT_SECONDS, metavar="S",
                   help=f"commit vectors at least every S seconds (default {DEFAULT_COMMIT_SECONDS:g}): a killed "
                        "job loses at most that much work")
    e.set_defaults(func=_cmd_embed)

    n = sub.add_parser("info", help="what the workspace holds")
    n.add_argument("--json", action="store_true", help="machine-readable output")
    n.set_defaults(func=_cmd_info)

    d = sub.add_parser("demo", help="build the demo workspace from the project's own generated data")
    d.add_argument("--n-sft", type=int, default=3000)
    d.add_argument("--n-pref", type=int, default=300)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--no-embed", action="store_true", help="skip embedding")
    d.add_argument("--no-analyze", action="store_true", help="skip graph, map, scores and rankings")
    d.set_defaults(func=_cmd_demo, creates_workspace=True)

    r = sub.add_parser("remove", help="remove a dataset and its examples")
    r.add_argument("dataset")
    r.set_defaults(func=_cmd_remove)

    dc = sub.add_parser("decide", help="pin (include/exclude), unpin, tag or note examples; logged with who/when")
    dc.add_argument("action", choices=["include", "exclude", "unpin", "tag", "untag", "note"])
    dc.add_argument("ids", nargs="*", help="example ids")
    dc.add_argument("--ids-file", help="file with one example id per line")
    dc.add_argument("--value", help="the tag or the note text")
    dc.add_argument("--why", help="reason, kept in the log")
    dc.add_argument("--who", help="curator name (default: $USER)")
    dc.set_defaults(func=_cmd_decide)
