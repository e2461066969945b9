"""The scorer contract: one float per example under a stable key, a declared direction, NaN = not applicable.

A scorer is a small class::

    class MyScorer(Scorer):
        name = "my_score"              # registry name, first part of the key
        higher_is_better = True        # direction, shown in the dashboard
        description = "one line of help text, with honest validity numbers"
        defaults = {"n": 3}            # every parameter and its default; non-default ones enter the key

        def score(self, batch: pd.DataFrame) -> np.ndarray: ...   # (len(batch),) float64, NaN = n/a

``batch`` has the example columns of :data:`curation.store.EXAMPLE_COLUMNS` (``kind``, ``prompt``, ``response``,
``chosen``, ``rejected``, ``messages``, ...). Scorers that look at a response use :func:`response_texts`: the
``response`` of sft/chat examples and the ``chosen`` reply of preference pairs; prompt-only examples get NaN.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.core.keys import format_value, make_key



class Scorer:
    """Base class of every scorer. Subclasses set the class attributes and implement :meth:`score`.

    Class attributes
    ----------------
    name: registry name. higher_is_better: direction (True: bigger values are better examples).
    description: one line of help for the dashboard. defaults: every parameter with its default.
    non_key_params: parameters that do not change the values (batch size, endpoint URL, API key, timeouts), so
    they never enter the key (and secrets never do). version: bump when the computation changes; enters the key
    as ``v=N`` when > 1. corpus_level: True when a value depends on other examples (then every run rescores all
    examples at once and nothing is cached by content hash). default_batch: examples per ``score`` call when the
    caller gives none (cheap scorers: large, so per-call overhead vanishes; scorers that run a model: small, so a
    batch takes seconds and a killed job loses little). per_reply: the value describes one reply (read
    through :func:`response_texts`), so the run also scores the rejected reply of preference pairs.
    """

    name: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    non_key_params: ClassVar[frozenset[str]] = frozenset()
    version: ClassVar[int] = 1
    corpus_level: ClassVar[bool] = False
    uses_model: ClassVar[bool] = False
    default_batch: ClassVar[int] = 4096
    per_reply: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise CurationError(
                f"scorer {self.name!r} has no parameter(s) {unknown}; its parameters are "
                f"{sorted(self.defaults) or 'none'}")
        self.params: dict[str, Any] = {**self.defaults, **{k: v for k, v in params.items() if v is not None}}

    def __repr__(self) -> str:
        return f"<scorer {self.key()}>"

    def key_params(self) -> dict[str, str]:
        """The parameters that differ from their defaults and change values, as short strings (sorted)."""
        out: dict[str, str] = {}
        for k in sorted(self.params):
            if k in self.non_key_params or self.params[k] == self.defaults.get(k):
                continue
            out[k] = self.key_value(k, self.params[k])
        return out

    def key_value(self, param: str, value: Any) -> str:
        """How one non-default parameter appears in the key (long text is replaced by a short hash)."""
        return format_value(value)

    def key(self) -> str:
        """``name`` or ``name(p=v,...)`` with the non-default parameters (and ``v=N`` for code version > 1), in the
        one key format (:func:`curation.core.keys.make_key`)."""
        kp = self.key_params()
        if self.version > 1:
            kp = {"v": str(self.version), **kp}
        return make_key(self.name, kp)

    def bind(self, ws: Any) -> None:  # Workspace, imported lazily by callers
        """Called by :func:`curation.scorers.run_scorer` before scoring (e.g. to reuse cached embeddings)."""

    def record(self) -> dict[str, Any]:
        """Facts stored with the score's parameters but not in its key (e.g. a learned scorer's cross-validated
        accuracy ``cv_accuracy`` and ``n_train``, shown as its validity). Called after :meth:`bind`."""
        return {}

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------- text access
def _col(batch: pd.DataFrame, name: str) -> list[str | None]:
    if name not in batch.columns:
        return [None] * len(batch)
    return [v if isinstance(v, str) else None for v in batch[name].tolist()]


def response_texts(batch: pd.DataFrame) -> list[str | None]:
    """The response of each example: ``response`` (sft, chat), ``chosen`` (preference), None (prompt-only)."""
    resp, chosen = _col(batch, "response"), _col(batch, "chosen")
    kinds = _col(batch, "kind")
    out: list[str | None] = []
    for k, r, c in zip(kinds, resp, chosen):
        if k == "preference":
            out.append(c)
        elif k == "prompt":
            out.append(None)
        else:
            out.append(r if r is not None else c)
    return out


def prompt_texts(batch: pd.DataFrame) -> list[str | None]:
    """The prompt (instruction, or rendered earlier turns) of each example; None where missing."""
    return _col(batch, "prompt")


def as_float_array(values: Any, n: int, who: str) -> np.ndarray:
    """Validate a scorer's output: (n,) float64. Raises CurationError naming the scorer otherwise."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise CurationError(f"scorer {who} returned shape {arr.shape} for a batch of {n}; expected ({n},)")
    return arr


# ---------------------------------------------------------------------------------------------- model scorers
MODEL_PARAMS: dict[str, Any] = {
    "model": None,          # local: None (packaged SmolLM2-135M GGUF), a directory, a .gguf file or an HF id;
                            # endpoint: the served model name (None: first of /v1/models)
    "endpoint": None,       # OpenAI-compatible completions URL; None = run the model locally
    "prompt_format": "chatml",  # endpoint only: how a user turn is written (see lm.PROMPT_FORMATS)
    "api_key": None,        # endpoint only; default $OPENAI_API_KEY; never part of a key
    "timeout": 60.0,
    "retries": 3,
    "max_batch": 8,         # sequences per forward pass / prompts per request
    "threads": 2,           # torch threads for the local backend (at most)
    "device": None,         # local backend: None (CUDA, then MPS, else CPU), cpu, cuda, cuda:N or mps
    "top_logprobs": 5,      # endpoint only: next-token alternatives asked for (many servers allow at most 5)
}
MODEL_NON_KEY = frozenset({"endpoint", "api_key", "timeout", "retries", "max_batch", "threads", "device",
                           "top_logprobs"})


class ModelScorer(Scorer):
    """Base of the scorers that need a language model (:mod:`curation.scorers.lm`).

    The key names the model when it is not the default (``askllm(model=Qwen2.5-7B-Instruct)``); where it runs
    (local or endpoint URL), batch sizes, timeouts and API keys never enter the key.
    """

    uses_model = True
    default_batch = 32
    non_key_params = MODEL_NON_KEY

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._lm: Any = None
        if self.params.get("prompt_format") and not self.params.get("endpoint"):
            self.params["prompt_format"] = self.defaults.get("prompt_format")   # local: the tokenizer's template

    @property
    def lm(self) -> Any:  # lm.LMBackend
        """The backend, loaded on first use and shared between scorers in this process."""
        if self._lm is None:
            from curation.scorers.lm import load_lm

            p = self.params
            if p.get("endpoint"):
                self._lm = load_lm(p.get("model"), endpoint=p["endpoint"], prompt_format=p["prompt_format"],
                                   api_key=p.get("api_key"), timeout=float(p["timeout"]),
                                   retries=int(p["retries"]), max_batch=int(p["max_batch"]),
                                   top_logprobs=int(p["top_logprobs"]))
            else:
                self._lm = load_lm(p.get("model"), threads=int(p["threads"]), max_batch=int(p["max_batch"]),
                                   device=self.device)
        return self._lm

    @property
    def device(self) -> str:
        """Where the model runs: ``endpoint`` for a remote server, else the resolved torch device (checked
        without loading the model; an unavailable explicit device raises CurationError)."""
        if self.params.get("endpoint"):
            return "endpoint"
        from curation.core.devices import resolve_device

        return resolve_device(self.params.get("device"))

    def key_params(self) -> dict[str, str]:
        out = super().key_params()
        out.pop("model", None)
        model = self.params.get("model")
        if self.params.get("endpoint") and model is None:
            model = self.lm.name            # asks the server which model it serves
        if model is not None:
            from pathlib import Path

            name = Path(str(model)).name if ("/" in str(model) and Path(str(model)).exists()) else str(model)
            from curation.scorers.lm import DEFAULT_MODEL_NAME

            if name != DEFAULT_MODEL_NAME:
                out = {"model": self.key_value("model", name) if len(name) > 48 else name, **out}
        return dict(sorted(out.items()))
