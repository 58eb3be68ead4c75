"""Methodology review: how fragile the classification is, and what the public data pins down.

Every function works on the same objects as the report (IndexResult, RuleSet) and on
partial tables: counts become ranges (determined–possible), and unpublished values are
intervals, never estimates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .analysis import IndexResult
from .classify import N_PROVINCES, Rule, RuleSet, full_precision_rank
from .tables import COMPONENT_COLUMNS



# 1. Cut-off sensitivity ------------------------------------------------------------

def shifted(rs: RuleSet, cutoff: float, delta: float) -> RuleSet:
    """The rule set with one cut-off moved by delta (both bands that share it move)."""
    def mv(b: float | None) -> float | None:
        return None if b is None else (b + delta if abs(b - cutoff) < 1e-9 else b)

    return replace(rs, rules=tuple(replace(r, lower=mv(r.lower), upper=mv(r.upper)) for r in rs.rules))


def _counts(lo: np.ndarray, hi: np.ndarray, rs: RuleSet) -> dict[str, tuple[int, int]]:
    out = {}
    for r in rs.rules:
        if r.kind != "band":
            continue
        inside = np.array([r.contains(a) and r.contains(b) for a, b in zip(lo, hi)])
        meets = np.array([r.meets(a, b) for a, b in zip(lo, hi)])
        out[r.label] = (int(inside.sum()), int(meets.sum()))
    return out


def cutoff_sensitivity(res: IndexResult, step: float = 0.05, span: float = 2.0) -> pd.DataFrame:
    """Group counts as each cut-off moves from -span to +span (determined and possible counts)."""
    rs = res.rules
    if rs is None or not rs.is_band:
        return pd.DataFrame(columns=["cutoff", "shift", "position", "label", "determined", "possible"])
    lo = res.classified["lo"].astype(float).to_numpy()
    hi = res.classified["hi"].astype(float).to_numpy()
    n = int(round(span / step))
    rows = []
    for cut in rs.cutoffs():
        for k in range(-n, n + 1):
            d = round(k * step, 10)
            for label, (det, pos) in _counts(lo, hi, shifted(rs, cut, d)).items():
                rows.append({"cutoff": cut, "shift": d, "position": round(cut + d, 10), "label": label,
                             "determined": det, "possible": pos})
    return pd.DataFrame(rows)


def closest_to_cutoffs(res: IndexResult, n: int = 5) -> pd.DataFrame:
    """Provinces with a value nearest each cut-off, with their signed margin."""
    rs = res.rules
    c = res.classified[res.classified["value"].notna()]
    rows = []
    for cut in (rs.cutoffs() if rs is not None and rs.is_band else []):
        m = (c["value"].astype(float) - cut)
        for code in m.abs().sort_values(kind="stable").index[:n]:
            rows.append({"cutoff": cut, "province": c.at[code, "province"], "value": float(c.at[code, "value"]),
                         "margin": round(float(m[code]), 4), "group": c.at[code, "group"]})
    return pd.DataFrame(rows)


# 2. Rounding and ties --------------------------------------------------------------

def rounding_effects(values: pd.Series, names: pd.Series, decimals: int = 2) -> pd.DataFrame:
    """Provinces whose rank changes when values are rounded before ranking, and why."""
    v = values.dropna().astype(float)
    full = full_precision_rank(v)
    rounded_vals = v.round(decimals)
    rounded = full_precision_rank(rounded_vals)
    rows = []
    for code in v.index[full != rounded]:
        tied = [names[o] for o in v.index if o != code and rounded_vals[o] == rounded_vals[code]]
        rows.append({"province": names[code], "value": v[code], "rounded": rounded_vals[code],
                     "rank_full": int(full[code]), "rank_rounded": int(rounded[code]),
                     "reason": ("tie created by rounding with " + ", ".join(tied)) if tied else "order changed"})
    return pd.DataFrame(rows, columns=["province", "value", "rounded", "rank_full", "rank_rounded", "reason"])


# 3. Component robustness -----------------------------------------------------------

@dataclass
class MonteCarlo:
    summary: pd.DataFrame
    draws: int
    spread: float
    seed: int


def weight_monte_carlo(comp: pd.DataFrame, rs: RuleSet | None, draws: int = 2000, spread: float = 0.2,
                       seed: int = 2020, rescale: bool = True) -> MonteCarlo:
    """Perturb each block's weight by a factor in [1-spread, 1+spread]; rank within the table given.

    With ``rescale`` each draw's factors are scaled so the mean total of the provinces in
    the table is unchanged: otherwise +-20 % on every block moves all totals together and
    the group comparison measures the scale, not the weighting. With the 2020 top-10
    table the ranks are ranks among those ten provinces only.
    """
    pts = comp[list(COMPONENT_COLUMNS)].astype(float).to_numpy()
    rng = np.random.default_rng(seed)
    w = rng.uniform(1 - spread, 1 + spread, size=(draws, len(COMPONENT_COLUMNS)))
    if rescale:
        mean_pts = pts.mean(axis=0)
        w = w * (mean_pts.sum() / (w @ mean_pts))[:, None]
    totals = w @ pts.T  # draws x provinces
    base = pts.sum(axis=1)
    base_rank = pd.Series(base).rank(method="min", ascending=False).to_numpy()
    ranks = np.vstack([pd.Series(t).rank(method="min", ascending=False).to_numpy() for t in totals])
    rows = []
    for j, prov in enumerate(comp["province"]):
        r = ranks[:, j]
        base_group = rs.label_of(base[j]) if rs is not None and rs.is_band else None
        keep_group = (np.mean([rs.label_of(t) == base_group for t in totals[:, j]])
                      if base_group is not None else np.nan)
        rows.append({"province": prov, "total": round(float(base[j]), 2), "rank": int(base_rank[j]),
                     "rank_min": int(r.min()), "rank_p05": float(np.percentile(r, 5)),
                     "rank_p95": float(np.percentile(r, 95)), "rank_max": int(r.max()),
                     "p_keep_rank": float(np.mean(r == base_rank[j])), "group": base_group,
                     "p_keep_group": float(keep_group)})
    return MonteCarlo(pd.DataFrame(rows).sort_values("rank").reset_index(drop=True), draws, spread, seed)


# 4. Bounds for unpublished values --------------------------------------------------

def bounds(res: IndexResult) -> pd.DataFrame:
    """Interval each value must lie in, from ranks of neighbours, min/max, cut-offs and counts.

    A province placed in a group by its rank and the announced group sizes is also held
    inside that group's band.
    """
    c = res.classified.copy()
    lo, hi = c["lo"].astype(float), c["hi"].astype(float)
    rs = res.rules
    if rs is not None and rs.is_band:
        by_label = {r.label: r for r in rs.rules}
        for code in c.index[c["group_basis"] == "rank_and_counts"]:
            r = by_label[c.at[code, "group"]]
            if r.lower is not None:
                lo[code] = max(lo[code], r.lower)
            if r.upper is not None:
                hi[code] = min(hi[code], r.upper)
    out = pd.DataFrame({"province": c["province"], "value": c["value"], "rank": c["rank_published"],
                        "lo": lo, "hi": hi, "basis": c["bound_basis"], "group": c["group"],
                        "group_basis": c["group_basis"]})
    out["width"] = out["hi"] - out["lo"]
    return out


def implied_unpublished_mean(res: IndexResult, published_mean: float | None,
                             mean_decimals: int = 2) -> dict | None:
    """Mean of the provinces without a value implied by the announced mean of all 63."""
    if published_mean is None:
        return None
    v = res.classified["value"].astype(float)
    known = v.dropna()
    n_unk = N_PROVINCES - len(known)
    if n_unk == 0:
        return {"n_unpublished": 0, "mean": None, "lo": None, "hi": None,
                "computed_mean": round(float(known.mean()), 4)}
    half = 0.5 * 10 ** -mean_decimals
    total = published_mean * N_PROVINCES
    b = bounds(res)
    unk = b[b["value"].isna()]
    return {"n_unpublished": n_unk,
            "mean": round(float(total - known.sum()) / n_unk, 4),
            "lo": round(float(total - half * N_PROVINCES - known.sum()) / n_unk, 4),
            "hi": round(float(total + half * N_PROVINCES - known.sum()) / n_unk, 4),
            "bounds_mean_lo": round(float(unk["lo"].mean()), 4),
            "bounds_mean_hi": round(float(unk["hi"].mean()), 4)}


# 5. Coherence of the two indices ---------------------------------------------------

def correlation(par: IndexResult, sip: IndexResult, boot: int = 2000, seed: int = 2020) -> dict:
    both = pd.DataFrame({"par": par.classified["value"], "sipas": sip.classified["value"]}).dropna().astype(float)
    n = len(both)
    if n < 3:
        return {"n": n, "pearson": None, "spearman": None}
    x, y = both["par"].to_numpy(), both["sipas"].to_numpy()
    rng = np.random.default_rng(seed)
    pb, sb = [], []
    for _ in range(boot):
        i = rng.integers(0, n, n)
        if np.ptp(x[i]) == 0 or np.ptp(y[i]) == 0:
            continue
        pb.append(np.corrcoef(x[i], y[i])[0, 1])
        sb.append(pd.Series(x[i]).rank().corr(pd.Series(y[i]).rank()))
    return {"n": n, "pearson": float(np.corrcoef(x, y)[0, 1]),
            "pearson_ci": [float(np.percentile(pb, 2.5)), float(np.percentile(pb, 97.5))],
            "spearman": float(pd.Series(x).rank().corr(pd.Series(y).rank())),
            "spearman_ci": [float(np.percentile(sb, 2.5)), float(np.percentile(sb, 97.5))],
            "boot": boot, "seed": seed, "provinces": list(par.classified.loc[both.index, "province"])}


def sipas_points_vs_percent(comp: pd.DataFrame, sip: IndexResult) -> pd.DataFrame:
    """SIPAS points inside the PAR INDEX against SIPAS percent / 10, where both are published."""
    s = sip.classified
    dec = sip.table.data["value_decimals"]
    rows = []
    for r in comp.itertuples():
        v = s.at[r.province_code, "value"] if r.province_code in s.index else None
        if v is None or pd.isna(v):
            continue
        rows.append({"province": r.province, "sipas_percent": float(v), "percent_div_10": round(float(v) / 10, 4),
                     "sipas_points": float(r.sipas_points), "difference": round(float(r.sipas_points) - float(v) / 10, 4),
                     "percent_rounded": bool(int(dec[r.province_code]) < 2)})
    return pd.DataFrame(rows)


def rule_for(rs: RuleSet | None, label: str) -> Rule | None:
    return next((r for r in rs.rules if r.label == label), None) if rs else None
