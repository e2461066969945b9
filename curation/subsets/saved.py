"""Saved subsets: a :class:`~curation.subsets.spec.SubsetSpec` kept in the workspace under a name, versioned, shared by
every session, page and command.

Saving freezes the spec's pins at the current position of the decision log (``pins_as_of``), so a saved version
resolves to the same rows for ever, whatever is pinned later; :func:`newer_decisions` tells how many pin decisions
came after it (the dashboard then offers to save a new version with the current decisions). Saving a name again
appends version ``n + 1``; versions are never changed or reused, and deleting a name only hides it (``subset list
--all`` and ``NAME@VERSION`` still reach it). Each version also records the row count, token count and a sha256 of
its example ids, so a later resolution that differs (a ranking recomputed, a dataset removed) is reported, not
silently used (:func:`drift`).

:func:`diff` compares two subsets (two versions, two names, or a version and the unsaved draft): the rows added and
removed, each with the reason (a pin and who made it, the ranking, the dataset restriction, the class quota or the
budget), the class-count shift and the token-count shift.

Names are shown to people in pages, tables, datasheets and file manifests, so they are checked at the boundary
(:func:`validate_name`): not empty, at most :data:`NAME_MAX` characters, no path separators, control characters or
``@`` (it separates the version in ``NAME@VERSION``). Quotes, ``<``, ``>`` and ``&`` are allowed and stored as
given (every query is parameterised); every view escapes them.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from curation.core.errors import CurationError
from curation.store import Workspace
from curation.subsets.spec import Subset, SubsetSpec, resolve

NAME_MAX = 100
NOTE_MAX = 10_000
WHO_MAX = 200
PIN_ACTIONS = ("include", "exclude", "unpin")
_REF_RE = re.compile(r"^(?P<name>.*?)(?:@(?P<version>[^@]*))?$", re.DOTALL)


# ---------------------------------------------------------------------------------------------------- names
def _shown(text: str, n: int = 40) -> str:
    """A short, printable rendering of user text for error messages (repr, truncated)."""
    r = repr(text)
    return r if len(r) <= n else r[: n - 1] + "…"


def validate_name(name: object) -> str:
    """The name, stripped of surrounding spaces, or a CurationError saying what is wrong and what to do.

    Refused: not a string, empty, longer than :data:`NAME_MAX` characters, path separators (``/``, ``\\``),
    control or other invisible format characters, ``@`` (it separates the version), and names made only of dots.
    """
    if not isinstance(name, str):
        raise CurationError(f"a subset name must be text, got {type(name).__name__}")
    s = name.strip()
    if not s:
        raise CurationError("a subset name must not be empty; pass a name such as 'math-heavy-v1'")
    if len(s) > NAME_MAX:
        raise CurationError(f"subset name {_shown(s)} is {len(s):,} characters long; the limit is {NAME_MAX}. "
                            "Put the description in the note instead")
    bad = sorted({c for c in s if c in "/\\@" or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise CurationError(f"subset name {_shown(s)} contains {shown}; names may not contain '/', '\\', '@' "
                            "(it separates the version: NAME@3) or control characters. Use letters, digits, "
                            "spaces, '-', '_' or '.'")
    if set(s) == {"."}:
        raise CurationError(f"subset name {s!r} is only dots; pass a name such as 'math-heavy-v1'")
    return s


def validate_note(note: object) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        raise CurationError(f"a note must be text, got {type(note).__name__}")
    s = note.strip()
    if len(s) > NOTE_MAX:
        raise CurationError(f"the note is {len(s):,} characters long; the limit is {NOTE_MAX:,}")
    return s or None


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``"NAME"`` → (NAME, None = the newest version); ``"NAME@3"`` → (NAME, 3)."""
    if not isinstance(ref, str):
        raise CurationError(f"a subset reference must be text like NAME or NAME@3, got {type(ref).__name__}")
    m = _REF_RE.match(ref.strip())
    assert m is not None
    name, v = m.group("name"), m.group("version")
    name = validate_name(name)
    if v is None:
        return name, None
    v = v.strip().lstrip("vV")
    if not v.isdigit() or int(v) < 1:
        raise CurationError(f"subset reference {_shown(ref)}: the version after '@' must be a whole number >= 1, "
                            f"e.g. {name}@2")
    return name, int(v)


# ---------------------------------------------------------------------------------------------------- saved versions
@dataclass(frozen=True)
class SavedSubset:
    """One stored version. spec: its SubsetSpec with ``pins_as_of`` = ``decision_pos`` (frozen pins).
    n_rows / n_tokens / ids_sha256: what it resolved to when saved (sha256 of its example ids, newline-joined, in
    subset order)."""

    name: str
    version: int
    spec: SubsetSpec
    decision_pos: int
    who: str
    at: pd.Timestamp
    note: str | None = None
    n_rows: int | None = None
    n_tokens: int | None = None
    ids_sha256: str | None = None
    hidden: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def from_row(cls, row: dict) -> SavedSubset:
        spec = row["spec"]
        if isinstance(spec, str):
            spec = json.loads(spec)

        def opt_int(v: Any) -> int | None:
            return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else int(v)

        note = row.get("note")
        return cls(name=str(row["name"]), version=int(row["version"]), spec=SubsetSpec.from_dict(spec),
                   decision_pos=int(row["decision_pos"]), who=str(row["who"]), at=pd.Timestamp(row["at"]),
                   note=None if note is None or (isinstance(note, float) and np.isnan(note)) else str(note),
                   n_rows=opt_int(row.get("n_rows")), n_tokens=opt_int(row.get("n_tokens")),
                   ids_sha256=row.get("ids_sha256") or None, hidden=bool(row.get("hidden", False)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description (for `subset show --json`, manifests and datasheets)."""
        return {"name": self.name, "version": self.version, "ref": self.ref, "spec": self.spec.to_dict(),
                "decision_pos": self.decision_pos, "who": self.who, "at": self.at.isoformat(), "note": self.note,
                "n_rows": self.n_rows, "n_tokens": self.n_tokens, "ids_sha256": self.ids_sha256,
                "hidden": self.hidden}


def ids_sha256(ws: Workspace, row_ids: np.ndarray) -> tuple[str, int]:
    """(sha256 of the example ids of ``row_ids`` in that order, newline-joined; their total tokens)."""
    ids = np.asarray(row_ids, dtype=np.int64)
    df = ws.examples(["row_id", "example_id", "n_tokens"], row_ids=ids).set_index("row_id").reindex(ids)
    h = hashlib.sha256("\n".join(df["example_id"].astype(str).tolist()).encode("utf-8")).hexdigest()
    return h, int(np.nansum(df["n_tokens"].to_numpy(np.float64, na_value=np.nan)))


def freeze(ws: Workspace, spec: SubsetSpec) -> SubsetSpec:
    """The spec with its pins frozen at the current decision-log position (unchanged when already frozen)."""
    if spec.pins_as_of is not None:
        return spec
    return spec.replace(pins_as_of=ws.last_decision_id())


def save(ws: Workspace, name: str, spec: SubsetSpec, *, who: str, note: str | None = None) -> SavedSubset:
    """Save ``spec`` as the next version of ``name`` (version 1 for a new name) and return it.

    The spec's ranking is stored by its full key (a short id like ``facility-1``, a method name or a unique prefix
    is resolved first). The spec's pins are frozen at the current decision (unless it already names a position); the
    spec is resolved
    once, so a spec that cannot be resolved (unknown ranking, bad quota) is refused before anything is written.
    Concurrent saves of one name get consecutive versions (see :meth:`Workspace.save_subset`).
    """
    name = validate_name(name)
    note = validate_note(note)
    if not isinstance(who, str) or not who.strip():
        raise CurationError("saving a subset needs who saves it (a curator name)")
    who = who.strip()[:WHO_MAX]
    if spec.ranking is not None:  # a short id, method name or prefix: store the full key every view matches
        spec = spec.replace(ranking=ws.ranking_key(spec.ranking))
    spec = freeze(ws, spec)
    sub = resolve(ws, spec)
    sha, tokens = ids_sha256(ws, sub.row_ids)
    row = ws.save_subset(name, spec.to_dict(), decision_pos=int(spec.pins_as_of), who=who, note=note,
                         n_rows=len(sub.row_ids), n_tokens=tokens, ids_sha256=sha)
    return SavedSubset.from_row(row)


def _names_hint(ws: Workspace) -> str:
    names = sorted(set(ws.saved_subsets()["name"]))
    shown = names[:10] + (["..."] if len(names) > 10 else [])
    return f"saved subsets are {shown}" if names else "no subset is saved yet (python -m curation subset save NAME ...)"


def load(ws: Workspace, ref: str | tuple[str, int | None]) -> SavedSubset:
    """A saved version from ``"NAME"`` (its newest visible version), ``"NAME@3"`` or (name, version)."""
    name, version = parse_ref(ref) if isinstance(ref, str) else (validate_name(ref[0]), ref[1])
    row = ws.saved_subset(name, version)
    if row is None:
        if version is not None and ws.saved_subset(name) is not None or \
                version is not None and not ws.saved_subsets(name, include_hidden=True).empty:
            have = ws.saved_subsets(name, include_hidden=True)["version"].tolist()
            raise CurationError(f"subset {name!r} has no version {version}; its versions are {have}")
        hidden = ws.saved_subsets(name, include_hidden=True)
        if not hidden.empty:
            raise CurationError(f"subset {name!r} was deleted (hidden); its versions "
                                f"{hidden['version'].tolist()} are kept: open one as {name}@VERSION")
        raise CurationError(f"no saved subset {name!r} in {ws.path}; {_names_hint(ws)}")
    return SavedSubset.from_row(row)


def versions(ws: Workspace, name: str, *, include_hidden: bool = True) -> list[SavedSubset]:
    """Every version of ``name``, oldest first (hidden ones too unless ``include_hidden=False``)."""
    df = ws.saved_subsets(validate_name(name), include_hidden=include_hidden)
    return [SavedSubset.from_row(r) for r in df.to_dict("records")]


def listing(ws: Workspace, *, include_hidden: bool = False) -> pd.DataFrame:
    """One row per saved name: name, versions (count), latest (version), rows, tokens, who, at, note, hidden
    (of the newest version), ordered by name."""
    df = ws.saved_subsets(include_hidden=include_hidden)
    cols = ["name", "versions", "latest", "rows", "tokens", "who", "at", "note", "hidden"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    last = df.sort_values(["name", "version"]).groupby("name", sort=True).tail(1).set_index("name")
    out = pd.DataFrame({"name": last.index, "versions": df.groupby("name")["version"].count().reindex(last.index),
                        "latest": last["version"], "rows": last["n_rows"], "tokens": last["n_tokens"],
                        "who": last["who"], "at": last["at"], "note": last["note"], "hidden": last["hidden"]})
    return out.reset_index(drop=True)


def all_refs(ws: Workspace, *, include_hidden: bool = False) -> list[str]:
    """``NAME@VERSION`` of every saved version, newest version first within a name, names sorted."""
    df = ws.saved_subsets(include_hidden=include_hidden)
    if df.empty:
        return []
    df = df.sort_values(["name", "version"], ascending=[True, False])
    return [f"{n}@{int(v)}" for n, v in zip(df["name"], df["version"])]


def hide(ws: Workspace, ref: str, *, who: str) -> int:
    """Hide a name (all its versions) or one version ``NAME@V``; nothing is deleted. Returns versions hidden."""
    name, version = parse_ref(ref)
    if ws.saved_subsets(name, include_hidden=True).empty:
        raise CurationError(f"no saved subset {name!r} in {ws.path}; {_names_hint(ws)}")
    if version is not None and ws.saved_subset(name, version) is None:
        have = ws.saved_subsets(name, include_hidden=True)["version"].tolist()
        raise CurationError(f"subset {name!r} has no version {version}; its versions are {have}")
    return ws.hide_subset(name, version, who=who)


def resolve_saved(ws: Workspace, saved: SavedSubset | str, **preloaded: Any) -> Subset:
    """The rows of a saved version (its frozen spec through :func:`curation.subsets.spec.resolve`)."""
    s = load(ws, saved) if isinstance(saved, str) else saved
    return resolve(ws, s.spec, **preloaded)


def drift(ws: Workspace, saved: SavedSubset, sub: Subset | None = None) -> str | None:
    """None when the version still resolves to the rows it had when saved; else a sentence saying what changed
    (the ranking was recomputed, a dataset was removed, ...) and what to do."""
    if saved.ids_sha256 is None:
        return None
    sub = resolve_saved(ws, saved) if sub is None else sub
    sha, _ = ids_sha256(ws, sub.row_ids)
    if sha == saved.ids_sha256:
        return None
    return (f"subset {saved.ref} had {saved.n_rows:,} rows when saved and now resolves to {len(sub.row_ids):,} "
            "different or reordered rows: its ranking or the examples it draws from changed since. Save a new "
            "version to keep the current rows, or recompute the ranking it names")


def newer_decisions(ws: Workspace, saved: SavedSubset) -> int:
    """How many pin decisions (include / exclude / unpin) were made after the saved version froze its pins."""
    return ws.count_decisions_after(saved.decision_pos, actions=PIN_ACTIONS)


# ---------------------------------------------------------------------------------------------------- diff
_STEPS = ("pins", "pool", "ranking", "quota", "budget")
REASONS = {
    "pin": "a pin on this row",
    "pins_room": "other pins changed the room left in the budget",
    "pool": "the dataset restriction changed",
    "ranking": "the ranking changed",
    "quota": "the class quota changed",
    "budget": "the budget changed",
}


@dataclass
class SubsetDiff:
    """What changed from subset A to subset B.

    added / removed: one row per row id (row_id, example_id, label, n_tokens, reason, detail, who, decision_id);
    ``reason`` is a key of :data:`REASONS`, ``detail`` says it for people (who pinned, ranks, budgets).
    classes: class, a, b, change (row counts). tokens: {"a", "b", "change"}. steps: the parts of the spec that
    differ, in the order they are attributed (pins, pool, ranking, quota, budget) with their A and B values.
    groups: what the classes are: "label", or for rows without labels the report card's groups: the stored
    embedding clusters' key (classes "cluster N"), else "dataset".
    """

    a: str
    b: str
    n_a: int
    n_b: int
    added: pd.DataFrame
    removed: pd.DataFrame
    classes: pd.DataFrame
    tokens: dict[str, int]
    steps: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    groups: str = "label"

    def reason_counts(self) -> dict[str, dict[str, int]]:
        return {"added": {k: int(v) for k, v in self.added["reason"].value_counts().items()},
                "removed": {k: int(v) for k, v in self.removed["reason"].value_counts().items()}}

    def to_dict(self, *, max_rows: int | None = None) -> dict[str, Any]:
        """JSON-safe: every added/removed row (or the first ``max_rows``), class and token shifts."""
        def rows(df: pd.DataFrame) -> list[dict]:
            d = df if max_rows is None else df.head(max_rows)
            return json.loads(d.to_json(orient="records"))
        return {"a": self.a, "b": self.b, "n_a": self.n_a, "n_b": self.n_b, "n_added": len(self.added),
                "n_removed": len(self.removed), "n_unchanged": self.unchanged, "steps": self.steps,
                "groups": self.groups,
                "reasons": self.reason_counts(), "tokens": self.tokens,
                "classes": json.loads(self.classes.to_json(orient="records")),
                "added": rows(self.added), "removed": rows(self.removed)}

    def summary(self) -> str:
        """One line: counts and the reasons."""
        rc = self.reason_counts()

        def part(d: dict[str, int]) -> str:
            return ", ".join(f"{n} {k}" for k, n in sorted(d.items(), key=lambda kv: -kv[1])) or "none"
        return (f"{self.a} → {self.b}: {self.n_a:,} → {self.n_b:,} rows; +{len(self.added):,} ({part(rc['added'])}), "
                f"-{len(self.removed):,} ({part(rc['removed'])}); tokens {self.tokens['a']:,} → "
                f"{self.tokens['b']:,} ({self.tokens['change']:+,})")


def _spec_value(spec: SubsetSpec, step: str) -> Any:
    if step == "pins":
        return spec.pins_as_of
    if step == "pool":
        return list(spec.datasets) if spec.datasets is not None else None
    if step == "ranking":
        return spec.ranking
    if step == "quota":
        return {"quota": spec.quota, "label_column": spec.label_column}
    return {"budget": spec.budget, "unit": spec.unit}


def _apply_step(spec: SubsetSpec, target: SubsetSpec, step: str) -> SubsetSpec:
    if step == "pins":
        return spec.replace(pins_as_of=target.pins_as_of)
    if step == "pool":
        return spec.replace(datasets=target.datasets)
    if step == "ranking":
        return spec.replace(ranking=target.ranking)
    if step == "quota":
        return spec.replace(quota=target.quota, label_column=target.label_column)
    return spec.replace(budget=target.budget, unit=target.unit)


def _fmt_budget(spec: SubsetSpec) -> str:
    if spec.budget is None:
        return "no budget"
    return f"{spec.budget:g}%" if spec.unit == "%" else f"{int(spec.budget):,} {spec.unit}"


def _fmt_quota(spec: SubsetSpec) -> str:
    q = spec.quota
    return "none" if q is None else q if isinstance(q, str) else "custom " + json.dumps(q, sort_keys=True)


def step_text(step: dict[str, Any]) -> str:
    """One part of :attr:`SubsetDiff.steps` for people, e.g. ``budget 10% → 15%``."""
    part, a, b = step["part"], step["a"], step["b"]
    if part == "pins":
        return f"pins as of decision #{a} → #{b}"
    if part == "pool":
        return f"datasets {', '.join(a) if a else 'all'} → {', '.join(b) if b else 'all'}"
    if part == "ranking":
        return f"ranking {a or 'ingest order'} → {b or 'ingest order'}"
    if part == "quota":
        def q(x: dict) -> str:
            v = x.get("quota")
            txt = "none" if v is None else v if isinstance(v, str) else "custom " + json.dumps(v, sort_keys=True)
            return txt if x.get("label_column") in (None, "label") else f"{txt} over {x['label_column']}"
        return f"class quota {q(a)} → {q(b)}"

    def bud(x: dict) -> str:
        v, u = x.get("budget"), x.get("unit")
        return "no budget" if v is None else f"{v:g}%" if u == "%" else f"{int(v):,} {u}"
    return f"budget {bud(a)} → {bud(b)}"


def _pin_changes(ws: Workspace, row_ids: np.ndarray, pos_a: int, pos_b: int) -> pd.DataFrame:
    """Per row id whose pin differs between the two log positions: pin_a, pin_b ("include"/"exclude"/None) and
    the newest pin decision between the positions (decision_id, action, who, why, at)."""
    lo, hi = min(pos_a, pos_b), max(pos_a, pos_b)
    pa = ws.pins(as_of=pos_a).set_index("row_id")["pin"]
    pb = ws.pins(as_of=pos_b).set_index("row_id")["pin"]
    ids = pd.Index(np.asarray(row_ids, dtype=np.int64))
    out = pd.DataFrame({"pin_a": pa.reindex(ids).to_numpy(object), "pin_b": pb.reindex(ids).to_numpy(object)},
                       index=ids)
    log = ws.pin_decisions_between(lo, hi, row_ids=ids.to_numpy())
    last = log.sort_values("id").groupby("row_id").tail(1).set_index("row_id")
    out = out.join(last[["id", "action", "who", "why", "at"]].rename(columns={"id": "decision_id"}))
    return out


def _pin_word(p: Any) -> str:
    return "no pin" if p is None or (isinstance(p, float) and np.isnan(p)) else f"{p} pin"


def diff(ws: Workspace, a: SubsetSpec | SavedSubset, b: SubsetSpec | SavedSubset, *, label_a: str | None = None,
         label_b: str | None = None) -> SubsetDiff:
    """Rows added and removed from ``a`` to ``b``, with the reason for each, and the class and token shifts.

    a, b: saved versions or specs (an unfrozen spec is frozen at the current decision). Attribution: the spec is
    moved from A to B one part at a time (pins, datasets, ranking, quota, budget) and each row is credited to the
    last part whose change moved it to where it ends up; a row that moved with the pins is credited to its own
    pin when its pin changed (with who made it), else to the room the other pins took or gave. The added and
    removed sets themselves are exact set differences of the two resolutions. Cost: one resolution per part
    that differs, plus the decision-log reads.
    """
    with ws.connect():  # one connection for every read below
        return _diff(ws, a, b, label_a, label_b)


def _diff(ws: Workspace, a: SubsetSpec | SavedSubset, b: SubsetSpec | SavedSubset, label_a: str | None,
          label_b: str | None) -> SubsetDiff:
    def side(x: SubsetSpec | SavedSubset, label: str | None, default: str) -> tuple[SubsetSpec, str]:
        if isinstance(x, SavedSubset):
            return x.spec, label or x.ref
        if not isinstance(x, SubsetSpec):
            raise CurationError(f"diff: expected a SubsetSpec or a SavedSubset, got {type(x).__name__}")
        return freeze(ws, x), label or default

    spec_a, la = side(a, label_a, "A")
    spec_b, lb = side(b, label_b, "B")
    steps = [s for s in _STEPS if _spec_value(spec_a, s) != _spec_value(spec_b, s)]
    chain = [spec_a]
    for s in steps:
        chain.append(_apply_step(chain[-1], spec_b, s))
    subs = [resolve(ws, sp) for sp in chain]
    rows_a, rows_b = subs[0].row_ids, subs[-1].row_ids
    added = np.setdiff1d(rows_b, rows_a, assume_unique=False)
    removed = np.setdiff1d(rows_a, rows_b, assume_unique=False)
    changed = np.concatenate([added, removed])
    # membership of each changed row after each step; credit = last step whose change flipped it
    member = np.stack([np.isin(changed, s.row_ids) for s in subs]) if len(changed) else np.zeros((len(subs), 0), bool)
    credit = np.full(len(changed), -1, dtype=np.int64)
    for j in range(1, len(subs)):
        credit[member[j] != member[j - 1]] = j - 1
    meta = ws.examples(["row_id", "example_id", "label", "n_tokens"], row_ids=changed).set_index("row_id")
    pins = _pin_changes(ws, changed, spec_a.pins_as_of, spec_b.pins_as_of) if "pins" in steps else None
    rank_a = _rank_lookup(subs[0])
    rank_b = _rank_lookup(subs[-1])
    reason = np.empty(len(changed), dtype=object)
    detail = np.empty(len(changed), dtype=object)
    who = np.full(len(changed), None, dtype=object)
    dec = np.full(len(changed), None, dtype=object)
    for i, rid in enumerate(changed.tolist()):
        st = steps[credit[i]] if credit[i] >= 0 else "budget"
        if st == "pins":
            pc = pins.loc[rid] if pins is not None and rid in pins.index else None
            if pc is not None and _pin_word(pc["pin_a"]) != _pin_word(pc["pin_b"]):
                reason[i] = "pin"
                did = pc.get("decision_id")
                has = did is not None and not (isinstance(did, float) and np.isnan(did))
                by = f" by {pc['who']} (decision #{int(did)}" + (f": {pc['why']}" if isinstance(pc["why"], str)
                                                                  and pc["why"] else "") + ")" if has else ""
                detail[i] = f"{_pin_word(pc['pin_a'])} in {la} → {_pin_word(pc['pin_b'])} in {lb}{by}"
                who[i] = pc["who"] if has else None
                dec[i] = int(did) if has else None
            else:
                reason[i] = "pins_room"
                detail[i] = (f"pins as of decision #{spec_a.pins_as_of} → #{spec_b.pins_as_of} changed the room "
                             "left in the budget")
        elif st == "pool":
            reason[i] = "pool"
            detail[i] = f"datasets {_spec_value(spec_a, 'pool') or 'all'} → {_spec_value(spec_b, 'pool') or 'all'}"
        elif st == "ranking":
            reason[i] = "ranking"
            detail[i] = (f"rank {rank_a(rid)} in {spec_a.ranking or 'ingest order'} → rank {rank_b(rid)} in "
                         f"{spec_b.ranking or 'ingest order'}")
        elif st == "quota":
            reason[i] = "quota"
            detail[i] = f"class quota {_fmt_quota(spec_a)} → {_fmt_quota(spec_b)} (class {meta.at[rid, 'label']!s})"
        else:
            reason[i] = "budget"
            detail[i] = f"budget {_fmt_budget(spec_a)} → {_fmt_budget(spec_b)} (rank {rank_b(rid)})"
    frame = pd.DataFrame({"row_id": changed, "example_id": meta["example_id"].reindex(changed).to_numpy(object),
                          "label": meta["label"].reindex(changed).to_numpy(object),
                          "n_tokens": meta["n_tokens"].reindex(changed).to_numpy(np.float64, na_value=np.nan),
                          "reason": reason, "detail": detail, "who": who, "decision_id": dec})
    tok_a, tok_b = _tokens(ws, rows_a), _tokens(ws, rows_b)
    classes, groups = _class_shift(ws, rows_a, rows_b)
    return SubsetDiff(
        a=la, b=lb, n_a=len(rows_a), n_b=len(rows_b), added=frame.iloc[: len(added)].reset_index(drop=True),
        removed=frame.iloc[len(added):].reset_index(drop=True), classes=classes, groups=groups,
        tokens={"a": tok_a, "b": tok_b, "change": tok_b - tok_a},
        steps=[{"part": s, "a": _spec_value(spec_a, s), "b": _spec_value(spec_b, s)} for s in steps],
        unchanged=int(len(np.intersect1d(rows_a, rows_b))))


def _rank_lookup(sub: Subset) -> Any:  # callable row id -> 1-based rank or "-"
    order = np.asarray(sub.ranking.order, dtype=np.int64)
    pos = pd.Series(np.arange(1, len(order) + 1), index=order)

    def f(rid: int) -> str:
        r = pos.get(rid)
        return "-" if r is None else f"{int(r):,}"
    return f


def _tokens(ws: Workspace, rows: np.ndarray) -> int:
    if not len(rows):
        return 0
    t = ws.examples(["row_id", "n_tokens"], row_ids=rows)["n_tokens"]
    return int(np.nansum(t.to_numpy(np.float64, na_value=np.nan)))


def _class_shift(ws: Workspace, rows_a: np.ndarray, rows_b: np.ndarray) -> tuple[pd.DataFrame, str]:
    """(class, a, b, change) row counts and what the classes are. Labels when any row of A or B has one; else the
    report card's groups: the newest stored embedding clusters (classes "cluster N"), else the dataset."""
    both = np.union1d(rows_a, rows_b)
    meta = ws.examples(["row_id", "label", "dataset"], row_ids=both).set_index("row_id") if len(both) else \
        pd.DataFrame({"label": [], "dataset": []})
    groups = "label"
    cls = meta["label"].astype(object).where(meta["label"].notna(), "(none)").astype(str)
    if len(meta) and meta["label"].isna().all():
        defs = ws.score_defs()
        cl = defs[defs["name"] == "cluster"].sort_values("created_at") if len(defs) else defs
        values = None
        if len(cl):
            key = str(cl["key"].iloc[-1])
            v = ws.scores([key]).set_index("row_id")[key].reindex(meta.index)
            if v.notna().any():
                groups = key
                values = v.map(lambda x: "(no cluster)" if pd.isna(x) else f"cluster {int(x)}")
        if values is None:
            groups = "dataset"
            values = meta["dataset"].astype(str)
        cls = values.astype(str)

    def counts(rows: np.ndarray) -> pd.Series:
        if not len(rows):
            return pd.Series(dtype=np.int64)
        return cls.reindex(rows).value_counts()

    ca, cb = counts(rows_a), counts(rows_b)
    classes = sorted(set(ca.index) | set(cb.index))
    a = np.array([int(ca.get(c, 0)) for c in classes], dtype=np.int64)
    b = np.array([int(cb.get(c, 0)) for c in classes], dtype=np.int64)
    return pd.DataFrame({"class": classes, "a": a, "b": b, "change": b - a}), groups


def diff_table(d: SubsetDiff, *, show: int = 20) -> str:
    """The diff for a terminal: summary, spec changes, class shift, then the first ``show`` added/removed rows."""
    lines = [d.summary()]
    for s in d.steps:
        lines.append(f"  {step_text(s)}")
    if len(d.classes):
        by = "" if d.groups == "label" else f" (by {d.groups}; the rows have no labels)"
        lines.append(f"class counts{by}:")
        w = max(5, *(len(str(c)) for c in d.classes["class"]))
        lines.append(f"  {'class':<{w}} {'A':>8} {'B':>8} {'change':>8}")
        for c, a, b, ch in zip(d.classes["class"], d.classes["a"], d.classes["b"], d.classes["change"]):
            lines.append(f"  {str(c):<{w}} {int(a):>8,} {int(b):>8,} {int(ch):>+8,}")
    for title, df in (("added", d.added), ("removed", d.removed)):
        if len(df):
            lines.append(f"{title} ({len(df):,}):")
            for r in df.head(show).itertuples():
                lines.append(f"  {r.example_id}  [{r.reason}] {r.detail}")
            if len(df) > show:
                lines.append(f"  ... {len(df) - show:,} more (use --json or --show N)")
    return "\n".join(lines)


def manifest_section(ws: Workspace, saved: SavedSubset, *, max_rows: int = 50) -> dict[str, Any]:
    """What an export of ``saved`` records about it: name, version, who/when/note, its version history, and the
    diff from the version exported before (the newest earlier export of the same name with another version), if
    any: counts, reasons, class and token shifts and the first ``max_rows`` added/removed rows."""
    hist = [{"version": h.version, "who": h.who, "at": h.at.isoformat(), "note": h.note, "n_rows": h.n_rows,
             "n_tokens": h.n_tokens, "hidden": h.hidden} for h in versions(ws, saved.name)]
    out: dict[str, Any] = {"name": saved.name, "version": saved.version, "ref": saved.ref, "who": saved.who,
                           "at": saved.at.isoformat(), "note": saved.note, "n_rows": saved.n_rows,
                           "ids_sha256": saved.ids_sha256, "history": hist, "previous_export": None}
    prev = None
    ex = ws.exports()
    for r in ex.sort_values("id", ascending=False).to_dict("records"):
        m = r.get("manifest")
        m = json.loads(m) if isinstance(m, str) else (m or {})
        s = m.get("subset") or {}
        if s.get("name") == saved.name and s.get("version") not in (None, saved.version):
            prev = (int(r["id"]), int(s["version"]), m.get("export", {}).get("name"), str(r.get("created_at")))
            break
    if prev is not None:
        export_id, version, file_name, at = prev
        info: dict[str, Any] = {"export_id": export_id, "version": version, "file": file_name, "at": at}
        try:
            d = diff(ws, load(ws, (saved.name, version)), saved)
            dd = d.to_dict(max_rows=max_rows)
            info["diff"] = {k: dd[k] for k in ("a", "b", "n_a", "n_b", "n_added", "n_removed", "n_unchanged",
                                                "steps", "reasons", "tokens", "classes", "added", "removed")}
            info["summary"] = d.summary()
        except CurationError as exc:
            info["diff"] = None
            info["summary"] = f"the diff from {saved.name}@{version} could not be computed: {exc}"
        out["previous_export"] = info
    return out


def membership_mask(ws: Workspace, ref: str | SavedSubset, row_ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """(len(row_ids),) bool: which of ``row_ids`` are in the saved subset ``ref`` (for colouring the map)."""
    sub = resolve_saved(ws, ref)
    return np.isin(np.asarray(row_ids, dtype=np.int64), sub.row_ids)
