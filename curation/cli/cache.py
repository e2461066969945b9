"""CLI commands for the embedding cache shared by every workspace: ``cache info`` and ``cache prune``
(engine: :mod:`curation.embedding.cache`). Neither needs a workspace."""
from __future__ import annotations

import argparse

from curation.embedding.cache import ENV, MAX_ENV, EmbeddingCache, fmt_bytes, default_cache_path, parse_size
from curation.core.errors import CurationError


def _cache(args: argparse.Namespace) -> EmbeddingCache:
    if args.cache_file:
        return EmbeddingCache(args.cache_file)
    path = default_cache_path()
    if path is None:
        raise CurationError(f"the embedding cache is turned off (${ENV}=off); pass --cache-file PATH to work on a "
                            "cache file anyway")
    return EmbeddingCache(path)


def _cmd_info(args: argparse.Namespace, ws: None) -> int:
    cache = _cache(args)
    try:
        info = cache.info()
    except Exception as exc:
        raise CurationError(f"cannot read the embedding cache: {exc}") from exc
    cap = "none" if info["max_bytes"] is None else fmt_bytes(info["max_bytes"])
    print(f"{info['path']}: {fmt_bytes(info['bytes'])}, {info['vectors']:,} vectors (automatic cap: {cap}; "
          f"${MAX_ENV} sets it)")
    for model, n in info["models"].items():
        print(f"  {model}: {n:,}")
    return 0


def _cmd_prune(args: argparse.Namespace, ws: None) -> int:
    try:
        max_bytes = parse_size(args.max_size, what="--max-size")
    except ValueError as exc:
        raise CurationError(str(exc)) from exc
    cache = _cache(args)
    if not cache.path.exists():
        print(f"no embedding cache at {cache.path}; nothing to prune")
        return 0
    try:
        rep = cache.prune(max_bytes)
    except Exception as exc:
        raise CurationError(f"could not prune the embedding cache {cache.path}: {exc}; the file is unchanged") \
            from exc
    print(rep.summary())
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``cache info`` and ``cache prune``."""
    p = sub.add_parser(
        "cache", help="the embedding cache shared by all workspaces: info, prune",
        description="The embedding cache (~/.cache/curation/embeddings.duckdb, or $CURATION_EMBED_CACHE) keeps "
                    "vectors by model and text so other workspaces and `reproduce` do not embed again. It is capped "
                    f"automatically (2 GB; ${MAX_ENV}=500MB sets another cap, =off none), dropping the least "
                    "recently used vectors first.")
    cs = p.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    i = cs.add_parser("info", help="size, vectors per model, the automatic cap")
    pr = cs.add_parser("prune", help="drop the least recently used vectors until the file fits --max-size")
    pr.add_argument("--max-size", required=True, help="size to fit in, e.g. 500MB, 2GB, 1.5GiB (0 empties it)")
    for c in (i, pr):
        c.add_argument("--cache-file", help="work on this cache file (default: the user's cache)")
        c.set_defaults(needs_workspace=False)
    i.set_defaults(func=_cmd_info)
    pr.set_defaults(func=_cmd_prune)
