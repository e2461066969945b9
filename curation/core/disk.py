"""Disk space: an up-front check before a large write, and one clear error when a write fails on a full disk.

Used by ingest (the workspace file), export and ``select --out``. Nothing here writes.
"""
from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from curation.core.errors import CurationError

FULL_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def format_size(n: float) -> str:
    """Bytes for people: ``2 GiB``, ``1.5 MiB``, ``800 bytes``."""
    for unit, k in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= k:
            return f"{n / k:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{int(n)} bytes"


def _existing(path: Path) -> Path:
    p = Path(path).expanduser().resolve()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def mount_point(path: Path) -> Path:
    """The mount point of the filesystem holding ``path`` (or its nearest existing parent)."""
    p = _existing(path)
    while not os.path.ismount(p) and p != p.parent:
        p = p.parent
    return p


def free_bytes(path: Path) -> int:
    """Free bytes on the filesystem holding ``path`` (or its nearest existing parent)."""
    return shutil.disk_usage(_existing(path)).free


def where(path: Path) -> str:
    """``the disk holding FOLDER (filesystem MOUNT)`` for messages."""
    folder = Path(path).parent if not Path(path).is_dir() else Path(path)
    return f"the disk holding {folder} (filesystem {mount_point(path)})"


def is_full_disk(exc: BaseException) -> bool:
    """True for an OSError of a full disk or quota, or a DuckDB error whose text says so."""
    if isinstance(exc, OSError) and exc.errno in FULL_DISK_ERRNOS:
        return True
    text = str(exc)
    return "No space left on device" in text or "Disk quota exceeded" in text


def disk_error(exc: BaseException, path: Path, needed: int | None = None, *, what: str = "") -> CurationError:
    """One clear error for a failed write of ``path``: a full disk names the filesystem, its free space and about
    how much the write needs; anything else names the path and the system's reason."""
    if is_full_disk(exc):
        need = f"; {what or 'the write'} needs about {format_size(needed)}" if needed else ""
        return CurationError(f"{where(path)} is full: {format_size(free_bytes(path))} free{need}. Nothing was "
                             "written; free space there or write elsewhere")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return CurationError(f"cannot write {path}: {reason}; nothing was written")


def check_space(path: Path, needed: int, what: str) -> None:
    """Refuse up front when the filesystem holding ``path`` has fewer than ``needed`` bytes free (an estimate of what
    ``what`` writes, with a margin)."""
    free = free_bytes(path)
    if free < needed:
        raise CurationError(f"{where(path)} has {format_size(free)} free; {what} needs about {format_size(needed)}. "
                            "Nothing was written; free space there or write elsewhere")
