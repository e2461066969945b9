"""Saved subsets: versions in the store, frozen pins, names, concurrent saves, another process, and the diff."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curation.subsets import saved as ss
from curation.core.errors import CurationError
from curation.core.ranking import Ranking
from curation.store import Workspace
from curation.subsets.spec import SubsetSpec, resolve

ROOT = Path(__file__).resolve().parent.parent
N = 60


def _rows(n: int, dataset: str = "d") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "example_id": [f"{dataset}/{i}" for i in range(n)], "dataset": dataset, "source_line": range(1, n + 1),
        "kind": "sft", "prompt": [f"p{i}" for i in range(n)], "response": [f"r{i}" for i in range(n)],
        "chosen": None, "rejected": None, "messages": None, "label": [f"c{i % 4 if i % 7 else 0}" for i in range(n)],
        "embed_text": [f"t{i}" for i in range(n)], "text_hash": [f"h{dataset}{i}" for i in range(n)],
        "content_hash": [f"c{dataset}{i}" for i in range(n)], "n_tokens": rng.integers(5, 50, n).tolist(),
        "record": ['{"x": 1}'] * n})


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """N rows in 4 imbalanced classes with token counts, two rankings (a permutation and its reverse)."""
    w = Workspace(tmp_path / "w.duckdb")
    w.add_examples({"name": "d", "source": "mem", "shape": "alpaca", "kind": "sft"}, _rows(N))
    order = np.random.default_rng(1).permutation(N).astype(np.int64)
    w.put_ranking(Ranking(order=order, gains=np.zeros(N), method="perm(seed=1)"))
    w.put_ranking(Ranking(order=order[::-1].copy(), gains=np.zeros(N), method="rev(seed=1)"))
    return w


def _eid(i: int) -> str:
    return f"d/{i}"


def test_save_versions_and_list(ws):
    spec = SubsetSpec(ranking="perm(seed=1)", budget=20, unit="rows")
    v1 = ss.save(ws, "first", spec, who="ann", note="start")
    v2 = ss.save(ws, "first", spec.replace(budget=25), who="bob")
    assert (v1.version, v2.version) == (1, 2) and v1.n_rows == 20 and v2.n_rows == 25
    assert ss.load(ws, "first").version == 2 and ss.load(ws, "first@1").spec.budget == 20
    assert v1.spec.pins_as_of == 0 and v1.who == "ann" and v1.note == "start"
    lst = ss.listing(ws)
    assert lst.loc[0, "name"] == "first" and lst.loc[0, "versions"] == 2 and lst.loc[0, "latest"] == 2
    assert ss.all_refs(ws) == ["first@2", "first@1"]


def test_versions_are_immutable_after_a_later_pin(ws):
    spec = SubsetSpec(ranking="perm(seed=1)", budget=10, unit="rows")
    v1 = ss.save(ws, "s", spec, who="ann")
    rows_before = ss.resolve_saved(ws, "s@1").row_ids.copy()
    outside = int(np.setdiff1d(np.arange(N), rows_before)[0])
    ws.add_decisions([_eid(outside)], "include", who="bob", why="good one")
    ws.add_decisions([_eid(int(rows_before[0]))], "exclude", who="bob")
    assert np.array_equal(ss.resolve_saved(ws, "s@1").row_ids, rows_before)
    assert ss.drift(ws, ss.load(ws, "s@1")) is None
    assert ss.newer_decisions(ws, v1) == 2
    # the draft (current pins) differs; saving it is a new version, the old one is untouched
    v2 = ss.save(ws, "s", spec, who="bob")
    rows2 = ss.resolve_saved(ws, v2).row_ids
    assert outside in rows2 and int(rows_before[0]) not in rows2
    assert np.array_equal(ss.resolve_saved(ws, "s@1").row_ids, rows_before)
    assert ss.newer_decisions(ws, v2) == 0
    # the stored row cannot be rewritten through the API: saving again appends
    assert [v.version for v in ss.versions(ws, "s")] == [1, 2]


def test_drift_is_reported_when_the_ranking_changes(ws):
    v = ss.save(ws, "s", SubsetSpec(ranking="perm(seed=1)", budget=10), who="ann")
    ws.put_ranking(Ranking(order=np.arange(N, dtype=np.int64), gains=np.zeros(N), method="perm(seed=1)"))
    msg = ss.drift(ws, v)
    assert msg is not None and "s@1" in msg and "ranking" in msg


def test_a_saved_ranking_is_not_recomputed_under_its_key(ws):
    """select --force on a ranking a saved version names is refused (the version would silently change rows);
    without a saved version, or with another seed, ranking works as before."""
    from curation.select import run_selection

    key = run_selection(ws, "random", {}, seed=3).method
    assert run_selection(ws, "random", {}, seed=3, force=True).method == key      # nobody depends on it yet
    v = ss.save(ws, "keep", SubsetSpec(ranking=key, budget=10), who="ann")
    ss.hide(ws, "keep", who="ann")                                                  # deleted versions count too
    before = ws.ranking(key).order.copy()
    with pytest.raises(CurationError, match="keep@1.*without --force"):
        run_selection(ws, "random", {}, seed=3, force=True)
    assert np.array_equal(ws.ranking(key).order, before) and ss.drift(ws, v) is None
    assert run_selection(ws, "random", {}, seed=3).method == key                    # reuse is fine
    assert run_selection(ws, "random", {}, seed=4, force=True).method != key


def test_hide_keeps_history(ws):
    spec = SubsetSpec(ranking="perm(seed=1)", budget=10)
    ss.save(ws, "gone", spec, who="ann")
    ss.save(ws, "gone", spec, who="ann")
    assert ss.hide(ws, "gone", who="ann") == 2
    assert ss.listing(ws).empty and ss.all_refs(ws) == []
    with pytest.raises(CurationError, match="deleted"):
        ss.load(ws, "gone")
    assert ss.load(ws, "gone@1").hidden and len(ss.listing(ws, include_hidden=True)) == 1
    v3 = ss.save(ws, "gone", spec, who="ann")  # numbers are never reused
    assert v3.version == 3 and ss.load(ws, "gone").version == 3
    with pytest.raises(CurationError, match="no version 9"):
        ss.load(ws, "gone@9")
    with pytest.raises(CurationError, match="no saved subset 'other'"):
        ss.load(ws, "other")


@pytest.mark.parametrize("bad,match", [
    ("", "must not be empty"), ("   ", "must not be empty"), ("x" * 10_000, "limit is 100"),
    ("a/b", "may not contain"), ("..\\x", "may not contain"), ("../../etc/passwd", "may not contain"),
    ("v@2", "may not contain"), ("tab\there", "may not contain"), ("nl\nx", "may not contain"),
    ("zero\u200bwidth", "may not contain"), ("...", "only dots"), (None, "must be text")])
def test_bad_names_are_refused(ws, bad, match):
    with pytest.raises(CurationError, match=match):
        ss.save(ws, bad, SubsetSpec(ranking="perm(seed=1)", budget=5), who="ann")
    assert ws.saved_subsets(include_hidden=True).empty


@pytest.mark.parametrize("name", ["it's \"quoted\"; drop table saved_subsets; --",
                                  "<img src=x onerror=alert(1)> <b>bold",
                                  "Robert'); DELETE FROM decisions;--", "naïve & ünïcode ✓"])
def test_odd_names_are_stored_verbatim(ws, name):
    v = ss.save(ws, name, SubsetSpec(ranking="perm(seed=1)", budget=5), who="<b>ann</b>", note="<i>x</i>")
    got = ss.load(ws, name)
    assert got.name == name and got.version == v.version == 1 and got.who == "<b>ann</b>"
    assert ss.load(ws, f"{name}@1").name == name
    assert ws.n_examples() == N and "saved_subsets" in set(ws.read_sql(
        "select table_name from information_schema.tables")["table_name"])


def test_parse_ref():
    assert ss.parse_ref("a b@12") == ("a b", 12) and ss.parse_ref(" x ") == ("x", None)
    assert ss.parse_ref("x@v3") == ("x", 3)
    for bad in ("x@", "x@0", "x@two", "@3"):
        with pytest.raises(CurationError):
            ss.parse_ref(bad)


def test_two_sessions_save_the_same_name_at_once(ws):
    spec = SubsetSpec(ranking="perm(seed=1)", budget=10)
    barrier = threading.Barrier(6)
    got: list[int] = []
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            barrier.wait()
            got.append(ss.save(ws, "shared", spec.replace(budget=10 + i), who=f"s{i}").version)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(got) == [1, 2, 3, 4, 5, 6]
    vs = ss.versions(ws, "shared")
    assert sorted(v.who for v in vs) == [f"s{i}" for i in range(6)]
    assert sorted(v.n_rows for v in vs) == list(range(10, 16))  # every session's spec kept, nothing lost


def _script(path: Path, body: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(ROOT)!r})
        from curation.subsets import saved as ss
        from curation.store import Workspace
        from curation.subsets.spec import SubsetSpec
        ws = Workspace({str(path)!r})
    """) + textwrap.dedent(body)]


def test_two_processes_save_the_same_name_at_once(ws):
    body = """
        import json
        out = [ss.save(ws, "proc", SubsetSpec(ranking="perm(seed=1)", budget=7), who=sys.argv[1]).version
               for _ in range(3)]
        print(json.dumps(out))
    """
    procs = [subprocess.Popen(_script(ws.path, body) + [f"p{i}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (o, e) in zip(procs, outs):
        assert p.returncode == 0, e
    got = sorted(v for o, _ in outs for v in json.loads(o))
    assert got == [1, 2, 3, 4, 5, 6]
    assert sorted(v.who for v in ss.versions(ws, "proc")) == ["p0"] * 3 + ["p1"] * 3


def test_saved_in_one_process_read_in_another(ws):
    ws.add_decisions([_eid(3)], "include", who="ann")
    saver = subprocess.run(_script(ws.path, """
        v = ss.save(ws, "cross", SubsetSpec(ranking="rev(seed=1)", budget=25, unit="%", quota="balanced"),
                    who="cli-user", note="from another process")
        print(v.ref, v.n_rows)
    """), capture_output=True, text=True, timeout=120)
    assert saver.returncode == 0, saver.stderr
    assert saver.stdout.split() == ["cross@1", "15"]
    v = ss.load(ws, "cross")
    assert (v.who, v.note, v.n_rows) == ("cli-user", "from another process", 15)
    rows_here = ss.resolve_saved(ws, v).row_ids
    assert 3 in rows_here and len(rows_here) == 15
    reader = subprocess.run(_script(ws.path, """
        print(" ".join(map(str, ss.resolve_saved(ws, "cross@1").row_ids.tolist())))
    """), capture_output=True, text=True, timeout=120)
    assert reader.returncode == 0, reader.stderr
    assert [int(x) for x in reader.stdout.split()] == rows_here.tolist()


# ---------------------------------------------------------------------------------------------------- diff
def _brute(ws: Workspace, spec: SubsetSpec) -> set[str]:
    """The subset's example ids recomputed by hand: pins as of the log position, then the ranking order."""
    log = ws.decisions()
    pins: dict[str, str] = {}
    for r in log.itertuples():
        if r.id <= spec.pins_as_of and r.action in ("include", "exclude", "unpin"):
            pins[r.example_id] = r.action
    inc = [e for e, a in pins.items() if a == "include"]
    exc = {e for e, a in pins.items() if a == "exclude"}
    order = [_eid(int(i)) for i in ws.ranking(spec.ranking).order]
    rest = [e for e in order if e not in exc and e not in inc]
    k = int(spec.budget) if spec.unit == "rows" else int(round(spec.budget / 100 * len(order)))
    return set(inc) | set(rest[: max(k - len(inc), 0)])


@pytest.mark.slow
def test_diff_added_removed_exact_against_brute_force(ws):
    rng = np.random.default_rng(5)
    saved = []
    for step in range(6):
        ids = rng.choice(N, size=3, replace=False)
        ws.add_decisions([_eid(int(ids[0]))], "include", who=f"u{step}", why=f"w{step}")
        ws.add_decisions([_eid(int(ids[1]))], "exclude", who=f"u{step}")
        if step % 2:
            ws.add_decisions([_eid(int(ids[2]))], "unpin", who=f"u{step}")
        rk = "perm(seed=1)" if step < 3 else "rev(seed=1)"
        budget = 10 + 3 * step
        saved.append(ss.save(ws, "walk", SubsetSpec(ranking=rk, budget=budget), who="ann"))
    id_of = dict(zip(ws.id_map()["row_id"], ws.id_map()["example_id"]))
    for i, a in enumerate(saved):
        for b in saved[i:]:
            d = ss.diff(ws, a, b)
            A, B = _brute(ws, a.spec), _brute(ws, b.spec)
            assert set(d.added["example_id"]) == B - A
            assert set(d.removed["example_id"]) == A - B
            assert (d.n_a, d.n_b, d.unchanged) == (len(A), len(B), len(A & B))
            assert set(map(id_of.get, ss.resolve_saved(ws, b).row_ids.tolist())) == B
            assert d.classes["change"].sum() == len(B) - len(A)
            assert d.tokens["change"] == d.tokens["b"] - d.tokens["a"]
            assert set(d.added["reason"]) | set(d.removed["reason"]) <= set(ss.REASONS)


def test_diff_reasons(ws):
    spec = SubsetSpec(ranking="perm(seed=1)", budget=10)
    v1 = ss.save(ws, "r", spec, who="ann")
    rows1 = ss.resolve_saved(ws, v1).row_ids
    outside = int(np.setdiff1d(np.arange(N), rows1)[0])
    ws.add_decisions([_eid(outside)], "include", who="bob", why="keep this")
    v2 = ss.save(ws, "r", spec, who="bob")
    d = ss.diff(ws, v1, v2)
    assert d.added["row_id"].tolist() == [outside]
    a = d.added.iloc[0]
    assert a["reason"] == "pin" and a["who"] == "bob" and "keep this" in a["detail"] and "include pin" in a["detail"]
    # the include pin counts toward the budget: the last-ranked row of v1 left for room
    assert d.removed["row_id"].tolist() == [int(rows1[-1])] and d.removed.iloc[0]["reason"] == "pins_room"
    # budget only
    v3 = ss.save(ws, "r", spec.replace(budget=14), who="ann")
    d = ss.diff(ws, v2, v3)
    assert len(d.added) == 4 and set(d.added["reason"]) == {"budget"} and d.removed.empty
    # ranking and budget at once: rows credited to one of them each, and the diff is symmetric
    v4 = ss.save(ws, "r", spec.replace(ranking="rev(seed=1)", budget=12), who="ann")
    d = ss.diff(ws, v3, v4)
    back = ss.diff(ws, v4, v3)
    assert set(d.added["row_id"]) == set(back.removed["row_id"])
    assert set(d.added["reason"]) | set(d.removed["reason"]) <= {"ranking", "budget"}
    assert "ranking" in set(d.added["reason"])
    # quota
    v5 = ss.save(ws, "r", spec.replace(budget=14, quota="balanced"), who="ann")
    d = ss.diff(ws, v3, v5)
    assert set(d.added["reason"]) | set(d.removed["reason"]) == {"quota"}
    assert len(d.added) == len(d.removed)
    assert d.classes.set_index("class")["change"].abs().sum() == 2 * len(d.added)
    assert "quota" in ss.diff_table(d)


def test_diff_against_the_draft_and_another_name(ws):
    v = ss.save(ws, "one", SubsetSpec(ranking="perm(seed=1)", budget=10), who="ann")
    w = ss.save(ws, "two", SubsetSpec(ranking="rev(seed=1)", budget=10), who="ann")
    d = ss.diff(ws, v, w)
    A = set(resolve(ws, v.spec).row_ids.tolist())
    B = set(resolve(ws, w.spec).row_ids.tolist())
    assert set(d.added["row_id"]) == B - A and set(d.removed["row_id"]) == A - B
    draft = SubsetSpec(ranking="perm(seed=1)", budget=12)
    d2 = ss.diff(ws, v, draft, label_b="draft")
    assert d2.b == "draft" and len(d2.added) == 2 and d2.removed.empty
    out = json.loads(json.dumps(d2.to_dict()))
    assert out["n_added"] == 2 and out["reasons"]["added"] == {"budget": 2}


def test_membership_mask(ws):
    v = ss.save(ws, "m", SubsetSpec(ranking="perm(seed=1)", budget=10), who="ann")
    ids = np.arange(N)
    mask = ss.membership_mask(ws, v.ref, ids)
    assert mask.sum() == 10 and set(ids[mask]) == set(ss.resolve_saved(ws, v).row_ids.tolist())


# ---------------------------------------------------------------------------------------------------- CLI
def _cli(ws: Workspace, *argv: str) -> int:
    from curation.cli import main

    return main(["--workspace", str(ws.path), *argv])


def test_cli_save_list_show_diff_delete(ws, capsys):
    assert _cli(ws, "subset", "save", "cli", "--ranking", "perm(seed=1)", "--budget", "12", "--note", "first",
                "--who", "ann") == 0
    assert "saved cli@1: 12 rows" in capsys.readouterr().out
    ws.add_decisions([_eid(int(np.setdiff1d(np.arange(N), ss.resolve_saved(ws, "cli").row_ids)[0]))], "include",
                     who="bob", why="needed")
    assert _cli(ws, "subset", "show", "cli") == 0
    out = capsys.readouterr().out
    assert "1 pin decision(s) were made after this version" in out and "--from cli@1" in out
    assert _cli(ws, "subset", "save", "cli", "--from", "cli@1", "--who", "bob", "--note", "with bob's pin") == 0
    assert "saved cli@2: 12 rows" in capsys.readouterr().out
    assert _cli(ws, "subset", "save", "cli", "--ranking", "rev(seed=1)", "--budget-pct", "30", "--quota",
                "balanced") == 0
    capsys.readouterr()
    assert _cli(ws, "subset", "list") == 0
    assert "cli@3  18 rows" in capsys.readouterr().out
    assert _cli(ws, "subset", "diff", "cli@1", "cli@2") == 0
    out = capsys.readouterr().out
    assert "+1 (1 pin)" in out and "-1 (1 pins_room)" in out and "by bob" in out and "needed" in out
    assert _cli(ws, "subset", "diff", "cli@2", "cli@3", "--json") == 0
    d = json.loads(capsys.readouterr().out)
    A, B = set(ss.resolve_saved(ws, "cli@2").row_ids.tolist()), set(ss.resolve_saved(ws, "cli@3").row_ids.tolist())
    assert {r["row_id"] for r in d["added"]} == B - A and {r["row_id"] for r in d["removed"]} == A - B
    assert sum(c["b"] for c in d["classes"]) == len(B) and d["tokens"]["change"] == d["tokens"]["b"] - d["tokens"]["a"]
    assert _cli(ws, "subset", "show", "cli@2", "--json") == 0
    js = json.loads(capsys.readouterr().out)
    assert js["version"] == 2 and len(js["example_ids"]) == 12 and [h["version"] for h in js["history"]] == [1, 2, 3]
    assert _cli(ws, "subset", "delete", "cli", "--who", "ann") == 0
    assert "hid 3 version(s)" in capsys.readouterr().out
    assert _cli(ws, "subset", "list") == 0
    assert "no saved subsets" in capsys.readouterr().out
    assert _cli(ws, "subset", "list", "--all") == 0
    assert "(deleted)" in capsys.readouterr().out
    assert _cli(ws, "subset", "show", "cli@1") == 0
    capsys.readouterr()
    assert _cli(ws, "subset", "show", "cli") == 1
    assert "was deleted" in capsys.readouterr().err
    assert _cli(ws, "subset", "save", "a/b", "--ranking", "perm(seed=1)", "--budget", "3") == 1
    assert "may not contain" in capsys.readouterr().err
    assert _cli(ws, "subset", "save", "x", "--budget", "3") == 1
    assert "needs --ranking" in capsys.readouterr().err


def test_cli_export_records_the_subset_and_the_diff_in_the_datasheet(ws, capsys):
    ss.save(ws, "<b>ship & 'q'", SubsetSpec(ranking="perm(seed=1)", budget=10), who="ann", note="<i>v1</i>")
    assert _cli(ws, "export", "--subset", "<b>ship & 'q'@1", "--name", "v1") == 0
    capsys.readouterr()
    m1 = json.loads((ws.export_dir / "v1.jsonl.manifest.json").read_text())
    assert m1["subset"]["name"] == "<b>ship & 'q'" and m1["subset"]["version"] == 1
    assert m1["subset"]["previous_export"] is None and m1["selection"]["n_subset"] == 10
    v1_rows = ss.resolve_saved(ws, "<b>ship & 'q'@1").row_ids
    ws.add_decisions([_eid(int(v1_rows[0]))], "exclude", who="<script>bob", why="dup")
    ss.save(ws, "<b>ship & 'q'", SubsetSpec(ranking="perm(seed=1)", budget=11), who="bob", note="v2 note")
    assert _cli(ws, "export", "--subset", "<b>ship & 'q'", "--name", "v2") == 0
    m2 = json.loads((ws.export_dir / "v2.jsonl.manifest.json").read_text())
    s = m2["subset"]
    assert s["version"] == 2 and [h["version"] for h in s["history"]] == [1, 2]
    prev = s["previous_export"]
    assert prev["version"] == 1 and prev["file"] == "v1.jsonl"
    removed = {r["row_id"]: r for r in prev["diff"]["removed"]}
    assert int(v1_rows[0]) in removed and removed[int(v1_rows[0])]["reason"] == "pin"
    assert prev["diff"]["n_added"] == 2 and prev["diff"]["n_removed"] == 1
    page = (ws.export_dir / "v2.jsonl.datasheet.html").read_text()
    assert "Saved subset" in page and "Changes since the previous export (version 1" in page
    assert "&lt;b&gt;ship &amp; &#x27;q&#x27;" in page and "<b>ship" not in page
    assert "&lt;script&gt;bob" in page and "<script>bob" not in page and "&lt;i&gt;v1&lt;/i&gt;" in page
    # the manifest's export log (and only it) is how the previous export was found
    assert _cli(ws, "export", "--subset", "<b>ship & 'q'", "--name", "v3", "--budget", "3") == 1
    assert "drop --ranking, --budget" in capsys.readouterr().err


def test_cli_report_and_explain_take_a_saved_subset(tiny_ws_copy, capsys):
    ws = tiny_ws_copy
    n = ws.n_examples()
    order = np.random.default_rng(3).permutation(ws.row_ids()).astype(np.int64)
    ws.put_ranking(Ranking(order=order, gains=np.zeros(n), method="shuffle(seed=3)"))
    v = ss.save(ws, "audit", SubsetSpec(ranking="shuffle(seed=3)", budget=40), who="ann")
    rows = ss.resolve_saved(ws, v).row_ids
    assert _cli(ws, "report", "--subset", "audit@1", "--json") == 0
    card = json.loads(capsys.readouterr().out)
    assert card["n_subset"] == 40 == len(rows)
    out_id = ws.example(int(order[-1]))["example_id"]
    assert _cli(ws, "explain", out_id, "--subset", "audit") == 0
    ex = json.loads(capsys.readouterr().out)
    assert ex["selected"] is False
    assert _cli(ws, "explain", "shuffle(seed=3)", out_id, "--subset", "audit") == 1
    assert "pass only the example" in capsys.readouterr().err


def test_compare_cards_side_by_side(tiny_ws):
    from curation.diagnostics import ReportContext
    from curation.diagnostics.compare import compare_cards

    ctx = ReportContext.build(tiny_ws)
    ids = tiny_ws.row_ids()
    a, b = ctx.report(ids[:60]), ctx.report(ids[:90])
    same = compare_cards(a, a)
    assert not same["differs"].any() and (same["change"].fillna(0) == 0).all()
    d = compare_cards(a, b)
    size = d[d["section"] == "size"].iloc[0]
    assert (size["a"], size["b"], size["change"], size["differs"]) == (60, 90, 30, True)
    shares = d[d["section"] == "class share"]
    assert set(shares["figure"]) == set(a.classes["label"]) | set(b.classes["label"])
    assert abs(shares["b"].sum() - 1) < 1e-9 and abs(shares["a"].sum() - 1) < 1e-9
    assert d.loc[d["differs"], "change"].abs().fillna(1).gt(0).all()
