"""Trends: an index over the years."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Markdown

from .. import charts
from ...data.tables import file_source_id
from .common import INDEX_NAMES, L_idx

class Timeline:
    """Trends: an index over the years. A part of ``Report``: ``self`` is the report."""

    def trend(self, idx: str = "par_index") -> HTML | Markdown:
        if self._is_before_first(idx):
            return HTML("")
        from ...infer.trends import headline_label, trend

        tr = trend(self.a.bundle, idx, through=self.year)
        d = self.a.result(idx).table.data
        if self.year not in self.a.bundle.years(idx) and d["value"].notna().any():
            # a year data/ does not know: its own table gives the maximum and minimum (and the
            # mean when complete), sourced to that table
            row = tr["year"] == self.year
            src = file_source_id(Path(self.a.result(idx).table.origin).name)
            for fact, v, ok in (("max", d["value"].max(), True), ("min", d["value"].min(), True),
                                ("mean_63", d["value"].mean(), self.a.result(idx).table.complete)):
                if ok:
                    tr.loc[row, fact] = f"{float(v):.2f}"
                    tr.loc[row, f"{fact}_num"] = round(float(v), 2)
                    tr.loc[row, f"{fact}_sources"] = src
        if tr.empty or tr[["mean_63_num", "max_num", "min_num"]].notna().sum().sum() == 0:
            return Markdown(self.L("missing"))
        title = f"{L_idx(self.L, idx)}: {self.L('report.trend')}"
        series = [x for col in tr.columns if col.endswith("_sources")
                  for v in tr[col].dropna() for x in str(v).replace(", ", ";").split(";") if x]
        means = tr[tr["mean_63_num"].notna()]
        alt = title if len(means) < 2 else self.L(
            "alt.trend", title=title, what=headline_label(self.L, idx, tr), n=len(means),
            # as published ("81", not "81,00": that year's figure has no decimals)
            y0=int(means["year"].iloc[0]), v0=self.L.number(str(means["mean_63"].iloc[0])),
            y1=int(means["year"].iloc[-1]), v1=self.L.number(str(means["mean_63"].iloc[-1])))
        img = self._fig(lambda: charts.trend_chart(tr, self.L, title, headline_label(self.L, idx, tr)), alt,
                        sources=series).data

        def cell(row: pd.Series, fact: str, who: str | None = None) -> str:
            v = row[fact]
            name = row[who] if who else None
            text = v if v is not None and not pd.isna(v) else "—"
            if name is not None and not pd.isna(name):
                text = f"{name} ({text})" if text != "—" else name
            elif who and text != "—":  # the value is published, the province is not named
                text = f"{text} ({self.L('text.unit_not_named')})"
            return text + (" (≠)" if row[f"{fact}_conflict"] or (who and row[f"{who}_conflict"]) else "")

        rows = []
        for _, r in tr.iterrows():
            srcs = ", ".join(dict.fromkeys(s for f in ("mean_63", "max", "min", "leader", "last_place")
                                           for s in str(r[f"{f}_sources"]).split(", ") if s))
            year = str(r["year"]) + (f" ({self.L('text.n_units', n=int(r['units']))})"
                                     if tr["units"].nunique() > 1 and r["units"] != tr["units"].iloc[0] else "")
            rows.append([year, cell(r, "mean_63"), cell(r, "max", "leader"), cell(r, "min", "last_place"),
                         self.cite(srcs.replace(", ", ";")) if srcs else "—"])
        mean_head = headline_label(self.L, idx, tr)
        t = pd.DataFrame(rows, columns=[self.L("col.year"), mean_head, self.L("fact.leader"),
                                        self.L("fact.last_place"), self.L("col.source")])
        note = f"<p class='keep'>{html.escape(self.L('text.trend'))}</p>" if idx == INDEX_NAMES[0] else ""  # said once
        trend_title = f"{self.L('table.w-trend')}: {L_idx(self.L, idx)}"
        return HTML(f"{note}{img}{self._table(t, 'w-trend', trend_title).data}")
