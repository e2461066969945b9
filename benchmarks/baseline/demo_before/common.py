"""The demo generator's shared pieces: the record type (``Sample``), the categories and their sizes, small
text helpers and the loader of the word lists and templates in ``data/*.json``."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Callable, NamedTuple

DATA_DIR = Path(__file__).resolve().parent / "data"


def load_data(name: str) -> dict[str, Any]:
    """The word lists and templates of one generator module, from ``curation/demo/data/<name>.json``."""
    path = DATA_DIR / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"{path}: the demo generator's data file cannot be read ({exc}); restore it from the "
                           "project's checkout (git checkout -- curation/demo/data)") from exc


_DATA = load_data("common")

Rng = random.Random


class Sample(NamedTuple):
    """One generated example.

    ``wrong`` is an optional plausible-but-incorrect answer (used as a rejected
    response in preference pairs); ``key`` names the template variant for
    families whose variants differ only in numbers or slot words, so the SFT
    generator can cap how often the same variant appears.
    """

    instruction: str
    input: str
    output: str
    wrong: str | None = None
    key: str = ""


Family = Callable[[Rng], Sample]

CATEGORIES: tuple[str, ...] = (
    "coding",
    "math",
    "cooking",
    "travel",
    "health",
    "finance",
    "writing",
    "science",
)
#: Relative sizes giving a deliberate class imbalance (sums to 3000).
CATEGORY_WEIGHTS: tuple[int, ...] = (900, 700, 500, 350, 250, 150, 100, 50)

_NAMES = _DATA["names"]


def _pick(r: Rng, seq: list[Any] | tuple[Any, ...]) -> Any:
    """Return one element of ``seq`` using ``r`` (thin wrapper over ``choice``)."""
    return seq[r.randrange(len(seq))]


def _money(v: float) -> str:
    """Format a dollar amount, dropping cents for whole numbers."""
    if abs(v - round(v)) < 1e-9:
        return f"${round(v):,}"
    return f"${v:,.2f}"


def _num(v: float, nd: int = 2) -> str:
    """Format a number with at most ``nd`` decimals and no trailing zeros."""
    if abs(v - round(v)) < 1e-9:
        return str(int(round(v)))
    return f"{v:.{nd}f}".rstrip("0").rstrip(".")


def _cap(text: str) -> str:
    """Upper-case the first character only."""
    return text[:1].upper() + text[1:]


def _join_and(items: list[str]) -> str:
    """Join words as natural English: 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _maybe(r: Rng, p: float, text: str) -> str:
    """Return ``text`` with probability ``p``, else an empty string."""
    return text if r.random() < p else ""


def _para(*parts: str) -> str:
    """Join non-empty sentence fragments with single spaces."""
    return " ".join(p.strip() for p in parts if p and p.strip())
