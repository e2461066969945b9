"""CLI command for the slice columns: ``slices`` (engine: :func:`curation.scorers.slices.run_slices`)."""
from __future__ import annotations

import argparse
import json
from typing import Any

from curation.core.progress import tqdm_progress


def _cmd_slices(args: argparse.Namespace, ws: Any) -> int:
    from curation.scorers.slices import run_slices

    keys = run_slices(ws, args.only, batch_size=args.batch_size,
                      progress=None if args.quiet else tqdm_progress("slices"))
    defs = ws.score_defs().set_index("key")
    table = ws.scores(keys)
    for k in keys:
        col = table[k]
        n = int(col.notna().sum())
        kind = str(defs.at[k, "kind"]) if k in defs.index else "score"
        params = json.loads(defs.at[k, "params"] or "{}") if k in defs.index else {}
        if not n:
            what = "no values"
        elif kind == "flag":
            what = f"flagged {int((col == 1).sum())} ({100 * (col == 1).sum() / n:.1f}%)"
        elif kind == "group":
            labels = {c["cluster"]: c["label"] for c in (ws.artifact(f"labels:{k}") or {}).get("clusters", [])}
            top = col.value_counts().head(4)
            what = ", ".join(f"{labels.get(int(c), int(c))} {100 * m / n:.1f}%" for c, m in top.items())
        elif params.get("threshold") is not None:
            t = float(params["threshold"])
            what = (f"mean {col.mean():.3f}; >= threshold {t:.2f}: {int((col >= t).sum())} "
                    f"({100 * (col >= t).sum() / n:.1f}%); validity: {params.get('validity', 'not measured')}")
        else:
            what = f"mean {col.mean():.3g}, max {col.max():.3g}"
        print(f"{k} [{kind}]: {n} of {len(col)} rows; {what}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``slices``."""
    from curation.scorers.slices import SLICE_NAMES

    p = sub.add_parser(
        "slices", help="compute the slice columns (harmful request, language, identity terms, PII, refusal, "
        "length bucket) that the audit compares",
        description="Compute every slice column: harm_prompt / harm_reply (P(harmful request), with its threshold "
                    "and measured AUC), language, length_bucket, identity (any group and one flag per group), "
                    "identity_count, pii, pii_count, refusal. Stored like scores (cached by content hash, "
                    "resumable: rerun after an interruption); group slices get their code names.")
    p.add_argument("--only", nargs="+", choices=SLICE_NAMES, metavar="NAME",
                   help=f"compute only these ({', '.join(SLICE_NAMES)})")
    p.add_argument("--batch-size", type=int, default=None, help="rows per scorer call (default: each scorer's own)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_slices)
