"""A full disk during ingest, export and ``select --out``: one clear error naming the disk and the space needed,
and nothing left behind (no empty .wal, no workspace the failed command created, no partial or temporary file).

Uses a real 4 MiB tmpfs (mounting needs root; skipped cleanly where it cannot mount)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from curation.cli import main
from curation.core.errors import CurationError, IngestError
from curation.ingest.run import ingest_file
from curation.store import Workspace


@pytest.fixture
def small_disk(tmp_path) -> Path:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode(errors='replace').strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _source(path: Path, n: int, width: int = 40) -> Path:
    path.write_text("".join(json.dumps({"prompt": f"question {i} " + "lorem ipsum " * width,
                                        "response": f"answer {i} " + "dolor sit " * width}) + "\n"
                            for i in range(n)), encoding="utf-8")
    return path


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` so that about ``leave`` bytes stay free."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(disk / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def test_ingest_refuses_up_front_and_leaves_no_workspace(small_disk, tmp_path, capsys):
    src = _source(tmp_path / "big.jsonl", 3000)          # ~4 MB of text: more than the disk holds
    w = small_disk / "w.duckdb"
    assert main(["-w", str(w), "ingest", str(src)]) == 1
    err = capsys.readouterr().err
    assert "the disk holding" in err and str(small_disk) in err and "needs about" in err and "MiB" in err
    assert "Traceback" not in err
    assert list(small_disk.iterdir()) == []               # not even the empty workspace the command created


def test_a_workspace_that_cannot_be_created_on_a_full_disk_leaves_no_file(small_disk, capsys):
    _fill(small_disk, 0)
    src = small_disk.parent / "one.jsonl"
    src.write_text(json.dumps({"prompt": "q", "response": "a"}) + "\n", encoding="utf-8")
    assert main(["-w", str(small_disk / "w.duckdb"), "ingest", str(src)]) == 1
    err = capsys.readouterr().err
    assert "is full" in err and str(small_disk) in err and "Traceback" not in err
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_commit_that_hits_a_full_disk_is_one_error_and_leaves_no_wal(small_disk, tmp_path, monkeypatch):
    import curation.ingest.run as run

    ws = Workspace(small_disk / "w.duckdb")
    ingest_file(ws, _source(tmp_path / "small.jsonl", 20, width=2), name="small")
    monkeypatch.setattr(run, "SPACE_FACTOR", 0.0)         # an estimate too low: the disk fills during the commit
    with pytest.raises(IngestError) as ei:
        ingest_file(ws, _source(tmp_path / "big.jsonl", 3000), name="big")
    msg = str(ei.value)
    assert "is full" in msg and str(small_disk) in msg and "as it was before" in msg
    assert sorted(p.name for p in small_disk.iterdir()) == ["w.duckdb"]
    assert set(Workspace(ws.path).datasets()["name"]) == {"small"}


def test_export_on_a_full_disk_refuses_and_writes_nothing(small_disk, tmp_path, monkeypatch):
    from curation.export import export_subset
    import curation.export.writer as writer

    ws = Workspace(tmp_path / "w.duckdb")
    ingest_file(ws, _source(tmp_path / "d.jsonl", 400), name="d")
    ws.export_dir.symlink_to(small_disk, target_is_directory=True)   # the export folder lives on the small disk
    _fill(small_disk, 100_000)
    with pytest.raises(CurationError, match=r"the disk holding .* free; the export big.jsonl needs about"):
        export_subset(ws, name="big", datasheet=False)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
    monkeypatch.setattr(writer, "estimate_bytes", lambda records, fmt: 1)  # too low: the write itself fails
    with pytest.raises(CurationError, match=r"is full: .* free; .*Nothing was written"):
        export_subset(ws, name="big", datasheet=False)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_select_out_on_a_full_disk(small_disk, tmp_path, capsys):
    w = tmp_path / "w.duckdb"
    ingest_file(Workspace(w), _source(tmp_path / "d.jsonl", 300, width=1), name="d")
    _fill(small_disk, 0)
    out = small_disk / "ids.txt"
    assert main(["-w", str(w), "select", "random", "--budget", "300", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "is full" in err and str(small_disk) in err and "Traceback" not in err
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def _short_rows(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"prompt": f"q{i} w{i % 97}", "response": f"a{i}"}) + "\n" for i in range(n)),
                    encoding="utf-8")
    return path


def test_embed_refuses_up_front_on_a_disk_too_small(small_disk, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CURATION_EMBED_CACHE", "off")
    w = small_disk / "w.duckdb"
    ingest_file(Workspace(w), _short_rows(tmp_path / "d.jsonl", 2500), name="d")
    assert main(["-w", str(w), "embed", "--model", "hash", "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert "the disk holding" in err and str(small_disk) in err and "embedding 2,500 texts" in err, err
    assert "needs about" in err and "Traceback" not in err
    assert Workspace(w).count_embeddings("hash/words-384") == 0
    assert sorted(p.name for p in small_disk.iterdir()) == ["w.duckdb"]


def test_embed_that_fills_the_disk_keeps_its_commits_and_resumes(small_disk, tmp_path, monkeypatch):
    import curation.embedding.embed as embed

    monkeypatch.setenv("CURATION_EMBED_CACHE", "off")
    ws = Workspace(small_disk / "w.duckdb")
    ingest_file(ws, _short_rows(tmp_path / "d.jsonl", 2500), name="d")
    monkeypatch.setattr(embed, "space_needed", lambda n, dim: 1)  # an estimate too low: the disk fills mid-job
    with pytest.raises(CurationError) as ei:
        embed.embed_workspace(ws, "hash", commit_every=250)
    msg = str(ei.value)
    assert "is full" in msg and str(small_disk) in msg and "rolled back" in msg and "embed` again" in msg, msg
    kept = Workspace(ws.path).count_embeddings("hash/words-384")
    assert 0 < kept < 2500 and kept % 250 == 0, kept            # whole commits kept, the failed one rolled back
    assert f"The {kept:,} of 2,500 texts" in msg
    r = subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot grow the tmpfs here")
    monkeypatch.undo()
    monkeypatch.setenv("CURATION_EMBED_CACHE", "off")
    rep = embed.embed_workspace(Workspace(ws.path), "hash", commit_every=250)
    assert rep.n_embedded == 2500 - kept and Workspace(ws.path).count_embeddings("hash/words-384") == 2500
