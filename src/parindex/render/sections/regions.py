"""The regions: the map of an index, and the socio-economic regions' published figures."""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML, Markdown

from ...data.tables import most_precise
from ...infer.audit import bound_text

from ...data.collate import sort_key
from ...infer.places import region_places
from .common import L_idx


def _place(r: pd.Series) -> str:
    """"3" where the record decides the place, "3–6" where it only bounds it (a range, en dash)."""
    lo, hi = int(r["place_min"]), int(r["place_max"])
    return str(lo) if lo == hi else f"{lo}–{hi}"

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
        places = region_places(self.a, idx)
        if facts.empty and reg["mean_published"].isna().all():
            none = L("text.regions_none_index", index=L(f"index_short.{idx}"))
            if places.empty:
                return Markdown(none)
            # no regional figure published, but the national record still places some provinces
            return HTML(head + f"<p>{html.escape(none)}</p>" + self._derived_places(idx, places, reg))
        parts = [head]
        if not reg.empty:
            t = pd.DataFrame({
                L("col.region"): [L(f"region.{r}") for r in reg["region"]],
                L("col.units_with_value"): ["—" if pd.isna(n) else f"{int(n)} ({int(v)})"
                                            for n, v in zip(reg["n_units"], reg["n_with_value"])],
                L("col.region_mean"): [L("missing") if pd.isna(m) else L.number(f"{float(m):.2f}")
                                       for m in reg["mean_published"]],
                L("col.status"): ["—" if pd.isna(a) else L(f"audit.{a}") for a in reg["mean_audit"]],
                L("col.region_mean_allowed"): ["—" if pd.isna(lo) else L.number(bound_text(float(lo), float(hi)))
                                        for lo, hi in zip(reg["mean_allowed_min"], reg["mean_allowed_max"])],
                L("col.source"): ["—" if pd.isna(x) else self.cite(x) for x in reg["sources"]]})
            rg = b.regions
            basis = rg.loc[(rg["first_year"] <= self.year) & (rg["last_year"] >= self.year), "legal_basis"].dropna()
            parts.append(f"<p>{html.escape(L('text.regions', year=self.year, basis=self._document(basis.iloc[0]) if len(basis) else L('text.membership_unknown')))}</p>" + self._table(t, "w-regions").data)
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
            cols = {L("col.province"): ranks["province"],
                    L("col.region"): [L(f"region.{r}") for r in ranks["region"]],
                    L("col.region_rank"): [f"{int(k)}/{int(sizes[r])}" if r in sizes else str(int(k))
                                            for k, r in zip(ranks["region_rank"], ranks["region"])]}
            if len(places):  # each published place beside what the national record allows for it
                cols[L("col.region_rank_allowed")] = [
                    "—" if str(c) not in places.index else _place(places.loc[str(c)])
                    for c in ranks["province_code"]]
            cols[L("col.source")] = [self.cite(x) for x in ranks["source_id"]]
            parts.append(f"<h3>{html.escape(L('report.region_places'))}</h3>"
                         + self._table(pd.DataFrame(cols), "w-region-ranks").data)
        if len(places):
            parts.append(self._derived_places(idx, places, reg))
        return HTML("".join(parts))

    def _derived_places(self, idx: str, places: pd.DataFrame, reg: pd.DataFrame) -> str:
        """Per region, the provinces whose place in it the national record narrows, in order."""
        L = self.L
        order = list(reg["region"]) if not reg.empty else []
        order += [r for r in dict.fromkeys(places["region"]) if r not in order]
        rows = []
        for region in order:
            g = places[places["region"] == region]
            if g.empty:
                continue
            n = int(g["n_region"].iloc[0])
            some = g[(g["place_min"] > 1) | (g["place_max"] < n)]
            some = some.iloc[sorted(range(len(some)), key=lambda i: (int(some["place_min"].iloc[i]), int(some["place_max"].iloc[i]),
                                                                     sort_key(some["province"].iloc[i])))]
            rows.append([L(f"region.{region}"), n,
                         "; ".join(f"{p} {_place(r)}" for p, (_, r) in zip(some["province"], some.iterrows())) or "—",
                         n - len(some)])
        t = pd.DataFrame(rows, columns=[L("col.region"), L("col.n_units"), L("col.places_narrowed"), L("col.places_open")])
        return (f"<h3>{html.escape(L('report.region_places_derived'))}</h3>"
                + f"<p>{html.escape(L('text.region_places_derived', index=L_idx(L, idx), year=self.year))}</p>"
                + self._table(t, "w-region-derived", f"{L('report.region_places_derived')}: {L_idx(L, idx)} {self.year}",
                              sources=self._index_sources(idx)).data)

