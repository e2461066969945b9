"""``python -m curation subset save|list|show|diff|delete``: saved subsets (:mod:`curation.subsets.saved`) on the
command line."""
from __future__ import annotations

import json
from typing import Any

import pandas as pd

from curation.core.errors import CurationError
from curation.subsets.saved import (
    NAME_MAX, SavedSubset, diff, diff_table, drift, hide, listing, load, newer_decisions, parse_ref, resolve_saved,
    save, versions,
)
from curation.store import Workspace
from curation.subsets.spec import SubsetSpec


def spec_from_args(args: Any, ws: Workspace) -> SubsetSpec:  # argparse.Namespace
    """The spec named on a command line: ``--subset NAME[@V]`` (a saved version), else ``--ranking`` with a budget
    (``--budget`` rows, ``--budget-pct``, ``--budget-tokens``), ``--quota``, ``--label-column``, ``--dataset``."""
    ref = getattr(args, "subset", None)
    if ref:
        return load(ws, ref).spec
    pct = getattr(args, "budget_pct", None)
    rows, tokens = getattr(args, "budget", None), getattr(args, "budget_tokens", None)
    if sum(x is not None for x in (rows, pct, tokens)) > 1:
        raise CurationError("pass one of --budget, --budget-pct and --budget-tokens")
    budget, unit = (rows, "rows") if rows is not None else (pct, "%") if pct is not None else (tokens, "tokens") \
        if tokens is not None else (None, "rows")
    ds = getattr(args, "dataset", None)
    return SubsetSpec(ranking=getattr(args, "ranking", None), budget=budget, unit=unit,
                      quota=getattr(args, "quota", None) or None, label_column=getattr(args, "label_column", "label"),
                      datasets=tuple(ds) if ds else None)


def saved_from_args(args: Any, ws: Workspace) -> SavedSubset | None:  # argparse.Namespace
    ref = getattr(args, "subset", None)
    return load(ws, ref) if ref else None


def _who(args: Any) -> str:
    import os

    return getattr(args, "who", None) or os.environ.get("CURATION_USER") or os.environ.get("USER") or "cli"


def _cmd_save(args: Any, ws: Workspace) -> int:
    if args.source:
        src = load(ws, args.source)
        spec = src.spec.replace(pins_as_of=None)  # the source's spec with today's decisions
        if args.ranking or args.budget is not None or args.budget_pct is not None or args.budget_tokens is not None:
            raise CurationError("--from copies a saved subset's ranking, budget and quota; do not combine it with "
                                "--ranking or a budget")
    else:
        if not args.ranking:
            raise CurationError("subset save needs --ranking KEY (see `python -m curation rankings`) and a budget, or "
                                "--from NAME[@VERSION] to save a saved subset again with the current decisions")
        spec = spec_from_args(args, ws)
    v = save(ws, args.name, spec, who=_who(args), note=args.note)
    print(f"saved {v.ref}: {v.n_rows:,} rows, {v.n_tokens:,} tokens; {v.spec.describe()}")
    return 0


def _fmt_at(at: Any) -> str:
    return pd.Timestamp(at).strftime("%Y-%m-%d %H:%M:%S")


def _cmd_list(args: Any, ws: Workspace) -> int:
    df = listing(ws, include_hidden=args.all)
    if args.json:
        print(df.to_json(orient="records", date_format="iso"))
        return 0
    if df.empty:
        print("no saved subsets; save one with `python -m curation subset save NAME --ranking KEY --budget N`")
        return 0
    for r in df.itertuples():
        hid = "  (deleted)" if r.hidden else ""
        note = f"  — {r.note}" if isinstance(r.note, str) and r.note else ""
        print(f"{r.name}@{r.latest}  {int(r.rows):,} rows  {int(r.tokens):,} tokens  {r.versions} version(s)  "
              f"by {r.who} at {_fmt_at(r.at)}{hid}{note}")
    return 0


def _cmd_show(args: Any, ws: Workspace) -> int:
    v = load(ws, args.ref)
    sub = resolve_saved(ws, v)
    hist = versions(ws, v.name)
    newer = newer_decisions(ws, v)
    dr = drift(ws, v, sub)
    if args.json:
        out = v.to_dict()
        out.update({"row_ids_now": len(sub.row_ids), "newer_pin_decisions": newer, "drift": dr,
                    "history": [h.to_dict() for h in hist],
                    "example_ids": ws.examples(["row_id", "example_id"], row_ids=sub.row_ids).set_index("row_id")
                    .reindex(sub.row_ids)["example_id"].tolist()})
        print(json.dumps(out, indent=2, default=str))
        return 0
    print(f"{v.ref}{' (deleted)' if v.hidden else ''}: {v.spec.describe()}")
    print(f"  {v.n_rows:,} rows, {v.n_tokens:,} tokens; saved by {v.who} at {_fmt_at(v.at)}"
          + (f"; note: {v.note}" if v.note else ""))
    if newer:
        print(f"  {newer} pin decision(s) were made after this version; `subset save {v.name} --from {v.ref}` saves "
              "a new version with them")
    if dr:
        print(f"  warning: {dr}")
    print("history:")
    for h in hist:
        mark = "*" if h.version == v.version else " "
        print(f" {mark}{h.ref}  {h.n_rows or 0:,} rows  by {h.who} at {_fmt_at(h.at)}"
              + ("  (deleted)" if h.hidden else "") + (f"  — {h.note}" if h.note else ""))
    if args.rows:
        ids = ws.examples(["row_id", "example_id"], row_ids=sub.row_ids).set_index("row_id").reindex(sub.row_ids)
        print(f"first {min(args.rows, len(ids))} rows:")
        for e in ids["example_id"].head(args.rows):
            print(f"  {e}")
    return 0


def _cmd_diff(args: Any, ws: Workspace) -> int:
    d = diff(ws, load(ws, args.a), load(ws, args.b))
    if args.json:
        print(json.dumps(d.to_dict(), indent=2, default=str))
    else:
        print(diff_table(d, show=args.show))
    return 0


def _cmd_delete(args: Any, ws: Workspace) -> int:
    n = hide(ws, args.ref, who=_who(args))
    print(f"hid {n} version(s) of {parse_ref(args.ref)[0]!r}; history is kept (see `subset list --all`, open a "
          "version as NAME@VERSION)" if n else f"{args.ref} was already deleted")
    return 0


def add_spec_arguments(p: Any, *, subset: bool = True) -> None:  # argparse parser
    """``--subset NAME[@VERSION]`` (a saved version) for commands that take a subset."""
    if subset:
        p.add_argument("--subset", metavar="NAME[@VERSION]", default=None,
                       help="a saved subset (newest version, or @VERSION); replaces --ranking and the budget")


def add_commands(sub: Any) -> None:  # argparse._SubParsersAction
    """Register ``subset save|list|show|diff|delete``."""
    s = sub.add_parser("subset", help="saved subsets: named, versioned, shared by every page and command",
                       description="A saved subset is a ranking, a budget, a class quota and the pins as of the "
                       "moment it was saved, under a name. Saving a name again adds a version; versions never "
                       "change, and delete only hides them.")
    ss_ = s.add_subparsers(dest="subset_command", metavar="ACTION", required=True)

    sv = ss_.add_parser("save", help="save a subset (a new version when the name exists)")
    sv.add_argument("name", help=f"at most {NAME_MAX} characters; no '/', '\\\\' or '@'")
    sv.add_argument("--ranking", help="ranking key (see `python -m curation rankings`)")
    sv.add_argument("--budget", type=int, help="rows")
    sv.add_argument("--budget-pct", type=float, help="percent of the pool")
    sv.add_argument("--budget-tokens", type=int, help="tokens")
    sv.add_argument("--quota", help="proportional | balanced | JSON like '{\"min\": {\"math\": 50}}'")
    sv.add_argument("--label-column", default="label", help="class column for the quota (default: label)")
    sv.add_argument("--dataset", action="append", help="restrict the pool to this dataset (repeatable)")
    sv.add_argument("--from", dest="source", metavar="NAME[@VERSION]",
                    help="copy this saved subset's ranking, budget and quota, with the current decisions")
    sv.add_argument("--note", help="why this version exists")
    sv.add_argument("--who", help="curator name (default: $CURATION_USER or $USER)")
    sv.set_defaults(func=_cmd_save)

    ls = ss_.add_parser("list", help="saved subsets (newest version of each name)")
    ls.add_argument("--all", action="store_true", help="include deleted (hidden) names")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_cmd_list)

    sh = ss_.add_parser("show", help="one version: its spec, history, newer decisions, and rows")
    sh.add_argument("ref", metavar="NAME[@VERSION]")
    sh.add_argument("--rows", type=int, default=0, help="print the first N example ids")
    sh.add_argument("--json", action="store_true", help="everything, with every example id")
    sh.set_defaults(func=_cmd_show)

    df = ss_.add_parser("diff", help="rows added and removed from A to B, with reasons; class and token shifts")
    df.add_argument("a", metavar="A", help="NAME[@VERSION]")
    df.add_argument("b", metavar="B", help="NAME[@VERSION]")
    df.add_argument("--json", action="store_true", help="every added/removed row as JSON")
    df.add_argument("--show", type=int, default=20, help="rows of each side to print (default 20)")
    df.set_defaults(func=_cmd_diff)

    dl = ss_.add_parser("delete", help="hide a name (or one NAME@VERSION); history is kept")
    dl.add_argument("ref", metavar="NAME[@VERSION]")
    dl.add_argument("--who", help="curator name (default: $CURATION_USER or $USER)")
    dl.set_defaults(func=_cmd_delete)
