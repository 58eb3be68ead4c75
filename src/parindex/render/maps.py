"""Choropleth and locator maps from the bundled Natural Earth geometry, drawn with matplotlib.

No geopandas: the layer is 63 polygons in lon/lat, and matplotlib patches draw them as
vector paths, which keeps the PDF vector and the dependency list short.

Every national map shows quần đảo Hoàng Sa and quần đảo Trường Sa (a map of Viet Nam published
in Viet Nam must) in a framed inset in the sea east of the coast: drawn at their own positions
relative to each other, not to the mainland's scale, so that the map keeps its size.
"""

from __future__ import annotations

import json
import textwrap
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch, Polygon
from matplotlib.path import Path as MplPath

from .charts import _lab, group_colours, is_narrow, subplots, width
from ..data.datapackage import verify
from ..errors import DataPackageError
from ..data.labels import Labels

MID_LATITUDE = 16.0  # Viet Nam spans about 8.4–23.4 °N; scale x by cos(mid-latitude)
KNOWN_BY_RANK_ALPHA = 0.45
# 1:10m vertices are far denser than a half-page map can show; keeping every 3rd makes the
# SVG about a third the size (and the PDF faster) with no visible change at print size.
CHOROPLETH_STEP = 3
LOCATOR_STEP = 4


def _outer_rings(path: Path, key) -> dict[str, list[np.ndarray]]:
    """Feature key -> the outer rings of its polygons, for the features ``key(properties)`` names."""
    with path.open(encoding="utf-8") as fh:
        gj = json.load(fh)
    out: dict[str, list[np.ndarray]] = {}
    for feat in gj["features"]:
        k = key(feat["properties"])
        if k is not None:
            geom = feat["geometry"]
            polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
            out[k] = [np.asarray(p[0]) for p in polys]
    return out


@lru_cache(maxsize=2)
def _shapes(path: Path) -> dict[str, list[np.ndarray]]:
    return _outer_rings(path, lambda props: props["iso_3166_2"])


def shapes() -> dict[str, list[np.ndarray]]:
    """ISO 3166-2 code -> outer rings, from the checksum-verified bundled file."""
    return _shapes(verify("provinces_geometry"))


# The archipelagos by their Vietnamese name in the bundled file -> label key (map.<key>).
ARCHIPELAGOS = {"Quần đảo Hoàng Sa": "hoang_sa", "Quần đảo Trường Sa": "truong_sa"}
# The inset's frame in the main map's degrees (lon0, lat0, width, height): the open sea east of
# the south-central coast (the mainland reaches 109.5 E at about 12.5 N), from Côn Đảo's latitude
# to Quảng Bình's, so that each archipelago sits near its own latitude.
INSET = (110.0, 8.0, 3.6, 9.6)
INSET_MARGIN = 0.5  # degrees of sea left and right of the islands inside the frame
ARCHIPELAGO_FACE = "#4d4d4d"
LOCATOR_ARCHIPELAGO_FACE = "#9a9a9a"  # a brief's map: lighter than the province it picks out


@lru_cache(maxsize=2)
def _archipelagos(path: Path) -> dict[str, list[np.ndarray]]:
    out = _outer_rings(path, lambda props: ARCHIPELAGOS.get(props.get("name", "")))
    if set(out) != set(ARCHIPELAGOS.values()):
        raise DataPackageError(f"expected the features {sorted(ARCHIPELAGOS)}, found {sorted(out)}",
                               fix="restore the file from git", file=str(path))
    return out


def archipelagos() -> dict[str, list[np.ndarray]]:
    """'hoang_sa' / 'truong_sa' -> the outer rings of their islands, from the checksum-verified file."""
    return _archipelagos(verify("archipelagos_geometry"))


def archipelago_inset(ax: Axes, L: Labels, fontsize: float = 7.0, face: str = ARCHIPELAGO_FACE) -> Axes:
    """A framed box in the sea east of the coast with both archipelagos, each drawn from its
    geometry and labelled in the edition's language; the main map is widened to hold it."""
    shapes = archipelagos()
    hs, ts = np.concatenate(shapes["hoang_sa"]), np.concatenate(shapes["truong_sa"])
    both = np.concatenate([hs, ts])
    x0, y0, w, h = INSET
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, max(hi, x0 + w + 0.15))
    blo, bhi = ax.get_ylim()
    ax.set_ylim(min(blo, y0 - 0.15), bhi)
    ins = ax.inset_axes((x0, y0, w, h), transform=ax.transData)
    ins.set_label("archipelagos")
    # One scale for both directions (the main map's aspect): the archipelagos keep their shapes
    # and their places relative to each other, only smaller than the mainland. The height the
    # frame has beyond the islands is shared above and below them, for the two names.
    lon0, lon1 = both[:, 0].min() - INSET_MARGIN, both[:, 0].max() + INSET_MARGIN
    span = (lon1 - lon0) * h / w
    mid = (both[:, 1].min() + both[:, 1].max()) / 2
    ins.set_xlim(lon0, lon1)
    ins.set_ylim(mid - span / 2, mid + span / 2)
    ins.set_xticks([])
    ins.set_yticks([])
    ins.grid(False)
    ins.set_facecolor("white")
    for spine in ins.spines.values():
        spine.set_visible(True)
        spine.set_edgecolor("#555555")
        spine.set_linewidth(0.6)
    for key, rings in shapes.items():
        path = MplPath.make_compound_path(*(MplPath(np.concatenate([r, r[:1]]), closed=True) for r in rings))
        _add_shapes(ins, [PathPatch(path, facecolor=face, edgecolor="none", gid=f"archipelago-{key}", label=key)],
                    rings)
        # Islands of a few hundred metres are specks at this scale (and a stroke wider than the
        # island draws as a ring): a dot at each island's centre is what the reader sees.
        centres = np.array([r.mean(axis=0) for r in rings])
        ins.plot(centres[:, 0], centres[:, 1], linestyle="none", marker="o", markersize=1.8,
                 markerfacecolor=face, markeredgewidth=0, gid=f"archipelago-dots-{key}")
    wrap = 10  # short lines: the box is narrow
    # Hoàng Sa's name above its islands from their west end, Trường Sa's under its own to their
    # east end: each name by its archipelago, and both inside the frame (tests check it)
    ins.text(hs[:, 0].min(), hs[:, 1].max() + 0.4, textwrap.fill(L("map.hoang_sa"), wrap), ha="left", va="bottom",
             fontsize=fontsize, linespacing=1.1, gid="archipelago-label-hoang_sa")
    ins.text(ts[:, 0].max(), ts[:, 1].min() - 0.4, textwrap.fill(L("map.truong_sa"), wrap), ha="right", va="top",
             fontsize=fontsize, linespacing=1.1, gid="archipelago-label-truong_sa")
    return ins


def inset_of(fig: Figure) -> Axes | None:
    """The archipelagos' inset of a map figure (None if it has none)."""
    for ax in fig.axes:
        for child in ax.child_axes:
            if child.get_label() == "archipelagos":
                return child
    return None


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


def _add_shapes(ax: Axes, patches: list, rings: list[np.ndarray]) -> None:
    """``patches`` drawn on ``ax``, whose data limits take in ``rings`` (the patches' vertices)
    at once: add_patch measured each shape's outline segment by segment, a fifth of a map's
    time, for the same limits (the outlines are straight segments between their vertices)."""
    for patch in patches:
        ax.add_artist(patch)
    ax.update_datalim(np.concatenate(rings))


def choropleth(classified: pd.DataFrame, rings: dict[str, list[np.ndarray]], labels: list[str], L: Labels,
               title: str, group_name, caption: str | None = None) -> Figure:
    """Group colour where the group is known; lighter and hatched where it is known only from a
    rank; grey and cross-hatched where nothing is published. One shape per unit."""
    colours = group_colours(labels)
    geo = rings
    # on a phone (charts.narrow): the map the screen's width, its legend under it
    fig, ax = _base((width(), width() * 1.9) if is_narrow() else (6.6, 6.6))
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
                _add_shapes(ax, [PathPatch(path, facecolor=colour, linewidth=0.3, **look[kind])], rings)
    ax.autoscale_view()
    archipelago_inset(ax, L)
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
        # The figure as tall as what it holds: the map at the screen's width (its height follows
        # from its extent), the title, one line per legend entry and the caption, so that a long
        # legend never runs into the caption. The map at the top, any slack under the caption.
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        map_h = width() * (y1 - y0) / ((x1 - x0) * np.cos(np.radians(MID_LATITUDE)))
        lines = sum(h.get_label().count("\n") + 1 for h in handles)
        caption_lines = _lab(caption or L("map.caption")).count("\n") + 1
        fig.set_figheight(map_h + 0.3 + (lines * 11.5 + caption_lines * 9.5 + 12) / 72)
        ax.set_anchor("N")
    else:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.8), fontsize=7.5, frameon=False)
    ax.set_title(title, fontsize=10)
    text = _lab(caption or L("map.caption"))
    fig.text(0.02, 0.01, text, fontsize=7, color="#555555", wrap=True)
    # the caption's room under the map and its legend: its lines of 7 pt (about 9.5 pt apart, a
    # character about 3.9 pt wide, wrapped at the figure's width) and a gap
    per_line = max(int(fig.get_figwidth() * 72 * 0.96 / 3.9), 1)
    lines = sum(-(-max(len(line), 1) // per_line) for line in text.split("\n"))
    room = (lines * 9.5 + 8) / (fig.get_figheight() * 72)
    fig.tight_layout(rect=(0, room, 1, 1))
    return fig


def simplified(step: int = LOCATOR_STEP) -> dict[str, list[np.ndarray]]:
    """Every step-th vertex of each ring (small rings are kept whole)."""
    return {k: [r[::step] if len(r) > 4 * step else r for r in rings] for k, rings in shapes().items()}


def locator(iso_codes: str | list[str], colour: str, L: Labels, title: str = "") -> Figure:
    """The country with one unit coloured: a province, or a 2025 unit as its former provinces."""
    chosen = {iso_codes} if isinstance(iso_codes, str) else set(iso_codes)
    geo = simplified()
    fig, ax = _base((2.4, 3.4))  # wide enough for the archipelagos' box and its names
    for code, rings in geo.items():
        _add_shapes(ax, [Polygon(ring, closed=True, facecolor=colour if code in chosen else "#e6e6e6",
                                 edgecolor="white", linewidth=0.25) for ring in rings], rings)
    ax.autoscale_view()
    # the archipelagos in the grey of the other provinces' edges, not in the dark of the one chosen
    archipelago_inset(ax, L, fontsize=6.5, face=LOCATOR_ARCHIPELAGO_FACE)
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout(pad=0.2)
    return fig


def n_shapes() -> int:
    return len(shapes())

