"""The OpenAI-compatible completions client, against a small local server implementing completions with logprobs
(top_logprobs for the next token, echo=true with token_logprobs and text_offset), plus failure modes."""
from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest

from curation.core.errors import CurationError
from curation.scorers import get_scorer
from curation.scorers.lm import EndpointLM

_TOKEN = re.compile(r"\s*\S+|\s+$")


def fake_logprob(text: str, start: int, tok: str) -> float:
    """A toy language model: a word seen earlier in the text is likely (−0.5), a new one is not (−3)."""
    word = re.sub(r"\W", "", tok.lower())
    return -0.5 if word and word in re.findall(r"\w+", text[:start].lower()) else -3.0


class FakeServer:
    """OpenAI-style /v1/models and /v1/completions. P(yes) = 0.9 when the prompt contains "good", else 0.2."""

    def __init__(self) -> None:
        self.fail_next = 0          # answer this many requests with HTTP 503
        self.delay = 0.0            # seconds to sleep before answering
        self.reject_lists = False   # answer list prompts with HTTP 400 (like servers that take one prompt)
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def _send(self, code: int, obj: object) -> None:
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": "fake-7b", "object": "model"}]})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(req)
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.fail_next > 0:
                    outer.fail_next -= 1
                    self._send(503, {"error": "overloaded"})
                    return
                if self.path != "/v1/completions":
                    self._send(404, {"error": "not found"})
                    return
                prompts = req["prompt"]
                if isinstance(prompts, list) and outer.reject_lists:
                    self._send(400, {"error": "prompt must be a string"})
                    return
                prompts = prompts if isinstance(prompts, list) else [prompts]
                choices = []
                for i, p in enumerate(prompts):
                    py = 0.9 if "good" in p else 0.2
                    top = {" yes": math.log(py), " no": math.log(1 - py) - 0.01, " maybe": -6.0}
                    k = int(req.get("logprobs") or 0)
                    gen = {"tokens": [" yes"], "token_logprobs": [math.log(py)], "text_offset": [len(p)],
                           "top_logprobs": [dict(list(top.items())[:k])] if k else None}
                    if req.get("echo"):
                        toks = [m for m in _TOKEN.findall(p)]
                        offs, pos = [], 0
                        for t in toks:
                            offs.append(pos)
                            pos += len(t)
                        lps = [None] + [fake_logprob(p, o, t) for o, t in zip(offs[1:], toks[1:])]
                        gen = {"tokens": toks + gen["tokens"], "token_logprobs": lps + gen["token_logprobs"],
                               "text_offset": offs + gen["text_offset"],
                               "top_logprobs": [None] * len(toks) + (gen["top_logprobs"] or [None])}
                    choices.append({"index": i, "text": (p if req.get("echo") else "") + " yes",
                                    "logprobs": gen, "finish_reason": "length"})
                self._send(200, {"id": "x", "object": "text_completion", "model": req.get("model"),
                                 "choices": choices})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    yield s
    s.close()


def frame() -> pd.DataFrame:
    return pd.DataFrame({"kind": ["sft", "sft", "sft", "prompt"],
                         "prompt": ["Is this good?", "Name a colour.", "Tell me about the sea", "Hi"],
                         "response": ["A good answer.", "Blue.", "the sea is large and the sea is deep", None],
                         "chosen": [None] * 4, "rejected": [None] * 4})


def test_askllm_over_endpoint(server: FakeServer) -> None:
    sc = get_scorer("askllm", endpoint=server.url, max_batch=2, retries=0)
    assert sc.key() == "askllm(model=fake-7b)"      # served model name asked from /v1/models; URL not in key
    v = sc.score(frame())
    # yes/no renormalised over the two: 0.9 / (0.9 + 0.1·e^-0.01) when the example contains "good", else ~0.2
    assert v[0] == pytest.approx(0.9 / (0.9 + 0.1 * math.exp(-0.01)))
    assert v[1] == pytest.approx(0.2 / (0.2 + 0.8 * math.exp(-0.01))) and np.isnan(v[3])
    posts = [r for r in server.requests if "prompt" in r]
    assert all(r["max_tokens"] == 1 and r["logprobs"] == 5 and r["model"] == "fake-7b" for r in posts)
    assert [len(r["prompt"]) if isinstance(r["prompt"], list) else 1 for r in posts] == [2, 1]   # batched
    assert posts[0]["prompt"][0].startswith("<|im_start|>user\n###\n")      # chatml prompt format


def test_top_logprobs_is_configurable(server: FakeServer) -> None:
    sc = get_scorer("askllm", endpoint=server.url, top_logprobs=2, retries=0)
    assert sc.key() == "askllm(model=fake-7b)"            # how many alternatives are asked never enters the key
    sc.score(frame().iloc[:1])
    assert [r["logprobs"] for r in server.requests if "prompt" in r] == [2]


def test_models_route_refusing_names_the_real_flag(server: FakeServer) -> None:
    from curation.core.errors import CurationError
    from curation.scorers.lm import EndpointLM

    with pytest.raises(CurationError, match="with --model") as exc:
        EndpointLM(server.url + "/nowhere", retries=0)
    assert "--endpoint-model" not in str(exc.value)


def test_choice_logprobs_sum_variants_and_floor(server: FakeServer) -> None:
    lm = EndpointLM(server.url, model="fake-7b", top_logprobs=3)
    out = lm.choice_logprobs(["good", "bad"], [["yes", " yes"], ["no", " no"], ["absent"]])
    assert out[0, 0] == pytest.approx(math.log(0.9)) and out[1, 0] == pytest.approx(math.log(0.2))
    assert out[0, 2] == pytest.approx(-6.0)          # group not in the top list: the smallest listed logprob


def test_ifd_over_endpoint_uses_echo_offsets(server: FakeServer) -> None:
    sc = get_scorer("ifd", endpoint=server.url, model="fake-7b", prompt_format="plain")
    assert sc.key() == "ifd(model=fake-7b,prompt_format=plain)"
    df = frame()
    v = sc.score(df)
    # response words that occur in the prompt are cheap only when conditioned → IFD < 1; "Blue." is 1 token → NaN
    assert v[0] < 1.0 and np.isnan(v[1]) and v[2] < 1.0 and np.isnan(v[3])
    lm = sc.lm
    ctx, resp = lm.chat_prompt("Is this good?"), "A good answer."
    c = lm.continuation_logprobs([ctx], [resp])[0]
    full = ctx + resp
    want = [fake_logprob(full, o, t) for o, t in zip(
        [m.start() for m in _TOKEN.finditer(full)], _TOKEN.findall(full)) if o >= len(ctx)]
    np.testing.assert_allclose(c, want)
    assert any(r.get("echo") is True for r in server.requests)


def test_retries_then_succeeds(server: FakeServer) -> None:
    lm = EndpointLM(server.url, model="fake-7b", retries=2, backoff=0.01)
    server.fail_next = 2
    out = lm.choice_logprobs(["good"], [["yes", " yes"], ["no", " no"]])
    assert np.isfinite(out).all()


def test_gives_up_with_clear_error_after_retries(server: FakeServer) -> None:
    lm = EndpointLM(server.url, model="fake-7b", retries=1, backoff=0.01)
    server.fail_next = 5
    with pytest.raises(CurationError, match=r"failed after 2 tries: HTTP 503"):
        lm.choice_logprobs(["good"], [["yes"], ["no"]])


def test_timeout_is_reported(server: FakeServer) -> None:
    lm = EndpointLM(server.url, model="fake-7b", timeout=0.2, retries=0)
    server.delay = 1.0
    with pytest.raises(CurationError, match=r"no answer within 0.2 s"):
        lm.choice_logprobs(["good"], [["yes"], ["no"]])


def test_server_down_is_a_clear_error() -> None:
    s = FakeServer()
    url = s.url
    s.close()                                        # nothing listens on that port any more
    with pytest.raises(CurationError, match=r"Is the server running"):
        EndpointLM(url, retries=1, backoff=0.01, timeout=2)


def test_falls_back_to_one_prompt_per_request(server: FakeServer) -> None:
    server.reject_lists = True
    lm = EndpointLM(server.url + "/v1/completions", model="fake-7b", max_batch=4)
    out = lm.choice_logprobs(["good", "bad", "good"], [["yes", " yes"], ["no", " no"]])
    assert np.isfinite(out).all() and not lm.lists_ok
    assert out[0, 0] == pytest.approx(math.log(0.9)) and out[1, 0] == pytest.approx(math.log(0.2))


def test_bad_url_and_format() -> None:
    with pytest.raises(CurationError, match="not an http"):
        EndpointLM("localhost:8000", model="m")
    with pytest.raises(CurationError, match="unknown prompt format"):
        EndpointLM("http://localhost:1", model="m", prompt_format="weird")
