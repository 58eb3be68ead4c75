"""The report's sections as displayable objects; the notebook only calls these, in order."""

from __future__ import annotations

import base64
import html
import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

from matplotlib.figure import Figure
import pandas as pd
from IPython.display import HTML, Markdown

from .. import __version__
from . import charts
from ..infer.analysis import IndexResult, YearAnalysis, analyse, parse_without
from ..infer.audit import ADDITIVITY_TOLERANCE, additivity_gap
from ..data.collate import by_name, series_key, vsorted
from ..errors import ParindexError
from ..proc.gcpause import gc_paused
from ..data.labels import Labels
from ..data.tables import at_rank, most_precise, value_as_published

INDEX_NAMES = ("par_index", "sipas")


def _svg(fig: Figure, L: Labels | None = None, crop: bool = True) -> str:
    """The figure as SVG text. ``crop`` trims it to what is drawn (a second layout pass); the
    charts lay themselves out to their full size (tight_layout) and skip it."""
    if L is not None:
        charts.use_decimal_mark(fig, L)
    buf = io.StringIO()
    with gc_paused():  # see gcpause
        fig.savefig(buf, format="svg", bbox_inches="tight" if crop else None, metadata={"Date": None})  # reproducible bytes
    return buf.getvalue()


def _fig(fig: Figure | Callable[[], Figure], alt: str, caption: str | None = None, L: Labels | None = None,
         crop: bool = False) -> HTML:
    """A figure with its description as alt text (read out by screen readers, carried into the
    PDF's structure) and as a caption in real text under it.

    Given as a function that draws it, the figure is also drawn narrow, for phones: the HTML
    shows that version on screens up to 40rem (a ``<picture>`` source; the PDF uses the page
    version). Either one is shown at its natural size, so that its smallest text (7 pt) is
    9 px or more; what is still wider than the screen scrolls sideways in its own box."""
    src = ""
    if callable(fig):
        with charts.narrow():
            small = base64.b64encode(_svg(fig(), L, crop=crop).encode("utf-8")).decode("ascii")
        src = f"<source media='(max-width: 40rem)' srcset='data:image/svg+xml;base64,{small}'>"
        data = base64.b64encode(_svg(fig(), L, crop=crop).encode("utf-8")).decode("ascii")
    else:
        data = base64.b64encode(_svg(fig, L).encode("utf-8")).decode("ascii")
    text = html.escape(caption if caption is not None else alt)
    img = f"<img alt='{html.escape(alt, quote=True)}' src='data:image/svg+xml;base64,{data}'>"
    return HTML(f"<figure class='chart'><div class='tscroll'>{f'<picture>{src}{img}</picture>' if src else img}</div>"
                f"<figcaption>{text}</figcaption></figure>")


def _table(df: pd.DataFrame, cls: str = "", L: Labels | None = None) -> HTML:
    """``df`` as an HTML table; with ``L``, its numbers carry that edition's decimal mark."""
    if df.empty:  # never a table of headers alone
        return HTML("")
    # On a narrow screen a wide table scrolls inside its own box (with a shadow as the cue),
    # instead of widening the page; print and PDF lay it out at full width.
    body = df.to_html(index=False, escape=True, na_rep="—", classes=f"ptable {cls}".strip(), border=0)
    if L is not None:  # pandas' own number formatting, then the edition's decimal mark on the text
        body = re.sub(r">([^<]+)<", lambda m: ">" + L.number(m.group(1)) + "<", body)
    return HTML("<div class='tscroll'>" + body + "</div>")


def _bounds_cell(r: pd.Series) -> str:
    """A unit's possible range for a table: "—" where it is a single point (the value) or unknown."""
    if pd.isna(r["lo"]) or r["lo"] == r["hi"]:
        return "—"
    return f"{float(r['lo']):.2f}–{float(r['hi']):.2f}"


def md_text(text: str) -> str:
    """User text for a Markdown cell: HTML escaped and Markdown punctuation backslashed, so a
    name like '![x](http://host/x).csv' or '<img src=...>' shows as itself."""
    escaped = html.escape(str(text), quote=True)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>])", r"\\\1", escaped)


def range_text(lo: float, hi: float) -> str:
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


@lru_cache(maxsize=4)
def _cached_analyse(year: int, par_index_file: str, sipas_file: str, rules_file: str = "",
                    without: str = "") -> YearAnalysis:
    return analyse(year, par_index_file or None, sipas_file or None, rules_file=rules_file or None,
                   without=without)


class Report:
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
        from ..infer.tidy import tidy

        if idx == "ministries":
            return tidy(self.a, "ministries").reset_index(drop=True)
        df = tidy(self.a, "provinces")
        return df[df["index"] == idx].reset_index(drop=True)

    def _table(self, df: pd.DataFrame, cls: str = "") -> HTML:
        return _table(df, cls, self.L)

    def _fig(self, fig: Figure | Callable[[], Figure], alt: str, caption: str | None = None, crop: bool = False) -> HTML:
        return _fig(fig, alt, caption, self.L, crop)

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
            results = [self.a.result(i) for i in INDEX_NAMES] + ([self.a.ministries] if self.a.ministries else [])
            for res in results:
                d = res.table.data
                for code in d.index:
                    for col in ("value_sources", "rank_sources"):
                        if not pd.isna(d.at[code, col]):
                            order += str(d.at[code, col]).split(";")
                order += [x for i in res.audit for x in i.source_ids]
                if len(res.components):
                    order += list(res.components["source_id"])
            pub = b.published_tiers
            order += list(pub.loc[pub["year"] == self.year, "source_id"])
            from ..infer.trends import SERIES

            nf = b.national_facts  # the trend's figures of every year
            order += list(nf.loc[nf["index"].isin(INDEX_NAMES) & nf["fact"].isin(SERIES), "source_id"])
            self._refs = self._number(order)
        return self._refs

    def _number(self, order: list[str]) -> dict[str, int]:
        """Reference numbers by first use; ids that are not sources (a user's file) get none."""
        known = set(self.a.bundle.sources["source_id"])
        out: dict[str, int] = {}
        for sid in order:
            if sid in known and sid not in out:
                out[sid] = len(out) + 1
        return out

    def cite(self, ids) -> str:
        """'[3, 7]' for source ids; a user's own file is named instead (never a raw id)."""
        if ids is None or (not isinstance(ids, (list, tuple, set)) and pd.isna(ids)):
            return "—"
        if isinstance(ids, str):
            ids = [ids]
        ids = [y.strip() for x in ids if x is not None and not (isinstance(x, float) and pd.isna(x))
               for y in str(x).replace(",", ";").split(";") if y.strip()]
        nums = sorted({self.refs[x] for x in ids if x in self.refs})
        files = [x.removeprefix("file:") for x in ids if x.startswith("file:")]
        parts = ([f"[{', '.join(map(str, nums))}]"] if nums else []) + files
        return " ".join(parts) or "—"

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
        instead of each starting a page (export.py / exports.thin_groups)."""
        return self.a.par_index.table.n_value + self.a.sipas.table.n_value < self.COMPACT_BELOW

    @property
    def merged_units(self) -> bool:
        """True for a year assessed on the 34 units formed on 1 July 2025."""
        from ..data.registry import first_year_of_2025_units

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
        d = res.table.data
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
                lead_src = mx_src = last_src = mn_src = f"file:{Path(res.table.origin).name}"
            maxp, minp = (f" ({mx}%)" if mx else ""), (f" ({mn}%)" if mn else "")
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
        out.append(L("kfind.unknown", n_missing=len(par.data) - par.n_value, n=len(par.data),
                     n_rank=par.n_rank_only))
        bad = [i for i in self.a.audit if i.status == "contradicted"]
        out.append(L("kfind.contradicted", n=len(bad)) if bad else L("kfind.no_contradiction"))
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
        from ..data.tables import consolidate

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
        wanted = [("par_index", "mean_63", L("kf.mean"), None), ("par_index", "max", f"PAR INDEX — {L('kf.max')}", "leader"),
                  ("par_index", "min", f"PAR INDEX — {L('kf.min')}", "last_place"),
                  ("sipas", "national_rate", L("kf.sipas_rate"), None),
                  ("sipas", "max", f"SIPAS — {L('kf.max')}", "leader"), ("sipas", "min", f"SIPAS — {L('kf.min')}", "last_place")]
        status = {(i.index, i.fact, i.published): i for i in self.a.audit}
        for idx, fact, label, who_fact in wanted:
            v, src = self._fact_row(idx, fact)
            who = self._fact_row(idx, who_fact)[0] if who_fact else None
            st = status.get((idx, fact, v))
            rows.append([label, (f"{v} ({who})" if who else v) if v else L("missing"),
                         L(f"audit.{st.status}") if st else "—", self.cite(src)])
        kf = pd.DataFrame(rows, columns=[L("col.fact"), L("col.published"), L("col.status"), L("col.source")])
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

    def ranking(self, idx: str = "par_index") -> HTML | Markdown:
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
        alt = self.L("chart.alt_ranking", title=title, n_bar=int(c["value"].notna().sum()),
                     n_rank=int((c["value"].isna() & c["rank_published"].notna()).sum()))
        return self._fig(lambda: charts.ranking_chart(res, self.L, title), alt)

    def unknown_list(self, idx: str = "par_index") -> Markdown:
        c = self.a.result(idx).classified
        names = vsorted(c.loc[c["value"].isna() & c["rank_published"].isna(), "province"])
        if not names:
            return Markdown("")
        # (what a rank-only mark means is said once, in the chart's legend)
        if len(names) > len(c) / 2:  # most are unknown: count them; the appendix names them once
            return Markdown(self.L("text.unknown_many", n=len(names), total=len(c)))
        return Markdown(self.L("chart.no_value", n=len(names), names=", ".join(names)) + ".")

    def distribution(self, idx: str = "par_index") -> HTML | Markdown:
        title = f"{self.L('report.distribution')} — {L_idx(self.L, idx)}"
        n = int(self.a.result(idx).classified["value"].notna().sum())
        if n < 3:  # a strip of one or two points says nothing a sentence does not
            return Markdown(self.L("text.distribution_few", n=n))
        return self._fig(lambda: charts.distribution_chart(self.a.result(idx), self.L, title), title)

    def groups(self, idx: str = "par_index") -> HTML | Markdown:
        res, L = self.a.result(idx), self.L
        if res.rules is None:
            return Markdown(L("text.no_rule", year=self.year))
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
        return HTML(self._table(df, "w-groups").data + f"<p class='note'>{html.escape(note)}</p>"
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
            items.append(L("text.slot_line", slots=slots, groups=groups, lo=f"{lo:.2f}", hi=f"{hi:.2f}"))
        # one paragraph: a list of one or two lines would push a page break of its own
        return f"<p class='slots'>{html.escape(L('text.slots'))} {html.escape('; '.join(items))}.</p>"

    def map(self, idx: str = "par_index") -> HTML | Markdown:
        from . import maps

        res = self.a.result(idx)
        if res.rules is None or not res.classified["group"].notna().any():
            # no unit's group is known: a map would be all hatching
            return Markdown(self.L("text.map_none", index=L_idx(self.L, idx), year=self.year))
        codes = list(res.classified.index)
        caption = None
        if self.merged_units:
            from ..data.registry import crosswalk

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
        return self._fig(lambda: maps.choropleth(res.classified, rings, labels, self.L, title,
                                                 lambda lab: self._group_name(idx, lab), caption=caption),
                         f"{self.L('report.map')}: {title} ({known}/{len(codes)})", crop=True)

    def components(self) -> HTML | Markdown:
        comp = self.a.par_index.components
        if comp is None or comp.empty:
            return Markdown(self.L("text.no_components"))
        title = f"{self.L('report.components')} {self.year}"
        return self._fig(lambda: charts.components_chart(comp, self.L, title), self.L("chart.alt_components", title=title, n=len(comp)))

    def additivity(self) -> Markdown:
        comp = self.a.par_index.components
        if comp is None or comp.empty:
            return Markdown("")
        return Markdown(self.L("text.additivity", gap=additivity_gap(comp), tol=ADDITIVITY_TOLERANCE))

    def sipas_tiers(self) -> HTML:
        L, res = self.L, self.a.sipas
        pub = self.a.bundle.published_tiers
        pub = pub[(pub["index"] == "sipas") & (pub["year"] == self.year)]
        rows = []
        for tier in ("highest", "lowest"):
            published = vsorted(set(pub.loc[pub["tier"] == tier, "province"]))
            rep = res.members(tier) if res.rules and tier in res.rules.labels else []
            if published or rep:  # a tier nobody names and the record does not fill: no row
                rows.append([L(f"tier.{tier}"), ", ".join(published) or "—", ", ".join(rep) or "—"])
        df = pd.DataFrame(rows, columns=[L("col.group"), L("text.sipas_tiers_pub"), L("text.sipas_tiers_rep")])
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

    def scatter(self) -> HTML | Markdown:
        par, sip = self.a.par_index, self.a.sipas
        both = par.classified["value"].notna() & sip.classified["value"].notna()
        if both.sum() < 2:
            return Markdown(self.L("text.scatter_n", n=int(both.sum())))
        return self._fig(lambda: charts.scatter_chart(par, sip, self.L, self.L("report.scatter")),
                    f"{self.L('report.scatter')}: {self.L('text.scatter_n', n=int(both.sum()))}")

    def trend(self, idx: str = "par_index") -> HTML | Markdown:
        from ..infer.trends import trend

        tr = trend(self.a.bundle, idx, through=self.year)
        d = self.a.result(idx).table.data
        if self.year not in self.a.bundle.years(idx) and d["value"].notna().any():
            # a year data/ does not know: its own table gives the maximum and minimum (and the
            # mean when complete), sourced to that table
            row = tr["year"] == self.year
            src = f"file:{Path(self.a.result(idx).table.origin).name}"
            for fact, v, ok in (("max", d["value"].max(), True), ("min", d["value"].min(), True),
                                ("mean_63", d["value"].mean(), self.a.result(idx).table.complete)):
                if ok:
                    tr.loc[row, fact] = f"{float(v):.2f}"
                    tr.loc[row, f"{fact}_num"] = round(float(v), 2)
                    tr.loc[row, f"{fact}_sources"] = src
        if tr.empty or tr[["mean_63_num", "max_num", "min_num"]].notna().sum().sum() == 0:
            return Markdown(self.L("missing"))
        title = f"{L_idx(self.L, idx)}: {self.L('report.trend')}"
        img = self._fig(lambda: charts.trend_chart(tr, self.L, title), title).data

        def cell(row: pd.Series, fact: str, who: str | None = None) -> str:
            v = row[fact]
            name = row[who] if who else None
            text = v if v is not None and not pd.isna(v) else "—"
            if name is not None and not pd.isna(name):
                text = f"{name} ({text})" if text != "—" else name
            return text + (" (≠)" if row[f"{fact}_conflict"] or (who and row[f"{who}_conflict"]) else "")

        rows = []
        for _, r in tr.iterrows():
            srcs = ", ".join(dict.fromkeys(s for f in ("mean_63", "max", "min", "leader", "last_place")
                                           for s in str(r[f"{f}_sources"]).split(", ") if s))
            year = str(r["year"]) + (f" ({self.L('text.n_units', n=int(r['units']))})"
                                     if tr["units"].nunique() > 1 and r["units"] != tr["units"].iloc[0] else "")
            rows.append([year, cell(r, "mean_63"), cell(r, "max", "leader"), cell(r, "min", "last_place"),
                         self.cite(srcs.replace(", ", ";")) if srcs else "—"])
        mean_head = self.L("fact.mean") if tr["units"].nunique() > 1 else self.L("fact.mean_63")
        t = pd.DataFrame(rows, columns=[self.L("col.year"), mean_head, self.L("fact.leader"),
                                        self.L("fact.last_place"), self.L("col.source")])
        note = f"<p>{html.escape(self.L('text.trend'))}</p>" if idx == INDEX_NAMES[0] else ""  # said once
        return HTML(f"{note}{img}{self._table(t, 'w-trend').data}")

    def method(self) -> HTML:
        L, b = self.L, self.a.bundle
        lb = self._legal()
        legal = pd.DataFrame({L("col.document"): lb["document"].map(self._document), L("col.date"): lb["date"].map(L.date),
                              L("col.role"): lb[f"role_{self.lang}"], L("col.source"): [self.cite(x) for x in lb["source_id"]]})
        rules = []
        for idx in INDEX_NAMES:
            rs = self.a.result(idx).rules
            for r in (sorted(rs.rules, key=lambda r: r.order) if rs else []):
                rules.append([L(f"index_short.{idx}"), self._group_name(idx, r.label), r.describe(),
                              self._basis(r.basis), self.cite(r.source_ids)])
        rt = pd.DataFrame(rules, columns=[L("col.fact"), L("col.group"), L("col.rule"), L("col.basis"), L("col.source")])
        text = f"<p>{html.escape(L('text.method_par'))}</p><p>{html.escape(L('text.method_bounds'))}</p>"
        return HTML(text + self._table(legal, "w-legal").data + self._table(rt, "w-rules").data
                    + self._claims_used() + self._disagreements())

    def _claims_used(self) -> str:
        """Which published facts the bounds rest on, what is only checked, the unstated cut-offs'
        ranges, and every figure that rests on secondary sources alone."""
        L, parts = self.L, []
        parts.append(L("text.claims_used"))
        for idx in INDEX_NAMES:
            res = self.a.result(idx)
            inf = res.inference
            for cut, (lo, hi) in inf.cut_ranges.items():
                parts.append(L("text.cut_allowed", index=L(f"index_short.{idx}"), cut=cut, lo=f"{lo:.2f}",
                               hi=f"{hi:.2f}"))
            if not inf.proven:
                parts.append(L("text.unproven", index=L(f"index_short.{idx}"), n=inf.unproven))
        out = "".join(f"<p>{html.escape(p)}</p>" for p in parts)
        rows = []
        for idx in INDEX_NAMES:
            inf = self.a.result(idx).inference
            for c in inf.claims:
                if c.secondary:
                    who = "" if c.province is None else str(inf.problem.names[c.province])
                    what = (L("claim.value", province=who, value=c.published) if c.kind == "value" else
                            L("claim.rank", province=who, rank=c.published) if c.kind == "rank" else
                            L("claim.fact", fact=L.get(f"fact.{c.fact}", c.fact), value=c.published))
                    rows.append(f"{L(f'index_short.{idx}')}: {what} {self.cite(list(c.sources))}")
        if rows:  # one paragraph: a table of them would add a page to a thin year
            out += f"<p>{html.escape(L('text.secondary_figures'))} {html.escape('; '.join(rows))}.</p>"
        else:
            out += f"<p>{html.escape(L('text.secondary_none'))}</p>"
        return out

    def _disagreements(self) -> str:
        """Where sources give different figures for one cell: all of them, and the one kept."""
        from ..data.tables import disagreements

        L, rows = self.L, []
        for idx in INDEX_NAMES:
            res = self.a.result(idx)
            if res.table.origin != "bundled":
                continue
            for r in disagreements(self.a.bundle.observations, res.table).itertuples():
                figs = "; ".join("{} ({}, {})".format(f["figure"], L.get("status." + f["status"], f["status"]),
                                                       L("text.n_sources", n=f["sources"])) for f in r.figures)
                rows.append([L(f"index_short.{idx}"), r.province, L(f"col.{r.what}"), figs,
                             r.kept if r.kept is not None else L("text.kept_none")])
        if not rows:
            return ""
        df = pd.DataFrame(rows, columns=[L("col.fact"), L("col.province"), "", L("col.figures"), L("col.kept")])
        return (f"<p>{html.escape(L('text.disagreements'))}</p>" + self._table(df, "w-disagree").data)

    def audit(self) -> HTML:
        L = self.L
        rows = [[L(f"index_short.{i.index}"), L.get(f"fact.{i.fact}", i.fact), i.text("published", L),
                 L(f"audit.{i.status}"), i.text("computed", L) or "—", i.text("detail", L) or "",
                 self.cite(i.source_ids)] for i in self.a.audit]
        df = pd.DataFrame(rows, columns=[L("col.fact"), L("col.fact"), L("col.published"), L("col.status"),
                                         L("col.computed"), L("col.detail"), L("col.source")])
        df.columns = ["", L("col.fact"), L("col.published"), L("col.status"), L("col.computed"),
                      L("col.detail"), L("col.source")]
        return HTML(f"<p class='note keep'>{html.escape(L('text.audit_legend'))}</p>" + self._table(df, "audit").data)

    def sources(self) -> HTML:
        """The numbered list of references: publisher, date, title where known, and a link."""
        L, src = self.L, self.a.bundle.sources.set_index("source_id")
        items = []
        for sid, n in sorted(self.refs.items(), key=lambda kv: kv[1]):
            r = src.loc[sid]
            parts = [html.escape(" / ".join(L.get(f"publisher.{x}", x) for x in str(r["publisher"]).split(" / ")))]
            if not pd.isna(r["published"]) and str(r["published"]):
                parts.append(f"({html.escape(L.date(r['published']))})")
            title = r["title"] if not pd.isna(r["title"]) else ""
            # a document's own title (decrees, code lists: named publishers); a web page's
            # recorded "title" only says what it was cited for, in English, and is left out
            if title and "." not in str(r["publisher"]):
                parts.append(f"<i>{html.escape(self._document_title(str(title)))}</i>")
            if not pd.isna(r["url"]) and str(r["url"]).startswith(("http://", "https://")):
                u = html.escape(str(r["url"]), quote=True)
                parts.append(f"<a href=\"{u}\">{u}</a>")
            items.append(f"<li id='ref-{n}' value='{n}'>{' '.join(parts)}</li>")
        return HTML(f"<ol class='refs'>{''.join(items)}</ol>" if items else html.escape(L("missing")))

    def predecessors(self) -> HTML:
        """For a year of the 34 units: beside each unit, its predecessors' figures of the last
        year of the 63, as published, each on its own row: never averaged or merged."""
        if not self.merged_units:
            return HTML("")
        from ..data.registry import crosswalk
        from ..data.tables import consolidate

        L, b = self.L, self.a.bundle
        prev = self.year - 1
        while prev >= self.year - 3 and prev not in b.years():
            prev -= 1
        cw = crosswalk()
        tables = {i: consolidate(b.observations, i, prev, b.registry).data for i in INDEX_NAMES}
        names = {c: self.a.par_index.table.data.at[c, "province"] for c in self.a.par_index.table.data.index}
        rows = []
        for new_code in names:
            olds = cw[cw["new_code"] == new_code]
            for j, (_, o) in enumerate(olds.sort_values("old_province", key=series_key).iterrows()):
                cells = [names[new_code] if j == 0 else "", o["old_province"]]
                for i in INDEX_NAMES:
                    d = tables[i]
                    v = value_as_published(d, o["old_code"])
                    rk = d.at[o["old_code"], "rank"]
                    cells.append((v or L("missing")) + ("" if pd.isna(rk) else f" ({L('text.rank_n', rank=int(rk))})"))
                rows.append(cells)
        df = pd.DataFrame(rows, columns=[L("col.unit_2025"), L("col.predecessor"),
                                         f"{L_idx(L, 'par_index')} {prev}", f"{L_idx(L, 'sipas')} {prev}"])
        head = (f"<h2>{html.escape(L('report.predecessors'))}</h2>"
                f"<p>{html.escape(L('text.predecessors', year=prev))}</p>")
        return HTML(head + self._table(df, "predecessors").data)

    def ministries(self) -> HTML:
        """The ministries' PAR INDEX, where the year has any data on them."""
        res = self.a.ministries
        if res is None:
            return HTML("")
        L, c, d = self.L, res.classified, res.table.data
        reg = self.a.bundle.units(self.year, "ministries")
        order = c.assign(_k=c["rank_published"].astype("Float64").fillna(99),
                         _v=-c["value"].astype("Float64").fillna(-1)).sort_values(["_k", "_v", "province"], key=by_name)
        rows = []
        for code in order.index:
            r = c.loc[code]
            status = d.at[code, "rank_status"] if pd.isna(d.at[code, "value_status"]) else d.at[code, "value_status"]
            rows.append([reg.by_code[code].name(self.lang), value_as_published(d, code) or L("missing"),
                         "—" if pd.isna(r["rank_published"]) else int(r["rank_published"]),
                         _bounds_cell(r),
                         L.get(f"status.{status}", str(status)) if not pd.isna(status) else "—"])
        df = pd.DataFrame(rows, columns=[L("col.ministry"), L("col.value"), L("col.rank"), L("col.bounds"),
                                         L("col.status")])
        checks = [f"<li>{html.escape(L.get(f'fact.{i.fact}', i.fact))}: {html.escape(i.text('published', L))} — "
                  f"{html.escape(L(f'audit.{i.status}'))}"
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
                text = L("text.appendix_bounded", n=len(g), lo=f"{lo:.2f}", hi=f"{hi:.2f}", names=names)
            lines.append(f"<p class='note'>{html.escape(text)}</p>")
        return lines

    def appendix(self, idx: str = "par_index") -> HTML:
        """Every unit with a value, a rank or a group, one row each; the rest named in a line per
        range the record allows them (a row each would repeat the same range and "unknown")."""
        L, res = self.L, self.a.result(idx)
        c, d = res.classified, res.table.data
        known = c["value"].notna() | c["rank_published"].notna() | c["group"].notna()
        k = c[known]  # (assigning c's columns to an empty frame would bring c's rows back)
        order = k.assign(_k=k["rank_published"].astype("Float64").fillna(99), _v=-k["value"].astype("Float64").fillna(-1))
        rows = []
        for code in order.sort_values(["_k", "_v", "province"], key=by_name).index:
            r = c.loc[code]
            status = d.at[code, "value_status"] if not pd.isna(d.at[code, "value_status"]) else d.at[code, "rank_status"]
            srcs = d.at[code, "value_sources"] if not pd.isna(d.at[code, "value_sources"]) else d.at[code, "rank_sources"]
            rows.append([r["province"], value_as_published(d, code) or L("missing"),
                         "—" if pd.isna(r["rank_published"]) else int(r["rank_published"]),
                         _bounds_cell(r),
                         self._group_name(idx, r["group"]) if not pd.isna(r["group"]) else L("group.unknown"),
                         L(f"basis.{r['group_basis']}"),
                         L.get(f"status.{status}", str(status)) if not pd.isna(status) else "—",
                         self.cite(srcs)])
        lines = self._range_lines(c[~known], len(c))
        if not rows:
            return HTML("".join(lines))
        df = pd.DataFrame(rows, columns=[L("col.province"), L("col.value"), L("col.rank"), L("col.bounds"),
                                         L("col.group"), L("col.basis"), L("col.status"), L("col.source")])
        from .htmltable import csv_link, sortable  # sort keys and the CSV computed here, not in the browser

        gone = ("—", L("missing"))
        return HTML(sortable(self._table(df, "appendix").data, df, gone)
                    + csv_link(df, f"parindex_{idx}_{self.year}_{self.lang}.csv", L("text.download_csv"), gone)
                    + "".join(lines))


def L_idx(L: Labels, idx: str) -> str:
    return L(f"index_short.{idx}")


class Review(Report):
    """The methodology review's content; every number is computed from the analysis."""

    SENS_STEP, SENS_SPAN = 0.05, 2.0
    MC_DRAWS, MC_SPREADS, SEED = 2000, (0.1, 0.2), 2020

    def title(self) -> HTML:
        cover = super().title().data
        report = html.escape(self.L("report.title", index="PAR INDEX & SIPAS", year=self.year))
        review = html.escape(self.L("review.title", index="PAR INDEX & SIPAS", year=self.year))
        return HTML(cover.replace(f"<h1>{report}</h1>", f"<h1>{review}</h1>", 1))

    def sensitivity(self, idx: str = "par_index") -> HTML | Markdown:
        from ..infer import review

        res = self.a.result(idx)
        sens = review.cutoff_sensitivity(res, self.SENS_STEP, self.SENS_SPAN)
        if sens.empty:
            return Markdown(self.L("text.no_rule", year=self.year))
        return self._fig(lambda: charts.sensitivity_chart(sens, res.rules.labels, self.L, f"{L_idx(self.L, idx)} {self.year}"),
                    self.L("text.sensitivity", span=self.SENS_SPAN, step=self.SENS_STEP))

    def sensitivity_table(self, idx: str = "par_index", every: float = 0.5) -> HTML:
        from ..infer import review

        sens = review.cutoff_sensitivity(self.a.result(idx), self.SENS_STEP, self.SENS_SPAN)
        if sens.empty:
            return HTML("")
        s = sens[(sens["shift"] / every).round(6) % 1 == 0].copy()
        s["count"] = [range_text(d, p) for d, p in zip(s["determined"], s["possible"])]
        wide = s.pivot_table(index="shift", columns="cutoff", values="count", aggfunc="first").reset_index()
        wide["shift"] = [f"{x:+.1f}" if x else "0" for x in wide["shift"]]
        wide.columns = [self.L("col.shift"), *[self.L("chart.cutoff", value=c) for c in wide.columns[1:]]]
        return self._table(wide)

    def closest(self, idx: str = "par_index") -> HTML:
        from ..infer import review

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
        return self._table(c)

    def rounding(self, idx: str = "par_index") -> HTML:
        from ..infer import review

        c = self.a.result(idx).classified
        parts = [f"<h3>{html.escape(L_idx(self.L, idx))}</h3>"]
        for d in (2, 1):
            r = review.rounding_effects(c["value"], c["province"], d)
            parts.append(f"<p>{html.escape(self.L('text.rounding', d=d))}</p>")
            if r.empty:
                parts.append(f"<p>{html.escape(self.L('text.rounding_none', d=d, n=int(c['value'].notna().sum())))}</p>")
            else:
                r["tied_with"] = [self.L("text.tie_with", names=", ".join(t)) if t else self.L("text.order_changed")
                                  for t in r["tied_with"]]
                r = r.sort_values("province", key=series_key)
                r.columns = [self.L("col.province"), self.L("col.value"), self.L("col.rounded"),
                             self.L("col.rank_computed"), self.L("col.rank_rounded"), self.L("col.reason")]
                parts.append(self._table(r).data)
        return HTML("".join(parts))

    def conventions(self, idx: str = "par_index") -> HTML | Markdown:
        """The headline ranges under each convention the published record leaves open
        (docs/method.md §3): which of them move."""
        from ..infer.analysis import convention_sensitivity

        L, res = self.L, self.a.result(idx)
        rows = convention_sensitivity(self.a.bundle, res, self.a.without)
        if not rows:
            return Markdown(L("text.conventions_none", index=L_idx(L, idx)))

        def counts(r: dict) -> str:
            return "; ".join(f"{self._group_name(idx, k)} {range_text(*v)}" for k, v in r["count_ranges"].items()) or "—"

        def cuts(r: dict) -> str:
            return "; ".join(f"{k}: {v[0]:.2f}–{v[1]:.2f}" for k, v in r["cutoffs_allowed"].items()) or "—"

        def mean(r: dict) -> str:
            return "—" if r["mean_allowed"] is None else f"{r['mean_allowed'][0]:.2f}–{r['mean_allowed'][1]:.2f}"

        df = pd.DataFrame([[L(f"convention.{r['convention']}"), counts(r), cuts(r), mean(r), r["conflicts"],
                            ", ".join(L(f"col.moves_{m}") for m in r["moves"]) or "—"] for r in rows],
                          columns=[L("col.convention"), L("col.count_reproduced"), L("col.cutoffs_allowed"),
                                   L("col.mean_allowed"), L("col.conflicts"), L("col.moves")])
        return HTML(f"<h3>{html.escape(L_idx(L, idx))}: {html.escape(L('review.conventions'))}</h3>"
                    + self._table(df).data)

    def monte_carlo(self) -> HTML | Markdown:
        from ..infer import review

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
                              self.L("col.rank_interval"): [f"{a:g}–{b:g}" for a, b in zip(s["rank_p05"], s["rank_p95"])],
                              self.L("col.rank_range"): [f"{a}–{b}" for a, b in zip(s["rank_min"], s["rank_max"])],
                              self.L("col.p_keep_rank"): s["p_keep_rank"].map("{:.2f}".format),
                              self.L("col.p_keep_group"): s["p_keep_group"].map(lambda x: "—" if pd.isna(x) else f"{x:.2f}")})
            out.append(self._table(t).data)
            if spread == max(self.MC_SPREADS):
                out.append(self._fig(lambda: charts.monte_carlo_chart(s, self.L, f"{self.L('review.components')} (±{spread:.0%})"),
                                self.L("review.components")).data)
        return HTML("".join(out))

    def bounds(self, idx: str = "par_index") -> HTML | Markdown:
        from ..infer import review

        res = self.a.result(idx)
        b = review.bounds(res)
        title = f"{self.L('review.bounds')} — {L_idx(self.L, idx)}"
        return self._fig(lambda: charts.bounds_chart(b, res.rules.labels if res.rules else [], self.L, title), self.L("text.bounds"))

    def bounds_text(self, idx: str = "par_index") -> Markdown:
        from ..infer import review

        res = self.a.result(idx)
        parts = []  # what the bounds are is the chart's caption (bounds()), said once
        if res.table.complete:
            parts.append(self.L("text.implied_mean_complete", m=float(res.classified["value"].astype(float).mean())))
        elif (m := review.mean_check(res)) is not None:
            parts.append(self.L("text.implied_mean", mean=m["published"], mlo=f"{m['published_lo']:.3f}",
                                mhi=f"{m['published_hi']:.3f}", n=m["n_unpublished"], lo=f"{m['lo']:.2f}",
                                hi=f"{m['hi']:.2f}"))
        return Markdown("\n\n".join(parts))

    def bounds_table(self, idx: str = "par_index") -> HTML:
        from ..infer import review

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
                          self.L("col.lo"): b["lo"].map("{:.2f}".format), self.L("col.hi"): b["hi"].map("{:.2f}".format),
                          self.L("col.width"): b["width"].map("{:.2f}".format),
                          self.L("col.group"): [self._group_name(idx, g) if not pd.isna(g) else self.L("group.unknown") for g in b["group"]],
                          self.L("col.basis"): [self.L(f"basis.{x}") for x in b["group_basis"]]})
        return HTML(self._table(t).data + "".join(lines))

    def coherence(self) -> HTML:
        from ..infer import review

        r = review.correlation(self.a.par_index, self.a.sipas, self.MC_DRAWS, self.SEED)
        if r["pearson"] is None:
            text = self.L("text.correlation_none", n=r["n"])
        else:
            sel = self.L("text.top_selection", k=r["selection"]["in_par_top_n"], top=r["selection"]["top_n"])
            text = self.L("text.correlation", n=r["n"], sel=sel, p=r["pearson"], s=r["spearman"])
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
                t = t.assign(sipas_percent=[f"{v:.2f}" + (" (≈)" if rd else "") for v, rd in zip(t["sipas_percent"], t["percent_rounded"])])
                t = t.drop(columns="percent_rounded")
                t.columns = [self.L("col.province"), self.L("col.sipas_percent"), self.L("col.percent_div_10"),
                             self.L("col.sipas_points"), self.L("col.difference")]
                parts.append(self._table(t).data)
        return HTML("".join(parts))


class Brief(Report):
    """One province's brief: what is known, exactly as known."""

    def __init__(self, year: int, province: str, par_index_file: str = "", sipas_file: str = "", lang: str = "vi",
                 assume_announced: bool | None = None, without: str = ""):
        super().__init__(year, par_index_file, sipas_file, lang, without=without)
        self.p = self.a.bundle.units(year).resolve(province)

    @property
    def refs(self) -> dict[str, int]:
        """A brief numbers only the sources it cites: the unit's own figures and lists."""
        if getattr(self, "_refs", None) is None:
            order: list[str] = []
            for idx in INDEX_NAMES:
                d = self.a.result(idx).table.data
                for col in ("value_sources", "rank_sources"):
                    if not pd.isna(d.at[self.p.code, col]):
                        order += str(d.at[self.p.code, col]).split(";")
            pub = self.a.bundle.published_tiers
            order += list(pub.loc[(pub["year"] == self.year) & (pub["province_code"] == self.p.code), "source_id"])
            self._refs = self._number(order)
        return self._refs

    def title(self) -> Markdown:
        L = self.L
        lines = [f"# {L('brief.title', province=self.p.name(self.lang), year=self.year)}",
                 L("brief.region", region=L(f"region.{self.p.region}"))]
        return Markdown("\n\n".join(lines))

    def _line(self, idx: str) -> str:
        from ..infer.profile import standing

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
                           rank=st.rank if st.rank is not None else "—", group=gname or L("group.unknown"), basis=basis))
            if st.margin_up:
                text += " " + L("brief.margin_up", cutoff=st.margin_up[0], points=st.margin_up[1])
            if st.margin_down:
                text += " " + L("brief.margin_down", cutoff=st.margin_down[0], points=st.margin_down[1])
        elif st.kind == "rank_only":
            text = cited(L("brief.rank_only_line", rank=st.rank, lo=st.lo, hi=st.hi, group=group))
        else:
            text = cited(L("brief.nothing_line", lo=st.lo, hi=st.hi, group=group))
        pub = self.a.bundle.published_tiers
        pub = pub[(pub["index"] == idx) & (pub["year"] == self.year) & (pub["province_code"] == self.p.code)]
        for tier, rows in pub.groupby("tier"):
            text += " " + L("brief.published_tier", tier=L(f"tier.{tier}").lower(),
                            sources=self.cite(list(dict.fromkeys(rows["source_id"]))))
        return f"**{L(f'index_short.{idx}')}.** {text}"

    def standing(self) -> Markdown:
        return Markdown(f"## {self.L('brief.standing', year=self.year)}\n\n"
                        + "\n\n".join(self._line(i) for i in INDEX_NAMES))

    def locator(self) -> HTML:
        from . import maps
        from .charts import group_colours

        res = self.a.par_index
        g = res.classified.at[self.p.code, "group"]
        colour = group_colours(res.rules.labels).get(g, "#555555") if (res.rules and not pd.isna(g)) else "#555555"
        isos: str | list[str] = self.p.iso_3166_2
        if self.merged_units:
            from ..data.registry import crosswalk

            cw = crosswalk()
            iso63 = self.a.bundle.registry.table.set_index("code")["iso_3166_2"]
            isos = [iso63[o] for o in cw.loc[cw["new_code"] == self.p.code, "old_code"]]
        return self._fig(maps.locator(isos, colour, self.L), f"{self.p.name(self.lang)}",
                         caption=f"{self.p.name(self.lang)}. {self.L('map.caption')}")

    def neighbours(self) -> HTML | Markdown:
        from ..infer.profile import standing

        L, rows = self.L, []
        for idx in INDEX_NAMES:
            st = standing(self.a.result(idx), self.p.code)
            for where, lst in (("above", st.above), ("below", st.below)):
                data = self.a.result(idx).table.data
                for code, name, v, r in lst:
                    rows.append([L(f"index_short.{idx}"), L(f"brief.{where}"), name,
                                 value_as_published(data, code) or L("missing"), "—" if r is None else r])
        if not rows:
            return Markdown(L("brief.no_neighbours"))
        df = pd.DataFrame(rows, columns=[L("col.fact"), L("col.above_below"), L("col.province"), L("col.value"),
                                         L("col.rank")])
        return HTML(f"<h3>{html.escape(L('brief.neighbours'))}</h3>" + self._table(df).data)

    def peers(self) -> HTML:
        from ..infer.profile import region_peers

        L = self.L
        df = region_peers(self.a, self.p)
        t = pd.DataFrame({
            L("col.province"): [f"<b>{html.escape(n)}</b>" if c == self.p.code else html.escape(n)
                                for c, n in zip(df["code"], df["province"])],
            "PAR INDEX": [L.number(value_as_published(self.a.par_index.table.data, c) or L("missing")) for c in df["code"]],
            L("col.rank"): ["—" if pd.isna(r) else int(r) for r in df["par_rank"]],
            L("col.group"): [self._group_name("par_index", g) if g else "—" for g in df["par_group"]],
            "SIPAS": [L.number(value_as_published(self.a.sipas.table.data, c) or L("missing")) for c in df["code"]],
            L("col.rank") + " ": ["—" if pd.isna(r) else int(r) for r in df["sipas_rank"]],
            L("col.group") + " ": [self._group_name("sipas", g) if g else "—" for g in df["sipas_group"]],
        })
        body = t.to_html(index=False, escape=False, na_rep="—", classes="ptable", border=0)
        return HTML(f"<h3>{html.escape(L('brief.peers'))}: {html.escape(L(f'region.{self.p.region}'))}</h3>" + body)

    def history(self) -> HTML:
        from ..infer.profile import history

        L = self.L
        h = history(self.a, self.p)
        h = h[h[["par_index_value", "par_index_rank", "sipas_value", "sipas_rank"]].notna().any(axis=1)
              | (h["year"] == self.year)]
        t = pd.DataFrame({L("col.year"): h["year"],
                          "PAR INDEX": [v or "—" for v in h["par_index_value"]],
                          L("col.rank"): ["—" if pd.isna(r) else int(r) for r in h["par_index_rank"]],
                          "SIPAS": [v or "—" for v in h["sipas_value"]],
                          L("col.rank") + " ": ["—" if pd.isna(r) else int(r) for r in h["sipas_rank"]]})
        return HTML(f"<h3>{html.escape(L('brief.history'))}</h3>" + self._table(t).data)
