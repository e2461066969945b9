"""Where the dashboard may read and create files: the workspace roots.

A browser user types paths into the Data page (a workspace to open or create, a dataset file to read); the server
must not open, create or read files anywhere else on its machine. :func:`data_roots` names the allowed folders and
:func:`confine` checks a path against them.

* ``$CURATION_DATA_ROOT``: the allowed folders, separated by ``os.pathsep`` (``:`` on Linux and macOS).
* Unset: the project's ``data/`` folder and the folder of the workspace in use (``$CURATION_WORKSPACE``'s folder,
  or the one given).

Paths are compared after ``~`` expansion and symbolic-link resolution, so ``data/../../etc/passwd`` and a link
inside ``data/`` that points elsewhere are both refused. Cost: one ``realpath`` per path and root.
"""
from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from curation.core.errors import CurationError

ENV = "CURATION_DATA_ROOT"
PROJECT_DATA = Path(__file__).resolve().parents[2] / "data"
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")  # owner/name


def data_roots(workspace: str | os.PathLike[str] | None = None) -> list[Path]:
    """The allowed folders, resolved, without duplicates: ``$CURATION_DATA_ROOT`` when set, else the project's
    ``data/`` and the folder of ``workspace`` (default: ``$CURATION_WORKSPACE`` when set)."""
    env = os.environ.get(ENV, "").strip()
    if env:
        roots = [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    else:
        roots = [PROJECT_DATA]
        ws = workspace if workspace is not None else os.environ.get("CURATION_WORKSPACE")
        if ws:
            roots.append(Path(ws).expanduser().parent)
    out: list[Path] = []
    for r in roots:
        rr = Path(os.path.realpath(r))
        if rr not in out:
            out.append(rr)
    return out


def confine(path: str | os.PathLike[str], roots: Sequence[Path] | None = None, *, what: str = "path") -> Path:
    """``path`` resolved (``~`` expanded, relative to the current folder, links followed) when it lies inside
    one of ``roots`` (default :func:`data_roots`); else a CurationError naming the path, the allowed folders and
    how to allow another one. ``what`` names the path in the message ("workspace", "dataset file")."""
    text = str(path).strip()
    if not text:
        raise CurationError(f"the {what} is empty; type a path inside {_shown(roots or data_roots())}")
    if "\x00" in text:
        raise CurationError(f"the {what} {text!r} contains a NUL character; type a plain path")
    roots = list(roots) if roots is not None else data_roots()
    p = Path(os.path.realpath(Path(text).expanduser()))
    for r in roots:
        if p == r or p.is_relative_to(r):
            return p
    raise CurationError(f"the {what} {text!r} ({p}) is outside the folders this dashboard may use: {_shown(roots)}. "
                        f"Put the file there, or start the dashboard with {ENV} naming its folder "
                        f"(several separated by {os.pathsep!r})")


def confine_source(source: str | os.PathLike[str], roots: Sequence[Path] | None = None) -> str:
    """A dataset source a user typed: a Hugging Face hub id (``owner/name``, no local file or folder of that
    name) unchanged, else the file or folder checked by :func:`confine` (its resolved path)."""
    text = str(source).strip()
    if _HUB_ID.match(text) and ".." not in text and not os.path.lexists(text):
        return text
    return str(confine(text, roots, what="dataset file"))


def _shown(roots: Sequence[Path]) -> str:
    return ", ".join(str(r) for r in roots)
