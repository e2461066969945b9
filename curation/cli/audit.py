"""``python -m curation audit``: the bias audit of a subset (:mod:`curation.diagnostics.audit`) on the command line:
every slice's share against the pool (or another subset), BH-corrected tests, alerts with their cause, score
fairness."""
from __future__ import annotations

import argparse
import json
import sys

from curation.core.errors import CurationError
from curation.store import Workspace


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the ``audit`` subcommand."""
    from curation.diagnostics.audit import AuditParams

    d = AuditParams()
    p = sub.add_parser(
        "audit", help="bias audit of a subset: every slice's share against the pool, significant and material shifts",
        description="Audit a subset (a saved version, or --ranking with a budget) against the pool its ranking draws "
                    "from, or against another subset (--against): the shares of every slice column (dataset, label, "
                    "clusters, flags such as refusal, risk scores above their threshold, language, identity groups "
                    "and their cross-slices), a two-proportion z test per category and a chi-square per slice, "
                    "Benjamini-Hochberg correction across all of them, and an alert only when a shift is both "
                    "significant and material; each alert names the step that caused it (ranking x budget, pins, "
                    "quota). Score fairness: which slices the bottom of each score the ranking uses is made of.")
    p.add_argument("--subset", metavar="NAME[@VERSION]", help="a saved subset (newest version, or @VERSION)")
    p.add_argument("--ranking", metavar="KEY", help="a stored ranking (short id or key), with a budget")
    p.add_argument("--budget", type=int, help="with --ranking: rows")
    p.add_argument("--budget-pct", type=float, help="with --ranking: percent of the pool")
    p.add_argument("--budget-tokens", type=int, help="with --ranking: tokens")
    p.add_argument("--quota", help="with --ranking: proportional, balanced or JSON min/max/min_share over "
                                   "--label-column")
    p.add_argument("--label-column", default="label", help="the quota's column: any examples column or slice key")
    p.add_argument("--against", metavar="NAME[@VERSION]", help="compare with this saved subset instead of the pool")
    p.add_argument("--alpha", type=float, default=d.alpha,
                   help="Benjamini-Hochberg false-discovery level (default %(default)s)")
    p.add_argument("--min-diff", type=float, default=100 * d.min_diff,
                   help="a share difference of at least this many points is material (default %(default)s)")
    p.add_argument("--ratio-low", type=float, default=d.ratio_low, help="material below this share ratio "
                   "(default %(default)s)")
    p.add_argument("--ratio-high", type=float, default=d.ratio_high, help="material above this share ratio "
                   "(default %(default)s)")
    p.add_argument("--score", action="append", default=[], metavar="KEY",
                   help="also break this score down by slice (score fairness; repeatable); the ranking's own "
                        "scores are always included")
    p.add_argument("--show", type=int, default=15, help="rows of the table to print (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the audit as JSON")
    p.set_defaults(func=_cmd_audit)


def _cmd_audit(args: argparse.Namespace, ws: Workspace) -> int:
    from curation.cli.subset import spec_from_args
    from curation.diagnostics.audit import AuditParams, audit_spec
    from curation.subsets.saved import load

    if bool(args.subset) == bool(args.ranking):
        raise CurationError("audit needs --subset NAME[@VERSION] or --ranking KEY with a budget (one of them)")
    if args.subset and (args.budget is not None or args.budget_pct is not None or args.budget_tokens is not None
                        or args.quota):
        raise CurationError("--subset already names the budget and quota; drop --budget/--budget-pct/"
                            "--budget-tokens/--quota")
    target = load(ws, args.subset) if args.subset else spec_from_args(args, ws)
    params = AuditParams(alpha=args.alpha, min_diff=args.min_diff / 100.0, ratio_low=args.ratio_low,
                         ratio_high=args.ratio_high)
    against = load(ws, args.against) if args.against else None
    print("building the audit (one read per slice column) ...", file=sys.stderr)
    out = audit_spec(ws, target, reference=against, params=params, score_keys=args.score)
    if args.json:
        d = out.to_dict()
        for f in d.get("fairness") or []:
            f["table"] = f.get("table") or []
        print(json.dumps(d, indent=2))
    else:
        print(out.text(show=args.show))
    return 0
