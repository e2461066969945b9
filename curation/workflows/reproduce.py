"""Reproduce an export from its manifest: a fresh workspace, the same sources, the same embedding, scores, graph,
ranking, pins and budget, then a byte-for-byte comparison with the manifest's sha256. It strings ingest, embed,
analyze, the scorers, selection and export together; none of them imports this module."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from curation import __version__
from curation.embedding.embed import embed_workspace
from curation.core.errors import CurationError
from curation.export.writer import maybe_json, export_subset, load_manifest
from curation.workflows.ingest import ingest
from curation.core.keys import DEFAULT_MODEL, key_name, legacy_key
from curation.neighbours.graph import DEFAULT_K, build_graph
from curation.ingest.readers import file_sha256
from curation.scorers import REGISTRY, get_scorer, is_graph_score, run_scorer
from curation.select import get_selector, run_selection
from curation.store import Workspace
from curation.subsets.spec import SubsetSpec
from curation.workflows.analyze import ANALYZE_STEPS, analyze


@dataclass
class ReproduceResult:
    """Outcome of :func:`reproduce`. identical: the rebuilt data has the manifest's sha256 (the requirement).

    ranking_identical / subset_identical: finer checks (None when not applicable) that say where a difference
    starts. messages: plain-language account of each step and of any difference.
    """

    identical: bool
    expected_sha256: str
    actual_sha256: str
    path: Path
    workspace_path: Path
    ranking_identical: bool | None = None
    subset_identical: bool | None = None
    n_rows: int = 0
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verdict = "identical bytes" if self.identical else "DIFFERENT bytes"
        return (f"reproduced {self.n_rows} rows into {self.path}: {verdict} "
                f"(expected sha256 {self.expected_sha256[:16]}…, got {self.actual_sha256[:16]}…)")


def _reingest(ws: Workspace, sources: list[dict], log: Callable[[str], None]) -> None:
    for s in sources:
        src = s["source"]
        local = Path(src).exists()
        if s.get("sha256"):
            if not local:
                raise CurationError(f"source {src} of dataset {s['name']!r} is missing; reproduce needs the same "
                                    "input files at the same paths")
            got = file_sha256(src)
            if got != s["sha256"]:
                raise CurationError(f"source {src} of dataset {s['name']!r} changed since the export (sha256 "
                                    f"{got[:16]}… ≠ {s['sha256'][:16]}…); reproduce needs the same inputs")
        else:
            log(f"{s['name']}: source {src} has no recorded sha256 (a hub dataset?); it is read again unchecked")
        opts = s.get("options") or {}
        mapping = {k: v for k, v in (s.get("mapping") or {}).items() if k != "shape" and v}
        rep = ingest(ws, src, name=s["name"], fmt=opts.get("format"), split=opts.get("split"),
                          shape=s.get("shape"), mapping=mapping, skip_bad=bool(opts.get("skip_bad", False)),
                          allow_empty=bool(opts.get("allow_empty", True)))
        log(rep.summary())
        if s.get("n_rows") is not None and rep.n_inserted + rep.n_present != int(s["n_rows"]):
            log(f"{s['name']}: {rep.n_inserted + rep.n_present} examples now, {s['n_rows']} at export time "
                "(the workspace had removed or extra rows)")


def _recompute_scores(ws: Workspace, keys: Sequence[str], manifest: dict, model: str,
                      log: Callable[[str], None]) -> None:
    """Recompute score columns ``keys`` in the fresh workspace, each through its entry in the scorer registry: a
    graph-derived score by its analysis step (with the recorded k, method and seed), a quality scorer rebuilt
    from the parameters the manifest records."""
    defs = {d["key"]: d for d in manifest.get("scores", [])}
    have = set(ws.score_defs()["key"])
    steps: set[str] = set()
    scorers = []
    for key in keys:
        if key in have:
            continue
        name = key_name(key)
        if is_graph_score(name):
            steps.add(REGISTRY[name].step)  # type: ignore[attr-defined]
            continue
        d = defs.get(key)
        if d is None:
            raise CurationError(f"score {key!r} used by the ranking is not described in the manifest; "
                                "cannot recompute it")
        name = d.get("name") or name
        if name not in REGISTRY:
            raise CurationError(f"score {key!r} (name {name!r}) is not made by a registered scorer (imported scores "
                                "cannot be recomputed); reproduce needs scores the project can compute")
        # the stored params also carry facts the run recorded (a learned head's cv_accuracy, n_train, ...): only
        # the scorer's own parameters rebuild it
        accepted = REGISTRY[name].defaults
        params = {p: maybe_json(v) for p, v in (d.get("params") or {}).items() if p in accepted}
        sc = get_scorer(name, **params)
        if sc.key() != key:
            raise CurationError(f"score {key!r}: rebuilding scorer {name!r} from the manifest gives key "
                                f"{sc.key()!r}; its parameters cannot be recovered (long values are hashed)")
        scorers.append(sc)
    if steps:
        k, seed, method = _graph_params(manifest, model)
        ordered = [s for s in ANALYZE_STEPS if s in steps]
        log(f"recomputing neighbour-graph scores: {ordered} (k={k}, method={method}, seed={seed})")
        analyze(ws, model=model, k=k, method=method, seed=seed, steps=("graph", *ordered))
    for sc in scorers:
        log(f"recomputing score {sc.key()}")
        run_scorer(ws, sc)


def _graph_params(manifest: dict, model: str, k: int | None = None) -> tuple[int, int, str]:
    """(k, seed, method) of the manifest's graph for ``model`` (with ``k`` neighbours when given)."""
    for g in manifest.get("graphs", []):
        p = g.get("params") or {}
        gk = int(g.get("k") or p.get("k") or DEFAULT_K)
        if g.get("model") == model and (k is None or gk == k):
            return gk, int(p.get("seed", 0)), str(p.get("method") or "auto")
    return (k or DEFAULT_K), 0, "auto"


def _rerank(ws: Workspace, manifest: dict, log: Callable[[str], None]) -> tuple[str | None, bool]:
    """Recompute the manifest's ranking in ``ws``: (its key or None without a ranking, pins already applied)."""
    rk = manifest["selection"]["ranking"]
    if not rk.get("key"):
        return None, False
    stored = rk.get("stored_params") or {}
    method = stored.get("method") or rk.get("method") or key_name(rk["key"])
    params = rk.get("params", stored.get("params"))
    if params is None:
        raise CurationError(f"the manifest's ranking {rk['key']!r} has no recorded parameters (it was not made by "
                            "run_selection), so it cannot be recomputed")
    seed = int(rk.get("seed", stored.get("seed", 0)))
    model = rk.get("model") or stored.get("model") or manifest["embedding"]["model"] or DEFAULT_MODEL
    use_pins = bool(stored.get("use_pins", False))
    sel = get_selector(method, **params)
    score_keys = list(sel.score_keys()) if hasattr(sel, "score_keys") else []
    for extra in (stored.get("density_key"), getattr(sel, "weight_score", None)):
        if extra and extra not in score_keys:
            score_keys.append(extra)
    needs_emb = ("model" in stored or sel.wants_X() or sel.wants_graph()
                 or any(is_graph_score(key_name(k)) for k in score_keys))
    if needs_emb:
        log(embed_workspace(ws, model).summary())
    if score_keys:
        _recompute_scores(ws, score_keys, manifest, model, log)
    if sel.wants_graph():
        k, gseed, gmethod = _graph_params(manifest, model, int(getattr(sel, "k", DEFAULT_K)))
        build_graph(ws, model=model, k=k, method=gmethod, seed=gseed)
    if use_pins:
        _apply_pins(ws, manifest, log)
    log(f"recomputing ranking {method} {params} seed={seed}" + (" with pins" if use_pins else ""))
    ranking = run_selection(ws, method, params, seed=seed, model=model, use_pins=use_pins)
    if ranking.method != rk["key"]:
        log(f"note: the recomputed ranking's key is {ranking.method!r}, the manifest's {rk['key']!r} (the key "
            "holds digests of row ids and pins, which differ when the original workspace had removed rows or "
            "other pins when it ranked)")
    return ranking.method, use_pins


def _apply_pins(ws: Workspace, manifest: dict, log: Callable[[str], None]) -> None:
    pins = manifest.get("pins") or []
    for action in ("include", "exclude"):
        groups: dict[tuple[str, str | None], list[str]] = {}
        for p in pins:
            if p.get("pin") == action:
                groups.setdefault((p.get("who") or "reproduce", p.get("why")), []).append(p["example_id"])
        for (who, why), ex_ids in groups.items():
            ws.add_decisions(ex_ids, action, who=who, why=why)
    if pins:
        log(f"re-applied {len(pins)} pin(s) from the manifest")


def _with_current_keys(manifest: dict) -> dict:
    """The manifest with its score keys in today's format (:func:`curation.core.keys.legacy_key`): an export made before
    the one key format names graph scores ``name:model:k=..``, which the recomputed workspace no longer uses."""
    sel = manifest.get("selection") or {}
    old = [d.get("key") for d in manifest.get("scores", [])] + [sel.get("label_column")]
    mapping = {k: legacy_key(k) for k in old if isinstance(k, str) and legacy_key(k) != k}
    if not mapping:
        return manifest
    text = json.dumps(manifest)
    for k, new in mapping.items():
        text = text.replace(json.dumps(k), json.dumps(new))
    return json.loads(text)


def reproduce(manifest_path: str | os.PathLike[str], *, out_dir: str | os.PathLike[str] | None = None,
              log: Callable[[str], None] | None = None) -> ReproduceResult:
    """Rebuild an export from its manifest on the same inputs and compare bytes.

    Steps: a fresh workspace in ``out_dir`` (default: a new temporary folder), re-ingest every source in the
    original order with the same options (their sha256 must match), embed with the recorded model when the
    ranking needs it, recompute the scores and graph it needs and the ranking itself (same method, parameters and
    seed), re-apply the manifest's pins, export with the same format, style, budget, quota and datasets, and
    compare the data's sha256 with the manifest's. Cost: ingest + embed + selection of the whole pool (minutes
    for 100k rows on 2 cores).
    """
    manifest = _with_current_keys(load_manifest(manifest_path))
    msgs: list[str] = []

    def say(m: str) -> None:
        msgs.append(m)
        if log:
            log(m)

    if manifest["project"].get("version") != __version__:
        say(f"the export was made by curation {manifest['project'].get('version')}, this is {__version__}; "
            "bytes may differ where the code changed")
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="curation-reproduce-"))
    out.mkdir(parents=True, exist_ok=True)
    ws_path = out / "reproduce.duckdb"
    if ws_path.exists():
        raise CurationError(f"{ws_path} already exists; reproduce needs a fresh workspace, pass another --out")
    ws = Workspace(ws_path)
    _reingest(ws, manifest["sources"], say)
    sel = manifest["selection"]
    rk = sel["ranking"]
    new_key, pinned = _rerank(ws, manifest, say)
    ranking_identical = None
    if new_key is not None:
        r = ws.ranking(new_key)
        ids = ws.id_map()
        eid = pd.Series(ids["example_id"].to_numpy(object), index=ids["row_id"].to_numpy(np.int64))
        digest = hashlib.sha256("\n".join(eid.reindex(r.order).astype(str)).encode()).hexdigest()
        want = rk.get("order_sha256")
        ranking_identical = None if want is None else digest == want
        if ranking_identical is False:
            say("the recomputed ranking differs from the original one (the selector or its inputs, e.g. "
                "embeddings, are not deterministic); the subset may differ")
    if not pinned:
        _apply_pins(ws, manifest, say)
    exp = manifest["export"]
    # the budget as it was applied (a % budget resolved to rows); the pins are the ones re-applied above
    spec = SubsetSpec.from_budget(new_key, budget_rows=sel["budget"]["rows"], budget_tokens=sel["budget"]["tokens"],
                                  quota=sel.get("quota"), label_column=sel.get("label_column") or "label",
                                  datasets=sel.get("datasets"))
    pf = exp.get("prompt_format") or {}
    res = export_subset(ws, spec, fmt=exp["format"], style=exp["style"], name=exp["name"], overwrite=False,
                        who="reproduce", datasheet=False, drop_empty=bool(exp.get("drop_empty", False)),
                        tokenizer=pf.get("tokenizer") if pf.get("kind") == "chat_template" else None)
    new_manifest = load_manifest(res.manifest_path)
    subset_identical = new_manifest.get("example_ids_sha256") == manifest.get("example_ids_sha256")
    if not subset_identical:
        old_ids, new_ids = manifest.get("example_ids") or [], new_manifest.get("example_ids") or []
        only_old, only_new = sorted(set(old_ids) - set(new_ids)), sorted(set(new_ids) - set(old_ids))
        say(f"the subset differs: {len(only_old)} example(s) only in the original (e.g. {only_old[:3]}), "
            f"{len(only_new)} only in the reproduction (e.g. {only_new[:3]})")
    identical = res.sha256 == exp["sha256"]
    say("identical bytes" if identical else f"bytes differ: expected sha256 {exp['sha256']}, got {res.sha256}")
    return ReproduceResult(identical=identical, expected_sha256=exp["sha256"], actual_sha256=res.sha256,
                           path=res.path, workspace_path=ws_path, ranking_identical=ranking_identical,
                           subset_identical=subset_identical, n_rows=res.n_rows, messages=msgs)
