"""The methodology review's sections (``Review``)."""

from __future__ import annotations

import html
import re

import pandas as pd
from IPython.display import HTML, Markdown

from .. import charts
from ...data.collate import by_name, series_key
from ...data.tables import value_as_published
from ...infer.audit import bound_end, bound_text
from .common import INDEX_NAMES, L_idx, range_text
from .yearly import Report

class Review(Report):
    """The methodology review's content; every number is computed from the analysis."""

    def _maps_drawn(self) -> bool:
        return False

    SENS_STEP, SENS_SPAN = 0.05, 2.0
    MC_DRAWS, MC_SPREADS, SEED = 2000, (0.1, 0.2), 2020

    def _heading(self, key: str) -> str:
        """A section's heading without its number ("3. Độ vững…" -> "Độ vững…"): for captions,
        which carry their own ("Hình 3.")."""
        return re.sub(r"^\d+\.\s*", "", self.L(key))

    def _own_title(self) -> str:
        return self.L("review.title", index="PAR INDEX & SIPAS", year=self.year)

    @property
    def refs(self) -> dict[str, int]:
        """The review numbers only what it cites: the year's facts and rules, the units' figures,
        the audit's findings and the components (the yearly report's series, regions, legal
        basis and maps are not in it, and their sources were listed uncited)."""
        if getattr(self, "_refs", None) is None:
            order: list[str] = []
            for idx in INDEX_NAMES:
                order += list(self._facts(idx)["source_id"])
                rs = self.a.result(idx).rules
                order += [x for r in (rs.rules if rs else ()) for x in r.source_ids]
            order += self._result_sources(ministry_units=False)
            pub = self.a.bundle.published_tiers
            order += list(pub.loc[pub["year"] == self.year, "source_id"])
            self._refs = self._number(order)
        return self._refs

    def title(self) -> HTML:
        cover = super().title().data
        report = html.escape(self.L("report.title", index="PAR INDEX & SIPAS", year=self.year))
        review = html.escape(self.L("review.title", index="PAR INDEX & SIPAS", year=self.year))
        return HTML(cover.replace(f"<h1>{report}</h1>", f"<h1>{review}</h1>", 1))

    def sensitivity(self, idx: str = "par_index") -> HTML | Markdown:
        from ...infer import review

        res = self.a.result(idx)
        sens = review.cutoff_sensitivity(res, self.SENS_STEP, self.SENS_SPAN)
        if sens.empty:
            return Markdown(self.L("text.no_rule", year=self.year))
        return self._fig(lambda: charts.sensitivity_chart(sens, res.rules.labels, self.L, f"{L_idx(self.L, idx)} {self.year}"),
                         self.L("text.sensitivity", span=self.SENS_SPAN, step=self.SENS_STEP),
                         sources=self._index_sources(idx))

    def sensitivity_table(self, idx: str = "par_index", every: float = 0.5) -> HTML:
        from ...infer import review

        sens = review.cutoff_sensitivity(self.a.result(idx), self.SENS_STEP, self.SENS_SPAN)
        if sens.empty:
            return HTML("")
        s = sens[(sens["shift"] / every).round(6) % 1 == 0].copy()
        s["count"] = [range_text(d, p) for d, p in zip(s["determined"], s["possible"])]
        wide = s.pivot_table(index="shift", columns="cutoff", values="count", aggfunc="first").reset_index()
        wide["shift"] = [f"{x:+.1f}" if x else "0" for x in wide["shift"]]
        wide.columns = [self.L("col.shift"), *[self.L("chart.cutoff", value=c) for c in wide.columns[1:]]]
        return self._table(wide, title=f"{self._heading('review.sensitivity')}: {L_idx(self.L, idx)}",
                           sources=self._index_sources(idx))

    def closest(self, idx: str = "par_index") -> HTML:
        from ...infer import review

        res = self.a.result(idx)
        c = review.closest_to_cutoffs(res)
        if c.empty:
            return HTML("")
        c["group"] = [self._group_name(idx, g) for g in c["group"]]
        # a value published rounded (≈84) is shown so, and its margin is as rough as it is
        shown = [value_as_published(res.table.data, code) for code in c["code"]]
        c["margin"] = [f"≈{m:+.{len(s.partition('.')[2])}f}" if s.startswith("≈") else f"{m:+.2f}"
                       for s, m in zip(shown, c["margin"])]
        c["value"] = shown
        c["cutoff"] = [f"{x:g}" for x in c["cutoff"]]
        c = c.drop(columns="code")
        c.columns = [self.L("col.cutoff"), self.L("col.province"), self.L("col.value"), self.L("col.margin"),
                     self.L("col.group")]
        return self._table(c, title=f"{self.L('review.closest')}: {L_idx(self.L, idx)}", sources=self._index_sources(idx))

    def rounding(self, idx: str = "par_index") -> HTML:
        from ...infer import review

        c = self.a.result(idx).classified
        parts = [f"<h3>{html.escape(L_idx(self.L, idx))}</h3>"]
        for d in (2, 1):
            r = review.rounding_effects(c["value"], c["province"], d)
            places = self.L("word.decimal" if d == 1 else "word.decimals")  # "1 decimal", "2 decimals"
            parts.append(f"<p>{html.escape(self.L('text.rounding', d=d, places=places))}</p>")
            if r.empty:
                parts.append(f"<p>{html.escape(self.L('text.rounding_none', d=d, places=places, n=int(c['value'].notna().sum())))}</p>")
            else:
                r["tied_with"] = [self.L("text.tie_with", names=", ".join(t)) if t else self.L("text.order_changed")
                                  for t in r["tied_with"]]
                r = r.sort_values("province", key=series_key)
                r.columns = [self.L("col.province"), self.L("col.value"), self.L("col.rounded"),
                             self.L("col.rank_computed"), self.L("col.rank_rounded"), self.L("col.reason")]
                parts.append(self._table(r, title=f"{self._heading('review.rounding')}: {L_idx(self.L, idx)}",
                                         sources=self._index_sources(idx)).data)
        return HTML("".join(parts))

    def conventions(self, idx: str = "par_index") -> HTML | Markdown:
        """The headline ranges under each convention the published record leaves open
        (docs/method.md §3): which of them move."""
        from ...infer.analysis import convention_sensitivity

        L, res = self.L, self.a.result(idx)
        rows = convention_sensitivity(self.a.bundle, res, self.a.without)
        head = f"<h3>{html.escape(L_idx(L, idx))}: {html.escape(L('review.conventions'))}</h3>"
        if not rows:  # a user's table: said under the section's own heading
            return HTML(head + f"<p>{html.escape(L('text.conventions_none'))}</p>")

        def counts(r: dict) -> str:
            return "; ".join(f"{self._group_name(idx, k)} {range_text(*v)}" for k, v in r["count_ranges"].items()) or "—"

        def cuts(r: dict) -> str:
            return "; ".join(f"{k}: {bound_text(v[0], v[1])}" for k, v in r["cutoffs_allowed"].items()) or "—"

        def mean(r: dict) -> str:
            return "—" if r["mean_allowed"] is None else bound_text(*r["mean_allowed"])

        df = pd.DataFrame([[L(f"convention.{r['convention']}"), counts(r), cuts(r), mean(r), r["conflicts"],
                            ", ".join(L(f"col.moves_{m}") for m in r["moves"]) or "—"] for r in rows],
                          columns=[L("col.convention"), L("col.count_reproduced"), L("col.cutoffs_allowed"),
                                   L("col.national_mean_allowed"), L("col.conflicts"), L("col.moves")])
        return HTML(head + self._table(df, title=f"{L_idx(L, idx)}: {L('review.conventions')}",
                                  sources=self._index_sources(idx)).data)

    def monte_carlo(self) -> HTML | Markdown:
        from ...infer import review

        comp = self.a.par_index.components
        if comp is None or comp.empty:
            return Markdown(self.L("text.no_components"))
        out = []
        for spread in self.MC_SPREADS:
            mc = review.weight_monte_carlo(comp, self.a.par_index.rules, self.MC_DRAWS, spread, self.SEED)
            s = mc.summary
            out.append(f"<p>{html.escape(self.L('text.mc', lo=f'{1 - spread:.2f}', hi=f'{1 + spread:.2f}', draws=mc.draws, seed=mc.seed, n=len(s), elo=mc.factor_lo, ehi=mc.factor_hi))}</p>")
            t = pd.DataFrame({self.L("col.province"): s["province"], self.L("col.components_sum"): s["total"],
                              self.L("col.rank"): s["rank"],
                              # one rank, not "1–1", where every draw agrees
                              self.L("col.rank_interval"): [f"{a:g}" if a == b else f"{a:g}–{b:g}"
                                                            for a, b in zip(s["rank_p05"], s["rank_p95"])],
                              self.L("col.rank_range"): [f"{a}" if a == b else f"{a}–{b}"
                                                         for a, b in zip(s["rank_min"], s["rank_max"])],
                              self.L("col.p_keep_rank"): s["p_keep_rank"].map("{:.2f}".format),
                              self.L("col.p_keep_group"): s["p_keep_group"].map(lambda x: "—" if pd.isna(x) else f"{x:.2f}")})
            out.append(self._table(t, title=f"{self._heading('review.components')} (±{spread:.0%})",
                                   sources=list(comp["source_id"])).data)
            if spread == max(self.MC_SPREADS):
                out.append(self._fig(lambda: charts.monte_carlo_chart(s, self.L, f"{self._heading('review.components')} (±{spread:.0%})"),
                                     f"{self._heading('review.components')} (±{spread:.0%})",
                                     sources=list(self.a.par_index.components["source_id"])).data)
        return HTML("".join(out))

    def bounds(self, idx: str = "par_index") -> HTML | Markdown:
        from ...infer import review

        res = self.a.result(idx)
        b = review.bounds(res)
        title = f"{self._heading('review.bounds')} — {L_idx(self.L, idx)}"
        return self._fig(lambda: charts.bounds_chart(b, res.rules.labels if res.rules else [], self.L, title,
                                                             lambda lab: self._group_name(idx, lab)), self.L("text.bounds"),
                         sources=self._index_sources(idx))

    def bounds_text(self, idx: str = "par_index") -> Markdown:
        from ...infer import review

        res = self.a.result(idx)
        parts = []  # what the bounds are is the chart's caption (bounds()), said once
        if res.table.complete:
            parts.append(self.L("text.implied_mean_complete", m=float(res.classified["value"].astype(float).mean())))
        elif (m := review.mean_check(res)) is not None:
            parts.append(self.L("text.implied_mean", mean=m["published"], mlo=f"{m['published_lo']:.3f}".rstrip("0"),
                                mhi=f"{m['published_hi']:.3f}".rstrip("0"), n=m["n_unpublished"], lo=bound_end(m["lo"], "lo"),
                                hi=bound_end(m["hi"], "hi")))
        return Markdown("\n\n".join(parts))

    def bounds_table(self, idx: str = "par_index") -> HTML:
        from ...infer import review

        b = review.bounds(self.a.result(idx))
        # ranked provinces by rank, then the rest by the range, then by name; those with
        # nothing but a range shared with others are named in a line per range
        b = b[b["value"].isna()]
        b = b.assign(_r=b["rank"].astype("Float64").fillna(10**6))  # (b's own rows: an empty frame takes a longer Series' rows)
        b = b.sort_values(["_r", "lo", "province"], ascending=[True, False, True], key=by_name)
        bare = b["rank"].isna() & b["group"].isna()
        lines = self._range_lines(b[bare], len(self.a.result(idx).classified))
        b = b[~bare]
        if b.empty:
            return HTML("".join(lines))
        t = pd.DataFrame({self.L("col.province"): b["province"],
                          self.L("col.rank"): b["rank"].map(lambda x: "—" if pd.isna(x) else int(x)),
                          self.L("col.lo"): b["lo"].map(lambda x: bound_end(x, "lo")),
                          self.L("col.hi"): b["hi"].map(lambda x: bound_end(x, "hi")),
                          self.L("col.width"): b["width"].map("{:.2f}".format),
                          self.L("col.group"): [self._group_name(idx, g) if not pd.isna(g) else self.L("group.unknown") for g in b["group"]],
                          self.L("col.basis"): [self.L(f"basis.{x}") for x in b["group_basis"]]})
        return HTML(self._table(t, "w-bounds", title=f"{self._heading('review.bounds')}: {L_idx(self.L, idx)}",
                                sources=self._index_sources(idx)).data + "".join(lines))

    def coherence(self) -> HTML:
        from ...infer import review

        r = review.correlation(self.a.par_index, self.a.sipas, self.MC_DRAWS, self.SEED)
        if r["pearson"] is None:
            text = self.L("text.correlation_none", n=r["n"])
        else:
            sel = self.L("text.top_selection", k=r["selection"]["in_par_top_n"], top=r["selection"]["top_n"])
            # every unit has both (a complete table): no selection to warn of
            every = r["n"] == len(self.a.par_index.table.data)
            text = self.L("text.correlation_all" if every else "text.correlation", n=r["n"], sel=sel, p=r["pearson"],
                          s=r["spearman"])
            if r.get("boot"):
                text += " " + self.L("text.correlation_ci", plo=r["pearson_ci"][0], phi=r["pearson_ci"][1],
                                     slo=r["spearman_ci"][0], shi=r["spearman_ci"][1], boot=r["boot"], seed=r["seed"])
            else:
                text += " " + self.L("text.correlation_no_ci", min_n=review.MIN_N_BOOTSTRAP)
        parts = [f"<p>{html.escape(text)}</p>"]
        comp = self.a.par_index.components
        if comp is not None and not comp.empty:
            t = review.sipas_points_vs_percent(comp, self.a.sipas)
            if not t.empty:
                parts.append(f"<p>{html.escape(self.L('text.sipas_points'))}</p>")
                # a percent published rounded ("83") is written as such, and so is what follows from it
                # ("≈8.3", "≈−0.06"): 83.00 and 8.300 would claim decimals nobody published
                rd = t["percent_rounded"].astype(bool)
                t = t.astype({"sipas_percent": object, "percent_div_10": object, "difference": object})
                for i in t.index[rd]:
                    t.at[i, "sipas_percent"] = f"≈{float(t.at[i, 'sipas_percent']):.0f}"
                    t.at[i, "percent_div_10"] = f"≈{float(t.at[i, 'percent_div_10']):.1f}"
                    t.at[i, "difference"] = f"≈{float(t.at[i, 'difference']):+.2f}"
                for i in t.index[~rd]:
                    t.at[i, "sipas_percent"] = f"{float(t.at[i, 'sipas_percent']):.2f}"
                    # signed both ways, like every change in the reports ("+0.013" beside "−0.016")
                    t.at[i, "difference"] = f"{float(t.at[i, 'difference']):+.3f}"
                t = t.drop(columns="percent_rounded")
                t.columns = [self.L("col.province"), self.L("col.sipas_percent"), self.L("col.percent_div_10"),
                             self.L("col.sipas_points"), self.L("col.difference")]
                parts.append(self._table(t, title=self._heading("review.coherence"),
                                         sources=list(comp["source_id"]) + self._index_sources("sipas")).data)
        return HTML("".join(parts))
