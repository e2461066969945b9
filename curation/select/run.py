"""Run a selection against a workspace and store the ranking (the engine behind the CLI's ``select`` in
:mod:`curation.cli.select` and the Select page), plus the warnings a ranking carries.

:func:`run_selection` loads what the method needs (embeddings, neighbour graph, score columns, target or seen
sets, pins), ranks, and stores the ranking under a key naming the method, every parameter, the model, a digest of
the input rows (and pins), and the seed. The same call twice returns the stored ranking without recomputing.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd

from curation.embedding.embed import DEFAULT_MODEL, embed_texts, model_key
from curation.core.errors import CurationError
from curation.core.keys import REJECTED_SUFFIX, format_value, key_name, key_param
from curation.select.base import Progress, Selector, canonical, get_selector
from curation.core.ranking import Ranking
from curation.store import Workspace


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha1()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
        h.update(b"|")
    return h.hexdigest()[:10]


def _texts(v: Any) -> list[str]:
    return [v] if isinstance(v, str) else [str(t) for t in v]


def _subgraph(graph: Any, pool_ids: np.ndarray) -> Any:
    """The graph restricted to ``pool_ids`` (sorted row ids), a KnnGraph on pool positions."""
    from dataclasses import replace

    gids = np.asarray(graph.row_ids, dtype=np.int64)
    if len(gids) == len(pool_ids) and np.array_equal(gids, pool_ids):
        return graph
    pos_in_pool = np.full(len(gids), -1, dtype=np.int64)
    p = np.searchsorted(pool_ids, gids)
    p = np.minimum(p, max(len(pool_ids) - 1, 0))
    hit = pool_ids[p] == gids if len(pool_ids) else np.zeros(len(gids), bool)
    pos_in_pool[hit] = p[hit]
    if hit.sum() != len(pool_ids):
        return None
    rows = np.flatnonzero(hit)
    idx = pos_in_pool[graph.idx[rows]]
    sim = np.where(idx >= 0, graph.sim[rows], 0.0).astype(np.float32)
    return replace(graph, row_ids=pool_ids, idx=idx, sim=sim)


def selection_score_keys(defs: pd.DataFrame) -> list[str]:
    """The stored columns a selector can rank or weight by: kind "score" (not group ids, not 0/1 flags)."""
    if not len(defs):
        return []
    kind = defs["kind"] if "kind" in defs.columns else pd.Series("score", index=defs.index)
    keys = defs.loc[kind.fillna("score") == "score", "key"].tolist()
    return [k for k in keys if not str(k).endswith("@rejected")]   # a rejected reply is not a row to select


SCORE_PARAMS = ("score", "scores", "weight_score", "density")  # method parameters that name stored score keys


def full_score_key(ws: Workspace, ref: str, *, defs: pd.DataFrame | None = None) -> str:
    """The stored score key ``ref`` names: itself when stored, else the one key whose bare name is ``ref``
    (``pref_head_default`` → ``pref_head_default(v=3)``, not its ``@rejected`` companion, which
    ``pref_head_default@rejected`` names). Several such keys are an error listing them; no match
    returns ``ref`` unchanged (the caller's "not found" error then lists the scores)."""
    defs = ws.score_defs() if defs is None else defs
    keys = [str(k) for k in defs["key"]] if len(defs) else []
    if ref in keys:
        return ref
    # a rejected reply's companion (``...@rejected``) is only named with that suffix: the bare name is the row's score
    want_rejected = ref.endswith(REJECTED_SUFFIX)
    base = ref[: -len(REJECTED_SUFFIX)] if want_rejected else ref
    hits = [k for k in keys if k.endswith(REJECTED_SUFFIX) == want_rejected
            and key_name(k[: -len(REJECTED_SUFFIX)] if want_rejected else k) == base]
    if len(hits) > 1:
        raise CurationError(f"score {ref!r} names {len(hits)} stored scores ({', '.join(sorted(hits)[:12])}); pass "
                            "the full key")
    return hits[0] if hits else ref


def full_score_params(ws: Workspace, params: dict | None) -> dict:
    """``params`` with every score reference (:data:`SCORE_PARAMS`) replaced by its full stored key, so the ranking's
    key names the exact score it used."""
    params = dict(params or {})
    if not any(isinstance(params.get(p), (str, dict)) for p in SCORE_PARAMS):
        return params
    defs = ws.score_defs()
    for p in SCORE_PARAMS:
        v = params.get(p)
        if isinstance(v, str):
            params[p] = full_score_key(ws, v, defs=defs)
        elif p == "scores" and isinstance(v, dict):
            params[p] = {full_score_key(ws, str(k), defs=defs): w for k, w in v.items()}
    return params


def _score_frame(ws: Workspace, keys: list[str]) -> tuple[pd.DataFrame, list[bool]]:
    defs = ws.score_defs()
    known = set(defs["key"]) if len(defs) else set()
    usable = selection_score_keys(defs)
    missing = [k for k in keys if k not in known]
    if missing:
        raise CurationError(f"score(s) {missing} not found in {ws.path}; scores are {sorted(usable)[:20]}; compute "
                            "them first (python -m curation score ...)")
    wrong = [k for k in keys if k not in usable]
    if wrong:
        kinds = dict(zip(defs["key"], defs["kind"]))
        what = ", ".join(f"{k!r} is a {kinds.get(k)} column" + (" (ids shared by a group of rows)"
                                                                if kinds.get(k) == "group" else " (0/1)")
                         for k in wrong)
        raise CurationError(f"{what}, not a score to rank by; scores are {sorted(usable)[:20]}")
    hib = []
    for k in keys:
        v = defs.loc[defs["key"] == k, "higher_is_better"].iloc[0]
        hib.append(True if v is None or pd.isna(v) else bool(v))
    return ws.scores(keys), hib


def _default_density_key(ws: Workspace, model: str) -> str:
    defs = ws.score_defs()
    cands = [k for k in (defs["key"].tolist() if len(defs) else [])
             if key_name(str(k)) in ("density_lsh", "density_knn")]
    pref = [k for k in cands if key_param(k, "model") == format_value(model)]
    if pref or cands:
        return sorted(pref or cands)[0]
    raise CurationError("method 'density' needs a density score; compute one with `python -m curation density` "
                        "or pass density=SCORE_KEY")


def prepare(ws: Workspace, sel: Selector, *, model: str = DEFAULT_MODEL, use_pins: bool = False,
            progress: Progress | None = None) -> dict[str, Any]:
    """Everything ``sel.rank`` needs from the workspace, plus the extras that go into the ranking key."""
    model = model_key(model)
    name = sel.name
    needs_emb = sel.wants_X() or sel.wants_graph() or "X" in sel.needs or "graph" in sel.needs
    ctx: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    X = None
    if needs_emb:
        row_ids, X = ws.embeddings(model)
        if len(row_ids) == 0:
            raise CurationError(f"method {name!r} needs embeddings under {model!r}; run `python -m curation embed`")
        extra["model"] = model
        from curation.embedding.static import STATIC_LABEL, STATIC_MODEL

        if model == STATIC_MODEL:           # allowed when asked for, never chosen implicitly; say what it is
            import warnings

            warnings.warn(f"selecting with {STATIC_MODEL} ({STATIC_LABEL}): fine for a first look; embed with "
                          "the default model for a subset you will train on", UserWarning, stacklevel=2)
    else:
        row_ids = ws.row_ids()
        if len(row_ids) == 0:
            raise CurationError(f"workspace {ws.path} has no examples; ingest a file first")
    keep = np.ones(len(row_ids), dtype=bool)
    # target / seen sets from a dataset leave the pool
    for attr, ctx_key in (("target_dataset", "targets"), ("seen_dataset", "seen")):
        ds = getattr(sel, attr, None)
        if ds:
            ids = ws.examples(["row_id"], dataset=ds)["row_id"].to_numpy(dtype=np.int64)
            if not len(ids):
                raise CurationError(f"{attr}={ds!r}: no such dataset in {ws.path}; datasets are "
                                    f"{ws.datasets()['name'].tolist()}")
            m = np.isin(row_ids, ids)
            ctx[ctx_key] = X[m] if X is not None else None
            keep &= ~m
    for attr, ctx_key in (("target_text", "targets"), ("seen_text", "seen")):
        txt = getattr(sel, attr, None)
        if txt:
            V = embed_texts(ws, _texts(txt), model)
            ctx[ctx_key] = V if ctx.get(ctx_key) is None else np.concatenate([ctx[ctx_key], V])
    if not keep.all():
        row_ids, X = row_ids[keep], (X[keep] if X is not None else None)
    graph = None
    if sel.wants_graph():
        from curation.neighbours.graph import require_graph

        g = require_graph(ws, model=model, k=getattr(sel, "k", 15), progress=progress)
        graph = _subgraph(g, row_ids)
        if graph is None:
            raise CurationError(f"the neighbour graph of {model!r} does not cover every embedded row; rebuild it "
                                "with `python -m curation graph --force`")
    scores = None
    weights = None
    keys: list[str] = []
    if name == "density":
        keys = [sel.density or _default_density_key(ws, model)]
        extra["density_key"] = keys[0]
    elif hasattr(sel, "score_keys"):
        keys = sel.score_keys()
        if "scores" in sel.needs and not keys:
            raise CurationError(f"method {name!r} needs score=KEY (or scores={{KEY: WEIGHT}}); scores are "
                                f"{selection_score_keys(ws.score_defs())[:20]}")
    if keys:
        df, hib = _score_frame(ws, keys)
        df = df.set_index("row_id").reindex(row_ids)
        scores = df[keys].to_numpy(dtype=np.float64)
        if scores.shape[1] == 1:
            scores = scores[:, 0]
        ctx["higher_is_better"] = hib
    wkey = getattr(sel, "weight_score", None)
    if wkey:
        df, hib = _score_frame(ws, [wkey])
        w = df.set_index("row_id").reindex(row_ids)[wkey].to_numpy(dtype=np.float64)
        if not hib[0]:
            raise CurationError(f"weight_score {wkey!r} is lower-is-better; weights must grow with quality")
        weights = np.nan_to_num(w, nan=float(np.nanmedian(w)) if np.isfinite(w).any() else 1.0)
        if (weights < 0).any():
            raise CurationError(f"weight_score {wkey!r} has negative values; use a score in [0, 1]")
    if name == "utility":
        ex = ws.examples(["row_id", "prompt", "response", "embed_text"], row_ids=row_ids)
        ctx["prompts"] = ex["prompt"].fillna(ex["embed_text"]).astype(str).tolist()
        ctx["responses"] = ex["response"].fillna("").astype(str).tolist()
    include = exclude = None
    if use_pins:
        pins = ws.pins()
        pos = {int(r): i for i, r in enumerate(row_ids)}
        inc_ids = [int(r) for r in pins.loc[pins["pin"] == "include", "row_id"] if int(r) in pos]
        exc_ids = [int(r) for r in pins.loc[pins["pin"] == "exclude", "row_id"] if int(r) in pos]
        include = np.array([pos[r] for r in inc_ids], dtype=np.int64)
        exclude = np.array([pos[r] for r in exc_ids], dtype=np.int64)
        extra["pins"] = _digest(np.array(inc_ids, np.int64), np.sort(np.array(exc_ids, np.int64)))
    digest_parts = [row_ids]
    if scores is not None:
        digest_parts.append(np.nan_to_num(np.asarray(scores), nan=-1e300))
    if weights is not None:
        digest_parts.append(weights)
    for c in ("targets", "seen"):
        if ctx.get(c) is not None:
            digest_parts.append(np.asarray(ctx[c], dtype=np.float32))
    extra["data"] = _digest(*digest_parts)
    return {"X": X,
            "graph": graph, "scores": scores, "weights": weights, "row_ids": row_ids, "include": include,
            "exclude": exclude, "context": ctx, "extra": extra}


def saved_subsets_using(ws: Workspace, ranking_key: str) -> list[str]:
    """``NAME@VERSION`` of every saved subset version (deleted ones too) whose spec names ``ranking_key``."""
    df = ws.saved_subsets(include_hidden=True)
    out = []
    for name, version, spec in zip(df["name"], df["version"], df["spec"]) if len(df) else ():
        s = json.loads(spec) if isinstance(spec, str) else (spec or {})
        if s.get("ranking") == ranking_key:
            out.append(f"{name}@{int(version)}")
    return out


def _refuse_recompute_of_saved(ws: Workspace, key: str) -> None:
    """A saved subset version resolves to fixed rows: recomputing its ranking under the same key (force) would change
    them behind its back, so it is refused while any saved version names the ranking."""
    if ws.ranking(key) is None:
        return
    users = saved_subsets_using(ws, key)
    if users:
        shown = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        raise CurationError(f"ranking {key} is used by saved subset(s) {shown}; recomputing it under the same key "
                            "would change the rows those versions stand for. Run it without --force to reuse the "
                            "stored ranking, or with another seed or parameters to get a new one")


def run_selection(ws: Workspace, method: str, params: dict | None = None, *, seed: int = 0,
                  model: str = DEFAULT_MODEL, progress: Progress | None = None, use_pins: bool = False,
                  force: bool = False, info: dict | None = None) -> Ranking:
    """Rank the workspace with ``method`` and store the ranking (reused when the same call was made before).

    params: the method's parameters (see ``SELECTORS[method]``). seed: all randomness. model: embedding model.
    use_pins: condition on the workspace's current pins (include first / exclude removed); the pins' digest joins
    the key. force: recompute even when stored (refused while a saved subset version names the ranking). Returns
    the Ranking (order = row ids, best first); its ``method`` is the stored key. info: when given,
    ``info["reused"]`` tells whether the stored ranking was returned.
    Cost: the method's own (see its module) plus loading (≈1 s per 100k embedded rows).
    """
    sel = get_selector(method, **full_score_params(ws, params))
    inp = prepare(ws, sel, model=model, use_pins=use_pins, progress=progress)
    key = sel.key(seed, **inp["extra"])
    if force:
        _refuse_recompute_of_saved(ws, key)
    if not force:
        got = ws.ranking(key)
        if got is not None:
            if progress:
                progress(1, 1)
            if info is not None:
                info["reused"] = True
            return got
    if info is not None:
        info["reused"] = False
    r = sel.rank(inp["X"], graph=inp["graph"], scores=inp["scores"], weights=inp["weights"],
                 row_ids=inp["row_ids"], include=inp["include"], exclude=inp["exclude"], context=inp["context"],
                 seed=seed, progress=progress, n=len(inp["row_ids"]))
    out = Ranking(order=r.order, gains=r.gains, method=key)
    ws.put_ranking(out, params={"method": method, "params": canonical(sel.params()), "seed": int(seed),
                                **{k: v for k, v in inp["extra"].items()}, "use_pins": bool(use_pins)})
    if progress:
        progress(1, 1)
    return out


def selection_warnings(ws: Workspace, method: str, params: dict | None = None) -> list[str]:
    """Warnings for a selection that consumes a quality score whose measured validity is near chance."""
    from curation.scorers.validity import score_warnings

    sel = get_selector(method, **full_score_params(ws, params))
    keys = list(sel.score_keys()) if hasattr(sel, "score_keys") else []
    if getattr(sel, "weight_score", None):
        keys.append(sel.weight_score)
    return score_warnings(ws, [k for k in keys if k])


def stored_selection(ws: Workspace, ranking_key: str | None) -> tuple[str, dict] | None:
    """(method, params) a stored ranking was made with, as stored; None when there is no such ranking."""
    import json

    if not ranking_key:
        return None
    df = ws.rankings()
    row = df[df["key"] == ranking_key]
    if row.empty:
        return None
    stored = row["params"].iloc[0]
    try:
        stored = json.loads(stored) if isinstance(stored, str) else dict(stored or {})
    except (TypeError, ValueError):
        stored = {}
    params = stored.get("params") if isinstance(stored.get("params"), dict) else {}
    return str(stored.get("method") or row["method"].iloc[0]), params


def ranking_warnings(ws: Workspace, ranking_key: str | None) -> list[str]:
    """:func:`selection_warnings` of a stored ranking (its method and parameters as stored); [] when there is no
    ranking or its method is unknown to this version."""
    got = stored_selection(ws, ranking_key)
    if got is None:
        return []
    try:
        return selection_warnings(ws, *got)
    except CurationError:
        return []


def ranking_pool_arrays(ws: Workspace, *, model: str = DEFAULT_MODEL) -> tuple[np.ndarray, np.ndarray]:
    """(row_ids, X) of the embedded rows, for explain."""
    return ws.embeddings(model_key(model))
