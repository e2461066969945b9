"""The command line as a whole: --workspace before or after the command, and read-only commands on a path where no
workspace exists (a typo) fail with a message saying so and how to create one, leaving no file behind."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    f = tmp_path / "train.jsonl"
    f.write_text("".join(json.dumps({"instruction": f"Question {i}?", "output": f"Answer {i}."}) + "\n"
                         for i in range(5)))
    return f


@pytest.mark.parametrize("argv", [["info"], ["report", "--ranking", "random", "--budget", "3"],
                                  ["export", "--name", "x"], ["rankings"], ["embed"], ["subset", "list"]])
def test_read_only_command_on_a_missing_workspace_says_how_to_create_one(tmp_path: Path, argv: list[str],
                                                                         capsys: pytest.CaptureFixture) -> None:
    typo = tmp_path / "wrokspace.duckdb"
    assert main(["--workspace", str(typo), *argv]) == 1
    err = capsys.readouterr().err
    assert f"no workspace exists at {typo}" in err and "ingest FILE" in err, err
    assert not typo.exists() and not list(tmp_path.iterdir())


def test_workspace_accepted_after_the_command(tmp_path: Path, data_file: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    ws = tmp_path / "w.duckdb"
    assert main(["ingest", str(data_file), "--workspace", str(ws)]) == 0  # ingest creates the workspace
    assert ws.exists()
    capsys.readouterr()
    assert main(["info", "-w", str(ws)]) == 0
    assert "examples   5 in 1 dataset(s)" in capsys.readouterr().out
    assert main(["--workspace", str(tmp_path / "other.duckdb"), "info", "--workspace", str(ws)]) == 0  # after wins
    assert "examples   5" in capsys.readouterr().out
    assert not (tmp_path / "other.duckdb").exists()


def test_demo_and_ingest_are_the_commands_that_create_a_workspace() -> None:
    from curation.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    creating = sorted(name for name, p in sub.choices.items() if p.get_default("creates_workspace"))
    assert creating == ["demo", "ingest"]
