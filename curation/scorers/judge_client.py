"""The client side of the judge scorers: one chat-completions call to any OpenAI-compatible server (vLLM, TGI,
llama.cpp, Ollama, a hosted API) through the official ``openai`` client, with a per-request timeout, retries with
exponential backoff, 429 / Retry-After handling, and a bounded thread pool for concurrency.

Settings come from arguments or the environment, as the official client reads them: ``OPENAI_BASE_URL`` (the
server's ``/v1`` address) and ``OPENAI_API_KEY``; the model from ``--judge-model`` / ``JUDGE_MODEL``, else the first
model the server lists. The key lives only in this process's memory: it never enters a score key, the workspace,
a manifest or an error message (messages are scrubbed of it).
"""
from __future__ import annotations

import math
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from curation.core.errors import CurationError

#: Placeholder key sent to servers that need none (the official client refuses to start without one).
NO_KEY = "no-key"
MAX_RETRY_AFTER = 60.0


@dataclass
class ChatResult:
    """One answer: text, the first generated token's alternatives (token -> logprob; None when the server sent
    no logprobs), token usage, the attempts it took and the seconds it took (all attempts)."""

    text: str
    first_top: dict[str, float] | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 1
    seconds: float = 0.0


@dataclass
class JudgeClient:
    """A chat-completions client with retries and a bound on parallel requests.

    base_url: the server's OpenAI ``/v1`` address (default ``$OPENAI_BASE_URL``). api_key: default
    ``$OPENAI_API_KEY`` (a placeholder when neither is set: local servers need none). timeout: seconds per request.
    retries: attempts after the first on a timeout, a connection error, HTTP 429 or 5xx (waits 0.5 s, 1 s, 2 s,
    ... capped at 30 s, with jitter; a 429's Retry-After header, when given, is the wait instead, capped at 60 s).
    concurrency: requests in flight at most (:meth:`map`).
    """

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    retries: int = 4
    concurrency: int = 4
    backoff: float = 0.5
    logprobs_supported: bool | None = None       # None: not known yet; False once the server refused them
    stats: dict[str, int] = field(default_factory=lambda: {"requests": 0, "retries": 0, "rate_limited": 0,
                                                            "timeouts": 0})

    def __post_init__(self) -> None:
        self.base_url = (self.base_url or os.environ.get("OPENAI_BASE_URL") or "").strip() or None
        if self.base_url is None:
            raise CurationError("no judge server given: pass --base-url http://HOST:PORT/v1 or set OPENAI_BASE_URL "
                                "(any OpenAI-compatible chat-completions server: vLLM, TGI, llama.cpp, Ollama, a "
                                "hosted API)")
        self.api_key = self.api_key or os.environ.get("OPENAI_API_KEY") or NO_KEY
        if self.concurrency < 1:
            raise CurationError(f"--concurrency must be at least 1, got {self.concurrency}")
        self._lock = threading.Lock()
        self._client: Any = None

    # ------------------------------------------------------------------ plumbing
    @property
    def client(self) -> Any:  # openai.OpenAI
        if self._client is None:
            try:
                import openai
            except ImportError as exc:
                raise CurationError("the judge scorers need the official openai client: pip install openai "
                                    "(pinned in requirements.txt)") from exc
            # retries are ours (backoff, Retry-After, counted); the client's own are off
            self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout,
                                         max_retries=0)
        return self._client

    def scrub(self, text: str) -> str:
        """``text`` with the API key (and any prefix of 8+ of its characters) replaced by ``***``."""
        k = self.api_key or ""
        if k and k != NO_KEY:
            text = text.replace(k, "***")
            if len(k) >= 12:
                text = text.replace(k[:8], "***")
        return text

    def _count(self, what: str) -> None:
        with self._lock:
            self.stats[what] = self.stats.get(what, 0) + 1

    def models(self) -> list[str]:
        """The ids the server lists at ``/models`` (one request, retried like any other)."""
        return self._with_retries(lambda: [m.id for m in self.client.models.list().data], "list models")[0]

    # ------------------------------------------------------------------ one request
    def _with_retries(self, fn: Callable[[], Any], what: str) -> tuple[Any, int]:
        import openai

        attempt = 0
        while True:
            attempt += 1
            self._count("requests")
            try:
                return fn(), attempt
            except openai.RateLimitError as exc:
                self._count("rate_limited")
                wait = _retry_after(exc)
                err: BaseException = exc
            except openai.APITimeoutError as exc:
                self._count("timeouts")
                wait, err = None, exc
            except openai.APIConnectionError as exc:
                wait, err = None, exc
            except openai.InternalServerError as exc:
                wait, err = None, exc
            except openai.APIStatusError as exc:
                if exc.status_code in (400, 422) and "logprob" in _message(exc).lower():
                    raise _LogprobsRefused() from None
                raise CurationError(self.scrub(
                    f"the judge server at {self.base_url} refused {what}: HTTP {exc.status_code}: "
                    f"{_message(exc)}; check --judge-model (the server lists {self._safe_models()}) and the key "
                    "(OPENAI_API_KEY)")) from None
            if attempt > self.retries:
                raise CurationError(self.scrub(
                    f"the judge server at {self.base_url} did not answer {what} after {attempt} attempts "
                    f"({type(err).__name__}: {_message(err)}); check that it runs, or raise --timeout / lower "
                    "--concurrency")) from None
            self._count("retries")
            if wait is None:
                wait = min(30.0, self.backoff * 2 ** (attempt - 1)) * (0.75 + 0.5 * random.random())
            time.sleep(max(0.0, wait))

    def _safe_models(self) -> str:
        try:
            return str([m.id for m in self.client.models.list().data][:5])
        except Exception:  # only for the error message
            return "(could not list them)"

    def chat(self, messages: Sequence[dict[str, str]], *, model: str, max_tokens: int = 1,
             top_logprobs: int = 5, temperature: float = 0.0) -> ChatResult:
        """One chat completion; ``top_logprobs`` > 0 asks for the first token's alternatives (once a server has
        refused logprobs, later requests ask without them and :attr:`ChatResult.first_top` is None)."""
        want_lp = top_logprobs > 0 and self.logprobs_supported is not False
        t0 = time.perf_counter()

        def call(lp: bool) -> Any:
            kw: dict[str, Any] = {"model": model, "messages": list(messages), "max_tokens": int(max_tokens),
                                  "temperature": float(temperature)}
            if lp:
                kw.update(logprobs=True, top_logprobs=int(top_logprobs))
            return self.client.chat.completions.create(**kw)

        try:
            resp, attempts = self._with_retries(lambda: call(want_lp), "a chat completion")
        except _LogprobsRefused:
            self.logprobs_supported = False          # the server does not do logprobs: parse answers instead
            want_lp = False
            resp, attempts = self._with_retries(lambda: call(False), "a chat completion")
        choice = resp.choices[0] if resp.choices else None
        text = (choice.message.content or "") if choice is not None and choice.message is not None else ""
        first_top = None
        content = getattr(getattr(choice, "logprobs", None), "content", None) if choice is not None else None
        if want_lp and content:
            self.logprobs_supported = True
            first = content[0]
            first_top = {t.token: float(t.logprob) for t in (first.top_logprobs or [])}
            first_top.setdefault(first.token, float(first.logprob))
        usage = getattr(resp, "usage", None)
        return ChatResult(text=text, first_top=first_top,
                          prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                          completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                          attempts=attempts, seconds=time.perf_counter() - t0)

    # ------------------------------------------------------------------ many requests
    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``[fn(x) for x in items]`` with at most :attr:`concurrency` calls in flight (threads: the calls wait on
        the network). Order kept. Once any call fails, no further call starts: the calls in flight finish, the rest
        are dropped, and the first error (in input order) is raised."""
        if self.concurrency == 1 or len(items) <= 1:
            return [fn(x) for x in items]
        failed = threading.Event()

        def guarded(x: Any) -> Any:
            if failed.is_set():                   # an earlier call failed: this one is not sent
                raise _Dropped()
            try:
                return fn(x)
            except BaseException:
                failed.set()
                raise

        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(items)), thread_name_prefix="judge")
        try:
            futures = [pool.submit(guarded, x) for x in items]
            wait(futures, return_when=FIRST_EXCEPTION)
            if failed.is_set():
                pool.shutdown(wait=True, cancel_futures=True)
                for f in futures:
                    if f.done() and not f.cancelled():
                        exc = f.exception()
                        if exc is not None and not isinstance(exc, _Dropped):
                            raise exc
            return [f.result() for f in futures]
        finally:                      # on an error or Ctrl-C the requests not yet sent are not sent
            pool.shutdown(wait=True, cancel_futures=True)


class _Dropped(Exception):
    """A call not started because an earlier one in the same batch failed."""


class _LogprobsRefused(Exception):
    """The server answered 400/422 to a request with logprobs (it does not serve them)."""


def _message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
    return str(exc)[:300]


def _retry_after(exc: Any) -> float | None:
    """Seconds from a 429's ``Retry-After`` (or ``retry-after-ms``) header; None when absent or unreadable."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for name, div in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        v = headers.get(name)
        if v is None:
            continue
        try:
            s = float(v) / div
        except ValueError:
            continue
        if math.isfinite(s):
            return min(MAX_RETRY_AFTER, max(0.0, s))
    return None
