"""``python -m curation report``: audit a subset (a ranking's prefix or a list of ids) against the pool."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from curation.embedding.embed import DEFAULT_MODEL
from curation.core.errors import CurationError
from curation.store import Workspace


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the ``report`` subcommand."""
    p = sub.add_parser(
        "report", help="report card of a subset against the pool: class/spectral balance, coverage, alerts",
        description="Compare a subset (the first --budget examples of --ranking, or the ids in --ids FILE) with "
                    "the pool of embedded examples: class balance, per-class spectral balance, coverage, diversity, "
                    "quality scores and preference-pair figures, with plain-language alerts.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--ranking", metavar="KEY", help="a stored ranking key (see the rankings of `info`)")
    src.add_argument("--ids", metavar="FILE", type=Path,
                     help="a file with one row id (integer) or example id per line")
    src.add_argument("--subset", metavar="NAME[@VERSION]", help="a saved subset (newest version, or @VERSION)")
    p.add_argument("--budget", type=int, help="with --ranking: rows in the subset (the ranking's best, pins applied)")
    p.add_argument("--budget-tokens", type=int, help="with --ranking: a token budget instead of --budget")
    p.add_argument("--quota", help="with --ranking: per-class quota over --label-column (proportional, balanced or "
                                   "JSON min/max), as for select and export")
    p.add_argument("--label-column", default="label",
                   help="examples column, score key (e.g. cluster) or record key to group by (default: label)")
    p.add_argument("--model", default=DEFAULT_MODEL, help="embedding model (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the report card as JSON")
    p.set_defaults(func=_cmd_report)


def selected_ids_from_args(args: argparse.Namespace, ws: Workspace) -> np.ndarray:
    """Row ids chosen by --ranking with --budget/--budget-tokens/--quota (the current pins applied, as everywhere
    else: :func:`curation.subsets.spec.resolve`) or listed in --ids."""
    from curation.subsets.spec import SubsetSpec, resolve

    budget_tokens = getattr(args, "budget_tokens", None)
    quota = getattr(args, "quota", None)
    if getattr(args, "subset", None):
        from curation.subsets.saved import load

        if args.budget is not None or budget_tokens is not None or quota:
            raise CurationError("--subset already names the budget and quota; drop --budget/--budget-tokens/--quota")
        return resolve(ws, load(ws, args.subset).spec).row_ids
    if args.ranking:
        if (args.budget is None) == (budget_tokens is None) or (args.budget or 0) < 0 or (budget_tokens or 0) < 0:
            raise CurationError("--ranking needs --budget N or --budget-tokens N (N ≥ 0): the size of the subset "
                                "to audit")
        spec = SubsetSpec.from_budget(args.ranking, budget_rows=args.budget, budget_tokens=budget_tokens,
                                      quota=quota or None, label_column=args.label_column)
        return resolve(ws, spec).row_ids
    if args.budget is not None or budget_tokens is not None or quota:
        raise CurationError("--budget, --budget-tokens and --quota only apply to --ranking; --ids FILE already names "
                            "the subset")
    path: Path = args.ids
    if not path.is_file():
        raise CurationError(f"--ids file {path} does not exist")
    items = [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    if all(x.lstrip("-").isdigit() for x in items):
        return np.array([int(x) for x in items], dtype=np.int64)
    m = ws.id_map().set_index("example_id")["row_id"]
    missing = [x for x in items if x not in m.index]
    if missing:
        raise CurationError(f"{len(missing)} id(s) in {path} are neither row ids nor example ids of this workspace "
                            f"(e.g. {missing[:3]})")
    return m.loc[items].to_numpy(np.int64)


def _cmd_report(args: argparse.Namespace, ws: Workspace) -> int:
    from curation.diagnostics.report import ReportContext, format_card

    ids = selected_ids_from_args(args, ws)
    print(f"building the report context (model {args.model}, label column {args.label_column!r}) ...",
          file=sys.stderr)
    ctx = ReportContext.build(ws, model=args.model, label_column=args.label_column)
    card = ctx.report(ids)
    if args.json:
        print(json.dumps(card.to_dict(), indent=2))
    else:
        print(format_card(card))
    return 0
