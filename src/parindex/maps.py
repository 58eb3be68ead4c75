"""Choropleth and locator maps from the bundled Natural Earth geometry, drawn with matplotlib.

No geopandas: the layer is 63 polygons in lon/lat, and matplotlib patches draw them as
vector paths, which keeps the PDF vector and the dependency list short.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch, Polygon
from matplotlib.path import Path as MplPath

from .charts import _lab, group_colours, is_narrow, subplots, width
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


def _base(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    fig, ax = subplots(figsize=figsize)
    ax.set_aspect(1 / np.cos(np.radians(MID_LATITUDE)))
    ax.set_axis_off()
    return fig, ax


def rings_by_unit(codes: list[str], iso: pd.Series | None = None,
                  merged: dict[str, list[str]] | None = None) -> dict[str, list[np.ndarray]]:
    """Outer rings per unit: a province's own shape (``iso``: code -> ISO 3166-2), or for a unit
    formed by a merger the dissolved shapes of its predecessors (``merged``: code -> their ISO codes)."""
    if merged is not None:
        return {c: dissolved(tuple(sorted(merged[c]))) for c in codes}
    geo = simplified(CHOROPLETH_STEP)
    return {c: geo[iso[c]] for c in codes}


@lru_cache(maxsize=64)
def dissolved(isos: tuple[str, ...]) -> list[np.ndarray]:
    """The union of several provinces' polygons as outer rings (shapely), simplified like the rest."""
    from shapely.geometry import Polygon as ShapelyPolygon
    from shapely.ops import unary_union

    geo = shapes()
    parts = [ShapelyPolygon(r).buffer(0) for i in isos for r in geo[i]]
    # The 1:10m borders of neighbours do not meet exactly: a hair-thin buffer closes the
    # slivers between them so the merged unit has one outline, then is taken back off.
    u = unary_union([p.buffer(1e-3) for p in parts]).buffer(-1e-3)
    polys = list(u.geoms) if hasattr(u, "geoms") else [u]
    rings = [np.asarray(p.exterior.coords) for p in polys if p.area > 1e-5]
    return [r[::CHOROPLETH_STEP] if len(r) > 4 * CHOROPLETH_STEP else r for r in rings]


def choropleth(classified: pd.DataFrame, rings: dict[str, list[np.ndarray]], labels: list[str], L: Labels,
               title: str, group_name, caption: str | None = None) -> Figure:
    """Group colour where the group is known; lighter and hatched where it is known only from a
    rank; grey and cross-hatched where nothing is published. One shape per unit."""
    colours = group_colours(labels)
    geo = rings
    # on a phone (charts.narrow): the map the screen's width, its legend under it
    fig, ax = _base((width(), width() * 1.9) if is_narrow() else (6.6, 7.4))
    # One compound shape per fill style, not one per province: the same picture, but a hatch
    # pattern is drawn once per style instead of once per province (the PDF renderer's cost).
    styles: dict[tuple[str, str], list[np.ndarray]] = {}
    for code, r in classified.iterrows():
        if pd.isna(r["group"]):
            key = ("none", "#eeeeee")
        else:
            key = ("solid" if not pd.isna(r["value"]) else "light", colours[r["group"]])
        styles.setdefault(key, []).extend(geo[code])
    look = {"solid": dict(edgecolor="white"),
            "light": dict(edgecolor="#888888", alpha=KNOWN_BY_RANK_ALPHA, hatch="////"),
            "none": dict(edgecolor="#888888", hatch="xxx")}
    light = [k for k in styles if k[0] == "light"]
    for kind in ("solid", "light", "none"):
        for (k, colour), rings in styles.items():
            if k == kind:
                path = MplPath.make_compound_path(*(MplPath(np.concatenate([r, r[:1]]), closed=True) for r in rings))
                ax.add_patch(PathPatch(path, facecolor=colour, linewidth=0.3, **look[kind]))
    ax.autoscale_view()
    present = [lab for lab in labels if (classified["group"] == lab).any()]
    solid = {colour for (k, colour) in styles if k == "solid"}
    light_colours = {colour for (k, colour) in light}
    handles = []
    for lab in present:  # each group as it is drawn: its colour, and its hatched light shade if used
        if colours[lab] in solid or colours[lab] not in light_colours:
            handles.append(Patch(facecolor=colours[lab], edgecolor="white", label=group_name(lab)))
        if colours[lab] in light_colours:
            handles.append(Patch(facecolor=colours[lab], alpha=KNOWN_BY_RANK_ALPHA, hatch="////", edgecolor="#888888",
                                 label=L("map.by_rank_group", group=group_name(lab))))
    handles.append(Patch(facecolor="#eeeeee", hatch="xxx", edgecolor="#888888", label=L("missing")))
    if is_narrow():
        for h in handles:
            h.set_label(_lab(h.get_label()))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=7, frameon=False)
    else:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.8), fontsize=7.5, frameon=False)
    ax.set_title(title, fontsize=10)
    fig.text(0.02, 0.01, _lab(caption or L("map.caption")), fontsize=7, color="#555555", wrap=True)
    fig.tight_layout(rect=(0, 0.07, 1, 1) if is_narrow() else None)  # the caption's room under the legend
    return fig


def simplified(step: int = LOCATOR_STEP) -> dict[str, list[np.ndarray]]:
    """Every step-th vertex of each ring (small rings are kept whole)."""
    return {k: [r[::step] if len(r) > 4 * step else r for r in rings] for k, rings in shapes().items()}


def locator(iso_codes: str | list[str], colour: str, L: Labels, title: str = "") -> Figure:
    """The country with one unit coloured: a province, or a 2025 unit as its former provinces."""
    chosen = {iso_codes} if isinstance(iso_codes, str) else set(iso_codes)
    geo = simplified()
    fig, ax = _base((1.9, 3.1))
    for code, rings in geo.items():
        for ring in rings:
            ax.add_patch(Polygon(ring, closed=True, facecolor=colour if code in chosen else "#e6e6e6",
                                 edgecolor="white", linewidth=0.25))
    ax.autoscale_view()
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout(pad=0.2)
    return fig


def n_shapes() -> int:
    return len(shapes())

