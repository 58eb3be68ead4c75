"""The yearly report: ``Report`` is its sections, topic by topic (one module each), on the
shared core here (the analysis, the references, the helpers every topic uses)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd
from IPython.display import HTML
from matplotlib.figure import Figure

from .. import charts
from ...errors import ParindexError, clean
from ...data.labels import Labels
from ...data.tables import file_name_of
from ...infer.analysis import IndexResult, YearAnalysis, parse_without
from .common import INDEX_NAMES, _cached_analyse, _fig, _table, md_text
from .front import FrontMatter
from .rankings import Rankings
from .regions import Regions
from .sipas import Sipas
from .timeline import Timeline
from .references import References
from .appendix import Appendix

class Report(FrontMatter, Rankings, Regions, Sipas, Timeline, References, Appendix):
    """One year's report content in one language."""

    def __init__(self, year: int, par_index_file: str = "", sipas_file: str = "", lang: str = "vi",
                 assume_announced: bool | None = None, rules_file: str = "", without: str = ""):
        """``assume_announced`` is accepted from older notebooks and ignored: the announced counts
        are claims by default; ``without`` ("counts", "regions", "secondary", comma-separated)
        shows what the rest of the record proves on its own."""
        self.year = year
        self.lang = lang
        self.L = Labels(lang)
        self.a: YearAnalysis = _cached_analyse(year, par_index_file or "", sipas_file or "", rules_file or "",
                                               ",".join(sorted(parse_without(without))))
        self.L.n_units = len(self.a.par_index.table.data)
        charts.setup_style()

    def table(self, idx: str = "par_index") -> pd.DataFrame:
        """The DataFrame a section is drawn from: one row per unit with value as published,
        ranks, group and how it is known, joint bounds, status and sources (``idx``:
        par_index, sipas or ministries). The same rows as ``parindex export``."""
        from ...infer.tidy import tidy

        names = ("par_index", "sipas", "ministries")
        if idx not in names:
            raise ParindexError(f"no table '{clean(str(idx), 40)}'", fix="use one of " + ", ".join(names))
        if idx == "ministries":
            if self.a.ministries is None:
                raise ParindexError(f"no data on the ministries for {self.a.year}",
                                    fix="use 'par_index' or 'sipas', or a year with data on the ministries")
            return tidy(self.a, "ministries").reset_index(drop=True)
        df = tidy(self.a, "provinces")
        return df[df["index_name"] == idx].reset_index(drop=True)

    def _table(self, df: pd.DataFrame, cls: str = "", title: str | None = None,
               sources: Iterable[str] | None = None) -> HTML:
        # tables are numbered in the order the document shows them ("Bảng 2" / "Table 2"), with
        # the title their kind has in the labels (``table.<class>``) unless one is given;
        # ``sources``: a table computed from published figures (the review's) gets a "Nguồn:" line
        if df.empty:
            return _table(df, cls, self.L)
        kind = (cls.split() or [""])[0]
        title = title if title is not None else self.L.get(f"table.{kind}", "") if kind else ""
        out = _table(df, cls, self.L, caption=self._table_caption(title))
        if sources is None:
            return out
        line = self.source_line(list(sources))
        return HTML(out.data + f"<p class='note tsource'>{html.escape(line)}</p>")

    def _table_caption(self, title: str) -> str:
        """The next table's numbered caption: "Bảng 3. <title>." / "Table 3. <title>."."""
        self._n_tab = getattr(self, "_n_tab", 0) + 1
        return self.L("table.number", n=self._n_tab, caption=title).rstrip(" .") + "."

    def _fig(self, fig: Figure | Callable[[], Figure], alt: str, caption: str | None = None, crop: bool = False,
             sources: Iterable[str] = (), note: str | None = None) -> HTML:
        # figures are numbered in the order the document shows them ("Hình 3" / "Figure 3"), with
        # "Nguồn:" (the references the drawn figures rest on) and "Ghi chú:" under the caption
        self._n_fig = getattr(self, "_n_fig", 0) + 1
        caption = self.L("fig.number", n=self._n_fig, caption=caption if caption is not None else alt)
        below = [self.source_line(list(sources))]
        if note:
            below.append(self.L("fig.note", note=note))
        return _fig(fig, alt, caption, self.L, crop, below=tuple(below))

    def _map_has_groups(self, idx: str) -> bool:
        """Whether the index's map has something to show: a unit whose group is known."""
        res = self.a.result(idx)
        return res.rules is not None and bool(res.classified["group"].notna().any())

    def _maps_drawn(self) -> bool:
        """Whether the document draws a map (then the geometry's sources are among its references)."""
        return any(not self._is_before_first(idx) and self._map_has_groups(idx) for idx in INDEX_NAMES)

    def _geometry_sources(self) -> list[str]:
        from ...data.datapackage import descriptor

        return [r["source_id"] for r in descriptor()["resources"] if r.get("format") == "geojson" and r.get("source_id")]

    def _index_sources(self, idx: str) -> list[str]:
        """The sources of an index-year's published figures (values, ranks, national facts, rules)."""
        res = self.a.result(idx)
        ids = list(self._facts(idx)["source_id"])
        ids += [x for r in (res.rules.rules if res.rules else ()) for x in r.source_ids]
        d = res.table.data
        for col in ("value_sources", "rank_sources"):
            ids += [x for v in d[col].dropna() for x in str(v).split(";") if x]
        return ids

    # -- references ------------------------------------------------------------
    @property
    def refs(self) -> dict[str, int]:
        """Source id -> reference number, in the order the report first relies on each source:
        the year's national facts and rules, the legal basis, then the units' figures in table
        order. Every citation in every section uses these numbers; no raw id is printed."""
        if getattr(self, "_refs", None) is None:
            b, order = self.a.bundle, []
            for idx in INDEX_NAMES:
                order += list(self._facts(idx)["source_id"])
                rs = self.a.result(idx).rules
                order += [x for r in (rs.rules if rs else ()) for x in r.source_ids]
            order += list(self._legal()["source_id"])
            for idx in INDEX_NAMES:  # an index not yet measured that year: its first year's basis
                first = b.first_year(idx)
                if first is not None and self.year < first[0]:
                    order += first[1]
            order += self._result_sources()
            pub = b.published_tiers
            order += list(pub.loc[pub["year"] == self.year, "source_id"])
            from ...data.tables import disagreements

            for idx in INDEX_NAMES:  # every figure of a cell the sources disagree on (the method section)
                if self.a.result(idx).table.origin == "bundled":
                    order += [x for r in disagreements(b.observations, self.a.result(idx).table).itertuples()
                              for f in r.figures for x in f["source_ids"]]
            from ...infer.trends import trend

            for idx in INDEX_NAMES:  # the trend's figures of every year, as the series cites them
                if self._is_before_first(idx):  # (not drawn in a year before the index existed)
                    continue
                tr = trend(b, idx, through=self.year)
                for col in [c for c in tr.columns if c.endswith("_sources")]:
                    order += [x for v in tr[col] for x in str(v).replace(", ", ";").split(";") if x]
            nf = b.national_facts  # the regional means of every year (the regions section)
            order += list(nf.loc[nf["index"].isin(INDEX_NAMES) & nf["fact"].str.startswith("regional_mean_")
                                 & (nf["year"] <= self.year), "source_id"])
            if b.region_ranks is not None:
                order += list(b.region_ranks.loc[b.region_ranks["year"] == self.year, "source_id"])
            for idx in INDEX_NAMES:  # the previous year's figures the appendix's changes rest on
                order += [x for _, _, srcs in self._year_on_year(idx).values() for x in srcs]
            if self._maps_drawn():
                order += self._geometry_sources()
            self._refs = self._number(order)
        return self._refs

    def _result_sources(self, ministry_units: bool = True) -> list[str]:
        """The sources of each result's units' values and ranks (the ministries' too, unless
        ``ministry_units`` is off), its audit's findings and its components, in that order."""
        order: list[str] = []
        results = [self.a.result(i) for i in INDEX_NAMES] + ([self.a.ministries] if self.a.ministries else [])
        for res in results:
            d = res.table.data
            if ministry_units or res is not self.a.ministries:
                for code in d.index:
                    for col in ("value_sources", "rank_sources"):
                        if not pd.isna(d.at[code, col]):
                            order += str(d.at[code, col]).split(";")
            order += [x for i in res.audit for x in i.source_ids]
            if len(res.components):
                order += list(res.components["source_id"])
        return order

    def _number(self, order: list[str]) -> dict[str, int]:
        """Reference numbers by first use; ids that are not sources (a user's file) get none."""
        known = set(self.a.bundle.sources["source_id"])
        out: dict[str, int] = {}
        for sid in order:
            if sid in known and sid not in out:
                out[sid] = len(out) + 1
        return out

    @staticmethod
    def _source_ids(ids) -> list[str]:
        """Source ids, given as one or more "a;b" / "a, b" lists, each once, in order (a table's
        rows repeat their sources: a user's file on every row)."""
        if ids is None or (not isinstance(ids, (list, tuple, set)) and pd.isna(ids)):
            return []
        if isinstance(ids, str):
            ids = [ids]
        return list(dict.fromkeys(y.strip() for x in ids if x is not None and not (isinstance(x, float) and pd.isna(x))
                                  for y in str(x).replace(",", ";").split(";") if y.strip()))

    def _cited(self, ids) -> tuple[str, list[str]]:
        """The numbered references of source ids ("[3, 7]", or "") and the user's own files among
        them, each said as theirs ("your file “x.csv”"), never as a raw id."""
        ids = self._source_ids(ids)
        nums = sorted({self.refs[x] for x in ids if x in self.refs})
        names = [name for x in ids if (name := file_name_of(x)) is not None]
        files = ([self.L("cite.user_file", file=names[0])] if len(names) == 1 else
                 [self.L("cite.user_files", files=f" {self.L('word.and')} ".join(f"“{n}”" for n in names))] if names else [])
        return (f"[{', '.join(_runs(nums))}]" if nums else ""), files

    def cite(self, ids, short: bool = False) -> str:
        """'[3, 7]' for source ids, in a sentence; a user's own file as "[your file “x.csv”]", or
        as "[your file]" (``short``: a table's rows, whose note names the file once)."""
        nums, files = self._cited(ids)
        if short:
            files = list(dict.fromkeys(self.L("cite.user_file_short") for _ in files))
        return " ".join(([nums] if nums else []) + [f"[{f}]" for f in files]) or "—"

    def source_line(self, ids) -> str:
        """The "Source:" line under a table or figure: the user's files first, as theirs, then
        the published figures by number; "computed by parindex" when it rests on neither."""
        ids = [] if ids is None else [ids] if isinstance(ids, str) else list(ids)
        geo = set(self._geometry_sources())  # a map's boundaries are not published figures
        nums, files = self._cited([x for x in ids if x not in geo])
        shapes = self._cited([x for x in ids if x in geo])[0]
        if not nums and not files and not shapes:
            return self.L("fig.source_computed")
        return self.L("fig.source", refs="; ".join(files + ([self.L("fig.published", refs=nums)] if nums else [])
                                                   + ([self.L("fig.boundaries", refs=shapes)] if shapes else [])))

    def _document(self, name: str) -> str:
        """A legal document's name in the edition's words: "Quyết định 641/QĐ-BNV" is
        "Decision 641/QĐ-BNV" in English (the number and its symbol are the document's own)."""
        kind, _, number = str(name).rpartition(" ")
        return f"{self.L.get(f'document.{kind}', kind)} {number}".strip()

    def _document_title(self, title: str) -> str:
        """A decree's title in a reference: as issued in the Vietnamese edition; in the English
        one its kind in English and its number ("Decision 641/QĐ-BNV"), without the Vietnamese
        description after the colon."""
        head, sep, _rest = title.partition(":")
        kind, _, number = head.rpartition(" ")
        if self.lang == "vi" or f"document.{kind}" not in self.L._t:
            return title
        return self._document(head)

    def _legal(self) -> pd.DataFrame:
        lb = self.a.bundle.legal_basis
        return lb[(lb["first_year"] <= self.year) & (lb["last_year"] >= self.year)]

    COMPACT_BELOW = 12  # published values (both indices): fewer, and the report is one flowing text

    @property
    def compact(self) -> bool:
        """A year with few published values gets a compact report: sections follow each other
        instead of each starting a page (render/exporters.py / build/parts.py, pages.thin_groups)."""
        return self.a.par_index.table.n_value + self.a.sipas.table.n_value < self.COMPACT_BELOW

    @property
    def merged_units(self) -> bool:
        """True for a year assessed on the 34 units formed on 1 July 2025."""
        from ...data.registry import first_year_of_2025_units

        return self.year >= first_year_of_2025_units()

    # -- helpers -------------------------------------------------------------
    def _origin(self, res: IndexResult, markdown: bool = True) -> str:
        """Where a table came from; a user's file name is text, never markup: escaped for the
        Markdown it goes into (``markdown``), or left plain for the caller to HTML-escape."""
        if res.table.origin == "bundled":
            return self.L("report.bundled")
        name = Path(res.table.origin).name
        return md_text(name) if markdown else name

    def _status_line(self, idx: str, markdown: bool = True) -> str:
        res = self.a.result(idx)
        name = self.L(f"index_short.{idx}")
        if res.table.complete:
            return self.L("report.complete_line", index=name, origin=self._origin(res, markdown=markdown))
        if (line := self._before_first(idx)) is not None:  # 2013's SIPAS: not measured, not "63 without data"
            return line
        d = res.table.data
        if res.table.origin != "bundled":  # the user's table: said as theirs, not as published
            return self.L("report.user_line", index=name, file=Path(res.table.origin).name, n_value=res.table.n_value,
                          n_units=len(d), n_rank=int(d["rank"].notna().sum()), n_unknown=res.table.n_unknown)
        return self.L("report.status_line", index=name, n_value=res.table.n_value,
                      n_rank=int(d["rank"].notna().sum()), n_unknown=res.table.n_unknown)

    def _facts(self, idx: str) -> pd.DataFrame:
        f = self.a.bundle.national_facts
        return f[(f["index"] == idx) & (f["year"] == self.year)]

    def _basis(self, basis: str) -> str:
        """'stated/inferred' -> localised 'stated / inferred'; no bound (a 'rest' group) -> '—'."""
        return " / ".join(self.L(f"basis.{b}") for b in basis.split("/")) if basis else "—"

    def _group_name(self, idx: str, label: str) -> str:
        return self.L.get(f"group.{label}" if idx == "par_index" else f"tier.{label}", label)

    def _published_lists(self, idx: str) -> pd.DataFrame:
        """The year's published lists of an index (published_tiers): one row per unit named."""
        pub = self.a.bundle.published_tiers
        return pub[(pub["index"] == idx) & (pub["year"] == self.year)]

    def _listed(self, idx: str) -> dict[str, str]:
        """Unit code -> the published list of the year that names it ("top_5"), for an index."""
        pub = self._published_lists(idx)
        return dict(zip(pub["province_code"], pub["tier"]))

    def _group_cell(self, idx: str, code: str, group: object, unknown: str = "—") -> str:
        """A table's group cell: the unit's group, else the published list that names it (a year
        of lists without a rule: "top five"), else ``unknown``. The report's appendix and a
        brief's tables give one answer."""
        if group is not None and not pd.isna(group):
            return self._group_name(idx, str(group))
        listed = self._listed(idx).get(code)
        return self.L.get(f"tier.{listed}", listed) if listed else unknown

    def _group_cell_sources(self, idx: str, code: str, group: object) -> list[str]:
        """The sources of a group cell that names a published list (see _group_cell)."""
        if group is not None and not pd.isna(group):
            return []
        pub = self._published_lists(idx)
        return list(pub.loc[pub["province_code"] == code, "source_id"])

    def _is_before_first(self, idx: str) -> bool:
        """A bundled year before the index was first measured."""
        first = self.a.bundle.first_year(idx)
        return first is not None and self.year < first[0] and self.a.result(idx).table.origin == "bundled"

    def heading(self, key: str, needs: str | None = None):
        """A section's heading ("## …"); none for a section about an index (``needs``) in a year
        before it existed, whose own section already said so in one line."""
        from IPython.display import Markdown

        if needs is not None and self._is_before_first(needs):
            return Markdown("")
        return Markdown("## " + self.L(key))

    def _before_first(self, idx: str) -> str | None:
        """The one line a section of an index says in a year before the index existed, else None."""
        if not self._is_before_first(idx):
            return None
        first = self.a.bundle.first_year(idx)
        return self.L("text.before_first", index=self.L(f"index_short.{idx}"), first=first[0], cite=self.cite(first[1]))


def _runs(nums: list[int]) -> list[str]:
    """[1, 2, 3, 5, 7, 8] -> ['1–3', '5', '7', '8']: three or more in a row as a range."""
    out: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out += [f"{nums[i]}–{nums[j]}"] if j - i >= 2 else [str(n) for n in nums[i:j + 1]]
        i = j + 1
    return out

