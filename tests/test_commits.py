"""Commit policy of the per-row jobs: by elapsed time, size or row count (no timing thresholds: the clock-based
rule is exercised with 0 s and with an interval no test reaches), and the background committer."""
from __future__ import annotations

import pytest

from curation.core.commits import BackgroundCommits, CommitPolicy
from curation.core.errors import CurationError
from curation.scorers import get_scorer
from curation.scorers.run import _default_batch


def test_policy_rules() -> None:
    never = 1e9
    assert not CommitPolicy(seconds=never).due(0)
    assert CommitPolicy(seconds=0).due(1)                       # interval elapsed
    assert not CommitPolicy(seconds=never).due(10_000, 1000)
    p = CommitPolicy(seconds=never, rows=5)
    assert not p.due(4) and p.due(5)                            # row count
    assert CommitPolicy(seconds=never, mb=0.001).due(1, nbytes=2_000)   # size
    for bad in ({"seconds": -1}, {"mb": 0}, {"rows": 0}):
        with pytest.raises(CurationError):
            CommitPolicy(**bad)


def test_background_commits_run_in_order_and_report_errors() -> None:
    seen: list[int] = []
    c = BackgroundCommits()
    for i in range(5):
        c.submit(lambda i=i: seen.append(i))
    c.wait()
    assert seen == [0, 1, 2, 3, 4]

    def boom() -> None:
        raise RuntimeError("disk full")

    c.submit(boom)
    with pytest.raises(RuntimeError, match="disk full"):
        c.wait()
    c.wait()                                                   # reported once


def test_default_batch_per_scorer_kind() -> None:
    assert _default_batch(get_scorer("ngram_repetition")) == 4096
    assert _default_batch(get_scorer("pref_embed_distance")) == 64
    assert _default_batch(get_scorer("ifd")) == 32
