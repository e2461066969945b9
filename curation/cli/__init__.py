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
from curation.cli import cache, export, neighbours, report, scores, select, subset, vectors, workspace
from curation.core.errors import CurationError
from curation.store import Workspace, default_workspace_path

COMMAND_GROUPS = (workspace, vectors, cache, neighbours, scores, select, report, export, subset)

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
    return Workspace(path, lock_timeout=args.lock_timeout)


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
