"""Method and references: the claims used, the disagreements, the audit, the sources and the
predecessors."""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML

from ... import __version__

from ...data.collate import series_key
from ...data.tables import value_as_published
from ...infer.audit import bound_end
from .common import INDEX_NAMES, L_idx

class References:
    """Method and references: the claims used, the disagreements, the audit, the sources and the A part of ``Report``: ``self`` is the report."""

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
                parts.append(L("text.cut_allowed", index=L(f"index_short.{idx}"), cut=cut, lo=bound_end(lo, "lo"),
                               hi=bound_end(hi, "hi")))
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
        from ...data.tables import disagreements

        L, rows = self.L, []
        for idx in INDEX_NAMES:
            res = self.a.result(idx)
            if res.table.origin != "bundled":
                continue
            for r in disagreements(self.a.bundle.observations, res.table).itertuples():
                figs = "; ".join("{} ({}, {})".format(f["figure"], L.get("status." + f["status"], f["status"]),
                                                       self.cite(f["source_ids"])) for f in r.figures)
                rows.append([L(f"index_short.{idx}"), r.province, L(f"col.{r.what}"), figs,
                             r.kept if r.kept is not None else L("text.kept_none")])
        if not rows:
            return ""
        df = pd.DataFrame(rows, columns=[L("col.fact"), L("col.province"), L("col.figure_kind"), L("col.figures"),
                                         L("col.kept")])
        return (f"<p>{html.escape(L('text.disagreements'))}</p>" + self._table(df, "w-disagree").data)

    def audit(self) -> HTML:
        L = self.L
        # grouped by index, then by kind of fact, then by result (contradictions first)
        # an index not yet measured that year has nothing to check ("0 ranks: not checkable")
        shown = [i for i in self.a.audit if not (i.index in ("par_index", "sipas") and self._is_before_first(i.index))]
        items = sorted(shown, key=lambda i: (INDEX_ORDER.get(i.index, 9), _fact_kind(i.fact),
                                             _STATUS_ORDER.get(i.status, 9), i.fact))
        rows = [[L(f"index_short.{i.index}"), L.get(f"fact.{i.fact}", i.fact), i.text("published", L),
                 L(f"audit.{i.status}"), i.text("computed", L) or "—", i.text("detail", L) or "—",
                 self.cite(i.source_ids)] for i in items]
        df = pd.DataFrame(rows, columns=[L("col.index"), L("col.fact"), L("col.published"), L("col.status"),
                                         L("col.computed"), L("col.detail"), L("col.source")])
        return HTML(f"<p class='note keep'>{html.escape(L('text.audit_legend'))}</p>" + self._table(df, "audit").data)

    def _own_title(self) -> str:
        """This document's title, as its cover and its PDF give it (a brief and the review have their own)."""
        return self.L("report.title", index="PAR INDEX & SIPAS", year=self.year)

    def sources(self) -> HTML:
        """The numbered list of references: publisher, date, title where known, and a link."""
        L, src = self.L, self.a.bundle.sources.set_index("source_id")
        items = []
        for sid, n in sorted(self.refs.items(), key=lambda kv: kv[1]):
            r = src.loc[sid]
            if r["class"] == "project":
                # the package's own documentation: no URL a printed page can follow, so the entry
                # names the version that carries it and the section of this document that summarises it
                items.append(f"<li id='ref-{n}' value='{n}'>{html.escape(L('ref.project', version=__version__, title=str(r['title']), year=self.year))}</li>")
                continue
            parts = [html.escape(" / ".join(L.get(f"publisher.{x}", x) for x in str(r["publisher"]).split(" / ")))]
            if not pd.isna(r["published"]) and str(r["published"]):
                parts.append(f"({html.escape(L.date(r['published']))})")
            title = r["title"] if not pd.isna(r["title"]) else ""
            # a document's own title (decrees, code lists: named publishers); a web page's or a
            # secondary copy's recorded "title" only says what it was cited for, in English, and
            # is left out
            if title and "." not in str(r["publisher"]) and r["class"] != "secondary":
                # the space before the title goes inside <i>: where the text before it just
                # filled a line, WeasyPrint (70) broke that text after its first word instead of
                # before the title ("13. Bộ" alone on a line, the rest of the entry below)
                parts[-1] += f"<i> {html.escape(self._document_title(str(title)))}</i>"
            if r["class"] == "secondary":  # a compilation or an unverified copy: the reader weighs it so
                parts.append(f"— {html.escape(L('status.secondary'))} —")
            if not pd.isna(r["url"]) and str(r["url"]).startswith(("http://", "https://")):
                u = html.escape(str(r["url"]), quote=True)
                # shown as a reader types it: percent-escapes decoded (a Japanese title ran three lines)
                shown_url = html.escape(_readable_url(str(r["url"])))
                parts.append(f"<a href=\"{u}\">{shown_url}</a>")
            items.append(f"<li id='ref-{n}' value='{n}'>{' '.join(parts)}</li>")
        import datetime

        cite_as = L("text.cite_as", title=self._own_title(),
                    edition=L("cover.edition"), version=__version__, date=L.date(datetime.date.today().isoformat()))
        refs = f"<ol class='refs'>{''.join(items)}</ol>" if items else html.escape(L("missing"))
        return HTML(refs + f"<p class='cite-as'>{html.escape(cite_as)}</p>")

    def predecessors(self) -> HTML:
        """For a year of the 34 units: beside each unit, its predecessors' figures of the last
        year of the 63, as published, each on its own row: never averaged or merged."""
        if not self.merged_units:
            return HTML("")
        from ...data.registry import crosswalk
        from ...data.tables import consolidate

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


INDEX_ORDER = {"par_index": 0, "sipas": 1, "par_index_ministries": 2}

_STATUS_ORDER = {"contradicted": 0, "reproduced": 1, "consistent": 2, "not_checkable": 3}

def _fact_kind(fact: str) -> int:
    """The audit's order of kinds: the ranks, national figures, counts, lists, regions, changes, the rest."""
    if fact == "published_ranks":
        return 0
    if fact in ("leader", "last_place", "max", "min", "range", "median", "national_rate") or fact.startswith("mean"):
        return 1
    if fact.startswith(("group_count_", "n_", "band_count_")):
        return 2
    if fact.startswith("published_tier_"):
        return 3
    if fact.startswith("regional_"):
        return 4
    if "change" in fact:
        return 5
    return 6


def _readable_url(url: str) -> str:
    """``url`` with its percent-escapes decoded where they spell text (not a control character or
    an invalid byte, which stay escaped), for display only: the link itself is left as recorded."""
    from urllib.parse import unquote

    if "%" not in url:
        return url
    try:
        text = unquote(url, errors="strict")
    except UnicodeDecodeError:
        return url
    # only letters the report's font (DejaVu Sans) draws: Vietnamese decoded, Japanese left escaped
    if any(ord(ch) < 32 or 0x7f <= ord(ch) < 0xa0 or ord(ch) >= 0x2000 or ch in "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
           for ch in text) or " " in text:
        return url
    return text
