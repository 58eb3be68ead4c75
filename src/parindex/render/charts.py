"""Report figures. Missing values are never drawn as bars or numbers.

Text uses matplotlib's bundled DejaVu Sans, which carries every precomposed Vietnamese
letter, so figures render the same on any machine without system fonts.
"""

from __future__ import annotations

import contextlib
import contextvars
import textwrap
from pathlib import Path
from typing import Callable

import matplotlib
import matplotlib.lines
import matplotlib.patches
import matplotlib.style
import matplotlib.text
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..infer.analysis import IndexResult
from ..data.collate import by_name
from ..data.labels import Labels
from ..data.tables import COMPONENT_COLUMNS, value_as_published
from . import chartfit

UNKNOWN_COLOUR = "#9e9e9e"


class _DecimalMark(matplotlib.ticker.Formatter):
    """An axis's own formatter, its labels then given the edition's decimal mark."""

    def __init__(self, inner: matplotlib.ticker.Formatter, L: Labels):
        self.inner, self.L = inner, L

    def set_axis(self, axis) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def set_locs(self, locs) -> None:
        self.inner.set_locs(locs)

    def format_ticks(self, values) -> list[str]:
        return [self.L.number(s) for s in self.inner.format_ticks(values)]

    def __call__(self, x, pos=None) -> str:
        return self.L.number(self.inner(x, pos))

    def get_offset(self) -> str:
        return self.L.number(self.inner.get_offset())


def use_decimal_mark(fig: Figure, L: Labels) -> None:
    """Every number a finished figure shows (labels, legends, ticks) in ``L``'s typography
    (``Labels.number``: 89,21 in the Vietnamese edition; the minus sign and thousands in both):
    one pass here instead of one per chart."""
    for t in fig.findobj(matplotlib.text.Text):
        t.set_text(L.number(t.get_text()))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            f = axis.get_major_formatter()
            if not isinstance(f, _DecimalMark):
                axis.set_major_formatter(_DecimalMark(f, L))


# The width figures are drawn at: 7.2 inches for the page (A4 text width, PDF and desktop
# HTML), narrower for the phone version of the HTML (``narrow``), where a page-wide figure
# scaled down to 390 px would have 5 px text. Type sizes stay the same; the layout adapts.
WIDE, NARROW = 7.2, 3.75
_WIDTH: contextvars.ContextVar[float] = contextvars.ContextVar("parindex_figure_width", default=WIDE)


def width() -> float:
    return _WIDTH.get()


def is_narrow() -> bool:
    return _WIDTH.get() < WIDE


@contextlib.contextmanager
def narrow(w: float = NARROW):
    """Figures drawn inside are ``w`` inches wide (the phone version of each chart)."""
    token = _WIDTH.set(w)
    try:
        yield
    finally:
        _WIDTH.reset(token)


def _lab(text: str, per_inch: float = 12) -> str:
    """A legend or title text, wrapped to the figure's width when it is narrow."""
    return textwrap.fill(text, int(width() * per_inch)) if is_narrow() else text


def _title(text: str) -> str:
    """A chart's title: larger type than a legend's, about 9.5 characters an inch (on a phone the
    distribution's title ran past both edges)."""
    return _lab(text, 9.5)


def subplots(*args, figsize: tuple[float, float], **kwargs):
    """A figure outside pyplot: the library's figures never depend on (or switch) the backend,
    and never appear among a researcher's own pyplot figures."""
    fig = Figure(figsize=figsize)
    # An Agg canvas of its own: the layout and the text fitting then measure text with one
    # renderer, whose cache of text sizes they share (a figure without one got a new renderer,
    # and measured every text afresh, at each step)
    FigureCanvasAgg(fig)
    # Titles on top of their axes (axes.titley 1), where matplotlib puts them when no tick label is
    # above the axes, as in every chart here; its placement measured all the y tick labels again at
    # each layout pass and drawing (an eighth of the charts' time). A researcher's figures keep it.
    with matplotlib.rc_context({"axes.titley": 1.0}):
        return fig, fig.subplots(*args, **kwargs)


STYLE = Path(__file__).with_name("parindex.mplstyle")

# seaborn's "colorblind" palette (tests/test_style.py checks it against seaborn's own)
COLORBLIND = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc", "#ca9161", "#fbafe4", "#949494", "#ece133",
              "#56b4e9")


def setup_style() -> None:
    """seaborn's whitegrid theme in the paper context, with parindex's type (parindex.mplstyle)."""
    matplotlib.style.use(STYLE)


def group_colours(labels: list[str]) -> dict[str, str]:
    """One colour per group, best first; shared by every chart (and the map)."""
    pal = COLORBLIND
    order = [pal[2], pal[0], pal[1], pal[3], pal[4]]  # green, blue, orange, red...
    out = {lab: order[i % len(order)] for i, lab in enumerate(labels)}
    out.setdefault("none", "#9e9e9e")  # below (or above) every band of the year's rules: in no group
    return out


def place_keys(c: pd.DataFrame) -> pd.Series:
    """Where each unit stands in a list ordered by rank: its published rank, or, for a value
    without one, just after the ranked units with a higher value (+0.5); NaN for neither.
    The charts and the appendix order their rows by it."""
    key = c["rank_published"].astype("Float64").astype(float)
    ranked = c[c["rank_published"].notna() & c["value"].notna()]
    for code in c.index[key.isna() & c["value"].notna()]:
        v = float(c.at[code, "value"])
        above = ranked.loc[ranked["value"].astype(float) > v, "rank_published"]
        key[code] = (float(above.max()) if len(above) else 0.0) + 0.5
    return key


def _positions(c: pd.DataFrame) -> pd.DataFrame:
    """Rows to draw (value or rank known), ordered by published rank, else by value."""
    d = c[c["value"].notna() | c["rank_published"].notna()].copy()
    d["pos"] = place_keys(d)
    return d.sort_values(["pos", "value"], ascending=[True, False])


# the mark of a published figure the audit set aside, in charts and tables alike (common.aside_note)
ASIDE_MARK = "†"  # not "*": the groups tables mark "inferred from the record" with * and **


def _ranges(ax, ys, los, his, colour: str, mark_size: float, marked_from=None, **line) -> None:
    """Ranges at rows ``ys`` as one line (NaN between the rows' segments: each starts afresh, its
    dashes too) and one of marks at their ends (``marked_from``: which starts have one)."""
    ys = np.asarray(ys, dtype=float)
    ax.plot(np.column_stack([los, his, np.full(len(ys), np.nan)]).ravel(), np.repeat(ys, 3), color=colour, **line)
    starts = los if marked_from is None else np.where(marked_from, los, np.nan)
    ax.plot(np.column_stack([starts, his]).ravel(), np.repeat(ys, 2), "|", ls="", color=colour, ms=mark_size)


def ranking_chart(res: IndexResult, L: Labels, title: str) -> Figure:
    c = res.classified
    rs = res.rules
    labels = rs.labels if rs else []
    colours = group_colours(labels)
    d = _positions(c)
    n = len(d)
    fig_h = max(3.0, chartfit.row_height(n) * n + 1.2)
    fig, ax = subplots(figsize=(width(), fig_h))
    y = np.arange(n)
    # a range reaching the bottom of the scale has no lower bound in the record: the axis starts
    # near what is bounded, and such a range runs off its left edge (an arrow)
    bounded = c["lo"].astype(float)
    bounded = bounded[bounded > 0]
    lows = [x for x in (bounded.min() if len(bounded) else np.nan, d["value"].astype(float).min()) if not pd.isna(x)]
    lo_axis = np.floor(min(lows) / 5) * 5 - 5 if lows else 0.0
    top = max(d["value"].astype(float).max(skipna=True) if d["value"].notna().any() else 0.0,
              d.loc[d["value"].isna(), "hi"].astype(float).max() if d["value"].isna().any() else 0.0)
    hi_axis = float(min(100.0, np.ceil((top + 3) / 5) * 5))  # room for the value labels, no empty tail
    cuts = rs.cutoffs() if rs and rs.is_band else []
    per_pt = (hi_axis - lo_axis) / (72 * width() * (0.75 if not is_narrow() else 0.6))  # data units per point: the plot is about 3/4 of the width
    bars: list[tuple[int, float, str]] = []
    ranges: dict[str, list[tuple[int, float, float, bool]]] = {}  # colour -> (row, from, to, open below)
    any_rounded = False
    for i, (code, r) in enumerate(d.iterrows()):
        col = colours.get(r["group"], UNKNOWN_COLOUR) if not pd.isna(r["group"]) else UNKNOWN_COLOUR
        if not pd.isna(r["value"]):
            dec = res.table.data["value_decimals"].get(code) if "value_decimals" in res.table.data else None
            half = 0.5 * 10.0 ** -int(dec) if dec is not None and not pd.isna(dec) and int(dec) < 2 else 0.0
            if half:  # published rounded ("≈84"): the interval its rounding allows, an open dot
                ax.errorbar([float(r["value"])], [i], xerr=[half], fmt="o", ms=5.5, mfc="white", mec=col,
                            ecolor=col, elinewidth=1.2, capsize=2, zorder=4)
                any_rounded = True
            else:
                bars.append((i, float(r["value"]), col))
            # right of its dot, or left of it where a cut-off line would run through the figure;
            # on a white ground either way
            text, v = value_as_published(res.table.data, code), float(r["value"])
            text += ASIDE_MARK if code in res.set_aside("value") else ""
            gap = 5 + half / per_pt  # points: clear of the dot, or of the rounding's bar
            span = (len(text) * 7 * 0.62 + 3) * per_pt + gap * per_pt  # the label's width and gap in data units
            left = any(v < cut < v + span for cut in cuts) or v + span > hi_axis  # nor past the frame
            ax.annotate(text, (v, i), xytext=(-gap if left else gap, 0), textcoords="offset points", va="center",
                        ha="right" if left else "left", fontsize=7, zorder=5,
                        bbox=dict(facecolor="white", edgecolor="none", pad=0.4))
        else:
            lo, hi = float(r["lo"]), float(r["hi"])
            # no lower bound: from the axis's edge, with an arrow and no mark at that end
            ranges.setdefault(col, []).append((i, max(lo, lo_axis), hi, lo < lo_axis))
    for col, rows in ranges.items():  # the end marks are explained once, in the legend
        ys, los, his, open_ = (np.array(v) for v in zip(*rows))
        _ranges(ax, ys, los, his, col, 6, ~open_, lw=1.2, ls=(0, (2, 1.5)))
        if open_.any():
            ax.plot(los[open_], ys[open_].astype(float), "<", ls="", color=col, ms=4, clip_on=False)
    if bars:  # a dot per value: the axis starts near the lowest value, where a bar's length would mislead
        ys, vals, cols = zip(*bars)
        ax.scatter(list(vals), list(ys), c=list(cols), s=34, zorder=4, edgecolor="white", linewidth=0.5)
    aside = res.set_aside("rank")  # a rank the audit set aside carries the mark its note explains
    ticks = [f"{r['province']} ({int(r['rank_published'])}{ASIDE_MARK if code in aside else ''})"
             if not pd.isna(r["rank_published"]) else r["province"] for code, r in d.iterrows()]
    ax.set_yticks(y, ticks)
    ax.invert_yaxis()
    ax.set_xlim(lo_axis, hi_axis)
    ax.set_ylim(n - 0.4, -0.6)
    for cut in (rs.cutoffs() if rs and rs.is_band else []):
        if lo_axis < cut < hi_axis:
            ax.axvline(cut, color="#333333", lw=0.8, ls="--")
            ax.text(cut, -0.9, L("chart.cutoff", value=cut), ha="center", va="bottom", fontsize=7)
    handles = [matplotlib.lines.Line2D([], [], color=colours[lab], marker="o", ls="none",
                                       label=L.get(f"group.{lab}", L.get(f"tier.{lab}", lab)))
               for lab in labels if (c["group"] == lab).any()]
    if d["value"].isna().any():
        handles.append(matplotlib.lines.Line2D([], [], color=UNKNOWN_COLOUR, ls=(0, (2, 1.5)), marker="|",
                                               label=_lab(L("chart.rank_only_legend"))))
    # the groups in one row, in order; the rank-only and rounded entries in a legend of their own under them
    rank_only = [handles.pop()] if d["value"].isna().any() else []
    if any_rounded:
        rank_only.append(matplotlib.lines.Line2D([], [], color=UNKNOWN_COLOUR, marker="o", mfc="white", ms=5,
                                                 label=_lab(L("chart.rounded_legend"))))
    # Both legends sit in a band of the figure under the axes (figure coordinates, in inches), and
    # the axes are laid out above that band: they never cover the axis title, whatever the height.
    row = 0.19  # inches per legend row at 7 pt
    rank_rows = sum(h.get_label().count("\n") + 1 for h in rank_only)
    ncol = (len(handles) if not is_narrow() else min(2, len(handles))) or 1
    group_rows = -(-len(handles) // ncol)
    band = 0.08 + row * (group_rows + rank_rows)
    if handles:
        fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, (0.04 + row * rank_rows) / fig_h),
                   ncol=ncol, fontsize=7, frameon=False, borderaxespad=0, handletextpad=0.4)
    if rank_only:
        fig.legend(handles=rank_only, loc="lower center", bbox_to_anchor=(0.5, 0.04 / fig_h), fontsize=7, ncol=1,
                   frameon=False, borderaxespad=0, handletextpad=0.4)
    ax.set_xlabel(L("chart.value_axis"))
    ax.set_title(_title(title), pad=14)
    ax.grid(axis="y", visible=False)
    fig.tight_layout(rect=(0, min(band / fig_h, 0.5), 1, 1))
    chartfit.title_inside(ax)
    return fig


def swarm_levels(x: np.ndarray, width: float, step: float = 0.1, levels: int = 5) -> np.ndarray:
    """Vertical positions for dots on one value axis: each dot takes the level nearest the
    middle that no dot closer than ``width`` (in value) already holds, so two close values are
    drawn apart (a seeded random jitter left 86,86 and 86,93 over each other). The same input
    gives the same figure; with more than ``levels`` dots that close, the least used level."""
    offsets = [0.0] + [s * k * step for k in range(1, levels // 2 + 1) for s in (1, -1)]
    y = np.zeros(len(x))
    placed: list[tuple[float, float]] = []
    for i in np.argsort(x, kind="stable"):
        near = [lev for v, lev in placed if abs(v - x[i]) < width]
        free = [o for o in offsets if o not in near]
        y[i] = free[0] if free else min(offsets, key=near.count)
        placed.append((float(x[i]), y[i]))
    return y


def distribution_chart(res: IndexResult, L: Labels, title: str) -> Figure:
    c = res.classified
    rs = res.rules
    colours = group_colours(rs.labels if rs else [])
    known = c[c["value"].notna()]
    fig, ax = subplots(figsize=(width(), 2.2))
    lo = float(c["lo"].astype(float).min())
    jitter = swarm_levels(known["value"].astype(float).to_numpy(), width=(100 - (np.floor(lo / 5) * 5 - 2)) / 60)
    ax.scatter(known["value"].astype(float), jitter,
               c=[colours.get(g, UNKNOWN_COLOUR) if not pd.isna(g) else UNKNOWN_COLOUR for g in known["group"]],
               s=28, edgecolor="white", linewidth=0.5, zorder=3)
    for cut in (rs.cutoffs() if rs and rs.is_band else []):
        ax.axvline(cut, color="#333333", lw=0.8, ls="--")
        ax.text(cut + 0.3, 0.42, L("chart.cutoff", value=cut), ha="left", fontsize=7)  # beside its line, not on it
    ax.set_xlim(np.floor(lo / 5) * 5 - 2, 100)
    ax.set_ylim(-0.5, 0.55)
    ax.set_yticks([])
    ax.set_xlabel(L("chart.value_axis"))
    ax.set_title(_title(title))
    fig.tight_layout()
    return fig


def components_chart(comp: pd.DataFrame, L: Labels, title: str) -> Figure:
    """Small multiples: one panel per component, each on its own scale from 0 to its largest
    value here (the parts have different maxima, so stacked bars would compare unlike things);
    the provinces in the order of their total, which the row labels carry."""
    d = comp.sort_values("total", ascending=True)
    names = [f"{p} ({float(t):.2f})" for p, t in zip(d["province"], d["total"])]
    narrow = is_narrow()
    rows, cols = (2, 2) if narrow else (1, len(COMPONENT_COLUMNS))
    fig, axes = subplots(rows, cols, figsize=(width(), (0.3 * len(d) + 1.0) * rows + 0.6), squeeze=False,
                         sharey=True)
    tops = []
    for ax, col in zip(axes.flat, COMPONENT_COLUMNS):
        vals = d[col].astype(float).to_numpy()
        ax.barh(names, vals, color="#0173b2", height=0.6)
        top = float(np.nanmax(vals)) if len(vals) else 1.0
        tops.append(top if top > 0 else 1.0)
        for i, v in enumerate(vals):
            ax.text(v + top * 0.03, i, f"{v:.2f}", va="center", fontsize=7, zorder=5,  # over the grid
                    bbox=dict(facecolor="white", edgecolor="none", pad=0.4))
        ax.set_title(textwrap.fill(_lab(L(f"col.{col}")), 16), fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="y", visible=False)
    for ax in axes[:, 0]:
        ax.tick_params(axis="y", labelsize=7)
    fig.supxlabel(L("chart.points_axis"), fontsize=8)
    fig.suptitle(_title(title))
    measure = chartfit.renderer(fig)
    for _ in range(2):  # the layout changes the panels' widths, the frames change the layout
        for ax, top in zip(axes.flat, tops):
            chartfit.frame_values(ax, top, measure)
        fig.tight_layout()
    return fig


def scatter_chart(par: IndexResult, sip: IndexResult, L: Labels, title: str) -> Figure:
    both = par.classified[["province", "value"]].assign(value_sipas=sip.classified["value"]).dropna()
    fig, ax = subplots(figsize=(min(6.0, width()), 4.2))
    # a value published with fewer than two decimals ("≈83") is the interval its rounding allows:
    # drawn as a bar over that interval, not as an exact point
    def half(res: IndexResult) -> np.ndarray:
        dec = res.table.data["value_decimals"].reindex(both.index)
        return np.array([0.5 * 10.0 ** -int(d) if not pd.isna(d) and int(d) < 2 else 0.0 for d in dec])

    hx, hy = half(par), half(sip)
    rounded = (hx > 0) | (hy > 0)
    x, y = both["value"].astype(float), both["value_sipas"].astype(float)
    ax.scatter(x[~rounded], y[~rounded], s=24, color="#0173b2", zorder=3)
    ax.scatter(x[rounded], y[rounded], s=24, facecolors="white", edgecolors="#0173b2", zorder=3)
    if rounded.any():
        ax.errorbar(both["value"].astype(float), both["value_sipas"].astype(float), xerr=hx, yerr=hy, fmt="none",
                    ecolor="#0173b2", elinewidth=1.2, capsize=2, zorder=2)
    x = both["value"].astype(float)
    right = x.min() + 0.75 * (x.max() - x.min())  # names of the right-most points go to their left, inside the frame
    far = ((x - x.median()) / (x.std() or 1)) ** 2 + ((y - y.median()) / (y.std() or 1)) ** 2  # named first
    names = [ax.annotate(r["province"], (float(r["value"]), float(r["value_sipas"])), fontsize=7,
                         ha="right" if r["value"] > right else "left", xytext=(-3 if r["value"] > right else 3, 2),
                         textcoords="offset points") for _, r in both.loc[far.sort_values(ascending=False).index].iterrows()]
    ax.set(xlabel="PAR INDEX (%)", ylabel="SIPAS (%)", title=_title(title))
    fig.tight_layout()
    chartfit.name_points(ax, names, lambda n: _lab(L("chart.names_left_out", n=n)))
    return fig


def sensitivity_chart(sens: pd.DataFrame, labels: list[str], L: Labels, title: str) -> Figure:
    """One panel per cut-off: the fewest (line) and the most (shaded up to) provinces at or above it."""
    cuts = sorted(sens["cutoff"].unique())
    # side by side on the page; one under the other on a phone
    rows, cols = (len(cuts), 1) if is_narrow() else (1, len(cuts))
    fig, axes = subplots(rows, cols, figsize=(width(), 2.0 * rows + 0.6 if is_narrow() else 2.6), squeeze=False)
    axes = [list(axes.flat)]
    for ax, cut in zip(axes[0], cuts):
        g = sens[sens["cutoff"] == cut].sort_values("position")
        ax.plot(g["position"], g["determined"], color="#1f4e79", lw=1.4, drawstyle="steps-post",
                label=L("chart.sens_min"))
        ax.fill_between(g["position"], g["determined"], g["possible"], color="#1f4e79", alpha=0.18, lw=0,
                        step="post", label=L("chart.sens_range"))
        ax.axvline(cut, color="#333333", lw=0.8, ls="--")
        ax.set_title(L("chart.cutoff", value=cut), fontsize=8)
        ax.set_xlabel(L("chart.shift_axis"), fontsize=7)
    axes[0][0].set_ylabel(L("chart.count_at_or_above"))
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, [_lab(n) for n in names], fontsize=7, loc="lower center", ncol=1 if is_narrow() else 2, frameon=False)
    fig.suptitle(_title(title), fontsize=10)
    fig.tight_layout(rect=(0, 0.1 if not is_narrow() else 0.06, 1, 1))
    return fig


def bounds_chart(b: pd.DataFrame, labels: list[str], L: Labels, title: str,
                 group_name: Callable[[str], str] | None = None) -> Figure:
    """Published values as points, unpublished values as interval bars styled as bounds; the
    colour is the group (named in the legend by ``group_name``), grey where it is unknown."""
    colours = group_colours(labels)
    d = b.assign(mid=(b["lo"] + b["hi"]) / 2).sort_values(["mid", "province"], ascending=[False, True], key=by_name)
    # Rows in the order of the record: a published rank keeps its place (ranked rows take the
    # ranked rows' positions in rank order), and the units with neither value nor rank come after
    # them under a rule. Ordered by the middle of their range, the wide ranges of those units sat
    # between ranks 33 and 38 as if they held places 34 to 37.
    blank = d["value"].isna() & d["rank"].isna()
    d = pd.concat([d[~blank], d[blank]])
    ranked = d["rank"].notna().to_numpy()
    rows = list(d.index)
    for pos, lab in zip(np.flatnonzero(ranked), d[ranked].sort_values("rank", kind="stable").index):
        rows[pos] = lab
    d = d.loc[rows]
    n_placed = int((~blank).sum())
    # at most 9 inches with its caption under it: one A4 page holds the figure and the caption
    fig_h = min(0.15 * len(d), 7.5) + 1.3
    fig, ax = subplots(figsize=(width(), fig_h))
    row_colour = np.array([UNKNOWN_COLOUR if pd.isna(g) else colours.get(g, UNKNOWN_COLOUR) for g in d["group"]])
    known = d["value"].notna().to_numpy()
    for col in dict.fromkeys(row_colour):  # one line per colour and mark, as in the ranking
        if len(ys := np.flatnonzero((row_colour == col) & known)):
            ax.plot(d["value"].to_numpy(dtype=float)[ys], ys, "o", ls="", color=col, ms=3.5)
        if len(ys := np.flatnonzero((row_colour == col) & ~known)):
            _ranges(ax, ys, d["lo"].to_numpy(dtype=float)[ys], d["hi"].to_numpy(dtype=float)[ys], col, 5,
                    lw=2.2, alpha=0.45, solid_capstyle="butt")
    ax.set_yticks(range(len(d)), d["province"], fontsize=7)
    ax.invert_yaxis()
    ax.set_ylim(len(d) - 0.4, -0.6)
    if 0 < n_placed < len(d):
        ax.axhline(n_placed - 0.5, color="#777777", lw=0.8)
        # above the rule on the right: the rows just above it are the lowest values, drawn on the left
        ax.annotate(L("chart.no_value_no_rank") + " ↓", (0.995, n_placed - 0.55), xycoords=("axes fraction", "data"),
                    va="bottom", ha="right", fontsize=6.5, color="#555555")
    ax.set_xlabel(L("chart.value_axis"))
    handles = [matplotlib.lines.Line2D([], [], marker="o", ls="", color="#444444", label=_lab(L("chart.known_value"))),
               matplotlib.lines.Line2D([], [], color=UNKNOWN_COLOUR, lw=2.2, alpha=0.6, label=_lab(L("chart.bounds")))]
    # what the colours mean: the groups drawn, then "unknown" where a unit's group is not known
    shown = [lab for lab in labels if (d["group"] == lab).any()]
    handles += [matplotlib.patches.Patch(color=colours[lab], label=_lab(group_name(lab) if group_name else lab))
                for lab in shown]
    if d["group"].isna().any() and shown:
        handles.append(matplotlib.patches.Patch(color=UNKNOWN_COLOUR, label=_lab(L("group.unknown"))))
    # below the plot, not over its rows (the last rows are the widest bounds)
    ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.5 / fig_h),
              ncol=1 if is_narrow() else (2 if len(handles) <= 2 else 3), frameon=False)
    ax.set_title(_title(title))
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def monte_carlo_chart(mc: pd.DataFrame, L: Labels, title: str) -> Figure:
    fig, ax = subplots(figsize=(width(), 0.32 * len(mc) + 1.7))
    y = np.arange(len(mc))
    # each mark says what it is: a reader of the review met three unexplained marks here
    # darker than the grid, which is left off along the rows: a best-worst range of 1-2 looked like a grid line
    ax.hlines(y, mc["rank_min"], mc["rank_max"], color="#555555", lw=1.4, label=L("col.rank_range"))
    ax.grid(axis="y", visible=False)
    ax.hlines(y, mc["rank_p05"], mc["rank_p95"], color=COLORBLIND[0], lw=4, label=L("col.rank_interval"))
    ax.plot(mc["rank"], y, "|", color="#1a1a1a", ms=10, label=L("col.rank"))
    ax.set_yticks(y, mc["province"])
    ax.invert_yaxis()
    ax.set_xlabel(L("chart.rank_axis"))
    ax.set_title(_title(title))
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16 if is_narrow() else -0.12),
              ncol=1 if is_narrow() else 3, frameon=False)
    fig.tight_layout()
    chartfit.title_inside(ax)
    return fig


def trend_chart(tr: pd.DataFrame, L: Labels, title: str, mean_label: str | None = None) -> Figure:
    """Mean, maximum and minimum per year; a missing year breaks the line (no interpolation)."""
    fig, ax = subplots(figsize=(width(), 2.8))
    mean = mean_label or (L("fact.mean") if "units" in tr and tr["units"].nunique() > 1 else L("fact.mean_63"))
    styles = {"max_num": ("#029e73", "^", L("fact.max")), "mean_63_num": ("#0173b2", "o", mean),
              "min_num": ("#d55e00", "v", L("fact.min"))}
    for col, (colour, marker, label) in styles.items():
        if tr[col].notna().any():  # a series with no published figure gets no legend entry
            ax.plot(tr["year"], tr[col].astype(float), color=colour, marker=marker, ms=4, lw=1.2, label=label)
    ax.set_xticks(tr["year"], [str(y) for y in tr["year"]], fontsize=7, rotation=90 if is_narrow() else 0)
    if "units" in tr and tr["units"].nunique() > 1:
        # one series across the 1 July 2025 reorganisation, with the change of units marked
        first = int(tr.loc[tr["units"] != tr["units"].iloc[0], "year"].min())
        ax.axvline(first - 0.5, color="#777777", lw=0.8, ls="--")
        ax.annotate(L("chart.units_break", n=int(tr["units"].iloc[-1])), (first - 0.45, 1.0),
                    xycoords=("data", "axes fraction"), va="top", fontsize=7, color="#555555")
    ax.set_ylabel(L("chart.value_axis"))
    # under the axes, never over a year's points (2023's minimum sat under it)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1 if not is_narrow() else -0.22),
              ncol=3 if not is_narrow() else 2, frameon=False)
    ax.set_title(_title(title))
    fig.tight_layout()
    return fig
