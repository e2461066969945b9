"""Bring-your-own judge: quality scorers that ask the user's own model server (any OpenAI-compatible
chat-completions endpoint: vLLM, TGI, llama.cpp, Ollama, a hosted API) through :mod:`curation.scorers.judge_client`.

Three scorers, one request shape (a user turn, ``temperature=0``, a few output tokens, the first token's top
logprobs when the server serves them):

* ``judge_askllm``: Ask-LLM (Sachdeva et al. 2024): the paper's question ("does the previous paragraph demarcated
  within ### and ### contain informative signal ...") asked of an instruction/response pair; the value is
  P(yes) / (P(yes) + P(no)) of the first answer token, in [0, 1], or 1 / 0 from a parsed yes/no answer when the
  server returns no logprobs. Per reply (the rejected reply of a preference pair is scored too).
* ``judge_quality`` / ``judge_complexity``: DEITA's quality (of a response to its instruction) and complexity (of an
  instruction) prompts (Liu et al. 2024) on a 1-6 scale: the expected rating sum_i i * P(i) over the digits 1-6 of
  the first token when logprobs are served, else the first digit 1-6 of the answer.
* ``judge_pairwise``: for preference pairs, "which answer is better, A or B?" asked in both orders (chosen first,
  then rejected first) to cancel position bias; the value is P(chosen preferred) averaged over the two orders, in
  [0, 1] (0.5: no preference); NaN for rows that are not pairs.

NaN also marks an answer the judge did not give (no yes/no, no digit, no A/B): such values are stored and not asked
again; the run's summary counts them.

Keys and caching: ``judge_quality(model=Qwen2.5-7B-Instruct,tpl=3f2a9c01d4)``: the served model name and a hash of
the prompt template and answer scheme, plus any non-default parameter that changes the prompt (``max_chars``).
With ``run_scorer``'s (key, content hash) cache this is the (model, prompt template, text hash) cache: a rerun asks
only for what is missing; a killed run resumes. The endpoint's address, the key, timeouts, retries and
concurrency are run settings, never in a key, the workspace or a manifest.

Cost: one request per example (two per pair for ``judge_pairwise``; per-reply scorers one more per preference
pair); :func:`estimate` counts the tokens and requests before a run.
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import REJECTED_SUFFIX, format_value, short_hash
from curation.scorers.askllm import SFT_TEMPLATE, render_example
from curation.scorers.base import Scorer, prompt_texts, response_texts
from curation.scorers.judge_client import ChatResult, JudgeClient

JUDGE_PARAMS: dict[str, Any] = {
    "judge_model": None,     # the served model name; None: $JUDGE_MODEL, else the first model the server lists
    "base_url": None,        # the server's /v1 address; None: $OPENAI_BASE_URL
    "api_key": None,         # None: $OPENAI_API_KEY; never part of a key, never stored
    "timeout": 60.0,         # seconds per request
    "retries": 4,            # attempts after the first (timeouts, connection errors, 429, 5xx)
    "concurrency": 4,        # requests in flight at most
    "top_logprobs": 20,      # first-token alternatives asked for (OpenAI allows 0-20; 0: parse answers only)
    "max_chars": 3000,       # characters of an example put into a prompt (prompt cut from the left, reply right)
}
JUDGE_NON_KEY = frozenset({"judge_model", "base_url", "api_key", "timeout", "retries", "concurrency",
                           "top_logprobs"})

#: Ask-LLM, the paper's prompt (its appendix) with "pre-training" read as "training an assistant" and the
#: criteria of instruction data; ``{example}`` is ``user: ...\n\nassistant: ...``.
ASKLLM_INSTRUCT = (
    "###\n{example}\n###\n\n"
    "Does the previous paragraph demarcated within ### and ### contain informative signal for fine-tuning a "
    "large-language model to be a helpful assistant? An informative datapoint should be well-formatted, answer the "
    "user's request with correct, usable knowledge of the world, and strictly NOT have any harmful, racist, sexist, "
    "etc. content.\n\nOPTIONS:\n- yes\n- no\n\nAnswer with yes or no.")
#: The paper's prompt verbatim (pre-training wording).
ASKLLM_PAPER = (
    "###\n{example}\n###\n\n"
    "Does the previous paragraph demarcated within ### and ### contain informative signal for pre-training a "
    "large-language model? An informative datapoint should be well-formatted, contain some usable knowledge of "
    "the world, and strictly NOT have any harmful, racist, sexist, etc. content.\n\n"
    "OPTIONS:\n- yes\n- no")
ASKLLM_TEMPLATES = {"instruct": ASKLLM_INSTRUCT, "paper": ASKLLM_PAPER, "sft": SFT_TEMPLATE}

#: DEITA's scorer prompts (hkust-nlp/deita), with one line naming the scale: a general chat model was not trained on
#: the scorer's output format.
DEITA_QUALITY = (
    "You are a helpful assistant. Please identify the quality score of the Response corresponding to the Question. "
    "Rate it from 1 (very poor) to 6 (excellent) and answer with the single digit only.\n"
    "#Question#:\n{prompt}\n#Response#:\n{response}\n##Quality: ")
DEITA_COMPLEXITY = (
    "You are a helpful assistant. Please identify the complexity score of the following user query. Rate it from "
    "1 (very simple) to 6 (very complex) and answer with the single digit only.\n"
    "##Query: {prompt}\n##Complexity: ")

PAIRWISE = (
    "Please act as an impartial judge and decide which of the two AI assistant answers below responds better to "
    "the user: more helpful, correct and harmless. Do not let the order or the length of the answers decide.\n\n"
    "[User Question]\n{prompt}\n\n"
    "[The Start of Assistant A's Answer]\n{a}\n[The End of Assistant A's Answer]\n\n"
    "[The Start of Assistant B's Answer]\n{b}\n[The End of Assistant B's Answer]\n\n"
    "Which answer is better? Answer with a single letter: A or B.")

_WORD = re.compile(r"[A-Za-z]+|\d")


# ---------------------------------------------------------------------------------------------- answer reading
def _mass(top: dict[str, float], accept: Sequence[str]) -> list[float]:
    """Probability mass of the first-token alternatives whose stripped, lower-cased text equals each accepted
    answer (``" Yes"``, ``"yes"`` and ``"YES"`` all count for ``yes``)."""
    out = [0.0] * len(accept)
    for tok, lp in top.items():
        t = tok.strip().strip(".:*'\"()[]").lower()
        for j, a in enumerate(accept):
            if t == a:
                out[j] += math.exp(lp)
    return out


def _first_word(text: str) -> str:
    m = _WORD.search(text or "")
    return m.group(0).lower() if m else ""


def read_choice(res: ChatResult, options: Sequence[str]) -> np.ndarray:
    """(len(options),) probabilities of each option (lower-case answers such as ``("yes", "no")``) from the first
    token's logprobs (normalised over the options), else one-hot from the answer's first word; all NaN when the
    judge gave none of them."""
    if res.first_top:
        m = _mass(res.first_top, options)
        s = sum(m)
        if s > 0:
            return np.asarray(m) / s
    w = _first_word(res.text)
    hit = [w == o for o in options]
    if any(hit):
        return np.asarray(hit, dtype=np.float64)
    return np.full(len(options), np.nan)


def read_rating(res: ChatResult, lo: int = 1, hi: int = 6) -> float:
    """The expected rating sum_i i * P(i) over the digits lo..hi of the first token (normalised), else the first
    digit lo..hi of the answer, else NaN."""
    digits = [str(i) for i in range(lo, hi + 1)]
    p = read_choice(res, digits)
    if np.isfinite(p).all():
        return float(np.dot(p, np.arange(lo, hi + 1)))
    m = re.search(rf"[{lo}-{hi}]", res.text or "")
    return float(m.group(0)) if m else math.nan


# ---------------------------------------------------------------------------------------------- base
class JudgeScorer(Scorer):
    """Base of the judge scorers: a client, the model name, the key ``(model, template hash, params)``, and the
    concurrent request loop. Subclasses define :meth:`requests` (the user turns for a batch) and :meth:`combine`
    (answers -> one value per row)."""

    uses_model = False          # no model in this process: Ray runs the requests on CPU workers, batches adapt
    default_batch = 16
    non_key_params = JUDGE_NON_KEY
    defaults: ClassVar[dict[str, Any]] = dict(JUDGE_PARAMS)
    #: output tokens per request (one token is read from logprobs; a few more let a parsed answer appear)
    max_tokens: ClassVar[int] = 3
    requests_per_row: ClassVar[int] = 1

    def __init__(self, **params: Any) -> None:
        # a stored key's params (model=, tpl=: a manifest, reproduce) rebuild the scorer; tpl must still match
        alias, self._tpl = params.pop("model", None), params.pop("tpl", None)
        if alias is not None and params.get("judge_model") is None:
            params["judge_model"] = alias
        super().__init__(**params)
        self._client: JudgeClient | None = None
        # rows per score call: two rounds of the concurrency, so progress moves after a few requests on a slow
        # server and a batch's slowest request idles few threads (run_scorer sizes batches towards ~3 s, up to this)
        self.default_batch = int(min(256, max(2, 2 * int(self.params["concurrency"]))))  # type: ignore[misc]

    # ------------------------------------------------------------------ settings
    @property
    def client(self) -> JudgeClient:
        """The chat client (built on first use, in each process: Ray workers build their own)."""
        if self._client is None:
            p = self.params
            self._client = JudgeClient(base_url=p.get("base_url"), api_key=p.get("api_key"),
                                       timeout=float(p["timeout"]), retries=int(p["retries"]),
                                       concurrency=int(p["concurrency"]))
            # resolved once here, so that copies of the params (Ray workers) reach the same server; in memory only
            p["base_url"] = self._client.base_url
            p["api_key"] = p.get("api_key") or os.environ.get("OPENAI_API_KEY")
        return self._client

    @property
    def model(self) -> str:
        """The served model's name: ``judge_model``, else ``$JUDGE_MODEL``, else the first model the server lists
        (asked once)."""
        m = self.params.get("judge_model") or os.environ.get("JUDGE_MODEL")
        if not m:
            listed = self.client.models()
            if not listed:
                raise CurationError(f"the judge server at {self.client.base_url} lists no model; pass --judge-model")
            m = listed[0]
        self.params["judge_model"] = m
        return str(m)

    @property
    def device(self) -> str:
        """Where the model runs: always a server (its address is a run setting and is not recorded)."""
        return "endpoint"

    def template_text(self) -> str:
        """Everything that shapes a request and how its answer is read (hashed into the key)."""
        raise NotImplementedError

    def template_hash(self) -> str:
        return short_hash(f"{self.template_text()}|max_tokens={self.max_tokens}|{type(self).__name__}")

    def key_params(self) -> dict[str, str]:
        out = super().key_params()
        name = self.model
        out["model"] = name if len(name) <= 48 and re.fullmatch(r"[\w.:+-]+", name) else format_value(name)
        out["tpl"] = self.template_hash()
        if self._tpl is not None and str(self._tpl) != out["tpl"]:
            raise CurationError(f"{self.name}: the stored template hash tpl={self._tpl} is not this version's "
                                f"({out['tpl']}): the prompt changed since that score was made; it cannot be "
                                "recomputed as it was")
        return dict(sorted(out.items()))

    def record(self) -> dict[str, Any]:
        return {"judge": "OpenAI-compatible chat completions", "max_tokens": self.max_tokens}

    # ------------------------------------------------------------------ requests
    def requests(self, batch: pd.DataFrame) -> list[tuple[int, str]]:
        """(row position, user turn) per request; a row may have several (pairwise: two) or none (NaN)."""
        raise NotImplementedError

    def combine(self, answers: list[ChatResult]) -> float:
        """One row's value from its answers (in :meth:`requests` order)."""
        raise NotImplementedError

    def ask(self, user: str) -> ChatResult:
        return self.client.chat([{"role": "user", "content": user}], model=self.model, max_tokens=self.max_tokens,
                                top_logprobs=int(self.params["top_logprobs"]))

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        """(n,) float64: one value per row (NaN where the scorer does not apply or the judge gave no answer);
        the batch's requests run :attr:`concurrency` at a time."""
        out = np.full(len(batch), np.nan)
        reqs = self.requests(batch)
        if not reqs:
            return out
        self.model                                       # resolved before the threads start
        answers = self.client.map(lambda r: self.ask(r[1]), reqs)
        by_row: dict[int, list[ChatResult]] = {}
        for (i, _), a in zip(reqs, answers):
            by_row.setdefault(i, []).append(a)
        for i, got in by_row.items():
            out[i] = self.combine(got)
        return out

    def _text(self, prompt: str | None, response: str) -> tuple[str, str]:
        """(prompt, response) cut to ``max_chars`` together: the prompt keeps its end (at most a third), the
        response its start."""
        mc = int(self.params["max_chars"])
        p = prompt or ""
        keep = max(200, mc // 3)
        if len(p) + len(response) > mc and len(p) > keep:
            p = "…" + p[-keep:]
        room = max(200, mc - len(p))
        return p, response if len(response) <= room else response[:room] + "…"


# ---------------------------------------------------------------------------------------------- scorers
class JudgeAskLLM(JudgeScorer):
    name = "judge_askllm"
    per_reply = True
    higher_is_better = True
    max_tokens = 2
    defaults = {**JUDGE_PARAMS, "template": "instruct"}
    description = ("Ask-LLM on your own model server (--base-url / OPENAI_BASE_URL, --judge-model): P(yes) that the "
                   "judge calls the example informative (the paper's prompt, for instruction data), in [0, 1]; from "
                   "logprobs when served, else the parsed yes/no. Validity depends on the judge: measure it "
                   "(benchmarks/bench_judge.py); the test model SmolLM2-135M is near chance.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        t = str(self.params["template"])
        self.template = ASKLLM_TEMPLATES.get(t, t)
        if "{example}" not in self.template:
            raise CurationError(f"judge_askllm template {t[:60]!r} is neither a preset ({sorted(ASKLLM_TEMPLATES)}) "
                                "nor a text with an {example} placeholder; add one")

    def template_text(self) -> str:
        return self.template + "|yes/no"

    def key_params(self) -> dict[str, str]:
        out = super().key_params()
        out.pop("template", None)                         # the template is in tpl=
        return out

    def requests(self, batch: pd.DataFrame) -> list[tuple[int, str]]:
        mc = int(self.params["max_chars"])
        return [(i, self.template.replace("{example}", render_example(p, r, max_chars=mc)))
                for i, (p, r) in enumerate(zip(prompt_texts(batch), response_texts(batch)))
                if r is not None and r.strip()]

    def combine(self, answers: list[ChatResult]) -> float:
        return float(read_choice(answers[0], ("yes", "no"))[0])


class JudgeQuality(JudgeScorer):
    name = "judge_quality"
    per_reply = True
    higher_is_better = True
    description = ("DEITA-style quality rating of a response to its instruction by your own model server, 1 (very "
                   "poor) to 6 (excellent): the expected rating from the first token's logprobs when served, else "
                   "the parsed digit. Validity depends on the judge (benchmarks/bench_judge.py).")

    def template_text(self) -> str:
        return DEITA_QUALITY + "|rating 1-6"

    def requests(self, batch: pd.DataFrame) -> list[tuple[int, str]]:
        out = []
        for i, (p, r) in enumerate(zip(prompt_texts(batch), response_texts(batch))):
            if r is None or not r.strip():
                continue
            pp, rr = self._text(p, r)
            out.append((i, DEITA_QUALITY.replace("{prompt}", pp).replace("{response}", rr)))
        return out

    def combine(self, answers: list[ChatResult]) -> float:
        return read_rating(answers[0])


class JudgeComplexity(JudgeScorer):
    name = "judge_complexity"
    per_reply = False
    higher_is_better = True
    description = ("DEITA-style complexity rating of the instruction (prompt) by your own model server, 1 (very "
                   "simple) to 6 (very complex); expected rating from logprobs when served, else the parsed digit. "
                   "A property of the prompt, not a quality verdict.")

    def template_text(self) -> str:
        return DEITA_COMPLEXITY + "|rating 1-6"

    def requests(self, batch: pd.DataFrame) -> list[tuple[int, str]]:
        mc = int(self.params["max_chars"])
        return [(i, DEITA_COMPLEXITY.replace("{prompt}", p if len(p) <= mc else "…" + p[-mc:]))
                for i, p in enumerate(prompt_texts(batch)) if p is not None and p.strip()]

    def combine(self, answers: list[ChatResult]) -> float:
        return read_rating(answers[0])


class JudgePairwise(JudgeScorer):
    name = "judge_pairwise"
    per_reply = False
    higher_is_better = True
    requests_per_row = 2
    max_tokens = 2
    description = ("Pairwise judge on your own model server for preference pairs: P(the chosen reply is better), "
                   "asked with the chosen reply first and again with it second (position bias cancels), averaged, "
                   "in [0, 1]; > 0.5 agrees with the pair's label. NaN for rows that are not pairs.")

    def template_text(self) -> str:
        return PAIRWISE + "|A/B both orders"

    def requests(self, batch: pd.DataFrame) -> list[tuple[int, str]]:
        out = []
        kinds = batch["kind"].tolist() if "kind" in batch.columns else [None] * len(batch)
        prompts = prompt_texts(batch)
        for i, (k, p, c, r) in enumerate(zip(kinds, prompts, batch.get("chosen", [None] * len(batch)),
                                             batch.get("rejected", [None] * len(batch)))):
            if k != "preference" or not isinstance(c, str) or not isinstance(r, str):
                continue
            mc = int(self.params["max_chars"])
            half = max(200, mc // 2)
            pp = (p or "")[-max(200, mc // 4):]
            cc, rr = (c if len(c) <= half else c[:half] + "…"), (r if len(r) <= half else r[:half] + "…")
            for a, b in ((cc, rr), (rr, cc)):
                out.append((i, PAIRWISE.replace("{prompt}", pp).replace("{a}", a).replace("{b}", b)))
        return out

    def combine(self, answers: list[ChatResult]) -> float:
        first = read_choice(answers[0], ("a", "b"))[0]          # chosen shown as A
        second = read_choice(answers[1], ("a", "b"))[1] if len(answers) > 1 else math.nan  # chosen shown as B
        vals = [v for v in (first, second) if np.isfinite(v)]
        return float(np.mean(vals)) if vals else math.nan


JUDGES: tuple[type[JudgeScorer], ...] = (JudgeAskLLM, JudgeQuality, JudgeComplexity, JudgePairwise)


# ---------------------------------------------------------------------------------------------- estimate
def estimate(ws: Any, scorers: Sequence[JudgeScorer], *, limit: int | None = None,  # Workspace
             probe: bool = True) -> dict[str, Any]:
    """What a run of ``scorers`` over ``ws`` will ask, before it asks: per scorer the rows to do (not cached under
    its key), requests, input tokens (the filled prompts, counted with the project's WordPiece tokenizer: BPE
    tokenizers of served models give within ~+-25%), output tokens (at most); and, with ``probe``, the seconds one
    request took (one real request) and the run's time at the scorers' concurrency (an upper bound: servers batch
    parallel requests).

    Returns {"scorers": [{key, rows, requests, input_tokens, output_tokens}], "requests", "input_tokens",
    "output_tokens", "probe_seconds", "seconds"}. Cost: one examples read, one cache lookup per key, a tokenizer
    pass over the prompts (~1 s per 10k), one model listing and one chat request.
    """
    from curation.ingest.run import count_tokens
    from curation.scorers.run import _COLUMNS

    df = ws.examples(list(_COLUMNS))
    if limit is not None:
        df = df.iloc[: max(0, int(limit))]
    df = df.reset_index(drop=True)
    rows_out = []
    for sc in scorers:
        key = sc.key()
        frames = [(key, df)]
        if sc.per_reply:
            pref = df[(df["kind"] == "preference") & df["rejected"].notna()]
            frames.append((key + REJECTED_SUFFIX, pref.assign(kind="sft", response=pref["rejected"], chosen=None,
                                                              rejected=None,
                                                              content_hash=pref["content_hash"] + REJECTED_SUFFIX)))
        n_rows = n_req = tin = 0
        for k, f in frames:
            if f.empty:
                continue
            cached = ws.cached_scores(k, f["content_hash"].tolist())
            todo = f[~f["content_hash"].isin(list(cached))].drop_duplicates("content_hash").reset_index(drop=True)
            if todo.empty:
                continue
            reqs = sc.requests(todo)
            n_rows += len(todo)
            n_req += len(reqs)
            texts = [u for _, u in reqs]
            sample = texts if len(texts) <= 5000 else texts[:: max(1, len(texts) // 5000)]
            counted = sum(count_tokens(sample)) if sample else 0
            tin += int(round(counted * len(texts) / max(1, len(sample))))
        rows_out.append({"key": key, "rows": n_rows, "requests": n_req, "input_tokens": tin,
                         "output_tokens": n_req * sc.max_tokens, "concurrency": int(sc.params["concurrency"])})
    total = sum(r["requests"] for r in rows_out)
    probe_s = None
    seconds = None
    if probe and total:
        first = next(sc for sc, r in zip(scorers, rows_out) if r["requests"])
        res = first.ask("Reply with the single word: yes")
        probe_s = res.seconds
        seconds = sum(r["requests"] * probe_s / max(1, r["concurrency"]) for r in rows_out)
    return {"scorers": rows_out, "requests": total, "input_tokens": sum(r["input_tokens"] for r in rows_out),
            "output_tokens": sum(r["output_tokens"] for r in rows_out), "probe_seconds": probe_s,
            "seconds": seconds}


def describe_estimate(est: dict[str, Any], *, price_in: float | None = None,
                      price_out: float | None = None) -> str:
    """The estimate as lines for people; prices in currency units per million tokens (input, output)."""
    lines = []
    for r in est["scorers"]:
        lines.append(f"  {r['key']}: {r['rows']:,} rows to ask, {r['requests']:,} requests, ~{r['input_tokens']:,} "
                     f"input + <= {r['output_tokens']:,} output tokens")
    tail = (f"total {est['requests']:,} requests, ~{est['input_tokens']:,} input tokens, <= "
            f"{est['output_tokens']:,} output tokens")
    if est.get("seconds") is not None:
        tail += (f"; one request took {est['probe_seconds']:.2f} s, so about {_duration(est['seconds'])} at the "
                 "set concurrency (less if the server batches)")
    if price_in is not None or price_out is not None:
        cost = est["input_tokens"] / 1e6 * (price_in or 0.0) + est["output_tokens"] / 1e6 * (price_out or 0.0)
        tail += f"; cost about {cost:.2f} at the given prices"
    return "\n".join(lines + ["  " + tail])


def _duration(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h"


def judge_names() -> list[str]:
    return [c.name for c in JUDGES]
