"""Fitting a chart's text inside its figure: value labels inside their panel's frame, a title
inside the figure. Measured on the drawn figure, not guessed from character counts."""
from __future__ import annotations

from typing import Callable

import matplotlib
import matplotlib.text
import matplotlib.ticker
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import RendererSVG


def renderer(fig) -> RendererAgg:
    """One renderer to measure a figure's text with: its Agg canvas's (charts.subplots gives each
    figure one), whose text sizes the layout has already measured. Asking a text for its extent
    without one makes matplotlib print the whole figure to get one, each time (60 MiB more at the
    peak of a report's build, where the components' panels measured their labels in a loop)."""
    canvas = fig.canvas
    if hasattr(canvas, "get_renderer"):
        return canvas.get_renderer()
    return RendererAgg(int(fig.bbox.width), int(fig.bbox.height), fig.dpi)


# The tallest chart: an A4 page's text height (263 mm) less a heading and a two-line caption
MAX_HEIGHT = 9.1  # inches (231 mm)


def row_height(n: int, natural: float = 0.17, extra: float = 1.2) -> float:
    """Inches per row of a chart of ``n`` rows and ``extra`` inches of title and axis: ``natural``,
    or closer (never under 9 pt, for 7 pt names) where the chart would be taller than a page holds
    (a complete table's 63 rows drew 11.9 in, printed over the page's foot after a blank page)."""
    return min(natural, max(9 / 72, (MAX_HEIGHT - extra) / max(n, 1)))


def names_that_fit(ax, names: list, dot: float = 2.5) -> int:
    """Keep the point labels (annotations, most important first) that cover no label kept before
    them and no other point (a dot of radius ``dot`` points) and stay inside the axes, trying the
    point's other side first; remove the rest and return how many were removed. 63 names piled
    over each other were read as "LâmChâu", and a name over another's dot named the wrong one."""
    from matplotlib.transforms import Bbox

    measure, frame, kept, dropped = renderer(ax.figure), ax.get_window_extent(renderer(ax.figure)), [], 0
    r = dot * ax.figure.dpi / 72
    dots = {tuple(p): Bbox.from_extents(p[0] - r, p[1] - r, p[0] + r, p[1] + r)
            for p in ax.transData.transform([a.xy for a in names])}
    for ann in names:
        own = tuple(ax.transData.transform([ann.xy])[0])
        others = [b for p, b in dots.items() if p != own]
        for _ in range(2):
            box = ann.get_window_extent(measure)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(k) for k in kept + others):
                kept.append(box)
                break
            x, y = ann.xyann  # the other side of its point
            ann.xyann = (-x, y)
            ann.set_horizontalalignment("left" if ann.get_horizontalalignment() == "right" else "right")
        else:
            ann.remove()
            dropped += 1
    return dropped


def name_points(ax, names: list, left_out: Callable[[int], str]) -> None:
    """Keep the point names that fit (:func:`names_that_fit`, the farthest from the middle first);
    how many were left out is said under the chart, which makes room for the line."""
    fig = ax.figure
    if dropped := names_that_fit(ax, names):
        note = fig.text(0.5, 0.01, left_out(dropped), ha="center", va="bottom", fontsize=7)
        fig.tight_layout(rect=(0, 0.02 + note.get_window_extent(renderer(fig)).height / fig.bbox.height, 1, 1))
        if more := names_that_fit(ax, [a for a in names if a.axes is not None]):  # the layout moved them
            note.set_text(left_out(dropped + more))


def title_inside(ax) -> None:
    """Centre a title over the figure instead of its axes when, over the axes, it would run past
    the figure's edge (the ranking's axes sit right of the province names)."""
    fig = ax.figure
    box = ax.title.get_window_extent(renderer(fig))
    if box.x0 < fig.bbox.x0 or box.x1 > fig.bbox.x1:
        ax.title.set_x(float(ax.transAxes.inverted().transform((fig.bbox.x0 + fig.bbox.width / 2, 0))[0]))


def frame_values(ax, top: float, measure: RendererAgg) -> None:
    """Frame a panel from 0 to the first grid step or half-step that holds its value labels.
    The step is a 1-2-5 one (0..88 in quarters framed 58.71 at 100, the bars under 60 % of the
    panel); the frame never sits on a grid line's pixel (that drew a double line). ``measure``
    is the figure's renderer (:func:`renderer`)."""
    step = float(matplotlib.ticker.MaxNLocator(4, steps=[1, 2, 5, 10]).tick_values(0, top * 1.15)[1])
    lim = float(np.floor(top / (step / 2)) + 1) * (step / 2)
    for _ in range(6):
        ax.set_xlim(0, lim)
        ax.set_xticks(np.arange(0, lim + step / 4, step))
        inv = ax.transData.inverted()
        right = max((inv.transform((t.get_window_extent(measure).x1, 0))[0] for t in ax.texts), default=0.0)
        if right <= lim:
            break
        lim += step / 2


# Text sizes, measured once per process -------------------------------------------------
# matplotlib caches a text's size per renderer object, and every figure (the page and the
# phone version of each chart, each savefig) has renderers of its own: the same province
# names and tick labels were measured by FreeType again and again (9 in 10 measurements of
# the yearly documents were repeats; a seventh of a chart's time). A size depends only on
# the renderer's kind and resolution, the text, its font and the hinting settings, so one
# table for the process serves every figure with the same numbers.
_SIZES: dict[tuple, tuple[float, float, float]] = {}
_MAX_SIZES = 50_000


def _shared_text_metrics(renderer, text, fontprop, ismath, dpi):
    # the SVG backend's MixedModeRenderer measures with the vector renderer inside it
    base = renderer._renderer if isinstance(renderer, MixedModeRenderer) else renderer
    if type(base) not in _MEASURERS:
        return _matplotlib_text_metrics(renderer, text, fontprop, ismath, dpi)
    rc = matplotlib.rcParams
    key = (type(base), getattr(base, "dpi", None), dpi, text, fontprop.copy(), ismath, rc["text.hinting"],
           rc["text.hinting_factor"])
    size = _SIZES.get(key)
    if size is None:
        if len(_SIZES) >= _MAX_SIZES:
            _SIZES.clear()
        size = _SIZES[key] = base.get_text_width_height_descent(text, key[4], ismath)
    return size


_matplotlib_text_metrics = matplotlib.text._get_text_metrics_with_cache
_MEASURERS = (RendererAgg, RendererSVG)
matplotlib.text._get_text_metrics_with_cache = _shared_text_metrics
