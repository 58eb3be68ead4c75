"""Every national map shows quần đảo Hoàng Sa and quần đảo Trường Sa: the yearly report's map,
the 34-unit map of 2025 and every brief's locator, at page and phone width, in both editions."""

from __future__ import annotations

import base64
import contextlib
import re

import matplotlib.patches
import matplotlib.path
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from parindex.render import charts
from parindex.render import maps
from parindex.data.labels import Labels

NAMES = {"vi": ("Quần đảo Hoàng Sa", "Quần đảo Trường Sa"),
         "en": ("Hoàng Sa (Paracel) Islands", "Trường Sa (Spratly) Islands")}


def _widths():
    return [contextlib.nullcontext, charts.narrow]


def _check_inset(fig, lang):
    """The inset holds both archipelagos as drawn from the bundled geometry, each named in the
    edition's language, the names inside the frame; the frame sits east of the mainland."""
    ins = maps.inset_of(fig)
    assert ins is not None
    geo = maps.archipelagos()
    patches = {p.get_gid(): p for p in ins.patches}
    for key in ("hoang_sa", "truong_sa"):
        path = patches[f"archipelago-{key}"].get_path()
        assert int((path.codes == matplotlib.path.Path.MOVETO).sum()) == len(geo[key])  # every island
        verts = np.concatenate(geo[key])
        assert np.allclose(path.vertices[path.codes == matplotlib.path.Path.MOVETO],
                           np.array([r[0] for r in geo[key]]))
        lo, hi = verts.min(axis=0), verts.max(axis=0)
        (x0, x1), (y0, y1) = ins.get_xlim(), ins.get_ylim()
        assert x0 < lo[0] and hi[0] < x1 and y0 < lo[1] and hi[1] < y1  # drawn whole inside the box
    texts = {t.get_gid(): t for t in ins.texts}
    for key, name in zip(("hoang_sa", "truong_sa"), NAMES[lang]):
        assert " ".join(texts[f"archipelago-label-{key}"].get_text().split()) == name
    FigureCanvasAgg(fig)
    fig.draw_without_rendering()  # placed as a draw places it, no pixels painted
    r = fig.canvas.get_renderer()
    box = ins.get_window_extent(r)
    for t in ins.texts:
        e = t.get_window_extent(r)
        assert box.x0 < e.x0 and e.x1 < box.x1 and box.y0 < e.y0 and e.y1 < box.y1, (lang, t.get_text())
    # east of the coast: the frame starts right of every province's shape
    main = fig.axes[0]
    east = max(float(p.get_path().vertices[:, 0].max()) for p in main.patches)
    assert main.transData.inverted().transform((box.x0, box.y0))[0] > east


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_report_map_shows_both_archipelagos(bundled_2020, registry, lang):
    res = bundled_2020.par_index
    iso = registry.table.set_index("code")["iso_3166_2"]
    for width in _widths():
        with width():
            fig = maps.choropleth(res.classified, maps.rings_by_unit(list(res.classified.index), iso=iso),
                                  res.rules.labels, Labels(lang), "t", lambda lab: f"Group {lab}")
            _check_inset(fig, lang)
            caption = fig.texts[-1].get_text()
            assert "Natural Earth" in caption and "không thể hiện" not in caption and "does not show" not in caption


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_map_of_the_34_units_shows_both_archipelagos(registry, lang):
    import pandas as pd

    from parindex.data.registry import crosswalk

    cw = crosswalk()
    iso = registry.table.set_index("code")["iso_3166_2"]
    codes = sorted(cw["new_code"].unique())
    merged = {c: [iso[o] for o in cw.loc[cw["new_code"] == c, "old_code"]] for c in codes}
    classified = pd.DataFrame({"group": ["A"] * len(codes), "value": [90.0] * len(codes)}, index=codes)
    L = Labels(lang)
    for width in _widths():
        with width():
            fig = maps.choropleth(classified, maps.rings_by_unit(codes, merged=merged), ["A"], L, "t",
                                  lambda lab: lab, caption=L("map.caption_2025"))
            _check_inset(fig, lang)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_locator_shows_both_archipelagos(registry, lang):
    _check_inset(maps.locator(registry.resolve("Quảng Ninh").iso_3166_2, "#029e73", Labels(lang)), lang)
    _check_inset(maps.locator(["VN-13", "VN-HP"], "#029e73", Labels(lang)), lang)  # a 2025 unit as its parts


def _svgs(html: str) -> list[str]:
    return [base64.b64decode(b).decode("utf-8")
            for b in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", html)]


@pytest.mark.usefixtures("bundled_2020")  # sections of 2020: its inference, solved once a run
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_report_and_brief_sections_draw_the_inset(lang):
    """Through the sections the documents are built from: the map (page and phone version) and
    the brief's locator carry both archipelagos and their names; the locator has a caption."""
    from parindex.render import sections

    hs, ts = NAMES[lang]
    out = sections.Report(2020, lang=lang).map("par_index").data
    svgs = _svgs(out)
    assert len(svgs) == 2  # the page and the phone version
    brief = sections.Brief(2020, "Quảng Ninh", lang=lang).locator().data
    svgs += _svgs(brief)
    assert "Natural Earth" in brief
    for svg in svgs:
        assert 'id="archipelago-hoang_sa"' in svg and 'id="archipelago-truong_sa"' in svg
        words = " ".join(re.findall(r">([^<>]+)</text>", svg))
        for name in (hs, ts):
            assert all(w in words for w in name.split()), (name, words)


def test_shapes_widen_the_map_as_matplotlibs_add_patch_does():
    """maps adds its shapes without matplotlib's add_patch (which measured every outline segment
    by segment) and takes their vertices into the limits at once: the same limits, the same
    shapes in the same order as add_patch gives, for the locator and its archipelagos' box."""
    fig = maps.locator("VN-13", "#029e73", Labels("vi"))
    for ax in fig.axes:
        again = charts.subplots(figsize=(2, 2))[1]
        for patch in ax.patches:
            again.add_patch(matplotlib.patches.PathPatch(patch.get_path()))
        assert len(ax.patches) > 1
        assert np.array_equal(ax.dataLim.get_points(), again.dataLim.get_points()), ax.get_label()
