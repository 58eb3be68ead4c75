"""SIPAS: the published tiers and the two indices side by side."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML, Markdown

from .. import charts
from ...data.collate import vsorted
from ...data.tables import most_precise

class Sipas:
    """SIPAS: the published tiers and the two indices side by side. A part of ``Report``: ``self`` is the report."""

    def sipas_tiers(self) -> HTML:
        if self._before_first("sipas") is not None:
            return HTML("")
        L, res = self.L, self.a.sipas
        pub = self._published_lists("sipas")
        rows = []
        audit = {i.fact: i for i in res.audit}
        # every list the year published (the tiers, or a top and bottom five), as what it is; what
        # the rest of the record implies of it is the audit's answer (one number in both places)
        tiers = list(dict.fromkeys(["highest", "lowest"] + list(pub["tier"])))
        for tier in tiers:
            published = vsorted(set(pub.loc[pub["tier"] == tier, "province"]))
            # a list places its members; the group's members by the whole record add the units
            # the rest of the record places there (all of them, from a complete table)
            rep = res.members(tier) if res.rules and tier in res.rules.labels else published
            if published or rep:  # a tier nobody names and the record does not fill: no row
                rows.append([L.get(f"tier.{tier}", tier.replace("_", " ")), ", ".join(published) or "—",
                             self._tier_implied(audit.get(f"published_tier_{tier}")), ", ".join(rep) or "—",
                             self.cite(list(dict.fromkeys(pub.loc[pub["tier"] == tier, "source_id"]))) if published else "—"])
        df = pd.DataFrame(rows, columns=[L("col.group"), L("text.sipas_tiers_pub"), L("text.sipas_tiers_implied"),
                                         L("text.sipas_tiers_rep"), L("col.source")])
        if (df.iloc[:, 1] == df.iloc[:, 3]).all():  # the record places no one beyond the lists
            df = df.drop(columns=L("text.sipas_tiers_rep"))
        if (df.iloc[:, 2] == "—").all():  # no list to check
            df = df.drop(columns=L("text.sipas_tiers_implied"))
        facts = self._facts("sipas")
        facts = facts[~facts["fact"].isin(["leader", "last_place", "max", "min", "range"])]
        rows = []
        for fact, g in facts.groupby("fact", sort=False):
            # one line per fact: the most precise figure; a source that printed it rounded
            # ("85" for 85.48) is said to agree, not shown as a second figure
            best, _ = most_precise(g)
            others = [v for v in dict.fromkeys(g["value"]) if v != best]
            shown = best + (" " + L("text.also_rounded", values=", ".join(others)) if others else "")
            rows.append([L.get(f"fact.{fact}", fact), shown, self.cite(list(g["source_id"]))])
        ft = pd.DataFrame(rows, columns=[L("col.fact"), L("col.published"), L("col.source")])
        return HTML(self._table(df, "w-tiers").data + self._table(ft, "w-facts").data)

    def _tier_implied(self, item) -> str:
        """"all 6", "1 of 7: Bình Thuận": how many of a published list's members the rest of the
        record places in the tier without the list (the audit's tier check)."""
        if item is None:
            return "—"
        if item.status == "contradicted":
            return self.L("audit.contradicted")
        if "detail" not in item.texts:
            return "—"
        key, args = item.texts["detail"]
        if "forced" not in args:
            return "—"
        k, n, open_ = args["forced"], args["n"], set(args.get("open", []))
        if k == n:
            return self.L("text.tier_implied_all", n=n)
        if k == 0:
            return self.L("text.tier_implied_none", n=n)
        names = [x for x in vsorted(item.published.split(", ")) if x not in open_]
        return self.L("text.tier_implied_some", k=k, n=n, names=", ".join(names))

    def scatter(self) -> HTML | Markdown:
        par, sip = self.a.par_index, self.a.sipas
        both = par.classified["value"].notna() & sip.classified["value"].notna()
        if both.sum() < 2:
            if self._is_before_first("sipas"):  # 2013: no SIPAS yet; its own section said so, once
                return Markdown("")
            return Markdown(self.L("text.scatter_n", n=int(both.sum())))
        rounded = any(not pd.isna(d) and int(d) < 2 for res in (par, sip)
                      for d in res.table.data["value_decimals"].reindex(both[both].index))
        return self._fig(lambda: charts.scatter_chart(par, sip, self.L, self.L("report.scatter")),
                         f"{self.L('report.scatter')}: {self.L('text.scatter_n', n=int(both.sum()))}",
                         sources=self._index_sources("par_index") + self._index_sources("sipas"),
                         note=self.L("chart.rounded_note") if rounded else None)
