"""The map renderer's Python half (pages/scatter/geometry.py): colour codes and the evaluation of the selection
geometry the browser sends back, on the same float32 coordinates it draws."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pages.scatter.geometry import (  # noqa: E402
    MISSING,
    categorical_codes,
    integer_codes,
    numeric_codes,
    points_in_box,
    points_in_polygon,
    selection_positions,
)


def test_box_includes_edges_and_nothing_else() -> None:
    xy = np.array([[0, 0], [1, 1], [2, 2], [1, 3], [-1, 1]], dtype=np.float32)
    assert points_in_box(xy, (0, 0, 2, 2)).tolist() == [0, 1, 2]
    assert points_in_box(xy, (2, 2, 0, 0)).tolist() == [0, 1, 2]  # corners in any order
    assert points_in_box(xy, (5, 5, 6, 6)).tolist() == []


def test_polygon_matches_a_brute_force_even_odd_test() -> None:
    rng = np.random.default_rng(0)
    xy = rng.uniform(-1, 1, (5000, 2)).astype(np.float32)
    # a concave "C" shape: the notch must stay unselected
    poly = [(-0.8, -0.8), (0.8, -0.8), (0.8, -0.4), (-0.3, -0.4), (-0.3, 0.4), (0.8, 0.4), (0.8, 0.8), (-0.8, 0.8)]
    got = set(points_in_polygon(xy, poly).tolist())

    def inside(x: float, y: float) -> bool:
        c = False
        for (xi, yi), (xj, yj) in zip(poly, poly[-1:] + poly[:-1]):
            if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                c = not c
        return c

    want = {i for i, (x, y) in enumerate(xy.astype(np.float64)) if inside(x, y)}
    assert got == want and 0 < len(got) < 5000
    assert not any(-0.3 < xy[i, 0] and -0.4 < xy[i, 1] < 0.4 for i in got)


def test_selection_events() -> None:
    xy = np.array([[0, 0], [1, 1], [5, 5]], dtype=np.float32)
    cl = np.array([3, 3, -1])
    assert selection_positions({"kind": "box", "box": [-1, -1, 2, 2]}, xy).tolist() == [0, 1]
    assert selection_positions({"kind": "lasso", "poly": [[4, 4], [6, 4], [6, 6], [4, 6]]}, xy).tolist() == [2]
    assert selection_positions({"kind": "point", "pos": 2}, xy).tolist() == [2]
    assert selection_positions({"kind": "point", "pos": 9}, xy).tolist() == []  # out of range: nothing
    assert selection_positions({"kind": "cluster", "cluster": 3}, xy, cl).tolist() == [0, 1]
    assert selection_positions({"kind": "clear"}, xy).tolist() == []
    assert selection_positions({"kind": "hover", "pos": 1}, xy) is None  # not a selection
    assert selection_positions({"kind": "lasso", "poly": [[0, 0], [1, 1]]}, xy).tolist() == []  # degenerate


def test_categorical_codes_order_palette_and_missing() -> None:
    codes, palette, legend = categorical_codes(pd.Series(["b", "a", "b", None, "b"]))
    names = [e["name"] for e in legend]
    assert names == ["b", "a", "(none)"] and [e["count"] for e in legend] == [3, 1, 1]
    assert codes.dtype == np.uint8 and codes.tolist() == [0, 1, 0, 2, 0]
    assert len(palette) == 256 and palette[2] == "#C7C7C7"  # missing is grey


def test_categorical_codes_cap_the_number_of_colours() -> None:
    vals = np.array([f"c{i}" for i in range(400)] + ["c0"] * 10, dtype=object)
    codes, _, legend = categorical_codes(vals)
    assert len(legend) == 254 and legend[-1]["name"] == "other"
    assert sum(e["count"] for e in legend) == len(vals)
    assert codes.max() == 253


def test_integer_codes_match_categorical_codes() -> None:
    rng = np.random.default_rng(1)
    ids = rng.integers(-1, 30, 10_000)
    names = {i: f"topic {i}" for i in range(30)}
    codes, palette, legend = integer_codes(ids, names)
    # the biggest cluster gets code 0; unclustered points are grey and last in the legend
    sizes = np.bincount(ids[ids >= 0])
    assert legend[0]["name"] == f"{int(np.argmax(sizes))} · topic {int(np.argmax(sizes))}"
    assert legend[-1]["name"] == "n/a" and legend[-1]["code"] == MISSING
    assert (codes[ids < 0] == MISSING).all()
    for e in legend[:-1]:
        cid = int(e["name"].split(" ·")[0])
        assert (codes[ids == cid] == e["code"]).all() and e["count"] == int((ids == cid).sum())


def test_numeric_codes_quantise_the_percentile_range() -> None:
    v = np.concatenate([np.linspace(0, 1, 1000), [np.nan, 1e9]])
    codes, palette, rng = numeric_codes(v)
    assert codes[-2] == MISSING and rng["missing"] == 1
    assert codes[0] == 0 and codes[-1] == 254  # the outlier is clipped to the top colour
    assert np.all(np.diff(codes[:1000].astype(int)) >= 0)
    assert len(palette) == 256
