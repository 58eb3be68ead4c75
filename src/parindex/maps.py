"""Choropleth and locator maps from the bundled Natural Earth geometry, drawn with matplotlib.

No geopandas: the layer is 63 polygons in lon/lat, and matplotlib patches draw them as
vector paths, which keeps the PDF vector and the dependency list short.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Polygon

from .charts import group_colours
from .datapackage import verify
from .labels import Labels

MID_LATITUDE = 16.0  # Viet Nam spans about 8.4–23.4 °N; scale x by cos(mid-latitude)
KNOWN_BY_RANK_ALPHA = 0.45
# 1:10m vertices are far denser than a half-page map can show; keeping every 3rd makes the
# SVG about a third the size (and the PDF faster) with no visible change at print size.
CHOROPLETH_STEP = 3
LOCATOR_STEP = 4


@lru_cache(maxsize=2)
def _shapes(path: Path) -> dict[str, list[np.ndarray]]:
    with path.open(encoding="utf-8") as fh:
        gj = json.load(fh)
    out: dict[str, list[np.ndarray]] = {}
    for feat in gj["features"]:
        geom = feat["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        out[feat["properties"]["iso_3166_2"]] = [np.asarray(p[0]) for p in polys]  # outer rings
    return out


def shapes() -> dict[str, list[np.ndarray]]:
    """ISO 3166-2 code -> outer rings, from the checksum-verified bundled file."""
    return _shapes(verify("provinces_geometry"))


def _base(figsize: tuple[float, float]) -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=figsize)
    ax.set_aspect(1 / np.cos(np.radians(MID_LATITUDE)))
    ax.set_axis_off()
    return fig, ax


def choropleth(classified: pd.DataFrame, iso: pd.Series, labels: list[str], L: Labels, title: str,
               group_name) -> Figure:
    """Group colour where the group is known; lighter and hatched where it is known only from a
    rank; grey and cross-hatched where nothing is published. One shape per province."""
    colours = group_colours(labels)
    geo = simplified(CHOROPLETH_STEP)
    fig, ax = _base((6.6, 7.4))
    solid, light, none = [], [], []
    for code, r in classified.iterrows():
        for ring in geo[iso[code]]:
            has_group = not pd.isna(r["group"])
            if has_group and not pd.isna(r["value"]):
                solid.append(Polygon(ring, closed=True, facecolor=colours[r["group"]]))
            elif has_group:
                light.append(Polygon(ring, closed=True, facecolor=colours[r["group"]], alpha=KNOWN_BY_RANK_ALPHA,
                                     hatch="////"))
            else:
                none.append(Polygon(ring, closed=True, facecolor="#eeeeee", hatch="xxx"))
    for group in (solid, light, none):
        for p in group:
            p.set_edgecolor("white" if group is solid else "#888888")
            p.set_linewidth(0.3)
            ax.add_patch(p)
    ax.autoscale_view()
    present = [lab for lab in labels if (classified["group"] == lab).any()]
    handles = [Patch(facecolor=colours[lab], edgecolor="white", label=group_name(lab)) for lab in present]
    if light:
        handles.append(Patch(facecolor="#bbbbbb", hatch="////", edgecolor="#888888", label=L("map.by_rank")))
    handles.append(Patch(facecolor="#eeeeee", hatch="xxx", edgecolor="#888888", label=L("missing")))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.8), fontsize=7.5, frameon=False)
    ax.set_title(title, fontsize=10)
    fig.text(0.02, 0.01, L("map.caption"), fontsize=5.5, color="#555555", wrap=True)
    fig.tight_layout()
    return fig


def simplified(step: int = LOCATOR_STEP) -> dict[str, list[np.ndarray]]:
    """Every step-th vertex of each ring (small rings are kept whole)."""
    return {k: [r[::step] if len(r) > 4 * step else r for r in rings] for k, rings in shapes().items()}


def locator(iso_code: str, colour: str, L: Labels, title: str = "") -> Figure:
    geo = simplified()
    fig, ax = _base((1.9, 3.1))
    for code, rings in geo.items():
        for ring in rings:
            ax.add_patch(Polygon(ring, closed=True, facecolor=colour if code == iso_code else "#e6e6e6",
                                 edgecolor="white", linewidth=0.25))
    ax.autoscale_view()
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout(pad=0.2)
    return fig


def n_shapes() -> int:
    return len(shapes())

