"""Export files are created with the permissions of the process umask, like any other file."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from curation.store import Workspace


@pytest.fixture
def small_ws(tmp_path: Path) -> Workspace:
    from curation.ingest.run import ingest_file

    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"q {i}", "response": f"a {i}"}) + "\n" for i in range(5)))
    ws = Workspace(tmp_path / "w.duckdb")
    ingest_file(ws, src, name="d")
    return ws


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
@pytest.mark.parametrize("fmt", ["jsonl", "hf"])
def test_export_files_follow_the_umask(small_ws: Workspace, mask: int, fmt: str) -> None:
    from curation.export import export_subset

    old = os.umask(mask)
    try:
        res = export_subset(small_ws, name=f"m{mask:o}", fmt=fmt, datasheet=False)
        plain = Path(small_ws.export_dir / "plain.txt")
        plain.write_text("x")
    finally:
        os.umask(old)
    want_file = stat.S_IMODE(plain.stat().st_mode)
    assert want_file == 0o666 & ~mask
    assert stat.S_IMODE(res.manifest_path.stat().st_mode) == want_file
    if fmt == "hf":
        assert stat.S_IMODE(res.path.stat().st_mode) == 0o777 & ~mask
        for f in res.path.iterdir():
            assert stat.S_IMODE(f.stat().st_mode) == want_file, f
    else:
        assert stat.S_IMODE(res.path.stat().st_mode) == want_file
