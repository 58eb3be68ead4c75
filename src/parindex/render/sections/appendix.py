"""The appendix: the ministries and the full table of an index."""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML

from ...data.collate import by_name, vsorted
from ...data.tables import file_name_of, value_as_published
from ...infer.audit import bound_end
from .common import L_idx, _bounds_cell, aside_note, rank_cell, value_cell

class Appendix:
    """The appendix: the ministries and the full table of an index. A part of ``Report``: ``self`` is the report."""

    def ministries(self) -> HTML:
        """The ministries' PAR INDEX, where the year has any data on them."""
        res = self.a.ministries
        if res is None:
            return HTML("")
        L, c, d = self.L, res.classified, res.table.data
        reg = self.a.bundle.units(self.year, "ministries")
        from ..charts import place_keys

        order = c.assign(_k=place_keys(c).fillna(1e9),
                         _v=-c["value"].astype("Float64").fillna(-1)).sort_values(["_k", "_v", "province"], key=by_name)
        rows = []
        for code in order.index:
            r = c.loc[code]
            status = d.at[code, "rank_status"] if pd.isna(d.at[code, "value_status"]) else d.at[code, "value_status"]
            srcs = [x for x in (d.at[code, "value_sources"], d.at[code, "rank_sources"]) if not pd.isna(x)]
            rows.append([reg.by_code[code].name(self.lang), value_as_published(d, code) or L("missing"),
                         "—" if pd.isna(r["rank_published"]) else int(r["rank_published"]),
                         _bounds_cell(r),
                         L.get(f"status.{status}", str(status)) if not pd.isna(status) else "—",
                         self.cite(srcs) if srcs else "—"])
        df = pd.DataFrame(rows, columns=[L("col.ministry"), L("col.value"), L("col.rank"), L("col.bounds"),
                                         L("col.status"), L("col.source")])
        checks = [f"<li>{html.escape(L.get(f'fact.{i.fact}', i.fact))}: {html.escape(i.text('published', L))}"
                  + (f" {html.escape(self.cite(i.source_ids))}" if i.source_ids else "")
                  + f" — {html.escape(L(f'audit.{i.status}'))}"
                  + (f" ({html.escape(i.text('computed', L))})" if i.computed and i.status != "reproduced" else "")
                  + "</li>"
                  for i in res.audit if i.status != "not_checkable" and not i.fact.startswith("published_")]
        cov = res.table.coverage()
        head = (f"<h2>{html.escape(L('report.ministries'))}</h2><p>"
                + html.escape(L("text.ministries", n=cov["provinces"], n_value=cov["with_value"],
                                n_rank=cov["with_rank_only"])) + "</p>")
        return HTML(head + self._table(df, "ministries").data + (f"<ul>{''.join(checks)}</ul>" if checks else ""))

    def _range_lines(self, rest: pd.DataFrame, total: int) -> list[str]:
        """Units with no value, rank or group, named in one line per range the record allows
        them: a row each would repeat the same range and "unknown" dozens of times."""
        L, lines = self.L, []
        rest = rest.assign(_lo=rest["lo"].astype(float).round(4), _hi=rest["hi"].astype(float).round(4))
        for (lo, hi), g in sorted(rest.groupby(["_lo", "_hi"], dropna=False), key=lambda kv: (-kv[0][1], -kv[0][0])):
            names = ", ".join(vsorted(g["province"]))
            if len(g) == total:  # nothing to name as "the rest of"
                text = L("text.appendix_nothing")
            elif pd.isna(lo) or (lo <= 0 and hi >= 100):
                text = L("text.appendix_rest", n=len(g), names=names)
            else:
                text = L("text.appendix_bounded", n=len(g), lo=bound_end(lo, "lo"), hi=bound_end(hi, "hi"), names=names)
            lines.append(f"<p class='note'>{html.escape(text)}</p>")
        return lines

    def _year_on_year(self, idx: str) -> dict[str, tuple[str | None, int | None, list[str]]]:
        """Per unit: its value's change and its rank's change against the previous year (ranks up
        are positive), where both years publish it, with the previous year's sources; {} when the
        previous year is not on the same units (the 34 of 2025 against the 63)."""
        b, prev_year = self.a.bundle, self.year - 1
        res = self.a.result(idx)
        if res.table.origin != "bundled" or prev_year not in b.years(idx) or \
                list(b.units(prev_year).by_code) != list(b.units(self.year).by_code):
            return {}
        prev, d = b.published(idx, prev_year), res.table.data
        out = {}
        for code in d.index:
            if code not in prev.index:
                continue
            dv = dr = None
            srcs: list[str] = []
            if not pd.isna(d.at[code, "value"]) and not pd.isna(prev.at[code, "value"]) \
                    and (d.at[code, "value_decimals"] or 0) >= 2 and (prev.at[code, "value_decimals"] or 0) >= 2:
                dv = f"{float(d.at[code, 'value']) - float(prev.at[code, 'value']):+.2f}"
                srcs += str(prev.at[code, "value_sources"]).split(";")
            if not pd.isna(d.at[code, "rank"]) and not pd.isna(prev.at[code, "rank"]):
                dr = int(prev.at[code, "rank"]) - int(d.at[code, "rank"])
                srcs += str(prev.at[code, "rank_sources"]).split(";")
            if dv is not None or dr is not None:
                out[code] = (dv, dr, [x for x in srcs if x and x != "<NA>"])
        return out

    def appendix_title(self, idx: str = "par_index") -> HTML:
        """The appendix's heading; none for an index not yet measured that year (its sections
        said so in one line, and an appendix of nothing would take a page of its own)."""
        if self._is_before_first(idx):
            return HTML("")
        return HTML(f"<h2>{html.escape(self.L('report.appendix'))} — {html.escape(L_idx(self.L, idx))}</h2>")

    def appendix(self, idx: str = "par_index") -> HTML:
        """Every unit with a value, a rank or a group, one row each; the rest named in a line per
        range the record allows them (a row each would repeat the same range and "unknown")."""
        if self._is_before_first(idx):
            return HTML("")
        L, res = self.L, self.a.result(idx)
        c, d = res.classified, res.table.data
        pub = self._published_lists(idx)
        listed = self._listed(idx)  # a published list names the unit
        known = c["value"].notna() | c["rank_published"].notna() | c["group"].notna() | c.index.isin(list(listed))
        k = c[known]  # (assigning c's columns to an empty frame would bring c's rows back)
        from ..charts import place_keys

        # by rank; a value without a rank in its place among them (as in the charts), not after rank 63
        order = k.assign(_k=place_keys(k).fillna(1e9), _v=-k["value"].astype("Float64").fillna(-1))
        rows, cited = [], []
        changes = self._year_on_year(idx)
        for code in order.sort_values(["_k", "_v", "province"], key=by_name).index:
            r = c.loc[code]
            status = d.at[code, "value_status"] if not pd.isna(d.at[code, "value_status"]) else d.at[code, "rank_status"]
            srcs = d.at[code, "value_sources"] if not pd.isna(d.at[code, "value_sources"]) else d.at[code, "rank_sources"]
            if pd.isna(srcs) and code in listed:
                srcs = ";".join(pub.loc[pub["province_code"] == code, "source_id"])
            rows.append([r["province"], value_cell(res, code, value_as_published(d, code), L("missing")),
                         rank_cell(res, code, r["rank_published"]),
                         _bounds_cell(r),
                         self._group_cell(idx, code, r["group"], "—" if res.rules is None else L("group.unknown")),
                         L("basis.list") if pd.isna(r["group"]) and code in listed else
                         # a year without rules: "not grouped", not "unknown unknown"
                         L("brief.not_grouped") if res.rules is None else L(f"basis.{r['group_basis']}"),
                         "—" if pd.isna(status) else L.get(f"status.{status}", str(status))
                         if not pd.isna(d.at[code, "value_status"]) else
                         # only a rank: the status is the rank's, said so beside "no data"
                         L("status.of_rank", status=L.get(f"status.{status}", str(status))),
                         self.cite(srcs, short=True)])
            cited.append(srcs)
            if changes:  # against the previous year: value and places (up is +)
                dv, dr, prev_srcs = changes.get(code, (None, None, []))
                rows[-1][-1:-1] = [dv or "—", "—" if dr is None else (f"{dr:+d}" if dr else "0")]  # localised by _table
                if prev_srcs:
                    rows[-1][-1] = self.cite([srcs, *prev_srcs], short=True)
                    cited += prev_srcs
        lines = self._range_lines(c[~known], len(c))
        # the mark's meaning before the table: after it, it came three pages after the mark. The
        # units with nothing published are named there too: after the table, their two lines were
        # pushed alone onto a page of their own before the next appendix
        head = ("" if (note := aside_note(L, [res], order.index)) is None else f"<p class='note keep'>{html.escape(note)}</p>") \
            + "".join(lines)
        names = [n for x in self._source_ids(cited) if (n := file_name_of(x)) is not None]
        if names:  # the rows say "[your file]": which file, said once
            head += f"<p class='note keep'>{html.escape(L('text.user_files', files='; '.join(f'“{n}”' for n in names)))}</p>"
        if not rows:
            return HTML(head)
        # a user's table: its ranks are the file's, said as theirs (as its rows cite "[your file]")
        cols = [L("col.province"), L("col.value"), L(f"col.rank{self._user_suffix(idx)}"), L("col.bounds"),
                L("col.group"), L("col.basis"), L("col.status")]
        if changes:
            cols += [L("col.value_change", year=self.year - 1), L("col.rank_change", year=self.year - 1)]
        df = pd.DataFrame(rows, columns=cols + [L("col.source")])
        from ..htmltable import csv_link, sortable  # sort keys and the CSV computed here, not in the browser

        gone = ("—", L("missing"))
        title = f"{L('table.appendix')}: {L_idx(L, idx)} {self.year}"
        return HTML(head + sortable(self._table(df, "appendix yoy" if changes else "appendix", title).data, df, gone)
                    + csv_link(df, f"parindex_{idx}_{self.year}_{self.lang}.csv", L("text.download_csv"), gone))
