"""The figures' look is seaborn's theme (whitegrid, paper context) with parindex's type, kept in
render/parindex.mplstyle so that a kernel need not import seaborn (which brings scipy.stats: about
a second in every kernel). Checked here against seaborn's own values."""

from __future__ import annotations

import io
import subprocess
import sys

import matplotlib
from matplotlib import rc_params_from_file

from parindex.render import charts

# parindex's own settings, after seaborn's in the style file
OWN = {"font.family", "svg.fonttype", "svg.hashsalt", "pdf.fonttype", "figure.dpi", "axes.titlesize", "axes.labelsize",
       "xtick.labelsize", "ytick.labelsize"}
# seaborn settings the figures do without: the family is DejaVu Sans itself (every Vietnamese
# letter), and 'rocket' is a colour map only an imported seaborn has; no chart draws an image
LEFT_OUT = {"font.sans-serif", "image.cmap"}


def _same(a, b) -> bool:
    if hasattr(a, "by_key"):  # a property cycle: the same colours in the same order
        return [matplotlib.colors.to_hex(c) for c in a.by_key()["color"]] == \
               [matplotlib.colors.to_hex(c) for c in b.by_key()["color"]]
    return a == b  # floats too: 9.6 for seaborn's 9.600000000000001 moved coordinates by 1e-6


def test_the_style_file_is_seaborns_theme_with_parindexs_type():
    import seaborn as sns  # here, not at collection: scipy.stats, half a second in every worker

    ours = dict(rc_params_from_file(charts.STYLE, use_default_template=False))
    with matplotlib.rc_context():
        matplotlib.rcParams.update(matplotlib.rcParamsDefault)
        # (without seaborn's renaming of matplotlib's colour letters, which no rc_context undoes
        # and the figures do not use)
        sns.set_theme(style="whitegrid", context="paper", color_codes=False)
        theirs = {k: v for k, v in matplotlib.rcParams.items() if v != matplotlib.rcParamsDefault[k]}
    expected = set(theirs) - LEFT_OUT
    assert set(ours) == expected | OWN, (set(ours) ^ (expected | OWN))
    wrong = [(k, ours[k], theirs[k]) for k in expected - OWN if not _same(ours[k], theirs[k])]
    assert not wrong, wrong
    assert charts.COLORBLIND == tuple(sns.color_palette("colorblind", n_colors=10).as_hex())


def test_the_style_is_set_without_seaborn_or_scipy_stats():
    code = ("import sys; from parindex.render import charts; charts.setup_style(); import matplotlib as m; "
            "assert m.rcParams['axes.grid'] and m.rcParams['font.family'] == ['DejaVu Sans']; "
            "print(sorted(x for x in ('seaborn', 'scipy.stats') if x in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "[]", (r.stdout, r.stderr)


def test_a_researchers_autolayout_does_not_lay_a_chart_out_again():
    """A chart laid out with room for its legend under the axes (tight_layout with a rect) is saved
    as laid out, whatever figure.autolayout a researcher's cell or matplotlibrc sets."""
    from parindex.render.sections.common import _svg

    def chart():
        fig, ax = charts.subplots(figsize=(4, 3))
        ax.plot([1, 2, 3], [2, 1, 3], label="a")
        fig.legend(loc="lower center")
        fig.tight_layout(rect=(0, 0.25, 1, 1))
        return fig

    with matplotlib.rc_context():
        charts.setup_style()
        plain = _svg(chart(), crop=False)
        with matplotlib.rc_context({"figure.autolayout": True}):
            auto = _svg(chart(), crop=False)
    assert auto == plain


def test_text_sizes_are_measured_once_per_process_with_matplotlibs_numbers(monkeypatch):
    """chartfit keeps one table of text sizes for every figure (matplotlib's own is per renderer):
    the sizes are FreeType's, for Agg at any resolution and for SVG; a font changed after a
    measurement is measured again; a second figure with the same texts is drawn without
    measuring them again, into the same SVG as with matplotlib's own cache."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.font_manager import FontProperties

    from parindex.render import chartfit
    from parindex.render.sections.common import _svg

    texts = ["Hà Nội", "Thừa Thiên Huế", "Bà Rịa - Vũng Tàu", "89,21", "Nhóm A (≥ 90 %)", "Trường Sa"]
    renderers = [RendererAgg(400, 300, 72), RendererAgg(400, 300, 150), RendererSVG(400, 300, io.StringIO())]
    for r in renderers:
        for size, weight in ((7, "normal"), (9.5, "bold")):
            prop = FontProperties(family="DejaVu Sans", size=size, weight=weight)
            for s in texts:
                assert chartfit._shared_text_metrics(r, s, prop, False, 72) == \
                       r.get_text_width_height_descent(s, prop, False), (type(r).__name__, s)
    prop = FontProperties(family="DejaVu Sans", size=8)
    small = chartfit._shared_text_metrics(renderers[0], "Hà Nội", prop, False, 72)
    prop.set_size(16)
    assert chartfit._shared_text_metrics(renderers[0], "Hà Nội", prop, False, 72)[0] > 1.9 * small[0]

    def chart():
        fig, ax = charts.subplots(figsize=(4, 3))
        ax.barh(texts, range(1, len(texts) + 1))
        ax.set_title("Chỉ số hài lòng")
        fig.tight_layout()
        return fig

    with matplotlib.rc_context():
        charts.setup_style()
        first = _svg(chart(), crop=False)
        calls = []
        measure = RendererAgg.get_text_width_height_descent
        monkeypatch.setattr(RendererAgg, "get_text_width_height_descent",
                            lambda self, *a: calls.append(a[0]) or measure(self, *a))
        assert _svg(chart(), crop=False) == first and not calls
        monkeypatch.setattr(matplotlib.text, "_get_text_metrics_with_cache", chartfit._matplotlib_text_metrics)
        assert _svg(chart(), crop=False) == first and calls
