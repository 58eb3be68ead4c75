"""The report's front matter: title, key findings, key figures."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from ... import __version__
from ...data.tables import at_rank, file_source_id, most_precise
from ...errors import ParindexError
from .common import INDEX_NAMES, range_text

class FrontMatter:
    """The report's front matter: title, key findings, key figures. A part of ``Report``: ``self`` is the report."""

    # -- sections ------------------------------------------------------------
    def title(self) -> HTML:
        """The cover: index, year, edition, build date, what this document is and is not, the data
        status, and provenance (package version, data checksums)."""
        import datetime

        L = self.L
        sums = ", ".join(f"{L.get(f'dataset.{k}', k)} {v[:12]}" for k, v in self.a.bundle.checksums.items()
                         if k in ("observations", "national_facts", "classification_rules", "components"))
        origins = "; ".join(f"{L(f'index_short.{i}')}: {self._origin(self.a.result(i), markdown=False)}"
                            for i in INDEX_NAMES)
        status = "".join(f"<p class='status'>{html.escape(self._status_line(i, markdown=False))}</p>"
                         for i in INDEX_NAMES)
        return HTML(
            f"<div class='cover{' compact' if self.compact else ''}'>"
            f"<h1>{html.escape(L('report.title', index='PAR INDEX & SIPAS', year=self.year))}</h1>"
            f"<p class='subtitle'>{html.escape(L('cover.subtitle'))}</p>"
            f"<p class='edition'>{html.escape(L('cover.edition'))} · "
            f"{html.escape(L('cover.built', date=L.date(datetime.date.today().isoformat())))}</p>"
            f"<p class='disclaimer'>{html.escape(L('cover.disclaimer'))}</p>{status}"
            f"<p class='provenance'>{html.escape(L('report.provenance', version=__version__, origin=origins, checksums=sums))}</p>"
            "</div>")

    def _held_fact(self, idx: str, fact: str) -> tuple[str | None, str]:
        """A published fact as _fact_row gives it, unless the audit set it aside: a figure that
        contradicts the rest of the record is not stated as a finding."""
        v, src = self._fact_row(idx, fact)
        if v is not None and any(i.index == idx and i.fact == fact and i.published == v and i.set_aside
                                 for i in self.a.audit):
            return None, ""
        return v, src

    def key_findings(self) -> HTML:
        """Five to eight sentences, every number from the analysis, each with its references."""
        L, out = self.L, []
        for idx in INDEX_NAMES:
            res = self.a.result(idx)
            name = L(f"index_short.{idx}")
            lead, lead_src, mx, mx_src, last, last_src, mn, mn_src = self._extremes(idx)
            maxp, minp = self._with_others(idx, "max", mx), self._with_others(idx, "min", mn)
            mx_src = ";".join([mx_src, *self._others_sources(idx, "max", mx)])
            mn_src = ";".join([mn_src, *self._others_sources(idx, "min", mn)])
            if lead and last:
                out.append(L("kfind.leader_last", index=name, year=self.year, leader=lead, maxp=maxp,
                             last=last, minp=minp, cite=self.cite([lead_src, mx_src, last_src, mn_src])))
            elif lead:
                out.append(L("kfind.leader", index=name, year=self.year, leader=lead, maxp=maxp,
                             cite=self.cite([lead_src, mx_src])))
            if res.rules is not None:
                rngs = ", ".join(f"{self._group_name(idx, lab)} {range_text(*res.count_ranges[lab])}"
                                 for lab in res.rules.labels if lab in res.count_ranges)
                if res.announced:
                    ann = ", ".join(f"{self._group_name(idx, lab)} {n}" for lab, n in res.announced.items())
                    facts = [i for i in res.audit if i.fact in self._count_facts(idx)]
                    statuses = {i.status for i in facts}
                    status = ("contradicted" if "contradicted" in statuses else
                              "reproduced" if statuses == {"reproduced"} else "consistent")
                    alone = res.inference.count_ranges_without_counts
                    rngs_alone = ", ".join(f"{self._group_name(idx, lab)} {range_text(*alone[lab])}"
                                           for lab in res.rules.labels if lab in alone)
                    bands = [r for r in res.rules.rules if r.kind == "band"]
                    lows = [r.lower for r in bands]  # None: a band open downwards, every unit has a group
                    floor = min(lows) if bands and len(bands) == len(res.rules.rules) and None not in lows else None
                    if floor is not None and rngs_alone:  # 2024: A and B only; the rest have no group
                        rngs_alone += "; " + L("kfind.groups_rest", cut=f"{floor:g}")
                    out.append(L("kfind.groups", index=name, announced=ann, ranges=rngs_alone or rngs,
                                 status=L(f"kfind.groups_{status}"),
                                 cite=self.cite([s for i in facts for s in i.source_ids])))
                elif rngs:
                    out.append(L("kfind.groups_only", index=name, ranges=rngs))
        mean, msrc = self._fact_row("par_index", "mean_63")
        prev_mean = self._fact_of_year("par_index", "mean_63", self.year - 1)
        if mean and prev_mean:
            delta = float(mean) - float(prev_mean[0])
            out.append(L("kfind.mean_change", mean=mean, change=f"{delta:+.2f}", prev=self.year - 1,
                         prev_mean=prev_mean[0], cite=self.cite([msrc, prev_mean[1]])))
        elif mean:
            out.append(L("kfind.mean", mean=mean, cite=self.cite(msrc)))
        # the published largest and smallest rises come first; the change computed over the few
        # provinces published in both years only where the ministry's own is not on record
        up, down = self._published_change("largest_rise"), self._published_change("smallest_rise")
        if up[0] and down[0]:
            out.append(L("kfind.published_changes", prev=self.year - 1, up=up[0], down=down[0],
                         cite=self.cite([up[1], down[1]])))
        elif (ch := self._changes()) is not None:
            out.append(L("kfind.changes" if ch["d_down"].startswith("-") else "kfind.changes_all_up", **ch))
        par = self.a.par_index.table
        n_missing = len(par.data) - par.n_value  # none in a complete table: not "0 of 63 not published"
        out.append(L("kfind.unknown", n_missing=n_missing, n=len(par.data), n_rank=par.n_rank_only) if n_missing
                   else L("kfind.all_values", n=len(par.data)))
        bad = [i for i in self.a.audit if i.status == "contradicted"]
        out.append(L("kfind.contradicted_one" if len(bad) == 1 else "kfind.contradicted", n=len(bad)) if bad else L("kfind.no_contradiction"))
        items = "".join(f"<li>{html.escape(x)}</li>" for x in out[:8])
        return HTML(f"<h2>{html.escape(L('report.key_findings'))}</h2><ul class='findings'>{items}</ul>")

    def _published_change(self, fact: str) -> tuple[str | None, str]:
        """"Bình Thuận (+6.39)": the province (a GSO code in data/) and the figure of a published
        largest or smallest rise, as far as they are on record."""
        code, csrc = self._fact_row("par_index", f"{fact}_province")
        value, vsrc = self._fact_row("par_index", fact)
        name = None
        if code:
            try:
                name = self.a.bundle.units(self.year).resolve(str(code)).name_vi
            except ParindexError:
                name = str(code)
        fig = None if value is None else f"+{str(value).lstrip('+')}"
        if name and fig:
            return f"{name} ({fig})", ";".join(x for x in (csrc, vsrc) if x)
        return (name or fig), (csrc or vsrc)

    @staticmethod
    def _count_facts(idx: str) -> tuple[str, ...]:
        return ("group_count_A", "group_count_B", "group_count_C", "group_count_D") if idx == "par_index" else (
            "n_highest_group", "n_lowest_group")

    def _fact_of_year(self, idx: str, fact: str, year: int) -> tuple[str, str] | None:
        f = self.a.bundle.national_facts
        rows = f[(f["index"] == idx) & (f["year"] == year) & (f["fact"] == fact)]
        if rows.empty:
            return None
        best, src = most_precise(rows)
        return best, src.replace(", ", ";")

    def _changes(self) -> dict | None:
        """The largest rise and fall among provinces with a value in both this and the previous year."""
        from ...data.tables import consolidate

        if self.merged_units or (self.year - 1) not in self.a.bundle.years("par_index"):
            return None
        now = self.a.par_index.table.data
        before = consolidate(self.a.bundle.observations, "par_index", self.year - 1, self.a.bundle.registry).data
        both = now.index[now["value"].notna() & before["value"].notna()]
        if len(both) < 2:
            return None
        delta = (now.loc[both, "value"].astype(float) - before.loc[both, "value"].astype(float))
        up, down = delta.idxmax(), delta.idxmin()
        srcs = [s for c in (up, down) for d in (now, before) for s in str(d.at[c, "value_sources"]).split(";")]
        return {"n": len(both), "prev": self.year - 1, "year": self.year, "up": now.at[up, "province"],
                "d_up": f"{delta[up]:+.2f}", "down": now.at[down, "province"], "d_down": f"{delta[down]:+.2f}",
                "cite": self.cite(srcs)}

    def _fact_row(self, idx: str, fact: str) -> tuple[str | None, str]:
        f = self._facts(idx)
        return most_precise(f[f["fact"] == fact])

    def key_figures(self) -> HTML:
        L = self.L
        rows = []
        n_units = len(self.a.par_index.table.data)
        mean_label = L("kf.mean") if n_units == 63 else L("kf.mean_units", n=n_units)  # 34 units from 2025
        wanted = [("par_index", "mean_63", mean_label, None), ("par_index", "max", f"PAR INDEX — {L('kf.max')}", "leader"),
                  ("par_index", "min", f"PAR INDEX — {L('kf.min')}", "last_place"),
                  ("sipas", "national_rate", L("kf.sipas_rate"), None),
                  ("sipas", "max", f"SIPAS — {L('kf.max')}", "leader"), ("sipas", "min", f"SIPAS — {L('kf.min')}", "last_place")]
        status = {(i.index, i.fact, i.published): i for i in self.a.audit}
        for idx, fact, label, who_fact in wanted:
            if self._is_before_first(idx):
                continue  # an index not yet measured: its section says so, not rows of "no data"
            v, src = self._fact_row(idx, fact)
            who = self._fact_row(idx, who_fact)[0] if who_fact else None
            if who_fact:  # the same leader and last as the key findings (one place: _extremes)
                lead, lead_src, mx, mx_src, last, last_src, mn, mn_src = self._extremes(idx)
                who, v, src = (lead, mx, [lead_src, mx_src]) if fact == "max" else (last, mn, [last_src, mn_src])
            st = status.get((idx, fact, v))
            shown = L(f"audit.{st.status}") if st else "—"
            if st is None and (others := self._other_extremes(idx, fact, v)):
                # the value shown is another source's (the leader's own): say what the others are
                shown = "; ".join(f"{i.published}: {L(f'audit.{i.status}')}" for i in others)
                src = [*(src if isinstance(src, list) else [src]), *self._others_sources(idx, fact, v)]
            rows.append([label, (f"{v} ({who})" if who else v) if v else (f"{L('missing')} ({who})" if who else L("missing")),
                         shown, self.cite(src)])
        # a user's table gives the highest and lowest values: they are not the Ministry's (their
        # source says whose), so the column is not headed "Published" (as the appendix's ranks)
        users = any(self.a.result(i).table.origin != "bundled" for i in INDEX_NAMES if not self._is_before_first(i))
        kf = pd.DataFrame(rows, columns=[L("col.fact"), L("col.value_shown" if users else "col.published"), L("col.status"),
                                         L("col.source")])
        counts = []
        for idx in INDEX_NAMES:
            res = self.a.result(idx)
            if res.rules is None:
                continue
            audit = {i.fact: i for i in res.audit}
            for lab in res.rules.labels:
                key = f"group_count_{lab}" if idx == "par_index" else f"n_{lab}_group"
                it = audit.get(key)
                rng = res.count_ranges.get(lab)
                counts.append([L(f"index_short.{idx}"), self._group_name(idx, lab), res.announced.get(lab, "—"),
                               range_text(*rng) if rng else "—", L(f"audit.{it.status}") if it else "—",
                               self.cite(it.source_ids) if it else "—"])
        ct = pd.DataFrame(counts, columns=[L("col.fact"), L("col.group"), L("col.count_announced"),
                                           L("col.count_reproduced"), L("col.status"), L("col.source")])
        return HTML(f"<h2>{html.escape(L('report.key_figures'))}</h2>" + self._table(kf, "w-keyfig").data
                    + self._table(ct, "w-counts").data)

    def _other_extremes(self, idx: str, fact: str, shown: str | None) -> list:
        """The audited published maxima (minima) other than the value shown: where the leader's own
        value is shown, a conflicting national maximum must be named beside it, not dropped."""
        return [i for i in self.a.audit if i.index == idx and i.fact == fact and i.published != shown]

    def _others_sources(self, idx: str, fact: str, shown: str | None) -> list[str]:
        return [s for i in self._other_extremes(idx, fact, shown) for s in i.source_ids]

    def _with_others(self, idx: str, fact: str, shown: str | None) -> str:
        """" (90,59%; published maximum 91,10%: contradicted)" for a key finding; " (90,59%)" alone
        where nothing else is published."""
        if not shown:
            return ""
        others = self._other_extremes(idx, fact, shown)
        if not others:
            return f" ({shown}%)"
        L = self.L
        rest = "; ".join(L("kfind.other_extreme", fact=L(f"kf.{fact}").lower(), value=i.published,
                           status=L(f"audit.{i.status}")) for i in others)
        return f" ({shown}%; {rest})"

    def _extremes(self, idx: str) -> tuple[str | None, str, str | None, str, str | None, str, str | None, str]:
        """(leader, sources, highest value, sources, last, sources, lowest value, sources): the one
        place key findings, key figures and the series take them from. A published leader or
        maximum first; else the unit ranked first (last) and its value; a complete table decides."""
        res = self.a.result(idx)
        lead, lead_src = self._held_fact(idx, "leader")
        mx, mx_src = self._held_fact(idx, "max")
        last, last_src = self._held_fact(idx, "last_place")
        mn, mn_src = self._held_fact(idx, "min")
        d = res.table.data
        if not lead and (top := at_rank(d, first=True))[0]:  # no leader fact: the province ranked first
            lead, lead_src = top[0], top[1]
            if not mx and top[2] is not None:
                mx, mx_src = top[2], top[3]
        if not last and (bottom := at_rank(d, first=False))[0]:
            last, last_src = bottom[0], bottom[1]
            if not mn and bottom[2] is not None:
                mn, mn_src = bottom[2], bottom[3]
        if res.table.complete:
            top, bottom = d["value"].astype(float).idxmax(), d["value"].astype(float).idxmin()
            lead, mx = d.at[top, "province"], f"{float(d.at[top, 'value']):.2f}"
            last, mn = d.at[bottom, "province"], f"{float(d.at[bottom, 'value']):.2f}"
            lead_src = mx_src = last_src = mn_src = file_source_id(Path(res.table.origin).name)
        return lead, lead_src, mx, mx_src, last, last_src, mn, mn_src

    def glossary(self) -> HTML:
        """The terms the report uses before its method section explains them, near the front."""
        L, items, k = self.L, [], 1
        while L.get(f"gloss.{k}.term", None) is not None:
            items.append(f"<dt>{html.escape(L(f'gloss.{k}.term'))}</dt><dd>{html.escape(L(f'gloss.{k}.def'))}</dd>")
            k += 1
        return HTML(f"<h2>{html.escape(L('report.glossary'))}</h2><dl class='glossary'>{''.join(items)}</dl>")
