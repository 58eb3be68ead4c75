"""A province brief's sections (``Brief``)."""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML, Markdown

from ...data.tables import value_as_published
from .common import INDEX_NAMES, aside_note, rank_cell, value_cell
from .yearly import Report

_GROUP_COL = {"par_index": "par_group", "sipas": "sipas_group"}  # region_peers' group columns


class Brief(Report):
    """One province's brief: what is known, exactly as known."""

    def _maps_drawn(self) -> bool:
        return True  # the locator map, in every brief

    def __init__(self, year: int, province: str, par_index_file: str = "", sipas_file: str = "", lang: str = "vi",
                 assume_announced: bool | None = None, without: str = ""):
        super().__init__(year, par_index_file, sipas_file, lang, without=without)
        self.p = self.a.bundle.units(year).resolve(province)

    @property
    def refs(self) -> dict[str, int]:
        """A brief numbers only the sources it cites: the unit's own figures and lists."""
        if getattr(self, "_refs", None) is None:
            order: list[str] = self._geometry_sources()  # Figure 1, the locator map, comes first
            for idx in INDEX_NAMES:
                d = self.a.result(idx).table.data
                for col in ("value_sources", "rank_sources"):
                    if not pd.isna(d.at[self.p.code, col]):
                        order += str(d.at[self.p.code, col]).split(";")
            pub = self.a.bundle.published_tiers
            order += list(pub.loc[(pub["year"] == self.year) & (pub["province_code"] == self.p.code), "source_id"])
            rr = self.a.bundle.region_ranks
            if rr is not None:
                order += list(rr.loc[(rr["year"] == self.year) & (rr["province_code"] == self.p.code), "source_id"])
            for idx in INDEX_NAMES:
                order += self._year_on_year(idx).get(self.p.code, (None, None, []))[2]
                order += [x for c in self._aside_facts(idx) for x in c.sources]
            order += self._table_sources()
            self._refs = self._number(order)
        return self._refs

    def _own_title(self) -> str:
        return self.L("brief.title", province=self.p.name_vi, year=self.year)

    def _table_sources(self) -> list[str]:
        """The sources of the other figures the brief's tables print: its neighbours' and its
        region peers' values and ranks of the year, and the unit's own figures of every year."""
        from ...infer.profile import history, region_peers, standing

        peer_table = region_peers(self.a, self.p)
        peers = list(peer_table["code"])
        out: list[str] = self._peer_list_sources(peer_table)
        for idx in INDEX_NAMES:  # a neighbour's figures of the index it neighbours in, as printed
            st = standing(self.a.result(idx), self.p.code)
            codes = peers + [code for lst in (st.above, st.below) for code, *_ in lst]
            d = self.a.result(idx).table.data
            for code in dict.fromkeys(codes):
                for col in ("value_sources", "rank_sources"):
                    if code in d.index and not pd.isna(d.at[code, col]):
                        out += str(d.at[code, col]).split(";")
        h = history(self.a, self.p)
        for idx in INDEX_NAMES:
            out += [x for v in h[f"{idx}_sources"] for x in str(v).split(";") if x]
        return out

    def title(self) -> Markdown:
        L = self.L
        lines = [f"# {L('brief.title', province=self.p.name_vi, year=self.year)}",
                 L("brief.region", region=L(f"region.{self.p.region}"))]
        return Markdown("\n\n".join(lines))

    def _line(self, idx: str) -> str:
        from ...infer.profile import standing

        L, st = self.L, standing(self.a.result(idx), self.p.code)
        gname = self._group_name(idx, st.group) if st.group else None
        basis = L(f"basis.{st.group_basis}")
        if self.a.result(idx).rules is None:
            group = L("text.no_rule", year=self.year)
        elif gname:
            group = L("brief.group_known", group=gname, basis=basis)
        else:
            group = L("brief.group_possible", groups=", ".join(self._group_name(idx, g) for g in st.possible) or "—")
        src = f" {self.cite(st.sources)}" if st.sources else ""

        def cited(t: str) -> str:  # the figure's own references close its sentence, not the paragraph
            return t[:-1] + src + "." if src and t.endswith(".") else t + src

        if st.kind == "value":
            status = self.a.result(idx).table.data.at[self.p.code, "value_status"]
            text = cited(L("brief.value_line", value=st.value_text, status=L.get(f"status.{status}", str(status)),
                           rank=st.rank if st.rank is not None else "—",
                           group=gname or (L("brief.not_grouped") if self.a.result(idx).rules is None else L("group.unknown")),
                           basis=basis if gname else L("brief.no_rule_basis", year=self.year)
                           if self.a.result(idx).rules is None else L("brief.possible_short", groups=", ".join(
                               self._group_name(idx, g) for g in st.possible) or "—")))
            rules = self.a.result(idx).rules
            stated = {b for r in (rules.rules if rules else []) for b, basis in ((r.lower, r.lower_basis), (r.upper, r.upper_basis))
                      if b is not None and basis == "stated"}
            # a cut-off no source states is the report's inference: the margin says so
            for m, key in ((st.margin_up, "brief.margin_up"), (st.margin_down, "brief.margin_down")):
                if m:
                    text += " " + L(key if m[0] in stated else f"{key}_inferred", cutoff=m[0], points=m[1])
        elif st.kind == "rank_only":
            text = cited(L("brief.rank_only_line", rank=st.rank, lo=st.lo, hi=st.hi, group=group))
        else:
            text = cited(L("brief.nothing_line", lo=st.lo, hi=st.hi, group=group))
        pub = self._published_lists(idx)
        pub = pub[pub["province_code"] == self.p.code]
        for tier, rows in pub.groupby("tier"):
            text += " " + L("brief.published_tier", tier=L(f"tier.{tier}").lower(),
                            sources=self.cite(list(dict.fromkeys(rows["source_id"]))))
        rr = self.a.bundle.region_ranks  # its published place in its region ("4th of 14")
        if rr is not None:
            mine = rr[(rr["index"] == idx) & (rr["year"] == self.year) & (rr["province_code"] == self.p.code)]
            size = sum(u.region == self.p.region for u in self.a.bundle.units(self.year))
            for r in mine.itertuples():
                text += " " + L("brief.region_place", place=int(r.region_rank), n=size,
                                region=L(f"region.{r.region}"), cite=self.cite(r.source_id))
        if rr is None or mine.empty:  # none published: the place the national record gives it, where it does
            text += self._derived_region_place(idx)
        text += self._national_aside(idx)
        dv, dr, srcs = self._year_on_year(idx).get(self.p.code, (None, None, []))
        if dv is not None or dr is not None:  # only what both years publish: no "value — points"
            key = "brief.change" if dv and dr is not None else "brief.change_value" if dv else "brief.change_rank"
            text += " " + L(key, year=self.year - 1, value=L.number(dv) if dv else "",
                            rank="" if dr is None else L.number(f"{dr:+d}" if dr else "0"), cite=self.cite(srcs))
        return f"**{L(f'index_short.{idx}')}.** {text}"

    def _national_aside(self, idx: str) -> str:
        """A national figure the audit set aside changes every range of the year (2024's SIPAS
        maximum 91,10 against Hải Phòng's 90,59 at rank 1): the brief says which, and where the
        yearly report explains it. A unit's own value or rank set aside is marked where printed."""
        aside = self._aside_facts(idx)
        if not aside:
            return ""
        facts = "; ".join(f"{self.L.get(f'fact.{c.fact}', c.fact)} {self.L.number(c.published)}" for c in aside)
        return " " + self.L("brief.national_aside", facts=facts, year=self.year,
                            cite=self.cite(list(dict.fromkeys(x for c in aside for x in c.sources))))

    def _aside_facts(self, idx: str) -> list:
        """The year's national facts (claims) the audit set aside for ``idx``."""
        inf = self.a.result(idx).inference
        claims = {c.key: c for c in inf.claims}
        keys = dict.fromkeys(k for cf in inf.conflicts for k in cf.set_aside if k.startswith("fact:"))
        return [claims[k] for k in keys if k in claims and claims[k].fact]

    def _derived_region_place(self, idx: str) -> str:
        """"3rd of 11 in the Red River Delta", or "3rd to 6th", from the national record (an
        outer bound unless the two ends meet); "" where it says nothing beyond "1st to last"."""
        from ...infer.places import region_places

        d = region_places(self.a, idx)
        if self.p.code not in d.index:
            return ""
        r = d.loc[self.p.code]
        lo, hi, n = int(r["place_min"]), int(r["place_max"]), int(r["n_region"])
        if lo == 1 and hi == n:
            return ""
        key = "brief.region_place_derived" if lo == hi else "brief.region_place_derived_range"
        return " " + self.L(key, place=lo, lo=lo, hi=hi, n=n, region=self.L(f"region.{r['region']}"))

    def standing(self) -> Markdown:
        return Markdown(f"## {self.L('brief.standing', year=self.year)}\n\n"
                        + "\n\n".join(self._line(i) for i in INDEX_NAMES))

    def locator(self) -> HTML:
        from .. import maps
        from ..charts import group_colours

        res = self.a.par_index
        g = res.classified.at[self.p.code, "group"]
        colour = group_colours(res.rules.labels).get(g, "#555555") if (res.rules and not pd.isna(g)) else "#555555"
        isos: str | list[str] = self.p.iso_3166_2
        if self.merged_units:
            from ...data.registry import crosswalk

            cw = crosswalk()
            iso63 = self.a.bundle.registry.table.set_index("code")["iso_3166_2"]
            isos = [iso63[o] for o in cw.loc[cw["new_code"] == self.p.code, "old_code"]]
        return self._fig(maps.locator(isos, colour, self.L), f"{self.p.name_vi}",
                         caption=f"{self.p.name_vi}. {self.L('map.caption')}",
                         sources=self._geometry_sources())

    def neighbours(self) -> HTML | Markdown:
        from ...infer.profile import standing

        L, rows = self.L, []
        shown: dict[str, list[str]] = {idx: [] for idx in INDEX_NAMES}  # a unit's figure of one index only
        for idx in INDEX_NAMES:
            st = standing(self.a.result(idx), self.p.code)
            for where, lst in (("above", st.above), ("below", st.below)):
                res = self.a.result(idx)
                for code, name, v, r in lst:
                    rows.append([L(f"index_short.{idx}"), L(f"brief.{where}"), name,
                                 value_cell(res, code, value_as_published(res.table.data, code), L("missing")),
                                 rank_cell(res, code, r)])
                    shown[idx].append(code)
        if not rows:
            return Markdown(L("brief.no_neighbours"))
        df = pd.DataFrame(rows, columns=[L("col.fact"), L("col.above_below"), L("col.province"), L("col.value"),
                                         L("col.rank")])
        return HTML(f"<h3>{html.escape(L('brief.neighbours'))}</h3>"
                    + self._table(df, title=f"{L('brief.neighbours')}: {self.p.name_vi}").data
                    + self._below_table(shown))

    def peers(self) -> HTML:
        from ...infer.profile import region_peers

        L, par, sip = self.L, self.a.par_index, self.a.sipas
        df = region_peers(self.a, self.p)
        t = pd.DataFrame({
            L("col.province"): [f"<b>{html.escape(n)}</b>" if c == self.p.code else html.escape(n)
                                for c, n in zip(df["code"], df["province"])],
            "PAR INDEX": [L.number(value_cell(par, c, value_as_published(par.table.data, c), L("missing")))
                          for c in df["code"]],
            L("col.rank"): [rank_cell(par, c, r) for c, r in zip(df["code"], df["par_rank"])],
            L("col.group"): [self._group_cell("par_index", c, g) for c, g in zip(df["code"], df[_GROUP_COL["par_index"]])],
            "SIPAS": [L.number(value_cell(sip, c, value_as_published(sip.table.data, c), L("missing")))
                      for c in df["code"]],
            L("col.rank") + " ": [rank_cell(sip, c, r) for c, r in zip(df["code"], df["sipas_rank"])],
            L("col.group") + " ": [self._group_cell("sipas", c, g) for c, g in zip(df["code"], df[_GROUP_COL["sipas"]])],
        })
        body = t.to_html(index=False, escape=False, na_rep="—", classes="ptable", border=0)
        heading = f"{L('brief.peers')}: {L(f'region.{self.p.region}')}"
        # numbered like every table (built here: the unit's own name is in bold)
        body = body.replace(">", f"><caption>{html.escape(self._table_caption(heading))}</caption>", 1)
        return HTML(f"<h3>{html.escape(heading)}</h3><div class='tscroll'>{body}</div>"
                    + self._below_table({idx: list(df["code"]) for idx in INDEX_NAMES}, self._peer_list_sources(df)))

    def _peer_list_sources(self, peers: pd.DataFrame) -> list[str]:
        """The sources of the published lists the peers table's group cells name (region_peers)."""
        return [x for idx in INDEX_NAMES for c, g in zip(peers["code"], peers[_GROUP_COL[idx]])
                for x in self._group_cell_sources(idx, c, g)]

    def _below_table(self, shown: dict[str, list[str]], lists: list[str] = ()) -> str:
        """"Nguồn: [1, 4]" under a brief's table: the references of the figures it prints (its
        cells carry none), and the note on any set-aside figure among them; ``shown``: by index,
        the units whose figures of that index the table prints; ``lists``: the sources of the
        published lists its group cells name."""
        ids, notes = list(lists), []
        for idx, codes in shown.items():
            d = self.a.result(idx).table.data
            ids += [x for code in dict.fromkeys(codes) if code in d.index for col in ("value_sources", "rank_sources")
                    if not pd.isna(d.at[code, col]) for x in str(d.at[code, col]).split(";")]
            notes.append(aside_note(self.L, [self.a.result(idx)], codes, year=self.year))
        out = [self.source_line(ids)] if ids else []
        if note := next((n for n in notes if n is not None), None):
            out.append(note)
        return "".join(f"<p class='note tsource'>{html.escape(x)}</p>" for x in out)  # with the table's last rows

    def _history_rank(self, idx: str, year: int, rank: object) -> object:
        # the brief's year is audited here: its set-aside rank is marked (other years in their reports)
        return rank_cell(self.a.result(idx), self.p.code, rank) if year == self.year else (
            "—" if rank is None or pd.isna(rank) else int(rank))

    def _history_value(self, idx: str, year: int, v: str | None) -> str:
        return value_cell(self.a.result(idx), self.p.code, v, "—") if year == self.year else (v or "—")

    def history(self) -> HTML:
        from ...infer.profile import history

        L = self.L
        h = history(self.a, self.p)
        h = h[h[["par_index_value", "par_index_rank", "sipas_value", "sipas_rank"]].notna().any(axis=1)
              | (h["year"] == self.year)]
        t = pd.DataFrame({L("col.year"): h["year"],
                          "PAR INDEX": [self._history_value("par_index", y, v) for y, v in zip(h["year"], h["par_index_value"])],
                          L("col.rank"): [self._history_rank("par_index", y, r) for y, r in zip(h["year"], h["par_index_rank"])],
                          "SIPAS": [self._history_value("sipas", y, v) for y, v in zip(h["year"], h["sipas_value"])],
                          L("col.rank") + " ": [self._history_rank("sipas", y, r) for y, r in zip(h["year"], h["sipas_rank"])],
                          L("col.source"): [self.cite([a, b]) if (a or b) else "—"
                                            for a, b in zip(h["par_index_sources"], h["sipas_sources"])]})
        return HTML(f"<h3>{html.escape(L('brief.history'))}</h3>"
                    + self._table(t, title=f"{L('brief.history')}: {self.p.name_vi}").data
                    + "".join(f"<p class='note'>{html.escape(n)}</p>" for n in
                              [aside_note(L, (self.a.par_index, self.a.sipas), [self.p.code], year=self.year)] if n))
