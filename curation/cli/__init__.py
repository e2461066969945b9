"""Command line: ``python -m curation [--workspace PATH] COMMAND ... [--workspace PATH]``.

Every capability of the dashboard is also a command here, one module per command group (:mod:`.workspace`,
:mod:`.neighbours`, :mod:`.scores`, :mod:`.select`, :mod:`.report`, :mod:`.export`, :mod:`.subset`); each registers
its commands with ``add_commands(sub)`` and calls the engine. This module wires them up, opens the workspace and
turns errors into one line. Only ``ingest`` and ``demo`` create a workspace; every other command refuses a path where
none exists (a typo would otherwise leave an empty workspace behind).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from curation import __version__
from curation.cli import audit, cache, export, neighbours, report, scores, select, subset, vectors, workspace
from curation.cli import slices as slices_cli
from curation.cli import prove
from curation.cli import search as search_cli
from curation.core.errors import CurationError
from curation.store import UpgradeNeedsWrite, Workspace, default_workspace_path
from curation.store.connection import READ_ONLY_HINT

COMMAND_GROUPS = (workspace, vectors, cache, neighbours, scores, select, report, export, subset, audit, slices_cli)
# Commands that only read the workspace: they open it read-only (DuckDB read_only=True), so they work on a file
# without write permission, on a read-only filesystem and beside other readers.
READ_ONLY_COMMANDS = ("info", "rankings", "explain", "report", "scorers", "subset list", "subset show", "subset diff")
COMMAND_GROUPS += (prove,)
COMMAND_GROUPS += (search_cli,)  # after workspace: it adds --search to decide

RAY_HELP = ("compute on Ray workers (Ray Data; one per GPU, else one per CPU); this process alone writes the "
            "workspace, committing as results arrive. No ADDRESS: start Ray on this machine; auto: the cluster of "
            "this node; ray://HEAD:10001: a remote cluster (Ray Client)")

EPILOG = """\
typical session:
  python -m curation demo                          # build the demo workspace (data/workspace.duckdb)
  python -m curation ingest data.jsonl             # add a dataset (shape detected: Alpaca, Dolly, DPO, ...)
  python -m curation embed                         # embed new examples (resumable)
  python -m curation info                          # what the workspace holds

The workspace is a DuckDB file (default: $CURATION_WORKSPACE or data/workspace.duckdb). Only one process can write
it at a time; commands wait up to --lock-timeout seconds for the dashboard or another job to let go of it.
"""


def _workspace_options(p: argparse.ArgumentParser, *, default: object) -> None:
    p.add_argument("--workspace", "-w", type=Path, default=default,
                   help="DuckDB workspace file (default: $CURATION_WORKSPACE or data/workspace.duckdb)")
    p.add_argument("--lock-timeout", type=float, default=20.0 if default is None else default,
                   help="seconds to wait while another process holds the workspace (default 20)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m curation", description="Curate LLM fine-tuning and preference data: ingest, embed, score, "
        "select, audit and export.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _workspace_options(p, default=None)
    p.add_argument("--version", action="version", version=f"curation {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.add_commands(sub)
    for cmd in sub.choices.values():  # --workspace / --lock-timeout also after the command
        _workspace_options(cmd, default=argparse.SUPPRESS)
    return p


def open_workspace(args: argparse.Namespace) -> Workspace | None:
    """The workspace of ``args``: None for a command that builds its own (reproduce); an error naming the path and
    how to create a workspace when none exists there and the command does not create one."""
    if not getattr(args, "needs_workspace", True):
        return None
    path = Path(args.workspace or default_workspace_path()).expanduser()
    if not path.exists() and not getattr(args, "creates_workspace", False):
        raise CurationError(f"no workspace exists at {path}; create one with `python -m curation --workspace {path} "
                            "ingest FILE` (or `demo` for the demo data), or pass the path of an existing .duckdb "
                            "workspace with --workspace")
    command = " ".join(x for x in (args.command, getattr(args, "subset_command", None)) if x)
    if command in READ_ONLY_COMMANDS:
        try:
            return Workspace(path, lock_timeout=args.lock_timeout, read_only=True)
        except UpgradeNeedsWrite:
            if not _writable(path):
                raise
            # an older schema on a writable file: upgrade it once (a normal open), then read
    elif path.exists() and not _writable(path):
        raise CurationError(f"workspace {path} is read-only (no write permission on the file or its folder, or a "
                            f"read-only filesystem) and `{command}` writes to it; {READ_ONLY_HINT}. Copy the file "
                            "to a writable place or restore write permission")
    args.created_workspace = not path.exists()  # a command that fails may remove what it created (ingest)
    return Workspace(path, lock_timeout=args.lock_timeout)


def _writable(path: Path) -> bool:
    """Whether this process may write the workspace file and create its write-ahead log beside it."""
    import os

    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    import warnings

    warnings.showwarning = _show_warning   # one line, no source excerpt (e.g. an unusable embedding cache)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args, open_workspace(args)) or 0)
    except CurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; finished batches are saved, run the command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
