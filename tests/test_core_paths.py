"""curation.core.paths: the folders a dashboard user may open, create or read files in."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from curation.core.errors import CurationError
from curation.core.paths import ENV, PROJECT_DATA, confine, confine_source, data_roots


def test_default_roots_are_the_project_data_folder_and_the_workspace_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delenv("CURATION_WORKSPACE", raising=False)
    assert data_roots() == [Path(os.path.realpath(PROJECT_DATA))]
    roots = data_roots(tmp_path / "ws" / "w.duckdb")
    assert roots == [Path(os.path.realpath(PROJECT_DATA)), Path(os.path.realpath(tmp_path / "ws"))]
    monkeypatch.setenv("CURATION_WORKSPACE", str(tmp_path / "env" / "w.duckdb"))
    assert data_roots()[1] == Path(os.path.realpath(tmp_path / "env"))


def test_env_names_the_roots(tmp_path: Path, monkeypatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv(ENV, f"{a}{os.pathsep}{b}")
    assert data_roots(tmp_path / "elsewhere" / "w.duckdb") == [a.resolve(), b.resolve()]
    assert confine(b / "x" / "new.duckdb", data_roots()) == (b / "x" / "new.duckdb").resolve()


def test_paths_outside_the_roots_are_refused_with_the_fix(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.jsonl").write_text("{}\n")
    roots = [root.resolve()]
    assert confine(root / "sub" / "ws.duckdb", roots) == (root / "sub" / "ws.duckdb").resolve()
    assert confine(root, roots) == root.resolve()
    for bad in (tmp_path / "secret.jsonl", root / ".." / "secret.jsonl", "/etc/passwd", "~/.bashrc",
                tmp_path / "rootx" / "w.duckdb"):  # a sibling whose name starts like the root
        with pytest.raises(CurationError, match="outside the folders") as e:
            confine(bad, roots, what="dataset file")
        assert str(root.resolve()) in str(e.value) and ENV in str(e.value)
    with pytest.raises(CurationError, match="empty"):
        confine("  ", roots)


def test_a_link_inside_a_root_that_points_outside_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.jsonl").write_text("{}\n")
    (root / "link.jsonl").symlink_to(tmp_path / "secret.jsonl")
    (root / "dirlink").symlink_to(tmp_path)
    for bad in (root / "link.jsonl", root / "dirlink" / "secret.jsonl"):
        with pytest.raises(CurationError, match="outside"):
            confine(bad, [root.resolve()])


def test_a_hub_id_passes_a_local_path_is_confined(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "d" / "train.jsonl").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    roots = [root.resolve()]
    assert confine_source("Anthropic/hh-rlhf", roots) == "Anthropic/hh-rlhf"
    assert confine_source(str(root / "d" / "train.jsonl"), roots) == str((root / "d" / "train.jsonl").resolve())
    assert confine_source("root/d/train.jsonl", roots) == str((root / "d" / "train.jsonl").resolve())  # exists
    for bad in ("../x/y", "/etc/passwd", "~/x", "root/../../x.jsonl"):
        with pytest.raises(CurationError, match="outside"):
            confine_source(bad, roots)
