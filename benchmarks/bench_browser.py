"""The Map and Select pages measured in a real browser: headless Chromium (Playwright, /usr/bin/chromium) against a
real ``streamlit run`` server, on synthetic workspaces of 10k, 100k and 1M examples.

For each size, side by side in one run:

* **map drawn**: navigation to the Map page until the points are on screen (the WebGL renderer marks its frame
  after the first draw; for the Plotly page, the scattergl canvas of a plotted figure);
* **select**: mouse-up of a box drag around ~1,000 points until the page shows the selection count;
* **pin**: click on "Pin include" until the decisions are in the workspace's decision log (read from the file);
* **budget step**: one ArrowRight on the Select page's budget slider until the "Selected" metric changes (both
  servers up at once, one step on each page in turn);
* **frame time** (WebGL map only): 60 wheel events (zoom in, then out) and a 60-step shift-drag (pan), one per
  animation frame, dispatched inside the map's frame through its own event handlers; reported as the median (and
  95th percentile) interval between animation frames during the gesture (what the eye sees) and the time from the
  gesture's end until every point is drawn again (past 50k points the map moves its last frame as an image during
  a gesture and redraws the points 120 ms after it rests).

"before" is the dashboard as it was (Plotly Scattergl map of a 50k stratified sample with all hover text sent up
front; the Select page before its budget fragment was trimmed), kept in benchmarks/baseline/ and served by a second
server from the same workspace. The workspace is written straight through the store API: synthetic records (the
demo's templates), 32-d clustered vectors, a clustered 2-D projection (40 blobs of different sizes and spreads plus
2% scattered outliers), a cluster score with named clusters, three random scores and a ranking.

    nice .venv/bin/python benchmarks/bench_browser.py [--sizes 10000,100000,1000000] [--quick]
        [--no-baseline-at 1000000]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
CHROMIUM = os.environ.get("CURATION_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio"]
OUT = ROOT / "benchmarks" / "out"
MODEL = "synthetic-clustered-32d"
N_BLOBS = 40


# ---------------------------------------------------------------------------------------------- workspace
def build(path: Path, n: int, seed: int = 0) -> dict:
    """A synthetic workspace written through the store API; returns the projection (row ids, xy) for the driver."""
    from curation.demo import synthetic_records
    from curation.core.keys import make_key, score_key
    from curation.core.ranking import Ranking
    from curation.store import Workspace

    ws = Workspace(path)
    rng = np.random.default_rng(seed)
    base = list(synthetic_records(min(n, 50_000), seed=seed))
    idx = np.arange(n) % len(base)
    recs = [base[i] for i in idx]
    prompt = [r["instruction"] + ("\n\n" + r["input"] if r["input"] else "") for r in recs]
    response = [r["output"] for r in recs]
    embed = [p + "\n" + q + f" #{i}" for i, (p, q) in enumerate(zip(prompt, response))]
    hashes = [hashlib.sha1(t.encode()).hexdigest() for t in embed]
    rows = pd.DataFrame({
        "example_id": [f"synthetic/{i:07d}" for i in range(n)], "dataset": "synthetic",
        "source_line": np.arange(1, n + 1, dtype=np.int64), "kind": "sft", "prompt": prompt, "response": response,
        "chosen": None, "rejected": None, "messages": None, "label": [r["category"] for r in recs],
        "embed_text": embed, "text_hash": hashes, "content_hash": hashes,
        "n_tokens": np.array([len(t.split()) for t in embed], dtype=np.int64),
        "record": [json.dumps(r) for r in recs]})
    ws.add_examples({"name": "synthetic", "source": "synthetic", "shape": "alpaca", "kind": "sft"}, rows)
    ids = ws.id_map()
    row_ids = ids["row_id"].to_numpy()
    # 40 blobs of different sizes and spreads, 2% outliers spread over the whole plane
    centres = rng.uniform(-10, 10, (N_BLOBS, 2))
    weights = rng.dirichlet(np.full(N_BLOBS, 1.5))
    blob = rng.choice(N_BLOBS, size=n, p=weights)
    spread = rng.uniform(0.25, 0.9, N_BLOBS)
    xy = centres[blob] + rng.standard_normal((n, 2)) * spread[blob, None]
    out = rng.random(n) < 0.02
    xy[out] = rng.uniform(-12, 12, (int(out.sum()), 2))
    vec_c = rng.standard_normal((N_BLOBS, 32))
    vecs = (vec_c[blob] + 0.4 * rng.standard_normal((n, 32))).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ws.put_embeddings(MODEL, ids["text_hash"].tolist(), vecs)
    ws.put_projection(score_key("umap", model=MODEL), row_ids, xy, method="umap", model=MODEL)
    ckey = score_key("cluster", model=MODEL, n_clusters=N_BLOBS)
    ws.put_scores(ckey, ids["example_id"].tolist(), blob.astype(np.float64), name="cluster",
                  higher_is_better=None, description="synthetic blob id")
    words = ["loops", "sorting", "poems", "recipes", "taxes", "biology", "travel", "grammar", "physics", "history"]
    ws.put_artifact(f"labels:{ckey}", {"key": ckey, "model": MODEL, "n_clusters": N_BLOBS, "seed": 0, "clusters": [
        {"cluster": c, "size": int((blob == c).sum()), "keywords": [words[c % 10], words[(c * 3 + 1) % 10]],
         "label": f"{words[c % 10]} · {words[(c * 3 + 1) % 10]} {c}", "central_row_ids": []}
        for c in range(N_BLOBS)]})
    for name, hib in (("quality", True), ("length_z", False), ("novelty", True)):
        ws.put_scores(f"bench_{name}", ids["example_id"].tolist(), rng.random(n), name=name,
                      higher_is_better=hib, description=f"random {name} for the benchmark")
    order = row_ids[rng.permutation(n)]
    ws.put_ranking(Ranking(order=order.astype(np.int64), gains=np.full(n, np.nan), method=make_key("random", seed=0)))
    return {"row_ids": row_ids, "xy": xy.astype(np.float32)}


# ---------------------------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(app: Path, ws: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "CURATION_WORKSPACE": str(ws), "CURATION_USER": "bench", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
    fh = log.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.maxMessageSize", "1000"],
                            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("streamlit did not start: " + log.read_text()[-2000:])


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


# ---------------------------------------------------------------------------------------------- browser steps
def poll(fn, timeout: float, interval: float = 0.02):
    deadline = time.perf_counter() + timeout
    while True:
        try:
            got = fn()
        except Exception:  # not there yet
            got = None
        if got or time.perf_counter() > deadline:
            return got
        time.sleep(interval)


FRAME_JS = "() => { const f = document.querySelector('iframe[title*=\"curation_scatter\"]'); " \
           "return f && f.contentDocument && f.contentDocument.body ? f.contentDocument.body.dataset : null; }"


def selected_count(page) -> int | None:
    h = page.get_by_role("heading", name="Selected on the map")
    if not h.count():
        return None
    return int(h.first.inner_text().rsplit(":", 1)[1].strip().replace(",", ""))


def box_around(xy: np.ndarray, k: int = 1000, seed: int = 0) -> tuple[float, float, float, float]:
    """A square in data coordinates holding about ``k`` points, centred on a point of a dense region."""
    rng = np.random.default_rng(seed)
    c = xy[rng.integers(len(xy))]
    d = np.max(np.abs(xy - c), axis=1)
    s = float(np.partition(d, min(k, len(d) - 1))[min(k, len(d) - 1)])
    return c[0] - s, c[1] - s, c[0] + s, c[1] + s


def drag(page, x0: float, y0: float, x1: float, y1: float) -> None:
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)


FRAMES_JS = """async ([kind, frames]) => {
  const wrap = document.getElementById('wrap'), r = wrap.getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2, ts = [];
  const nextFrame = () => new Promise(res => requestAnimationFrame(res));
  if (kind === 'pan') wrap.dispatchEvent(new MouseEvent('mousedown', {clientX: cx, clientY: cy, button: 0,
                                                                      shiftKey: true, bubbles: true}));
  for (let i = 0; i <= frames; i++) {
    ts.push(await nextFrame());
    if (kind === 'zoom') wrap.dispatchEvent(new WheelEvent('wheel', {deltaY: i < frames / 2 ? -40 : 40,
        clientX: cx, clientY: cy, bubbles: true, cancelable: true}));
    else window.dispatchEvent(new MouseEvent('mousemove', {clientX: cx + 60 * Math.sin(i / 6),
        clientY: cy + 60 * Math.cos(i / 6) - 60, bubbles: true}));
  }
  const d0 = Number(document.body.dataset.draws || 0), t0 = performance.now();
  if (kind === 'pan') window.dispatchEvent(new MouseEvent('mouseup', {clientX: cx, clientY: cy, bubbles: true}));
  while (Number(document.body.dataset.draws || 0) === d0 && performance.now() - t0 < 20000) await nextFrame();
  await nextFrame();  // the redrawn frame presented
  const settle = performance.now() - t0;
  const iv = ts.slice(2).map((t, k) => t - ts[k + 1]).sort((a, b) => a - b);
  const q = (a, p) => a[Math.min(a.length - 1, Math.floor(p * a.length))];
  return {interval: q(iv, 0.5), interval_p95: q(iv, 0.95), settle: settle};
}"""


def measure_frames(frame, frames: int = 60) -> dict:
    """Frame times (ms) of a scripted zoom and pan in the WebGL map's frame (see the module docstring)."""
    out = {}
    for kind in ("zoom", "pan"):
        try:
            out[kind] = frame.evaluate(FRAMES_JS, [kind, frames])
        except Exception as exc:  # a frame that went away: report it as not measured
            print(f"frame time ({kind}) not measured: {exc}", file=sys.stderr)
    frame.evaluate("() => document.getElementById('b-reset').click()")
    return out


def measure_map(page, url: str, ws, n: int, proj: dict, *, webgl: bool, timeout: float,
                shot: Path | None, received: dict | None = None):
    """(drawn_s, select_s, pin_s, n_selected, select_bytes, frames) for one renderer; None where it did not finish
    within timeout. ``received``: a counter of websocket bytes the page received (select_bytes: during the
    selection's rerun)."""
    res = {"drawn": None, "select": None, "pin": None, "n_sel": None, "select_bytes": None, "frames": {}}
    received = received if received is not None else {"in": 0}
    page.goto(f"{url}/map", wait_until="commit")
    t0 = time.perf_counter()
    if webgl:
        ok = poll(lambda: (d := page.evaluate(FRAME_JS)) and d.get("drawn") == str(n), timeout, 0.05)
    else:
        ok = poll(lambda: page.evaluate("() => { const g = document.querySelector('.js-plotly-plot'); "
                                        "return !!(g && g._fullData && g._fullData.length && "
                                        "g.querySelector('.gl-canvas-context')); }"), timeout, 0.05)
    if not ok:
        return res
    res["drawn"] = time.perf_counter() - t0
    time.sleep(1.0)
    poll(lambda: page.locator('[data-testid="stStatusWidget"]').count() == 0, 60)
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    if webgl:
        page.locator('iframe[title*="curation_scatter"]').scroll_into_view_if_needed()
        fr = page.locator('iframe[title*="curation_scatter"]').bounding_box()
        el = page.query_selector('iframe[title*="curation_scatter"]').content_frame()
        ox, oy = el.evaluate("() => canvasOffset()")

        def to_px(x: float, y: float) -> tuple[float, float]:
            ax, ay = el.evaluate(f"() => dataToPixel({x}, {y})")
            return fr["x"] + ox + ax, fr["y"] + oy + ay
    else:
        page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        page.locator('.modebar-btn[data-title="Box Select"]').first.click()

        def to_px(x: float, y: float) -> tuple[float, float]:
            return tuple(page.evaluate(f"""() => {{ const g = document.querySelector('.js-plotly-plot');
                const L = g._fullLayout; const r = g.querySelector('.nsewdrag').getBoundingClientRect();
                return [r.left + L.xaxis.l2p({x}), r.top + L.yaxis.l2p({y})]; }}"""))
    vw, vh = page.viewport_size["width"], page.viewport_size["height"]
    for seed in range(50):  # a box that lies inside the visible part of the plot
        x0, y0, x1, y1 = box_around(proj["xy"], seed=seed)
        (px0, py0), (px1, py1) = to_px(x0, y1), to_px(x1, y0)
        if 20 < px0 < px1 < vw - 20 and 20 < py0 < py1 < vh - 20:
            break
    before = selected_count(page) or 0
    drag(page, px0, py0, px1, py1)
    received["in"] = 0
    t0 = time.perf_counter()
    page.mouse.up()
    got = poll(lambda: (c := selected_count(page)) and c != before and c, timeout)
    if not got:
        return res
    res["select"], res["n_sel"] = time.perf_counter() - t0, got
    poll(lambda: page.locator('[data-testid="stStatusWidget"]').count() == 0, 60)
    res["select_bytes"] = received["in"]
    time.sleep(0.5)
    n_before = len(ws.decisions())
    page.get_by_role("button", name="Pin include").click()
    t0 = time.perf_counter()
    ok = poll(lambda: len(ws.decisions()) >= n_before + got, timeout, 0.02)
    if ok:
        res["pin"] = time.perf_counter() - t0
    poll(lambda: page.locator('[data-testid="stStatusWidget"]').count() == 0, 60)
    if webgl:
        time.sleep(0.5)
        res["frames"] = measure_frames(el)
    return res


def metric_value(page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]', has_text=label).first
    return m.locator('[data-testid="stMetricValue"]').inner_text().strip()


IDLE_JS = ("() => !document.querySelector('[data-stale=\"true\"], [data-testid=\"stStatusWidget\"], "
           "[data-testid=\"stSkeleton\"]')")


def open_select(page, url: str, timeout: float) -> bool:
    """The Select page, loaded and idle."""
    page.goto(f"{url}/select")
    if not poll(lambda: metric_value(page, "Selected"), timeout, 0.1):
        return False
    poll(lambda: page.locator('[data-testid="stStatusWidget"]').count() == 0, 60)
    return True


def budget_step(page, timeout: float) -> tuple[float | None, float | None]:
    """Seconds from one ArrowRight on the budget slider to (a) the changed 'Selected' metric and (b) the end of the
    rerun (no stale element, no running indicator: the charts and tables are redrawn)."""
    slider = page.get_by_role("slider").first
    before = metric_value(page, "Selected")
    slider.focus()
    t0 = time.perf_counter()
    slider.press("ArrowRight")
    if not poll(lambda: metric_value(page, "Selected") != before, timeout, 0.005):
        return None, None
    got = time.perf_counter() - t0
    done = time.perf_counter() - t0 if poll(lambda: page.evaluate(IDLE_JS), timeout, 0.005) else None
    return got, done


# ---------------------------------------------------------------------------------------------- main
def fmt(x: float | None, timeout: float) -> str:
    return f"> {timeout:.0f}" if x is None else f"{x:.2f}"


def ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or a <= 0 else f"{b / a:.1f}×"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--quick", action="store_true", help="10k only, no RESULTS.md section")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds before a step counts as not finished")
    ap.add_argument("--no-baseline-at", type=int, default=None,
                    help="skip the baseline at this size and above (it is reported as not measured)")
    ap.add_argument("--steps", type=int, default=5, help="budget steps measured per page")
    ap.add_argument("--keep", action="store_true", help="keep the temporary workspaces (and their server logs)")
    args = ap.parse_args()
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    from playwright.sync_api import sync_playwright

    from curation.store import Workspace

    OUT.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    rows: list[dict] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for n in sizes:
            tmp = Path(tempfile.mkdtemp(prefix=f"bench_browser_{n}_"))
            t0 = time.perf_counter()
            proj = build(tmp / "ws.duckdb", n)
            print(f"built {n:,} rows in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
            ws = Workspace(tmp / "ws.duckdb")
            servers = []  # both pages served at once: the map measured one after the other, the budget steps
            try:          # interleaved (one step on each page in turn), so a burst of load hits both alike
                for name, app, webgl in (("WebGL map (this page)", ROOT / "app.py", True),
                                         ("before: Plotly Scattergl, 50k sample", ROOT / "benchmarks" / "baseline" /
                                          "app.py", False)):
                    row = {"n": n, "name": name, "webgl": webgl, "note": "", "budget": [], "budget_done": []}
                    rows.append(row)
                    if not webgl and args.no_baseline_at and n >= args.no_baseline_at:
                        row["note"] = "not measured"
                        continue
                    proc, url = start_server(app, tmp / "ws.duckdb", tmp / f"streamlit_{webgl}.log")
                    servers.append((proc, url, row))
                pages = []
                for proc, url, row in servers:
                    ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
                    page = ctx.new_page()
                    page.set_default_timeout(args.timeout * 1000)
                    received = {"in": 0}

                    def count(frame: object, rec: dict = received) -> None:
                        rec["in"] += len(frame) if isinstance(frame, (bytes, str)) else 0

                    page.on("websocket", lambda w, c=count: w.on("framereceived", c))
                    page.goto(url)  # a first visit starts the session (and the server's imports)
                    poll(lambda: page.get_by_role("heading", name="Data").count(), 120, 0.2)
                    tag = f"{'webgl' if row['webgl'] else 'plotly'}_{n // 1000}k"
                    row.update(measure_map(page, url, ws, n, proj, webgl=row["webgl"], timeout=args.timeout,
                                           shot=OUT / f"map_{tag}.png", received=received))
                    if len(ws.pins()):
                        ws.add_decisions(ws.pins()["example_id"].tolist(), "unpin", who="bench")
                    pages.append((page, url, row, tag) if open_select(page, url, args.timeout) else None)
                time.sleep(1.0)
                for _ in range(args.steps):
                    for pg in pages:
                        if pg is None:
                            continue
                        got, done = budget_step(pg[0], args.timeout)
                        if got is not None:
                            pg[2]["budget"].append(got)
                        if done is not None:
                            pg[2]["budget_done"].append(done)
                        time.sleep(0.6)
                for pg in pages:
                    if pg is not None:
                        pg[0].screenshot(path=str(OUT / f"select_{pg[3]}.png"), full_page=True)
                        pg[0].context.close()
                for _, _, row in servers:
                    print(n, row["name"], {k: v for k, v in row.items() if k not in ("n", "name")}, file=sys.stderr)
            finally:
                for proc, _, _ in servers:
                    stop(proc)
            if not args.keep:  # the 1M workspace is 1.3 GB
                shutil.rmtree(tmp, ignore_errors=True)
    T = args.timeout
    med = statistics.median

    def mb(x: int | None) -> str:
        return "—" if x is None else f"{x / 1e6:.2f}"

    def frames(r: dict, kind: str) -> str:
        f = (r.get("frames") or {}).get(kind)
        return "—" if not f else f"{f['interval']:.0f} (p95 {f['interval_p95']:.0f}) / {f['settle']:.0f}"

    table = ["| rows | page | map drawn (s) | select (s) | received on select (MB) | pin (s) | points selected | "
             "budget step: metric (s) | budget step: rerun done (s) | zoom frame (ms) | pan frame (ms) |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["note"]:
            table.append(f"| {r['n']:,} | {r['name']} | {r['note']} | | | | | | | | |")
            continue
        b, bd = r.get("budget") or [], r.get("budget_done") or []
        table.append(f"| {r['n']:,} | {r['name']} | {fmt(r.get('drawn'), T)} | {fmt(r.get('select'), T)} | "
                     f"{mb(r.get('select_bytes'))} | {fmt(r.get('pin'), T)} | {r.get('n_sel') or '—'} | "
                     f"{fmt(med(b) if b else None, T)} | {fmt(med(bd) if bd else None, T)} | "
                     f"{frames(r, 'zoom')} | {frames(r, 'pan')} |")
    ratios = ["", "| rows | map drawn: before / now | select+pin: before / now | budget step: before / now |",
              "|---:|---:|---:|---:|"]
    by: dict[int, list[dict]] = {}
    for r in rows:
        by.setdefault(r["n"], []).append(r)
    for n, (a, b) in ((n, v) for n, v in by.items() if len(v) == 2):
        def sp(r: dict) -> float | None:
            return None if r.get("select") is None or r.get("pin") is None else r["select"] + r["pin"]

        def bs(r: dict) -> float | None:
            return med(r["budget"]) if r.get("budget") else None
        ratios.append(f"| {n:,} | {ratio(a.get('drawn'), b.get('drawn'))} | {ratio(sp(a), sp(b))} | "
                      f"{ratio(bs(a), bs(b))} |")
    end = os.getloadavg()
    body = (f"Headless Chromium (`--disable-gpu`: WebGL runs on SwiftShader, the CPU) driving `streamlit run` on "
            f"this 2-core machine; load average at the start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, at the "
            f"end {end[0]:.2f} / {end[1]:.2f} / {end[2]:.2f} (1/5/15 min). "
            "Times are wall clock in the browser: map drawn = navigation until the points are on screen; select = "
            "mouse-up of a box drag until the page shows the count (received = websocket bytes the page got "
            "meanwhile); pin = click on *Pin include* until the decisions are in the workspace file; budget step = "
            "one ArrowRight on the Select page's slider until the *Selected* metric changes, and until the rerun "
            f"has finished (charts and tables redrawn), median of {args.steps}, the two pages' steps interleaved; "
            "zoom / pan frame = median interval "
            "between animation frames (95th percentile) during 60 wheel events or a 60-step drag, one per frame / "
            "time from the gesture's end until every point is drawn again. `>` = not finished within the timeout.\n\n"
            + "\n".join(table) + "\n" + "\n".join(ratios))
    print(body)
    if not args.quick:
        from benchmarks._results import write_section

        write_section("bench_browser", "Map and budget in the browser (bench_browser)", body)


if __name__ == "__main__":
    main()
