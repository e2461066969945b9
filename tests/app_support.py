"""AppTest helper shared by the page tests: one page of the dashboard on a workspace, with the session state a
person would have set (the workspace chosen on the Data page, a curator name, anything else given)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # the pages import `pages.*`
    sys.path.insert(0, str(ROOT))


def app_page(name: str, ws: Any = None, *, timeout: float = 120, run: bool = True, **state: Any) -> AppTest:
    """``pages/NAME.py`` in AppTest with ``ws`` as the workspace (when given), curator ``tester`` and ``state`` in
    the session (keys with a colon: ``**{"select:tab": ...}``); run once unless ``run`` is False."""
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=timeout)
    if ws is not None:
        at.session_state["workspace_path"] = str(ws.path)
        at.session_state["curator"] = "tester"
    for k, v in state.items():
        at.session_state[k] = v
    return at.run() if run else at
