"""The regions: the map of an index."""

from __future__ import annotations

from IPython.display import HTML, Markdown

from .common import L_idx

class Regions:
    """The regions: the map of an index. A part of ``Report``: ``self`` is the report."""

    def map(self, idx: str = "par_index") -> HTML | Markdown:
        from .. import maps

        res = self.a.result(idx)
        if res.rules is None or not res.classified["group"].notna().any():
            # no unit's group is known: a map would be all hatching
            return Markdown(self.L("text.map_none", index=L_idx(self.L, idx), year=self.year))
        codes = list(res.classified.index)
        caption = None
        if self.merged_units:
            from ...data.registry import crosswalk

            cw = crosswalk()
            iso63 = self.a.bundle.registry.table.set_index("code")["iso_3166_2"]
            merged = {c: [iso63[o] for o in cw.loc[cw["new_code"] == c, "old_code"]] for c in codes}
            rings = maps.rings_by_unit(codes, merged=merged)
            caption = self.L("map.caption_2025")
        else:
            rings = maps.rings_by_unit(codes, iso=self.a.bundle.registry.table.set_index("code")["iso_3166_2"])
        labels = res.rules.labels if res.rules else []
        title = f"{L_idx(self.L, idx)} {self.year}"
        known = int(res.classified["group"].notna().sum())
        return self._fig(lambda: maps.choropleth(res.classified, rings, labels, self.L, title,
                                                 lambda lab: self._group_name(idx, lab), caption=caption),
                         f"{self.L('report.map')}: {title} ({known}/{len(codes)})", crop=True)
