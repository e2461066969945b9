"""Progress reporting: the one :data:`Progress` type every engine function takes, and the CLI's progress bar (a
``progress(done, total)`` callback drawing tqdm on stderr, shared by every command)."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as work advances. A job with stages takes a factory instead,
``progress(stage_name) -> Progress`` (scorers, the demo builder)."""


class TqdmProgress:
    """``progress(done, total)`` callback; the bar appears on the first call and closes itself when done reaches
    total (or on :meth:`close`, for jobs that stop early). Calls after closing are ignored."""

    def __init__(self, desc: str, unit: str = "it") -> None:
        self.desc, self.unit = desc, unit
        self._bar: Any = None
        self._closed = False

    def __call__(self, done: int, total: int) -> None:
        if self._closed:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr, dynamic_ncols=True)
        self._bar.total = total
        self._bar.update(max(0, done - self._bar.n))
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None and not self._closed:
            self._bar.close()
        self._closed = True


def tqdm_progress(desc: str, unit: str = "it") -> TqdmProgress:
    """A fresh progress bar callback (also usable as a ``progress(desc)`` factory)."""
    return TqdmProgress(desc, unit)
