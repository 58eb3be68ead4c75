"""The regions: the map of an index, and the socio-economic regions' published figures."""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML, Markdown

from ...data.tables import most_precise
from ...infer.audit import bound_text

from .common import L_idx

class Regions:
    """The regions: the map of an index and the regions section. A part of ``Report``: ``self`` is the report."""

    def map(self, idx: str = "par_index") -> HTML | Markdown:
        if self._is_before_first(idx):
            return HTML("")
        from .. import maps

        res = self.a.result(idx)
        if not self._map_has_groups(idx):
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
        counts = [f"{self._group_name(idx, lab)} {int((res.classified['group'] == lab).sum())}" for lab in labels]
        alt = self.L("alt.map" if known < len(codes) else "alt.map_all", title=title, known=known, n=len(codes), counts=", ".join(counts) or "—")
        return self._fig(lambda: maps.choropleth(res.classified, rings, labels, self.L, title,
                                                 lambda lab: self._group_name(idx, lab), caption=caption),
                         alt, f"{self.L('report.map')}: {title} ({known}/{len(codes)})", crop=True,
                         sources=self._index_sources(idx) + self._geometry_sources())

    def regions(self, idx: str = "par_index") -> HTML | Markdown:
        """The six socio-economic regions: the year's published means against what the record
        allows, the means by year, and each province's published place in its region."""
        if self._is_before_first(idx):
            return HTML("")
        from ...infer.tidy import REGIONS, year_tables

        L, b = self.L, self.a.bundle
        reg = year_tables(self.a)[REGIONS]
        reg = reg[reg["index_name"] == idx]
        facts = b.national_facts[(b.national_facts["index"] == idx) & (b.national_facts["year"] <= self.year)
                                 & b.national_facts["fact"].str.startswith("regional_mean_")]
        head = f"<h2>{html.escape(L('report.regions'))} — {html.escape(L(f'index_short.{idx}'))}</h2>"
        if facts.empty and reg["mean_published"].isna().all():
            return Markdown(L("text.regions_none_index", index=L(f"index_short.{idx}")))
        parts = [head]
        if not reg.empty:
            t = pd.DataFrame({
                L("col.region"): [L(f"region.{r}") for r in reg["region"]],
                L("col.units_with_value"): ["—" if pd.isna(n) else f"{int(n)} ({int(v)})"
                                            for n, v in zip(reg["n_units"], reg["n_with_value"])],
                L("col.region_mean"): [L("missing") if pd.isna(m) else L.number(f"{float(m):.2f}")
                                       for m in reg["mean_published"]],
                L("col.status"): ["—" if pd.isna(a) else L(f"audit.{a}") for a in reg["mean_audit"]],
                L("col.mean_allowed"): ["—" if pd.isna(lo) else L.number(bound_text(float(lo), float(hi)))
                                        for lo, hi in zip(reg["mean_allowed_min"], reg["mean_allowed_max"])],
                L("col.source"): ["—" if pd.isna(x) else self.cite(x) for x in reg["sources"]]})
            rg = b.regions
            basis = rg.loc[(rg["first_year"] <= self.year) & (rg["last_year"] >= self.year), "legal_basis"].dropna()
            parts.append(f"<p>{html.escape(L('text.regions', year=self.year, basis=basis.iloc[0] if len(basis) else L('text.membership_unknown')))}</p>" + self._table(t, "w-regions").data)
        if not facts.empty:
            by = facts.assign(region=facts["fact"].str.removeprefix("regional_mean_"))
            years = sorted(by["year"].unique())
            rows = []
            for region, g in by.groupby("region", sort=False):
                cells = []
                for y in years:
                    v, _ = most_precise(g[g["year"] == y])
                    cells.append(L.number(v) if v else "—")
                rows.append([L(f"region.{region}")] + cells + [self.cite(list(dict.fromkeys(g["source_id"])))])
            t = pd.DataFrame(rows, columns=[L("col.region")] + [str(y) for y in years] + [L("col.source")])
            parts.append(f"<h3>{html.escape(L('report.regions_by_year'))}</h3>" + self._table(t, "w-regions-years").data)
        ranks = b.region_ranks[(b.region_ranks["index"] == idx) & (b.region_ranks["year"] == self.year)] \
            if b.region_ranks is not None else pd.DataFrame()
        if len(ranks):
            sizes = reg.set_index("region")["n_units"].to_dict() if not reg.empty else {}
            t = pd.DataFrame({L("col.province"): ranks["province"],
                              L("col.region"): [L(f"region.{r}") for r in ranks["region"]],
                              L("col.region_rank"): [f"{int(k)}/{int(sizes[r])}" if r in sizes else str(int(k))
                                                      for k, r in zip(ranks["region_rank"], ranks["region"])],
                              L("col.source"): [self.cite(x) for x in ranks["source_id"]]})
            parts.append(f"<h3>{html.escape(L('report.region_places'))}</h3>" + self._table(t, "w-region-ranks").data)
        return HTML("".join(parts))
