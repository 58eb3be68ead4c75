"""Rankings and groups: the ranking, the unknown list, the distribution, the groups and the
index components."""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML, Markdown

from .. import charts
from ...data.collate import by_name, vsorted
from ...data.tables import value_as_published
from ...infer.audit import ADDITIVITY_TOLERANCE, additivity_gap, bound_end
from .common import L_idx, aside_note, md_text, range_text

class Rankings:
    """Rankings and groups: the ranking, the unknown list, the distribution, the groups and the A part of ``Report``: ``self`` is the report."""

    def ranking(self, idx: str = "par_index") -> HTML | Markdown:
        if (line := self._before_first(idx)) is not None:
            return Markdown(line)
        res = self.a.result(idx)
        title = f"{L_idx(self.L, idx)} {self.year}"
        if not (res.classified["value"].notna().any() or res.classified["rank_published"].notna().any()):
            return Markdown(self.L("text.nothing_published", index=L_idx(self.L, idx), year=self.year))
        c = res.classified
        known = c[c["value"].notna() | c["rank_published"].notna()]
        if len(known) < 3:  # one or two figures: a sentence, not a chart of one bar
            d = res.table.data
            items = [f"{r['province']} {value_as_published(d, code) or ''}".strip()
                     + ("" if pd.isna(r["rank_published"]) else f" ({self.L('text.rank_n', rank=int(r['rank_published']))})")
                     for code, r in known.iterrows()]
            return Markdown(md_text(self.L("text.few_published", index=L_idx(self.L, idx), year=self.year,
                                           items="; ".join(items))))
        own = self._user_suffix(idx)
        n_rank = int((c["value"].isna() & c["rank_published"].notna()).sum())  # none: no "0 rank-only provinces"
        caption = self.L(f"chart.alt_ranking{own}" + ("" if n_rank else "_values"), title=title,
                         n_bar=int(c["value"].notna().sum()), n_rank=n_rank)
        return self._fig(lambda: charts.ranking_chart(res, self.L, title), self._alt_values(idx), caption,
                         sources=self._index_sources(idx), note=aside_note(self.L, [res], known.index))

    def unknown_list(self, idx: str = "par_index") -> Markdown:
        if self._is_before_first(idx):
            return HTML("")
        c = self.a.result(idx).classified
        names = vsorted(c.loc[c["value"].isna() & c["rank_published"].isna(), "province"])
        if not names:
            return Markdown("")
        # (what a rank-only mark means is said once, in the chart's legend)
        if len(names) > len(c) / 2:  # most are unknown: count them; the appendix names them once
            return Markdown(self.L("text.unknown_many", n=len(names), total=len(c)))
        return Markdown(self.L("chart.no_value", n=len(names), names=", ".join(names)) + ".")

    def _distribution_key(self, idx: str) -> str:
        rules = self.a.result(idx).rules  # "against the cut-offs" only where cut-offs are drawn
        return "report.distribution" if rules is not None and rules.is_band else "report.distribution_plain"

    def distribution_heading(self, idx: str = "par_index") -> Markdown:
        """The section's heading: the same words as its chart's title."""
        return Markdown("## " + self.L(self._distribution_key(idx)))

    def distribution(self, idx: str = "par_index") -> HTML | Markdown:
        if self._is_before_first(idx):
            return HTML("")
        title = f"{self.L(self._distribution_key(idx))} — {L_idx(self.L, idx)}"
        n = int(self.a.result(idx).classified["value"].notna().sum())
        if n < 3:  # a strip of one or two points says nothing a sentence does not
            return Markdown(self.L("text.distribution_few", n=n))
        return self._fig(lambda: charts.distribution_chart(self.a.result(idx), self.L, title), self._alt_distribution(idx), title,
                         sources=self._index_sources(idx),
                         note=self.L(f"chart.jitter_note{self._user_suffix(idx)}"))

    def _user_suffix(self, idx: str) -> str:
        """"_user" for a label said of a user's table (its values are theirs, not "published")."""
        return "" if self.a.result(idx).table.origin == "bundled" else "_user"

    def groups(self, idx: str = "par_index") -> HTML | Markdown:
        if self._is_before_first(idx):
            return HTML("")
        res, L = self.a.result(idx), self.L
        if res.rules is None:
            pub = self._published_lists(idx)
            if pub.empty or idx == "sipas":  # SIPAS's lists are shown with its tiers (sipas_tiers)
                return Markdown(L("text.no_rule", year=self.year))
            lists = pd.DataFrame([[L.get(f"tier.{t}", t.replace("_", " ")), ", ".join(vsorted(set(g["province"]))),
                                   self.cite(list(dict.fromkeys(g["source_id"])))] for t, g in pub.groupby("tier")],
                                 columns=[L("col.group"), L("text.sipas_tiers_pub"), L("col.source")])
            return HTML(f"<p>{html.escape(L('text.no_rule', year=self.year))}</p>" + self._table(lists, "w-tiers").data)
        rows = []
        c = res.classified
        marks = {"value": "", "record": "*", "announced_counts": "**"}
        for r in sorted(res.rules.rules, key=lambda r: r.order):
            m = c[c["group"] == r.label].sort_values(["value", "province"], ascending=[False, True], key=by_name)
            members = ", ".join(f"{p}{marks.get(b, '')}" for p, b in zip(m["province"], m["group_basis"]))
            rng = res.count_ranges.get(r.label)
            rows.append([self._group_name(idx, r.label), r.describe(), self._basis(r.basis),
                         res.announced.get(r.label, "—"), range_text(*rng) if rng else "—", len(m), members or "—"])
        df = pd.DataFrame(rows, columns=[L("col.group"), L("col.rule"), L("col.basis"), L("col.count_announced"),
                                         L("col.count_reproduced"), L("col.count_known"), L("col.members")])
        note = f"* {L('basis.record')}" + (f"; ** {L('basis.announced_counts')}" if self.a.assume_announced else "")
        assume = (L("text.assume_announced", without=", ".join(L(f"without.{w}") for w in sorted(self.a.without)))
                  if self.a.without else L("text.assume_default"))
        title = f"{L('table.w-groups')}: {L_idx(L, idx)} {self.year}"
        # the rules, counts, values and ranks the groups rest on
        ids = self._index_sources(idx) + list(self._published_lists(idx)["source_id"])
        # the source line and the key to the marks go with the table's last rows (tsource)
        src = f"<p class='note tsource'>{html.escape(self.source_line(ids))}</p>"
        # a cut-off no source states floats: a rule "≥ 80" beside a member's range from 77 says why
        for cut, (lo, hi) in res.inference.cut_ranges.items():
            note = note.rstrip(".") + ". " + L("text.cut_allowed", index=L(f"index_short.{idx}"), cut=cut, lo=bound_end(lo, "lo"),
                             hi=bound_end(hi, "hi"))
        return HTML(self._table(df, "w-groups", title).data + src + f"<p class='note tsource'>{html.escape(note)}</p>"
                    + f"<p class='note'>{html.escape(assume)}</p>" + self._slots(idx))

    def _slots(self, idx: str) -> str:
        """Open rank places and their occupants' groups, once the announced counts are assumed."""
        res, L = self.a.result(idx), self.L
        if not self.a.assume_announced or res.rules is None or not res.rules.is_band or res.table.complete:
            return ""
        runs = res.inference.slot_ranges()
        if not runs:
            return ""
        # consecutive runs whose occupants can be in the same groups make one line
        merged: list[list[dict]] = []
        for r in runs:
            if merged and merged[-1][-1]["possible"] == r["possible"]:
                merged[-1].append(r)
            else:
                merged.append([r])
        items = []
        for group in merged:
            slots = ", ".join(str(r["first"]) if r["first"] == r["last"] else f"{r['first']}–{r['last']}"
                              for r in group)
            groups = " / ".join(self._group_name(idx, g) for g in group[0]["possible"]) or "—"
            lo, hi = min(r["lo"] for r in group), max(r["hi"] for r in group)
            one = len(group) == 1 and group[0]["first"] == group[0]["last"]
            items.append(L("text.slot_line_one" if one else "text.slot_line", slots=slots, groups=groups, lo=bound_end(lo, "lo"), hi=bound_end(hi, "hi")))
        # one paragraph: a list of one or two lines would push a page break of its own
        return f"<p class='slots'>{html.escape(L('text.slots'))} {html.escape('; '.join(items))}.</p>"

    def components(self) -> HTML | Markdown:
        comp = self.a.par_index.components
        if comp is None or comp.empty:
            return Markdown(self.L("text.no_components"))
        title = f"{self.L('report.components')} {self.year}"
        return self._fig(lambda: charts.components_chart(comp, self.L, title), self.L("chart.alt_components", title=title, n=len(comp)),
                         sources=list(comp["source_id"]) if "source_id" in comp else ())

    def additivity(self) -> Markdown:
        comp = self.a.par_index.components
        if comp is None or comp.empty:
            return Markdown("")
        return Markdown(self.L("text.additivity", gap=additivity_gap(comp), tol=ADDITIVITY_TOLERANCE))

    def _alt_distribution(self, idx: str) -> str:
        """The distribution chart in words: how the published values fall between the cut-offs
        and their median (the ranking chart's alt text names the extremes instead)."""
        res, L = self.a.result(idx), self.L
        c = res.classified
        v = c[c["value"].notna()]
        if v.empty:
            return L("missing")
        median = L.number(f"{float(v['value'].astype(float).median()):.2f}")
        bands = ""
        if res.rules is not None:
            bands = ", ".join(f"{self._group_name(idx, lab)} {int((v['group'] == lab).sum())}" for lab in res.rules.labels)
        return L("alt.distribution", n=len(v), bands=bands or "—", median=median)

    def _alt_values(self, idx: str) -> str:
        """What a chart of the year's values says, in words (its alt text): the highest and lowest
        published value and how many published values each group holds."""
        res, L = self.a.result(idx), self.L
        c = res.classified
        v = c[c["value"].notna()]
        if v.empty:
            return L("missing")
        hi, lo = v["value"].astype(float).idxmax(), v["value"].astype(float).idxmin()
        text = L("alt.values", n=len(v), top=v.at[hi, "province"], top_v=L.number(f"{float(v.at[hi, 'value']):.2f}"),
                 low=v.at[lo, "province"], low_v=L.number(f"{float(v.at[lo, 'value']):.2f}"))
        if res.rules is not None:
            counts = [f"{self._group_name(idx, lab)} {int((c['group'] == lab).sum())}" for lab in res.rules.labels
                      if (c["group"] == lab).any()]
            if counts:
                text += " " + L("alt.groups", counts=", ".join(counts))
        return text
