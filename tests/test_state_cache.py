"""pages/state.py's file-token cache: the data stamp and the pins are reused while the workspace file is unchanged
and read again after any write (the Select page's budget step opens no database connection)."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pages import state  # noqa: E402


def _age(path: Path, seconds: float = 1.0) -> None:
    """Set the file's mtime into the past, as if the last write were ``seconds`` ago (no sleeping)."""
    t = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(t, t))


def test_pins_follow_every_write(tiny_ws_copy) -> None:
    ws = tiny_ws_copy
    p = str(ws.path)
    ids = ws.examples(["row_id", "example_id"]).head(3)
    _age(ws.path)
    assert state.file_token(p) is not None
    assert all(len(a) == 0 for a in state.pin_arrays(ws))
    calls = []
    assert state.by_file_token(p, "probe", lambda: calls.append(1) or 7) == 7
    assert state.by_file_token(p, "probe", lambda: calls.append(1) or 8) == 7  # unchanged file: reused
    assert calls == [1]

    ws.add_decisions(ids["example_id"].tolist()[:2], "include", who="t")
    assert state.file_token(p) is None  # a change this recent is not trusted: read fresh
    inc, _ = state.pin_arrays(ws)
    assert sorted(inc.tolist()) == sorted(ids["row_id"].tolist()[:2])
    assert not inc.flags.writeable

    _age(ws.path)  # later reads are cached again, and the next write is seen at once
    s1 = state.stamp(ws)
    ws.add_decisions(ids["example_id"].tolist()[2:], "exclude", who="t")
    _, exc = state.pin_arrays(ws)
    assert exc.tolist() == [int(ids["row_id"].iloc[2])]
    assert state.stamp(ws) == s1 == ws.data_stamp()  # decisions are not part of the data stamp
    assert state.by_file_token(p, "probe", lambda: 9) == 9
    np.testing.assert_array_equal(state.pin_arrays(ws)[1], exc)
