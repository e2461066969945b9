"""A workspace file that cannot be written (a read-only filesystem, or no write permission): the commands that only
read open it read-only and work; a command that writes says which commands need write access; an older schema
says the upgrade needs write access."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from curation.cli import main
from curation.core.errors import CurationError
from curation.ingest.run import ingest_file
from curation.store import UpgradeNeedsWrite, Workspace
from curation.subsets.saved import save
from curation.subsets.spec import SubsetSpec


def _build(folder: Path) -> Path:
    src = folder / "d.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"question {i}", "response": f"answer {i}"}) + "\n"
                           for i in range(20)), encoding="utf-8")
    ws = Workspace(folder / "w.duckdb")
    ingest_file(ws, src, name="d")
    assert main(["-w", str(ws.path), "select", "random"]) == 0
    save(ws, "cut", SubsetSpec(ranking="random-1", budget=5), who="t")
    src.unlink()
    return ws.path


@pytest.fixture
def read_only_ws(tmp_path):
    """(workspace path, make it read-only, undo): a read-only tmpfs remount as root (root ignores file modes),
    else a file and folder without write permission."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)],
                          capture_output=True).returncode != 0:
            pytest.skip("cannot mount a tmpfs here (no CAP_SYS_ADMIN); a read-only file cannot be made as root")
        path = _build(folder)

        def lock() -> None:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)

        def unlock() -> None:
            subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True)
        yield path, lock, unlock
        subprocess.run(["umount", "-l", str(folder)], check=False)
    else:
        path = _build(folder)

        def lock() -> None:
            path.chmod(0o444)
            folder.chmod(0o555)

        def unlock() -> None:
            folder.chmod(0o755)
            path.chmod(0o644)
        yield path, lock, unlock
        unlock()


def test_reading_commands_work_on_a_read_only_workspace(read_only_ws, capsys):
    path, lock, _ = read_only_ws
    lock()
    w = str(path)
    for argv in (["info"], ["rankings"], ["subset", "list"], ["subset", "show", "cut"],
                 ["subset", "diff", "cut@1", "cut@1"]):
        assert main(["-w", w, *argv]) == 0, argv
    out = capsys.readouterr()
    assert "examples   20 in 1 dataset(s)" in out.out and "error" not in out.err
    assert sorted(p.name for p in path.parent.iterdir()) == ["w.duckdb"]   # no .wal, nothing written


def test_a_writing_command_says_which_commands_need_write_access(read_only_ws, capsys):
    path, lock, _ = read_only_ws
    lock()
    assert main(["-w", str(path), "decide", "include", "d/x"]) == 1
    err = capsys.readouterr().err
    assert "read-only" in err and "`decide` writes" in err and "info, rankings" in err and "need write access" in err
    assert "Traceback" not in err


def test_a_write_through_a_read_only_workspace_object_is_a_clear_error(tmp_path):
    path = _build(tmp_path)
    ro = Workspace(path, read_only=True)
    assert ro.n_examples() == 20
    eid = ro.id_map()["example_id"].iloc[0]
    with pytest.raises(CurationError, match="open read-only.*need write access"):
        ro.add_decisions([eid], "include", who="t")
    assert Workspace(path).decisions().empty


def test_an_older_schema_opened_read_only_says_the_upgrade_needs_write_access(read_only_ws, capsys):
    path, lock, unlock = read_only_ws
    with duckdb.connect(str(path)) as con:
        con.execute("update meta set value = '5' where key = 'schema_version'")
    with pytest.raises(UpgradeNeedsWrite, match="upgrade needs write access"):
        Workspace(path, read_only=True)
    lock()
    assert main(["-w", str(path), "info"]) == 1
    assert "upgrade needs write access" in capsys.readouterr().err
    unlock()
    assert main(["-w", str(path), "info"]) == 0      # writable again: the reading command upgrades it once
    assert "schema v6" in capsys.readouterr().out


def test_a_reader_beside_another_reader(tmp_path):
    ws = Workspace(tmp_path / "w.duckdb")
    code = ("import sys; from curation.store import Workspace; "
            "print(Workspace(sys.argv[1], read_only=True).n_examples())")
    with duckdb.connect(str(ws.path), read_only=True):    # another process-level reader holds the file
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        r = subprocess.run([sys.executable, "-c", code, str(ws.path)], capture_output=True,
                           text=True, env=env, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "0", r.stderr


def test_report_and_explain_run_read_only(tiny_ws_copy, capsys):
    """The commands listed as reading do not write: they run with the workspace open read-only."""
    import numpy as np

    from curation.core.ranking import Ranking

    ws = tiny_ws_copy
    n = ws.n_examples()
    order = np.random.default_rng(3).permutation(ws.row_ids()).astype(np.int64)
    ws.put_ranking(Ranking(order=order, gains=np.zeros(n), method="shuffle(seed=3)"))
    w = str(ws.path)
    assert main(["-w", w, "report", "--ranking", "shuffle-1", "--budget", "40", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_subset"] == 40
    eid = ws.example(int(order[-1]))["example_id"]
    assert main(["-w", w, "explain", "shuffle-1", eid, "--budget", "40"]) == 0
    assert json.loads(capsys.readouterr().out)["selected"] is False
