"""The public generators: ``generate_demo`` (records, planted defects, ground truth), ``write_demo`` and the fast
``synthetic_records`` stream for benchmarks."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from curation.demo.common import CATEGORIES, CATEGORY_WEIGHTS, _pick
from curation.demo.defects import _HTML_WRAPPERS, _near_copy, _repetitive, _truncate
from curation.demo.families import _sample
from curation.demo.pool import _Pool
from curation.demo.preference import _conflict_group, _helpful_pair, _prompt_text, _risky_pair


@dataclass
class DemoData:
    """Generated demo dataset.

    Attributes:
        sft: SFT records ``{"id", "instruction", "input", "output", "category"}``.
        pref: Preference records ``{"id", "prompt", "chosen", "rejected", "type"}``.
        truth: Ground truth for the planted defects (see :func:`generate_demo`).
    """

    sft: list[dict[str, str]] = field(default_factory=list)
    pref: list[dict[str, str]] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)


def _largest_remainder(total: int, weights: tuple[int, ...] | list[float]) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights``."""
    s = float(sum(weights))
    raw = [total * w / s for w in weights]
    base = [int(x) for x in raw]
    rest = total - sum(base)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[:rest]:
        base[i] += 1
    return base


def _defect_plan(n_sft: int) -> dict[str, int]:
    """How many records of each defect type to plant for an ``n_sft``-sized set."""
    s = n_sft / 3000.0
    plan = {
        "exact_copies": round(60 * s),
        "near_pairs": round(80 * s),
        "empty": round(20 * s),
        "truncated": round(30 * s),
        "repetitive": round(30 * s),
        "off_topic": round(30 * s),
        "html": 3 if n_sft >= 40 else (1 if n_sft >= 10 else 0),
    }
    # never let defects dominate tiny datasets
    while n_sft and (plan["exact_copies"] + 2 * plan["near_pairs"] + sum(
            v for k, v in plan.items() if k not in ("exact_copies", "near_pairs"))) > n_sft // 3:
        k = max(plan, key=lambda x: plan[x])
        if plan[k] == 0:
            break
        plan[k] -= 1
    return plan


def generate_demo(*, n_sft: int = 3000, n_pref: int = 300, seed: int = 0) -> DemoData:
    """Generate the demo SFT set, preference pairs and ground truth.

    Args:
        n_sft: Total number of SFT records (defective records included). Category
            sizes follow :data:`CATEGORY_WEIGHTS` (900/700/500/350/250/150/100/50
            for the default 3000).
        n_pref: Total number of preference pairs.
        seed: Seed for ``random.Random``; the same seed always yields identical data.

    Returns:
        A :class:`DemoData`. ``truth`` has the keys ``exact_duplicates`` (groups of
        ids with identical instruction/input/output), ``near_duplicates`` (``[original,
        edited_copy]`` id pairs: a word swapped for a synonym or two words swapped,
        sometimes plus a punctuation/casing/whitespace tweak), ``empty``,
        ``truncated``, ``repetitive``, ``off_topic`` (answer taken from another
        category), ``html`` (instruction contains ``<script>`` / ``<b>`` markup) as id
        lists, ``conflicting_prompts`` (groups of preference ids sharing one prompt
        whose chosen/rejected labels contradict each other), ``category_counts`` and
        ``seed``. Defect sets are disjoint, and apart from the planted groups every
        record's instruction/input is unique and every preference prompt is unique.
    """
    if n_sft < 0 or n_pref < 0:
        raise ValueError("n_sft and n_pref must be non-negative")
    r = random.Random(seed)
    counts = _largest_remainder(n_sft, CATEGORY_WEIGHTS)
    slots = [c for c, k in zip(CATEGORIES, counts) for _ in range(k)]
    r.shuffle(slots)

    # --- assign roles to slot indices ------------------------------------
    free: dict[str, list[int]] = {c: [] for c in CATEGORIES}
    for i, c in enumerate(slots):
        free[c].append(i)
    for c in CATEGORIES:
        r.shuffle(free[c])

    def take(k: int) -> tuple[str, list[int]] | None:
        """Pop ``k`` slot indices of one category, keeping >= half of each category clean."""
        cands = [c for c in CATEGORIES if len(free[c]) - k >= (counts[CATEGORIES.index(c)] + 1) // 2]
        if not cands:
            return None
        c = r.choices(cands, weights=[len(free[x]) for x in cands])[0]
        return c, [free[c].pop() for _ in range(k)]

    plan = _defect_plan(n_sft)
    roles: dict[int, tuple[str, Any]] = {}
    exact_groups: list[list[int]] = []
    left = plan["exact_copies"]
    while left > 0:
        g = min(left, 1 if r.random() < 0.6 else 2)
        got = take(1 + g)
        if got is None:
            break
        _, idx = got
        exact_groups.append(idx)
        for j in idx[1:]:
            roles[j] = ("exact", idx[0])
        left -= g
    near_pairs: list[tuple[int, int]] = []
    for _ in range(plan["near_pairs"]):
        got = take(2)
        if got is None:
            break
        a, b = got[1]
        near_pairs.append((a, b))
        roles[b] = ("near", a)
    singles: dict[str, list[int]] = {}
    for kind in ("empty", "truncated", "repetitive", "off_topic", "html"):
        singles[kind] = []
        for _ in range(plan[kind]):
            got = take(1)
            if got is None:
                break
            singles[kind].append(got[1][0])
            roles[got[1][0]] = (kind, None)

    # --- generate content in slot order (deterministic) ------------------
    pool = _Pool(r)
    recs: list[dict[str, str] | None] = [None] * n_sft
    width = max(5, len(str(n_sft)))

    def rid(i: int) -> str:
        """Record id for slot ``i``."""
        return f"demo-sft-{i + 1:0{width}d}"

    for i, cat in enumerate(slots):
        role = roles.get(i)
        if role is not None and role[0] in ("exact", "near"):
            continue
        kind = role[0] if role else "clean"
        instr, inp, out, _, _ = pool.draw(cat, want_prose=kind in ("truncated", "repetitive"))
        if kind == "empty":
            out = ""
        elif kind == "truncated":
            out = _truncate(r, out)
        elif kind == "repetitive":
            out = _repetitive(r, out)
        elif kind == "off_topic":
            other = _pick(r, [c for c in CATEGORIES if c != cat])
            out = pool.draw(other).output
        elif kind == "html":
            wrap = _HTML_WRAPPERS[len([j for j in singles["html"] if j < i]) % len(_HTML_WRAPPERS)]
            instr = wrap.format(instr=instr)
        recs[i] = {"id": rid(i), "instruction": instr, "input": inp, "output": out, "category": cat}
    for i, (kind, src) in sorted(roles.items()):
        if kind == "exact":
            recs[i] = {**recs[src], "id": rid(i)}  # type: ignore[dict-item]
        elif kind == "near":
            base = recs[src]
            assert base is not None
            recs[i] = {**_near_copy(r, base), "id": rid(i)}
    sft = [rec for rec in recs if rec is not None]
    assert len(sft) == n_sft

    # --- preference pairs -------------------------------------------------
    pref_raw: list[dict[str, str]] = []
    conflict_idx: list[list[int]] = []
    # preference prompts never repeat an SFT prompt, so the two files share no identical examples
    seen_prompts: set[str] = {_prompt_text(x["instruction"], x["input"]) for x in sft}
    n_groups = 0 if n_pref < 6 else max(1, round(n_pref * 5 / 300))
    for _ in range(n_groups):
        size = 2 if r.random() < 0.6 else 3
        if len(pref_raw) + size > n_pref:
            break
        for _ in range(100):
            prompt, a, b = _conflict_group(r)
            if prompt not in seen_prompts:
                break
        else:
            break
        seen_prompts.add(prompt)
        order = [(a, b), (b, a)] + ([_pick(r, [(a, b), (b, a)])] if size == 3 else [])
        grp = []
        for ch, rj in order:
            grp.append(len(pref_raw))
            pref_raw.append({"prompt": prompt, "chosen": ch, "rejected": rj, "type": "helpful"})
        conflict_idx.append(grp)
    remaining = n_pref - len(pref_raw)
    n_harmless = round(remaining * 0.35)
    for j in range(remaining):
        for _ in range(200):
            if j < n_harmless:
                prompt, ch, rj = _risky_pair(r)
                typ = "harmless"
            else:
                prompt, ch, rj = _helpful_pair(r)
                typ = "helpful"
            if prompt not in seen_prompts and ch != rj:
                break
        seen_prompts.add(prompt)
        pref_raw.append({"prompt": prompt, "chosen": ch, "rejected": rj, "type": typ})
    order = list(range(len(pref_raw)))
    r.shuffle(order)
    pos = {old: new for new, old in enumerate(order)}
    pwidth = max(4, len(str(n_pref)))
    pref = []
    for new, old in enumerate(order):
        p = pref_raw[old]
        pref.append({"id": f"demo-pref-{new + 1:0{pwidth}d}", "prompt": p["prompt"], "chosen": p["chosen"],
                     "rejected": p["rejected"], "type": p["type"]})
    conflicts = [sorted(pref[pos[i]]["id"] for i in grp) for grp in conflict_idx]

    truth: dict[str, Any] = {
        "exact_duplicates": [sorted(rid(i) for i in g) for g in exact_groups],
        "near_duplicates": [[rid(a), rid(b)] for a, b in near_pairs],  # [original, edited copy]
        "empty": sorted(rid(i) for i in singles["empty"]),
        "truncated": sorted(rid(i) for i in singles["truncated"]),
        "repetitive": sorted(rid(i) for i in singles["repetitive"]),
        "off_topic": sorted(rid(i) for i in singles["off_topic"]),
        "html": sorted(rid(i) for i in singles["html"]),
        "conflicting_prompts": sorted(conflicts),
        "category_counts": {c: k for c, k in zip(CATEGORIES, counts)},
        "seed": seed,
    }
    truth["exact_duplicates"].sort()
    truth["near_duplicates"].sort()
    return DemoData(sft=sft, pref=pref, truth=truth)


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write rows as UTF-8 JSON lines with a trailing newline."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False))
            fh.write("\n")


def write_demo(out_dir: str | Path, *, n_sft: int = 3000, n_pref: int = 300, seed: int = 0) -> dict[str, Path]:
    """Generate the demo data and write it to ``out_dir``.

    Files written: ``demo_sft.jsonl``, ``demo_pref.jsonl`` and ``demo_truth.json``
    (UTF-8, ``ensure_ascii=False``; identical bytes for identical arguments).

    Returns:
        ``{"sft": path, "pref": path, "truth": path}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = generate_demo(n_sft=n_sft, n_pref=n_pref, seed=seed)
    paths = {"sft": out / "demo_sft.jsonl", "pref": out / "demo_pref.jsonl", "truth": out / "demo_truth.json"}
    _write_jsonl(paths["sft"], data.sft)
    _write_jsonl(paths["pref"], data.pref)
    with open(paths["truth"], "w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps(data.truth, ensure_ascii=False, indent=2))
        fh.write("\n")
    return paths


def synthetic_records(n: int, *, seed: int = 0, dup_rate: float = 0.0) -> Iterator[dict[str, str]]:
    """Yield ``n`` Alpaca-shaped records quickly, for benchmarks.

    Uses the same templates as :func:`generate_demo` (with the same category
    imbalance) but skips similarity filtering and defect planting, so it runs at
    tens of thousands of records per second.  Natural template collisions mean
    large streams contain some exact and near duplicates anyway.

    Args:
        n: Number of records to yield.
        seed: Seed for ``random.Random``.
        dup_rate: Probability that a record is an exact copy (new id) of an
            earlier one, to give dedup benchmarks a known floor of duplicates.

    Yields:
        ``{"id": "syn-0000001", "instruction", "input", "output", "category"}``.
    """
    r = random.Random(seed)
    cum: list[float] = []
    acc = 0
    for w in CATEGORY_WEIGHTS:
        acc += w
        cum.append(acc)
    width = max(7, len(str(n)))
    recent: list[dict[str, str]] = []
    for i in range(n):
        rec_id = f"syn-{i + 1:0{width}d}"
        if recent and dup_rate > 0 and r.random() < dup_rate:
            src = recent[r.randrange(len(recent))]
            yield {**src, "id": rec_id}
            continue
        cat = r.choices(CATEGORIES, cum_weights=cum)[0]
        instr, inp, out, _, _ = _sample(r, cat)
        rec = {"id": rec_id, "instruction": instr, "input": inp, "output": out, "category": cat}
        if dup_rate > 0:
            if len(recent) < 1000:
                recent.append(rec)
            else:
                recent[r.randrange(1000)] = rec
        yield rec
