"""Shared helper: write one benchmark's section into benchmarks/RESULTS.md (between its start/end markers)."""
from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = ("# Benchmark results\n\nEach section is written by the benchmark named in it; numbers are from the last run "
          "on this project's 2-core CPU machine, measured side by side with the peer library in the same run.\n")


def write_section(name: str, title: str, body: str) -> None:
    """Replace (or append) the block between <!-- name:start --> and <!-- name:end --> in RESULTS.md."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    block = f"<!-- {name}:start -->\n## {title}\n\n{body.strip()}\n<!-- {name}:end -->"
    pat = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    text = pat.sub(lambda _: block, text) if pat.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")
