"""``select --out``: written atomically (temp file + rename), an existing file is not replaced without --overwrite
(or --force), and no temporary file is left behind."""
from __future__ import annotations

import json

import pytest

from curation.cli import main
from curation.ingest.run import ingest_file
from curation.store import Workspace


@pytest.fixture
def w(tmp_path) -> str:
    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"question {i}", "response": f"answer {i}"}) + "\n"
                           for i in range(20)), encoding="utf-8")
    ingest_file(Workspace(tmp_path / "w.duckdb"), src, name="d")
    return str(tmp_path / "w.duckdb")


def test_select_out_refuses_to_replace_a_file(w, tmp_path, capsys):
    out = tmp_path / "ids.txt"
    out.write_text("precious\n")
    assert main(["-w", w, "select", "random", "--budget", "5", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "already exists" in err and "--overwrite" in err
    assert out.read_text() == "precious\n"
    assert main(["-w", w, "select", "random", "--budget", "5", "--out", str(out), "--overwrite"]) == 0
    assert len(out.read_text().splitlines()) == 5
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".ids")) == []


def test_select_out_writes_a_new_file_whole(w, tmp_path):
    out = tmp_path / "new.txt"
    assert main(["-w", w, "select", "random", "--budget", "7", "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 7
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_select_out_refuses_a_folder_and_a_missing_folder(w, tmp_path, capsys):
    assert main(["-w", w, "select", "random", "--budget", "5", "--out", str(tmp_path)]) == 1
    assert "folder" in capsys.readouterr().err
    assert main(["-w", w, "select", "random", "--budget", "5", "--out", str(tmp_path / "no" / "x.txt")]) == 1
    assert "does not exist" in capsys.readouterr().err

