"""CLI command for vectors computed elsewhere: ``import-embeddings`` (engine: :mod:`curation.embedding.importer`)."""
from __future__ import annotations

import argparse

from curation.embedding.importer import import_embeddings
from curation.store import Workspace


def _cmd_import_embeddings(args: argparse.Namespace, ws: Workspace) -> int:
    rep = import_embeddings(ws, args.source, model=args.model, id_column=args.id_column,
                            vector_column=args.vector_column, by=args.by, dataset=args.dataset,
                            allow_missing=args.allow_missing, replace=args.replace)
    print(rep.summary())
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``import-embeddings``."""
    p = sub.add_parser(
        "import-embeddings", help="import vectors computed elsewhere (Parquet, .npy/.npz, Arrow, or a list field "
        "of the records)",
        description="Store vectors computed elsewhere under a model name, validated (one dimension, no NaN/inf or "
                    "zero vectors, no duplicate or unknown ids, every example covered); nothing is written when "
                    "anything is wrong. Graph, map, density, selection and reports then use --model NAME.")
    p.add_argument("source", help="a .parquet/.arrow/.feather/.npy/.npz file, or a list field of the ingested "
                                  "records (e.g. embedding or meta.vector)")
    p.add_argument("--model", required=True, help="name of the model that computed the vectors (the key they are "
                                                  "stored under; pass the same name to graph, select, report)")
    p.add_argument("--id-column", help="id column / array (default: example_id, id, uid or row_id when present)")
    p.add_argument("--vector-column", help="vector column / array (default: the only list column, or embedding, "
                                           "vector, ...)")
    p.add_argument("--by", choices=["auto", "id", "row"], default="auto",
                   help="key vectors by id or by row order (default: id when the source has ids)")
    p.add_argument("--dataset", help="match ids / row order within this dataset only")
    p.add_argument("--allow-missing", action="store_true", help="accept vectors for only some of the examples")
    p.add_argument("--replace", action="store_true", help="overwrite vectors already stored under --model")
    p.set_defaults(func=_cmd_import_embeddings)
