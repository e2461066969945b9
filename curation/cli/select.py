"""CLI commands for selection: ``select``, ``rankings``, ``explain``, ``advise``."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import DEFAULT_MODEL, model_key
from curation.neighbours.graph import require_graph
from curation.core.progress import tqdm_progress
from curation.subsets.saved import load as load_saved_subset
from curation.select import SELECTORS, advisor, explain, run_selection
from curation.select.explain import COVERED_SIMILARITY
from curation.store import Workspace
from curation.subsets.spec import SubsetSpec, resolve


def parse_params(items: list[str]) -> dict[str, Any]:
    """``key=value`` strings → dict; values parsed as JSON when they parse (numbers, true/false, lists, dicts)."""
    out: dict[str, Any] = {}
    for it in items:
        if "=" not in it:
            raise CurationError(f"parameter {it!r} is not key=value (e.g. optimizer=lazy k=15)")
        k, v = it.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def check_out_path(out: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """The ``--out`` path, checked before any work: its folder must exist, it must not be a folder or a symbolic link,
    and an existing file is replaced only with ``overwrite``."""
    p = Path(out).expanduser()
    if p.is_symlink():
        raise CurationError(f"{p} is a symbolic link; --out never writes through links; remove it or pick another "
                            "path")
    if p.is_dir():
        raise CurationError(f"{p} is a folder; pass a file path for --out, e.g. {p / 'ids.txt'}")
    if not p.parent.is_dir():
        raise CurationError(f"the folder {p.parent} does not exist; create it first or pick another --out")
    if p.exists() and not overwrite:
        raise CurationError(f"{p} already exists; pick another --out or pass --overwrite to replace it")
    return p


def write_ids(out: str | os.PathLike[str], ids: list[str], *, overwrite: bool) -> Path:
    """Write ``ids`` one per line to ``out`` atomically: a hidden temporary file beside it (fsynced), then
    ``os.replace``; on any failure (a full disk) the temporary file is removed and the target left as it was."""
    from curation.core.disk import disk_error
    from curation.export.writer import _discard, _umask

    p = check_out_path(out, overwrite=overwrite)
    data = ("\n".join(ids) + ("\n" if ids else "")).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except OSError as exc:
        _discard(Path(tmp))
        raise disk_error(exc, p, len(data), what="the id list") from exc
    except BaseException:
        _discard(Path(tmp))
        raise
    return p


def _cmd_select(args: argparse.Namespace, ws: Workspace) -> int:
    from curation.select.run import selection_warnings

    if args.out:
        check_out_path(args.out, overwrite=args.overwrite or args.force)  # before minutes of ranking
    t0 = time.perf_counter()
    info: dict = {}
    params = parse_params(args.params)
    for w in selection_warnings(ws, args.method, params):
        print(f"warning: {w}", file=sys.stderr)
    r = run_selection(ws, args.method, params, seed=args.seed, model=args.model,
                      use_pins=args.pins, force=args.force, progress=tqdm_progress(args.method), info=info)
    secs = time.perf_counter() - t0
    short = ws.rankings().set_index("key")["short_id"].get(r.method, r.method)
    if info.get("reused"):
        print(f"reused the stored ranking {short} ({len(r.order)} rows; same method, parameters, seed and input "
              f"data; --force recomputes it): {r.method}")
    else:
        print(f"computed ranking {short}: {len(r.order)} rows in {secs:.2f} s: {r.method}")
    if args.budget is not None or args.budget_tokens is not None:
        spec = SubsetSpec.from_budget(r.method, budget_rows=args.budget, budget_tokens=args.budget_tokens,
                                      quota=args.quota or None, label_column=args.label_column)
        sub = resolve(ws, spec, ranking=r)
        ids = ws.id_map().set_index("row_id").loc[sub.row_ids, "example_id"].tolist()
        if args.out:
            write_ids(args.out, ids, overwrite=args.overwrite or args.force)
            print(f"{len(ids)} example ids written to {args.out}")
        else:
            print(f"selected {len(ids)} rows (include pins {len(sub.include)}, exclude pins {len(sub.exclude)}):")
            for e in ids[:args.show]:
                print(f"  {e}")
            if len(ids) > args.show:
                print(f"  ... {len(ids) - args.show} more (use --out FILE)")
    return 0


def _cmd_rankings(args: argparse.Namespace, ws: Workspace) -> int:
    df = ws.rankings()
    if df.empty:
        print("no rankings yet; run `python -m curation select METHOD`")
        return 0
    df = df.assign(created_at=pd.to_datetime(df["created_at"]).dt.strftime("%Y-%m-%d %H:%M"))
    with pd.option_context("display.max_colwidth", 160, "display.width", 250):
        print(df[["short_id", "n", "created_at", "key"]].rename(columns={"short_id": "id"}).to_string(index=False))
    print("pass the id (or a unique prefix, or the method name when it has one ranking) wherever a ranking is asked "
          "for, e.g. `report --ranking ID --budget N`")
    return 0


def _cmd_explain(args: argparse.Namespace, ws: Workspace) -> int:
    if args.subset:
        if args.key or args.budget is not None or args.budget_tokens is not None or args.quota:
            raise CurationError("--subset names the ranking and the budget; pass only the example (explain EXAMPLE "
                                "--subset NAME[@VERSION])")
        sub = resolve(ws, load_saved_subset(ws, args.subset).spec)
        r = sub.ranking
    else:
        if not args.key or (args.budget is None) == (args.budget_tokens is None):
            raise CurationError("explain needs a ranking key and --budget N or --budget-tokens N (explain KEY EXAMPLE "
                                "--budget N), or a saved subset (explain EXAMPLE --subset NAME[@VERSION])")
        r = ws.ranking(args.key)
        if r is None:
            raise CurationError(f"no ranking {args.key!r}; list them with `python -m curation rankings`")
        sub = resolve(ws, SubsetSpec.from_budget(r.method, budget_rows=args.budget, budget_tokens=args.budget_tokens,
                                                 quota=args.quota or None, label_column=args.label_column), ranking=r)
    sel, exc = sub.row_ids, sub.exclude
    try:
        row = int(ws.example(args.example)["row_id"])
    except CurationError:
        if not args.example.isdigit():
            raise
        row = int(args.example)
    out = explain(ws, r, sel, row, model=args.model, pins_exclude=exc, covered_at=args.covered_at)
    print(json.dumps(out, indent=2, default=str))
    return 0


def _cmd_advise(args: argparse.Namespace, ws: Workspace) -> int:
    r = ws.ranking(args.key)
    if r is None:
        raise CurationError(f"no ranking {args.key!r}; list them with `python -m curation rankings`")
    g = require_graph(ws, model=model_key(args.model), k=args.k)
    res = advisor(r, graph=g, fraction=args.fraction)
    print(f"budget advisor for {r.method}:")
    for line in res.describe(budget=args.budget):
        print(f"  {line}")
    if args.fraction not in (0.9, 0.95):
        print(f"  {res.fraction:.0%} of the way at {res.plateau_budget:,} rows.")
    print(f"  (fit: R(x) = r - (r - a)·exp(-b·x) with r = {res.r:.4f}, a = {res.a:.4f}, b = {res.b:.3g} per row)")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``select``, ``rankings``, ``explain`` and ``advise``."""
    p = sub.add_parser("select", help="rank examples with a selection method (any budget is a prefix)",
                       description="methods: " + ", ".join(f"{k} ({v.description})" for k, v in
                                                           sorted(SELECTORS.items())))
    p.add_argument("method", choices=sorted(SELECTORS))
    p.add_argument("params", nargs="*", help="method parameters as key=value (JSON values), e.g. optimizer=lazy")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default=DEFAULT_MODEL, help="embedding model (default: %(default)s)")
    p.add_argument("--pins", action="store_true", help="condition the ranking on the current include/exclude pins")
    p.add_argument("--force", action="store_true", help="recompute even if the ranking is stored")
    p.add_argument("--budget", type=int, help="rows to select (pins applied); prints or writes the example ids")
    p.add_argument("--budget-tokens", type=int, help="token budget instead of rows")
    p.add_argument("--quota", help="proportional | balanced | JSON like '{\"min\": {\"math\": 50}}' (uses label)")
    p.add_argument("--label-column", default="label", help="class column for --quota (default: label)")
    p.add_argument("--out", help="write the selected example ids here, one per line (atomically; an existing file "
                   "is replaced only with --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file (--force does too)")
    p.add_argument("--show", type=int, default=20, help="ids to print without --out")
    p.set_defaults(func=_cmd_select)

    r = sub.add_parser("rankings", help="list the stored rankings")
    r.set_defaults(func=_cmd_rankings)

    e = sub.add_parser("explain", help="why an example is in or out of a selection")
    e.add_argument("key", nargs="?", help="ranking key (see `rankings`); leave out with --subset")
    e.add_argument("example", help="example id or row id")
    e.add_argument("--subset", metavar="NAME[@VERSION]", help="a saved subset instead of KEY and a budget")
    budget = e.add_mutually_exclusive_group()
    budget.add_argument("--budget", type=int, help="rows in the selection (pins applied)")
    budget.add_argument("--budget-tokens", type=int, help="tokens in the selection instead of rows")
    e.add_argument("--quota", help="proportional | balanced | JSON min/max per class (as for select)")
    e.add_argument("--label-column", default="label", help="class column for --quota (default: label)")
    e.add_argument("--model", default=DEFAULT_MODEL)
    e.add_argument("--covered-at", type=float, default=COVERED_SIMILARITY, metavar="SIM",
                   help="cosine similarity from which a dropped example counts as covered by its nearest selected "
                        "one (default %(default)s); ranks are 1-based")
    e.set_defaults(func=_cmd_explain)

    a = sub.add_parser("advise", help="budget advisor: coverage plateau along a ranking")
    a.add_argument("key", help="ranking key (see `rankings`)")
    a.add_argument("--model", default=DEFAULT_MODEL)
    a.add_argument("--k", type=int, default=15)
    a.add_argument("--fraction", type=float, default=0.95, help="share of the rise to the plateau that the "
                   "suggested budget reaches (default 0.95)")
    a.add_argument("--budget", type=int, default=None, help="also say what this budget (rows) reaches")
    a.set_defaults(func=_cmd_advise)
