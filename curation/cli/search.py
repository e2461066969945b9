"""CLI: ``search QUERY`` (words, pattern or meaning), ``search save NAME QUERY`` (a saved search: a flag column),
``search list | delete NAME | refresh | like ROW... | undo``, and ``decide --search NAME ACTION`` (pin or tag every
row a saved search matches, with a preview; ``search undo`` takes it back in one step)."""
from __future__ import annotations

import argparse
import json
import os

from curation.core.errors import CurationError
from curation.core.keys import DEFAULT_MODEL
from curation.store import Workspace

SUBCOMMANDS = ("save", "list", "delete", "refresh", "like", "undo", "concept")


def _spec(args: argparse.Namespace, query: str):  # SearchSpec
    from curation.search import SearchSpec

    return SearchSpec(query=query, mode=args.mode, field=args.field, regex=args.regex,
                      case_sensitive=args.case_sensitive, threshold=args.threshold, model=args.model).check()


def _prepare(ws: Workspace, spec, quiet: bool) -> None:
    """Build or extend the full-text index with a progress bar (a first words search on a big workspace)."""
    if spec.mode == "words":
        from curation.core.progress import tqdm_progress
        from curation.search.words import sync_index

        bar = None if quiet else tqdm_progress("indexing", unit="rows")
        sync_index(ws, progress=bar)
        if bar is not None:
            bar.close()


def _snippet(text: str, spans: list[tuple[int, int]], width: int = 160) -> str:
    """Plain-text snippet around the first match, matches in [brackets], one line."""
    if not text:
        return ""
    lo = max(0, spans[0][0] - width // 3) if spans else 0
    hi = min(len(text), lo + width)
    out, pos = [], lo
    for s, e in spans:
        if e <= lo or s >= hi:
            continue
        out += [text[pos:max(s, lo)], "[", text[max(s, lo):min(e, hi)], "]"]
        pos = min(e, hi)
    out.append(text[pos:hi])
    return ("…" if lo else "") + " ".join("".join(out).split()) + ("…" if hi < len(text) else "")


def result_rows(ws: Workspace, res, *, width: int = 160) -> list[dict]:
    """One dict per hit: rank, row_id, example_id, dataset, score, field (where the first match is), snippet."""
    from curation.search.highlight import match_spans
    from curation.store.search import SEARCH_FIELDS

    spec = res.spec
    cols = SEARCH_FIELDS[spec.field]
    if not len(res.row_ids):
        return []
    tx = ws.field_texts(res.row_ids, cols)
    out = []
    for i, r in enumerate(tx.itertuples(index=False)):
        best_col, best_spans = None, []
        for c in cols:
            t = getattr(r, c)
            if isinstance(t, str):
                sp = match_spans(t, spec.query, mode=spec.mode, regex=spec.regex, case_sensitive=spec.case_sensitive)
                if sp or best_col is None:
                    best_col, best_spans = c, sp
                if sp:
                    break
        text = getattr(r, best_col) if best_col else ""
        out.append({"rank": i + 1, "row_id": int(r.row_id), "example_id": r.example_id, "dataset": r.dataset,
                    "score": round(float(res.scores[i]), 4), "field": best_col,
                    "snippet": _snippet(text or "", best_spans, width)})
    return out


def _cmd_search(args: argparse.Namespace, ws: Workspace) -> int:
    words = list(args.words)
    if words and words[0] in SUBCOMMANDS:
        return _subcommand(words[0], words[1:], args, ws)
    from curation.search import search

    spec = _spec(args, " ".join(words))
    _prepare(ws, spec, args.json)
    res = search(ws, spec, limit=args.limit)
    rows = result_rows(ws, res)
    if args.json:
        print(json.dumps({"query": spec.query, "mode": spec.mode, "field": spec.field, "n_matches": res.n_matches,
                          "results": rows}, ensure_ascii=False))
        return 0
    shown = f"top {len(rows)} of " if len(rows) < res.n_matches else ""
    print(f"{shown}{res.n_matches:,} matching rows ({spec.mode}, field {spec.field})")
    for r in rows:
        print(f"{r['rank']:>4}  row {r['row_id']:<8} {r['score']:>8.3f}  {r['dataset']}  [{r['field']}] "
              f"{r['snippet']}")
    return 0


def _subcommand(name: str, rest: list[str], args: argparse.Namespace, ws: Workspace) -> int:
    from curation.search import actions, refresh_saved_searches, save_search, saved_searches

    if name == "save":
        if len(rest) < 2:
            raise CurationError("usage: python -m curation search save NAME QUERY [--mode ...] [--field ...]")
        spec = _spec(args, " ".join(rest[1:]))
        _prepare(ws, spec, args.json)
        from curation.core.progress import tqdm_progress

        got = save_search(ws, rest[0], spec, progress=None if args.json else tqdm_progress("saving", unit="rows"))
        if args.json:
            print(json.dumps(got))
        else:
            print(f"saved search {got['name']!r}: {got['n_matches']:,} matching rows, column {got['key']} (a flag "
                  "slice: Map colour, Select quota, Balance, audit, Export filter)")
        return 0
    if name == "list":
        df = saved_searches(ws)
        if args.json:
            print(df.to_json(orient="records"))
        elif df.empty:
            print("no saved searches; save one with `python -m curation search save NAME QUERY`")
        else:
            print(df[["name", "n_matches", "mode", "field", "query"]].to_string(index=False))
        return 0
    if name == "delete":
        if len(rest) != 1:
            raise CurationError("usage: python -m curation search delete NAME")
        if not ws.delete_saved_search(rest[0]):
            raise CurationError(f"no saved search named {rest[0]!r}")
        print(f"deleted saved search {rest[0]!r} and its column")
        return 0
    if name == "refresh":
        keys = refresh_saved_searches(ws)
        print(f"re-ran {len(keys)} saved search(es)")
        return 0
    if name == "concept":
        return _concept(rest, args, ws)
    if name == "undo":
        batch, new = actions.undo_last(ws, who=args.who or os.environ.get("USER") or "cli")
        print(f"undid the last bulk {batch.get('action')} ({len(new):,} decisions reverted)")
        return 0
    # like ROW_ID ... | like --pins include
    from curation.search.meaning import more_like_this

    seeds = [int(x) for x in rest] if rest else []
    if args.pins:
        pins = ws.pins()
        seeds += pins.loc[pins["pin"] == args.pins, "row_id"].astype(int).tolist()
    if not seeds:
        raise CurationError("usage: python -m curation search like ROW_ID [ROW_ID ...] (or --pins include|exclude)")
    from curation.search.engine import SearchResult, SearchSpec

    rows, sims, n = more_like_this(ws, seeds, model=args.model, limit=args.limit, threshold=args.threshold)
    res = SearchResult(SearchSpec(query="(more like this)", mode="meaning", field="any"), rows, sims, n)
    out = result_rows(ws, res)
    if args.json:
        print(json.dumps({"seeds": seeds, "results": out}, ensure_ascii=False))
    else:
        print(f"more like rows {seeds[:10]}{'…' if len(seeds) > 10 else ''}:")
        for r in out:
            print(f"{r['rank']:>4}  row {r['row_id']:<8} {r['score']:>6.3f}  {r['dataset']}  {r['snippet']}")
    return 0


def _concept(rest: list[str], args: argparse.Namespace, ws: Workspace) -> int:
    """search concept list | NAME pos|neg ROW... (or search:SAVED, pins:include) | NAME train | NAME propose [N]."""
    from curation.search import concepts as C

    usage = ("usage: python -m curation search concept list | NAME pos|neg ROW_ID... (or search:SAVED_NAME, "
             "pins:include, pins:exclude) | NAME train | NAME propose [N]")
    if rest == ["list"]:
        df = C.concepts(ws)
        print(df.to_json(orient="records") if args.json else (df.to_string(index=False) if len(df) else
                                                               "no concepts yet"))
        return 0
    if len(rest) < 2:
        raise CurationError(usage)
    cname, verb, more = rest[0], rest[1], rest[2:]
    who = args.who or os.environ.get("USER") or "cli"
    if verb in ("pos", "neg"):
        rows: list[int] = []
        for tok in more:
            if tok.startswith("search:"):
                from curation.search import matching_rows, saved_search

                rows += matching_rows(ws, saved_search(ws, tok[len("search:"):])).tolist()
            elif tok in ("pins:include", "pins:exclude"):
                pins = ws.pins()
                rows += pins.loc[pins["pin"] == tok.split(":")[1], "row_id"].astype(int).tolist()
            elif tok.lstrip("-").isdigit():
                rows.append(int(tok))
            else:
                raise CurationError(f"{tok!r} is not a row id, search:NAME or pins:include|exclude; {usage}")
        if not rows:
            raise CurationError(usage)
        new = C.add_rows(ws, cname, rows, positive=verb == "pos", who=who)
        print(f"tagged {len(new):,} rows as {'positive' if verb == 'pos' else 'negative'} examples of concept "
              f"{cname!r} (undo with `search undo`)")
        return 0
    if verb == "train":
        out = C.train_concept(ws, cname)
        if args.json:
            print(json.dumps(out))
        else:
            print(f"concept {cname!r}: trained on {out['n_train']} rows ({out['n_positive']} positive, "
                  f"{out['n_negative']} negative); CV accuracy {out['cv_accuracy']}, ROC AUC {out['cv_auc']}; "
                  f"P(concept) stored as {out['key']}")
        return 0
    if verb == "propose":
        df = C.proposals(ws, cname, int(more[0]) if more else 10)
        print(df.to_json(orient="records") if args.json else df.to_string(index=False))
        return 0
    raise CurationError(usage)


def _decide_with_search(orig):
    def run(args: argparse.Namespace, ws: Workspace) -> int:
        if not getattr(args, "search", None):
            return orig(args, ws)
        from curation.search import actions, matching_rows, saved_search

        if args.ids or args.ids_file:
            raise CurationError("give either --search NAME or example ids, not both")
        if args.action not in actions.BULK_ACTIONS:
            raise CurationError(f"--search takes one of {list(actions.BULK_ACTIONS)}, not {args.action!r}")
        rows = matching_rows(ws, saved_search(ws, args.search))
        pv = actions.preview(ws, rows, args.action, value=args.value)
        print(f"search {args.search!r}: {pv['rows']:,} rows; {args.action} changes {pv['change']:,} "
              f"({pv['unchanged']:,} already so)" + (f"; {pv['from_include']:,} were pinned include, "
                                                      f"{pv['from_exclude']:,} exclude" if "from_include" in pv
                                                      else ""))
        if args.dry_run:
            return 0
        who = args.who or os.environ.get("USER") or "cli"
        new = actions.apply(ws, rows, args.action, who=who, why=args.why or f"search {args.search}",
                            value=args.value)
        print(f"recorded {len(new):,} {args.action} decision(s) by {who}; undo with `python -m curation search undo`")
        return 0
    return run


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``search`` and add ``--search NAME`` to ``decide``."""
    p = sub.add_parser(
        "search", help="find examples by words, pattern or meaning; save a search as a column (search save NAME ...)",
        description="python -m curation search QUERY [--mode words|pattern|meaning] [--field ...] [--limit N] "
                    "[--json]. Words: BM25 ranked, \"a phrase\", a AND b, a OR b, a AND NOT b. Pattern: substring "
                    "or --regex (RE2), --case-sensitive. Meaning: cosine to the query's embedding. Also: search save "
                    "NAME QUERY (a flag column), search list, search delete NAME, search refresh, search like ROW "
                    "... (more like these rows; --pins include), search undo (the last bulk decide --search), "
                    "search concept NAME pos|neg ROW... / train / propose (a concept taught to the curator model).")
    p.add_argument("words", nargs="+", help="the query (or a subcommand: " + ", ".join(SUBCOMMANDS) + ")")
    p.add_argument("--mode", choices=["words", "pattern", "meaning", "filter"], default="words",
                   help="filter: a SQL condition over text, meta and every score / slice column, e.g. "
                        "\"\\\"search:sorry\\\" = 1 and label = 'open_qa'\"")
    p.add_argument("--field", choices=["any", "prompt", "response", "chosen", "rejected"], default="any",
                   help="where to look: response = the kept reply (sft response, a pair's chosen)")
    p.add_argument("--limit", type=int, default=20, help="results to show (default 20)")
    p.add_argument("--regex", action="store_true", help="pattern mode: a regular expression (RE2)")
    p.add_argument("--case-sensitive", action="store_true", help="pattern mode: match case")
    p.add_argument("--threshold", type=float, default=None,
                   help="meaning mode: minimum cosine for a match (needed by search save)")
    p.add_argument("--model", default=DEFAULT_MODEL, help="meaning mode: embedding model (default MiniLM)")
    p.add_argument("--pins", choices=["include", "exclude"], default=None, help="like: seed with the pinned rows")
    p.add_argument("--who", help="curator name for undo (default: $USER)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_search)

    dc = sub.choices.get("decide")
    if dc is not None:
        dc.add_argument("--search", metavar="NAME", help="act on every row the saved search NAME matches (include, "
                        "exclude, unpin or tag; undo with `search undo`)")
        dc.add_argument("--dry-run", action="store_true", help="with --search: print what would change, write nothing")
        dc.set_defaults(func=_decide_with_search(dc.get_default("func")))

