"""CLI commands for exports: ``export`` and ``reproduce``."""
from __future__ import annotations

import argparse
import json
import os
import sys

from curation.core.errors import CurationError
from curation.export import FORMATS, STYLE_HELP, STYLES, ExportResult, export_subset
from curation.store import Workspace
from curation.workflows.reproduce import reproduce


def _parse_quota(s: str | None) -> str | dict | None:
    if s is None:
        return None
    s = s.strip()
    if s in ("proportional", "balanced"):
        return s
    try:
        q = json.loads(s)
    except ValueError:
        raise CurationError(f"--quota {s!r}: use proportional, balanced, or JSON like "
                            '\'{"min": {"math": 50}, "max": {"coding": 200}}\'') from None
    if not isinstance(q, dict):
        raise CurationError(f"--quota {s!r}: JSON must be an object with min/max")
    return q


def _cmd_export(args: argparse.Namespace, ws: Workspace) -> int:
    who = args.who or os.environ.get("USER") or "cli"
    if args.subset:
        if args.ranking or args.budget is not None or args.budget_tokens is not None or args.quota or args.dataset:
            raise CurationError("--subset names the ranking, budget, quota and datasets; drop --ranking, --budget, "
                                "--budget-tokens, --quota and --dataset")
        res = export_subset(ws, subset=args.subset, fmt=args.format, style=args.style, name=args.name,
                            overwrite=args.overwrite, who=who, datasheet=not args.no_datasheet, note=args.note,
                            tokenizer=args.tokenizer, drop_empty=args.drop_empty)
        return _print_export(res)
    res = export_subset(ws, ranking_key=args.ranking, budget_rows=args.budget, budget_tokens=args.budget_tokens,
                        quota=_parse_quota(args.quota), fmt=args.format, style=args.style, name=args.name,
                        overwrite=args.overwrite, who=who, datasheet=not args.no_datasheet,
                        label_column=args.label_column, datasets=args.dataset or None, note=args.note,
                        tokenizer=args.tokenizer, drop_empty=args.drop_empty)
    return _print_export(res)


def _print_export(res: ExportResult) -> int:
    print(f"wrote {res.n_rows} rows to {res.path} (sha256 {res.sha256[:16]}…)")
    if res.skipped:
        print("left out (the style cannot express them): " + ", ".join(f"{n} {k}" for k, n in res.skipped.items()))
    if res.dropped_empty:
        print(f"left out {res.dropped_empty} rows with an empty reply (--drop-empty)")
    elif res.n_empty_replies:
        print(f"warning: {res.n_empty_replies} rows have an empty reply (chosen, rejected or response); they were "
              "written; --drop-empty leaves them out", file=sys.stderr)
    print(f"manifest  {res.manifest_path}")
    if res.datasheet_path:
        print(f"datasheet {res.datasheet_path}")
    return 0


def _cmd_reproduce(args: argparse.Namespace, ws: Workspace) -> int:  # uses a fresh workspace
    res = reproduce(args.manifest, out_dir=args.out, log=lambda m: print(m, file=sys.stderr))
    print(res.summary())
    return 0 if res.identical else 1


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``export`` and ``reproduce``."""
    styles = "; ".join(f"{k}: {v}" for k, v in STYLE_HELP.items())
    e = sub.add_parser("export", help="write the current subset (ranking prefix + pins) with a manifest and datasheet",
                       description="Write the subset to the workspace's export folder as JSONL, Parquet, CSV or a "
                       f"Hugging Face dataset folder. Styles: {styles}.")
    e.add_argument("--subset", metavar="NAME[@VERSION]", default=None,
                   help="a saved subset (newest version, or @VERSION); the manifest records its name and version")
    e.add_argument("--ranking", default=None, help="ranking key (see `select`); default: every row in ingest order")
    e.add_argument("--budget", type=int, default=None, help="rows to keep (ranking prefix; pins count toward it)")
    e.add_argument("--budget-tokens", type=int, default=None, help="tokens to keep instead of rows")
    e.add_argument("--quota", default=None, help="per-class quota: proportional, balanced, or JSON min/max")
    e.add_argument("--label-column", default="label", help="class column for quotas and counts (default: label)")
    e.add_argument("--dataset", action="append", help="only rows of this dataset (repeatable)")
    e.add_argument("--format", choices=list(FORMATS), default="jsonl")
    e.add_argument("--style", choices=list(STYLES), default="original")
    e.add_argument("--name", required=True, help="file name inside the export folder (extension added)")
    e.add_argument("--overwrite", action="store_true", help="replace an existing export of that name")
    e.add_argument("--no-datasheet", action="store_true", help="skip the HTML datasheet")
    e.add_argument("--drop-empty", action="store_true", help="leave out rows whose reply is empty (a preference "
                   "pair's chosen or rejected, an SFT response); without it they are written and counted")
    e.add_argument("--who", default=None, help="curator name for the manifest (default: $USER)")
    e.add_argument("--note", default=None, help="a note kept in the manifest and the datasheet")
    e.add_argument("--tokenizer", default=None, metavar="TOKENIZER",
                   help="dpo_text: render prompts with this tokenizer's chat template (a tokenizer folder, a .gguf "
                   "file or a hub id); default: the plain 'User:/Assistant:' format ending with 'Assistant:' and a "
                   "newline")
    e.set_defaults(func=_cmd_export)

    r = sub.add_parser("reproduce", help="rebuild an export from its manifest and compare the bytes",
                       description="Fresh workspace, same sources, same embedding, scores, ranking, pins and "
                       "budget; exits 0 when the bytes are identical, 1 when they differ.")
    r.add_argument("manifest", help="the .manifest.json beside an export")
    r.add_argument("--out", default=None, help="folder for the fresh workspace (default: a temporary folder)")
    r.set_defaults(func=_cmd_reproduce, needs_workspace=False)
