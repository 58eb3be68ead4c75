"""Fitting a chart's text inside its figure: value labels inside their panel's frame, a title
inside the figure. Measured on the drawn figure, not guessed from character counts."""
from __future__ import annotations

import matplotlib.ticker
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg


def renderer(fig) -> RendererAgg:
    """One renderer to measure a figure's text with: its Agg canvas's (charts.subplots gives each
    figure one), whose text sizes the layout has already measured. Asking a text for its extent
    without one makes matplotlib print the whole figure to get one, each time (60 MiB more at the
    peak of a report's build, where the components' panels measured their labels in a loop)."""
    canvas = fig.canvas
    if hasattr(canvas, "get_renderer"):
        return canvas.get_renderer()
    return RendererAgg(int(fig.bbox.width), int(fig.bbox.height), fig.dpi)


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
