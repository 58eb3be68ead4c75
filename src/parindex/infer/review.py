"""Methodology review: how fragile the classification is, and what the public data pins down.

Every function works on the same objects as the report (IndexResult, RuleSet) and on
partial tables: counts become ranges (determined–possible), and unpublished values are
intervals, never estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .analysis import IndexResult
from .classify import RuleSet, full_precision_rank
from ..data.collate import sort_key, vsorted
from .inference import GRID, text_interval
from ..data.tables import COMPONENT_COLUMNS



# 1. Cut-off sensitivity ------------------------------------------------------------

def order_statistics(res: IndexResult) -> pd.DataFrame:
    """For every k, the least and the greatest possible k-th largest value (percent)."""
    inf = res.inference
    ks = list(range(1, inf.problem.n + 1))
    kth = inf.kth_ranges(ks)  # places are national figures: every claim but the regional means
    ranges = [kth[k] for k in ks]
    return pd.DataFrame({"k": ks, "lo": [r[0] / GRID for r in ranges], "hi": [r[1] / GRID for r in ranges]})


def cutoff_sensitivity(res: IndexResult, step: float = 0.05, span: float = 2.0) -> pd.DataFrame:
    """Provinces at or above each cut-off as it moves from -span to +span: the exact range.

    With the k-th largest value known to lie in [lo_k, hi_k], the number of provinces at or
    above t is at least #{k: lo_k >= t} and at most #{k: hi_k >= t} in every table consistent
    with the record, and both are attained: the same inference as the report, so at the real
    cut-offs the counts match it.
    """
    rs = res.rules
    cols = ["cutoff", "shift", "position", "determined", "possible"]
    if rs is None or not rs.is_band:
        return pd.DataFrame(columns=cols)
    os_ = order_statistics(res)
    lo, hi = os_["lo"].to_numpy(), os_["hi"].to_numpy()
    n = int(round(span / step))
    rows = []
    for cut in rs.cutoffs():
        for k in range(-n, n + 1):
            d = round(k * step, 10)
            t = round(cut + d, 10)
            rows.append({"cutoff": cut, "shift": d, "position": t,
                         "determined": int((lo >= t - 1e-9).sum()), "possible": int((hi >= t - 1e-9).sum())})
    return pd.DataFrame(rows, columns=cols)


def closest_to_cutoffs(res: IndexResult, n: int = 5) -> pd.DataFrame:
    """Provinces with a value nearest each cut-off, with their signed margin."""
    rs = res.rules
    c = res.classified[res.classified["value"].notna()]
    rows = []
    for cut in (rs.cutoffs() if rs is not None and rs.is_band else []):
        m = (c["value"].astype(float) - cut)
        # nearest first; at the same distance, in dictionary order
        near = pd.DataFrame({"d": m.abs().round(6), "k": [sort_key(x) for x in c["province"]]}, index=m.index)
        for code in near.sort_values(["d", "k"]).index[:n]:
            rows.append({"cutoff": cut, "code": code, "province": c.at[code, "province"], "value": float(c.at[code, "value"]),
                         "margin": round(float(m[code]), 4), "group": c.at[code, "group"]})
    return pd.DataFrame(rows)


# 2. Rounding and ties --------------------------------------------------------------

def rounding_effects(values: pd.Series, names: pd.Series, decimals: int = 2) -> pd.DataFrame:
    """Provinces whose rank changes when values are rounded before ranking, and whom they tie with
    (empty: the order itself changed)."""
    v = values.dropna().astype(float)
    full = full_precision_rank(v)
    rounded_vals = v.round(decimals)
    rounded = full_precision_rank(rounded_vals)
    rows = []
    for code in v.index[full != rounded]:
        tied = [names[o] for o in v.index if o != code and rounded_vals[o] == rounded_vals[code]]
        rows.append({"province": names[code], "value": v[code], "rounded": rounded_vals[code],
                     "rank_full": int(full[code]), "rank_rounded": int(rounded[code]),
                     "tied_with": vsorted(tied)})
    return pd.DataFrame(rows, columns=["province", "value", "rounded", "rank_full", "rank_rounded", "tied_with"])


# 3. Component robustness -----------------------------------------------------------

@dataclass
class MonteCarlo:
    summary: pd.DataFrame
    draws: int
    spread: float
    seed: int
    factor_lo: float  # the smallest and largest factor actually applied (after rescaling)
    factor_hi: float


def weight_monte_carlo(comp: pd.DataFrame, rs: RuleSet | None, draws: int = 2000, spread: float = 0.2,
                       seed: int = 2020, rescale: bool = True) -> MonteCarlo:
    """What-if: each block's weight times a factor drawn from [1-spread, 1+spread].

    With ``rescale`` each draw's factors are then scaled so the mean total of the provinces
    in the table is unchanged (otherwise +-20 % on every block moves all totals together
    and the group comparison measures the scale, not the weighting); the factors actually
    applied then span more than the drawn range (``factor_lo``/``factor_hi``, about
    0.70-1.41 for +-20 %). The shares reported are shares of draws under this scheme, not
    probabilities of anything. With the 2020 top-10 table the ranks are ranks among those
    ten provinces only.
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
    # rank "min", highest first, in every draw at once: 1 + how many totals of the draw are greater
    ranks = 1.0 + (totals[:, None, :] > totals[:, :, None]).sum(axis=2)
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
    return MonteCarlo(pd.DataFrame(rows).sort_values("rank").reset_index(drop=True), draws, spread, seed,
                      float(w.min()), float(w.max()))


# 4. Bounds for unpublished values --------------------------------------------------

def bounds(res: IndexResult) -> pd.DataFrame:
    """The interval each value must lie in: the inference's, the same as the report's."""
    c = res.classified
    out = pd.DataFrame({"province": c["province"], "value": c["value"], "rank": c["rank_published"],
                        "lo": c["lo"], "hi": c["hi"], "basis": c["bound_basis"], "group": c["group"],
                        "group_basis": c["group_basis"]})
    out["width"] = out["hi"] - out["lo"]
    return out


def mean_check(res: IndexResult) -> dict | None:
    """The published mean against what the rest of the record allows (from the audit)."""
    it = next((i for i in res.audit if i.fact == "mean_63" and i.range is not None), None)
    if it is None:
        return None
    # the interval the bounds used (the default convention: within 0.01 of the mean of the
    # published values), not the published figure's own rounding (0.005), which the text once gave
    from .claims import _interval

    lo, hi = _interval(it.published, "published", rounded=True, mean=True)
    return {"published": it.published, "published_lo": lo / GRID, "published_hi": hi / GRID,
            "lo": it.range[0], "hi": it.range[1], "status": it.status,
            "n_unpublished": int(res.classified["value"].isna().sum())}


# 5. Coherence of the two indices ---------------------------------------------------

MIN_N_BOOTSTRAP = 10  # below this, a bootstrap interval says more about the resampling than the data


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))


def correlation(par: IndexResult, sip: IndexResult, boot: int = 2000, seed: int = 2020) -> dict:
    """Pearson and Spearman on the provinces with both values, with who they are.

    The provinces with published values are not a sample: they are mostly the leaders.
    ``selection`` counts how many of them are among the top n of the PAR INDEX (n = their
    number); no bootstrap interval is computed below MIN_N_BOOTSTRAP provinces."""
    both = pd.DataFrame({"par": par.classified["value"], "sipas": sip.classified["value"]}).dropna().astype(float)
    n = len(both)
    if n < 3:
        return {"n": n, "pearson": None, "spearman": None, "provinces": list(par.classified.loc[both.index, "province"])}
    ranks = par.classified["rank_published"]
    top = int(((ranks.loc[both.index].notna()) & (ranks.loc[both.index] <= n)).sum())
    x, y = both["par"].to_numpy(), both["sipas"].to_numpy()
    out = {"n": n, "pearson": float(np.corrcoef(x, y)[0, 1]),
           "spearman": float(pd.Series(x).rank().corr(pd.Series(y).rank())),
           "selection": {"top_n": n, "in_par_top_n": top},
           "provinces": list(par.classified.loc[both.index, "province"]), "boot": None, "seed": seed}
    if n < MIN_N_BOOTSTRAP:
        return out
    x, y = both["par"].to_numpy(), both["sipas"].to_numpy()
    rng = np.random.default_rng(seed)
    idx = np.array([rng.integers(0, n, n) for _ in range(boot)])  # draw by draw: the stream of the seed
    xs, ys = x[idx], y[idx]
    keep = (np.ptp(xs, axis=1) > 0) & (np.ptp(ys, axis=1) > 0)  # a resample without spread has no correlation
    pb = _rowwise_pearson(xs[keep], ys[keep])
    # Spearman: on average ranks (pandas' ranking, as for the point estimate above; importing
    # scipy.stats for its rankdata cost every process that reviews a year 0.7-1.8 s)
    sb = _rowwise_pearson(*(pd.DataFrame(v[keep]).rank(axis=1, method="average").to_numpy() for v in (xs, ys)))
    out.update({"pearson_ci": [float(np.percentile(pb, 2.5)), float(np.percentile(pb, 97.5))],
                "spearman_ci": [float(np.percentile(sb, 2.5)), float(np.percentile(sb, 97.5))], "boot": boot})
    return out


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
