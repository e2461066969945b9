"""Text rendering of chat turns for text-style exports (``dpo_text``): a prompt that ends where the reply starts.

A trainer that takes plain strings (TRL DPOTrainer, standard format) tokenizes the prompt and then the prompt
followed by each reply; the prompt's tokens must be a prefix of those of prompt + reply, and the model must see
where the reply starts. Two renderings meet that:

Plain format (default; no tokenizer named)
------------------------------------------
Each turn is its role name, a colon, a newline and the text; turns are separated by a blank line; the prompt ends
with the assistant cue ``Assistant:`` and a newline (the separator)::

    User:
    How do I store bread?

    Assistant:
    In a paper bag.

    User:
    And for a week?

    Assistant:
    <- the reply starts here

Roles are ``System``, ``User`` and ``Assistant``. Replies are stored without leading whitespace (whitespace right
after the separator would merge with it into one token in byte-level BPE tokenizers and break the prefix).

Chat template (``tokenizer=`` a local tokenizer folder, a ``.gguf`` file or a hub id)
-------------------------------------------------------------------------------------
The tokenizer's own chat template, the way TRL applies it: prompt = template(prompt turns, generation prompt on);
reply = template(prompt turns + the reply) with that prompt cut off the front (so the reply carries the template's
end-of-turn marker). A template whose rendering of the conversation does not start with the prompt's rendering is
refused.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from curation.core.errors import CurationError

PLAIN_ROLES = {"system": "System", "user": "User", "assistant": "Assistant"}
PLAIN_CUE = "Assistant:"
PLAIN_SEPARATOR = "\n"
PLAIN_TURN_SEPARATOR = "\n\n"


def _role(role: str) -> str:
    return PLAIN_ROLES.get(role, role[:1].upper() + role[1:])


def plain_prompt(turns: Sequence[dict]) -> str:
    """The prompt turns ``[{"role", "content"}, ...]`` in the plain format, ending with the assistant cue and its
    separator (see the module docstring)."""
    body = PLAIN_TURN_SEPARATOR.join(f"{_role(str(t['role']))}:\n{t['content']}" for t in turns)
    return (body + PLAIN_TURN_SEPARATOR if body else "") + PLAIN_CUE + PLAIN_SEPARATOR


def plain_reply(text: str) -> str:
    """A reply as it follows a plain prompt: without leading whitespace."""
    return (text or "").lstrip()


class ChatTemplate:
    """A tokenizer's chat template. ``source``: a local tokenizer folder, a ``.gguf`` file or a hub id. Loading
    costs ~1 s for a folder, ~10-20 s for a GGUF file (its tokenizer is rebuilt from the GGUF metadata)."""

    def __init__(self, source: str) -> None:
        from transformers import AutoTokenizer

        self.source = str(source)
        p = Path(self.source).expanduser()
        try:
            if p.is_file() and p.suffix == ".gguf":
                tok = AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name)
            else:
                tok = AutoTokenizer.from_pretrained(str(p) if p.exists() else self.source)
        except Exception as exc:  # transformers raises many kinds; report one clear error
            raise CurationError(f"could not load the tokenizer {self.source!r} for the chat template ({exc}); pass "
                                "a local tokenizer folder, a .gguf file or a hub id (online), or leave --tokenizer "
                                "out for the plain format") from None
        if not getattr(tok, "chat_template", None):
            raise CurationError(f"tokenizer {self.source!r} has no chat template; pass one that has (an instruct or "
                                "chat model's tokenizer), or leave --tokenizer out for the plain format")
        self.tokenizer = tok
        self.template_sha256 = hashlib.sha256(str(tok.chat_template).encode("utf-8")).hexdigest()

    def render(self, turns: list[dict], replies: Sequence[str]) -> tuple[str, list[str]]:
        """(prompt, [reply text for each of ``replies``]) rendered with the template."""
        tok = self.tokenizer
        prompt = tok.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
        out = []
        for r in replies:
            full = tok.apply_chat_template(turns + [{"role": "assistant", "content": r or ""}], tokenize=False)
            if not full.startswith(prompt):
                raise CurationError(f"the chat template of {self.source!r} renders the conversation so that it does "
                                    "not start with the rendered prompt; this template cannot make prompt/reply "
                                    "strings; use another tokenizer or the plain format")
            out.append(full[len(prompt):])
        return prompt, out

    def describe(self) -> dict[str, Any]:
        return {"kind": "chat_template", "tokenizer": self.source, "template_sha256": self.template_sha256}


@lru_cache(maxsize=4)
def chat_template(source: str) -> ChatTemplate:
    """The (cached) :class:`ChatTemplate` of ``source``."""
    return ChatTemplate(source)


def describe_plain() -> dict[str, Any]:
    return {"kind": "plain", "roles": PLAIN_ROLES, "cue": PLAIN_CUE, "separator": PLAIN_SEPARATOR,
            "turn_separator": PLAIN_TURN_SEPARATOR}
