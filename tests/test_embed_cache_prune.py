"""The embedding cache stays within its cap: least recently used vectors go first (a read counts as a use), the
file is rewritten so the disk space comes back, caches written before the cap existed still work, and the
`cache` command prunes by hand."""
from __future__ import annotations

import duckdb
import numpy as np
import pytest

import curation.embedding.cache as ec
from curation.cli import main
from curation.embedding.cache import EmbeddingCache, default_max_bytes, parse_size

D = 384


def _vectors(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, D)).astype(np.float32)


def _fill(cache: EmbeddingCache, monkeypatch, batches: dict[str, int]) -> dict[str, tuple[list[str], np.ndarray]]:
    """Write one batch of vectors per name, at clock times 1, 2, 3, ... (name order)."""
    out = {}
    for t, name in enumerate(batches, start=1):
        monkeypatch.setattr(ec, "_now", lambda t=t: t)
        hashes = [f"{name}-{i}" for i in range(batches[name])]
        vecs = _vectors(batches[name], t)
        assert cache.put("model-a", hashes, vecs)
        out[name] = (hashes, vecs)
    return out


def test_prune_drops_the_least_recently_used_and_shrinks_the_file(tmp_path, monkeypatch):
    cache = EmbeddingCache(tmp_path / "c.duckdb", max_bytes=None)
    data = _fill(cache, monkeypatch, {"old": 200, "middle": 600, "new": 600})
    # reading the oldest batch makes it the most recently used
    monkeypatch.setattr(ec, "_now", lambda: 10)
    found, got = cache.get("model-a", data["old"][0])
    assert found.all() and np.array_equal(got, data["old"][1])
    size0 = cache.path.stat().st_size
    cap = size0 // 2
    rep = cache.prune(cap)
    assert cache.path.stat().st_size <= cap and rep.bytes_after == cache.path.stat().st_size
    assert rep.n_before == 1400 and 0 < rep.n_after < 1400 and rep.n_removed == 1400 - rep.n_after
    kept = {name: cache.get("model-a", hashes)[0] for name, (hashes, _) in data.items()}
    assert kept["old"].all()                       # used last: kept whole
    assert not kept["middle"].any()                # used longest ago: gone first
    assert kept["old"].sum() + kept["middle"].sum() + kept["new"].sum() == rep.n_after
    found, got = cache.get("model-a", data["new"][0])
    assert np.array_equal(got, data["new"][1][found])   # what stays is intact
    assert "least recently used vectors removed" in rep.summary()
    # a cap the file already fits changes nothing; 0 empties it
    assert cache.prune(10 * size0).n_removed == 0
    assert cache.prune(0).n_after == 0 and cache.count() == 0
    assert not list(tmp_path.glob("*prune-tmp*"))


def test_writes_past_the_automatic_cap_prune_the_cache(tmp_path, monkeypatch):
    path = tmp_path / "c.duckdb"
    probe = EmbeddingCache(tmp_path / "probe.duckdb", max_bytes=None)
    batches = {name: 300 for name in "abcdefgh"}
    _fill(probe, monkeypatch, batches)
    uncapped = probe.path.stat().st_size
    cap = uncapped // 2
    cache = EmbeddingCache(path, max_bytes=cap)
    data = _fill(cache, monkeypatch, batches)
    assert path.stat().st_size <= cap
    assert cache.get("model-a", data["h"][0])[0].all()      # the newest batch is there
    assert not cache.get("model-a", data["a"][0])[0].any()  # the oldest is gone
    assert not cache.disabled


def test_the_cap_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("CURATION_EMBED_CACHE_MAX_SIZE", raising=False)
    assert default_max_bytes() == ec.DEFAULT_MAX_BYTES == 2 * 10**9
    monkeypatch.setenv("CURATION_EMBED_CACHE_MAX_SIZE", "500MB")
    assert default_max_bytes() == 500 * 10**6
    assert EmbeddingCache("x.duckdb").max_bytes == 500 * 10**6
    monkeypatch.setenv("CURATION_EMBED_CACHE_MAX_SIZE", "off")
    assert default_max_bytes() is None
    assert parse_size("1.5GiB") == int(1.5 * 2**30) and parse_size("2 gb") == 2 * 10**9 and parse_size("7") == 7
    monkeypatch.setenv("CURATION_EMBED_CACHE_MAX_SIZE", "lots")
    with pytest.raises(ValueError, match=r"CURATION_EMBED_CACHE_MAX_SIZE: cannot read 'lots'.*500MB"):
        default_max_bytes()


def test_a_cache_written_before_the_cap_existed_is_read_and_pruned(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("""create table vectors(model varchar not null, text_hash varchar not null, vector float[] not null,
                   primary key (model, text_hash))""")
    vecs = _vectors(800, 0)
    con.execute("insert into vectors select 'm', 'h' || i::varchar, v from (select unnest(range(800)) as i, "
                "unnest(?) as v)", [vecs.tolist()])
    con.close()
    cache = EmbeddingCache(path, max_bytes=None)
    found, got = cache.get("m", ["h0", "h799"])
    assert found.all() and np.allclose(got, vecs[[0, 799]])
    rep = cache.prune(path.stat().st_size // 2)
    assert 0 < rep.n_after < 800 and path.stat().st_size <= rep.bytes_before // 2
    assert cache.get("m", ["h0", "h799"])[0].all()           # the two just read are the last used


def test_cache_command(tmp_path, monkeypatch, capsys):
    cache = EmbeddingCache(tmp_path / "c.duckdb", max_bytes=None)
    _fill(cache, monkeypatch, {"a": 600, "b": 600})
    f = str(cache.path)
    assert main(["cache", "info", "--cache-file", f]) == 0
    assert "1,200 vectors" in capsys.readouterr().out
    assert main(["cache", "prune", "--max-size", "600kB", "--cache-file", f]) == 0
    assert "least recently used vectors removed" in capsys.readouterr().out
    assert cache.path.stat().st_size <= 600_000
    assert main(["cache", "prune", "--max-size", "small", "--cache-file", f]) == 1
    assert "--max-size: cannot read 'small'" in capsys.readouterr().err
    monkeypatch.setenv("CURATION_EMBED_CACHE", "off")
    assert main(["cache", "info"]) == 1
    assert "turned off" in capsys.readouterr().err


_WRITER = """
import sys, numpy as np
from curation.embedding.cache import EmbeddingCache
c = EmbeddingCache(sys.argv[1], max_bytes=None)
lost = 0
for i in range(int(sys.argv[2])):
    hs = [f"{999999 - i:06d}-{j}" for j in range(50)]     # later batches sort first among equal last-used times
    assert c.put("model-a", hs, np.full((50, 384), i, dtype=np.float32)) and not c.disabled
    found, _ = c.get("model-a", hs)                        # the newest batch: no prune may drop it
    lost += int((~found).sum())
print(lost)
"""


def test_a_prune_in_another_process_loses_no_write(tmp_path, monkeypatch):
    """One process writes batches and reads each back at once while another prunes the file in a loop (each
    prune rewrites the file and renames the copy over it). The newest batch is never the least recently used, so
    every batch must be there when read back: a write made to the old file during a rewrite would be lost. The
    rename is slowed to 50 ms (a busy disk) so that the window a lost write needs is wide open."""
    import subprocess
    import sys
    import time

    real_replace = ec.os.replace

    def slow_replace(a, b):
        time.sleep(0.05)
        real_replace(a, b)

    monkeypatch.setattr(ec.os, "replace", slow_replace)
    # flock is not fair: on a busy machine the writer may wait a long time behind the pruning loop; what this test
    # checks is that no write is lost, so both sides wait as long as they need (the writer inherits the env)
    monkeypatch.setenv("CURATION_EMBED_CACHE_LOCK_TIMEOUT", "600")

    path = tmp_path / "c.duckdb"
    cache = EmbeddingCache(path, max_bytes=None)
    cache.put("model-a", [f"seed-{i}" for i in range(2000)], _vectors(2000, 0))
    cap = path.stat().st_size // 2
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), "60"], stdout=subprocess.PIPE, text=True,
                              cwd=str(ec.Path(ec.__file__).resolve().parents[2]))
    n_prunes = 0
    while writer.poll() is None:
        cache.prune(cap)
        n_prunes += 1
        time.sleep(0.005)
    out, _ = writer.communicate(timeout=600)
    assert writer.returncode == 0
    assert n_prunes > 5 and int(out.strip()) == 0
    assert cache.get("model-a", [f"{999999 - 59:06d}-{j}" for j in range(50)])[0].all()


@pytest.mark.parametrize("wait, held_for, usable", [("30", 6.0, True), ("0.3", 3.0, False)])
def test_the_cache_lock_wait_is_configurable(tmp_path, monkeypatch, wait: str, held_for: float, usable: bool):
    """Another process holding the cache's file lock for longer than the default 5 s wait: with
    $CURATION_EMBED_CACHE_LOCK_TIMEOUT=30 the operation waits and succeeds; with a short wait it gives up (one
    warning) and the job carries on without the cache."""
    import subprocess
    import sys
    import time
    import warnings

    path = tmp_path / "c.duckdb"
    cache = EmbeddingCache(path, max_bytes=None)
    cache.put("model-a", ["h0"], _vectors(1, 0))
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        "fh = open(sys.argv[1], 'a+b'); fcntl.flock(fh, fcntl.LOCK_EX); print('held', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"), str(path) + ".lock", str(held_for)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    monkeypatch.setenv("CURATION_EMBED_CACHE_LOCK_TIMEOUT", wait)
    t0 = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found, _ = EmbeddingCache(path, max_bytes=None).get("model-a", ["h0"])
    holder.wait(timeout=60)
    assert bool(found.all()) is usable
    if usable:
        assert time.monotonic() - t0 >= held_for - 1.0 and not caught
    else:
        assert any("CURATION_EMBED_CACHE_LOCK_TIMEOUT" in str(w.message) for w in caught)
