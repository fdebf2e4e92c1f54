"""Outliers on the EDA page: the two rules, the small-count exception, and the tables built from them.

Every limit is computed from the data shown (quartiles, mean and standard
deviation, or percentiles for small counts); the page states the rule next to
the numbers (:data:`OUTLIER_METHODS`, :data:`SMALL_COUNT_RULE`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from .variables import fmt_value, numeric_values

OUTLIER_METHODS: dict[str, str] = {
    "iqr": "IQR rule: below Q1 − 1.5×IQR or above Q3 + 1.5×IQR (IQR = middle half of customers).",
    "zscore": "z-score rule: more than 3 standard deviations from the average.",
}
Z_LIMIT = 3.0
IQR_FACTOR = 1.5
#: A "small count": whole numbers ≥ 0 with at most this many distinct values (children, campaigns accepted).
SMALL_COUNT_LEVELS = 10
#: Small counts are flagged only beyond these percentiles (the rare tail: under 0.5% of customers each side).
RARE_TAIL = 0.005
SMALL_COUNT_RULE = (
    "Small counts (whole numbers with at most 10 distinct values, such as children or campaigns accepted) "
    "are not fenced by the rule above, which would flag whole ordinary levels; a count is flagged only "
    "beyond its 0.5th or 99.5th percentile, a level held by fewer than 0.5% of customers."
)


def outlier_bounds(values: pd.Series, method: str) -> tuple[float, float]:
    """Lower and upper limits outside which a value counts as an outlier.

    Parameters
    ----------
    values : Series
        A numeric column (missing values ignored).
    method : str
        ``"iqr"`` (Q1 − 1.5·IQR, Q3 + 1.5·IQR) or ``"zscore"`` (mean ± 3 standard deviations).
        A small count (:func:`is_small_count`) uses the rare-tail rule under either method:
        the 0.5th and 99.5th percentiles, taken as values that occur, so only levels held by
        fewer than 0.5% of customers on each side fall outside.

    Raises
    ------
    ValueError
        Unknown method.
    """
    if method not in OUTLIER_METHODS:
        raise ValueError(f"Unknown outlier method {method!r}; use one of {', '.join(OUTLIER_METHODS)}.")
    v = numeric_values(values)
    if v.empty:
        return (math.nan, math.nan)
    if is_small_count(v):
        return (
            float(v.quantile(RARE_TAIL, interpolation="lower")),
            float(v.quantile(1 - RARE_TAIL, interpolation="higher")),
        )
    if method == "iqr":
        q1, q3 = float(v.quantile(0.25)), float(v.quantile(0.75))
        return (q1 - IQR_FACTOR * (q3 - q1), q3 + IQR_FACTOR * (q3 - q1))
    if method == "zscore":
        mu, sd = float(v.mean()), float(v.std(ddof=0))
        return (mu - Z_LIMIT * sd, mu + Z_LIMIT * sd)
    raise ValueError(f"Unknown outlier method {method!r}; use one of {', '.join(OUTLIER_METHODS)}.")


def is_small_count(values: pd.Series) -> bool:
    """Whole numbers ≥ 0 with at most :data:`SMALL_COUNT_LEVELS` distinct values (missing values ignored)."""
    v = numeric_values(values)
    return bool(len(v)) and bool((v >= 0).all() and (v == v.round()).all()) and v.nunique() <= SMALL_COUNT_LEVELS


def outlier_variables(frame: pd.DataFrame, variables: Sequence[str]) -> list[str]:
    """Variables where outlier rules make sense (more than two distinct values)."""
    return [v for v in variables if v in frame.columns and pd.to_numeric(frame[v], errors="coerce").nunique() > 2]


def outlier_summary(frame: pd.DataFrame, variables: Sequence[str], method: str) -> pd.DataFrame:
    """Per variable: the limits and how many customers fall below / above them.

    Returns
    -------
    DataFrame
        ``variable``, ``low``, ``high``, ``below``, ``above``, ``total``, ``share``.
    """
    rows = []
    n = len(frame)
    for var in outlier_variables(frame, variables):
        col = pd.to_numeric(frame[var], errors="coerce")
        low, high = outlier_bounds(col, method)
        below, above = int((col < low).sum()), int((col > high).sum())
        rows.append(
            {
                "variable": var,
                "low": low,
                "high": high,
                "below": below,
                "above": above,
                "total": below + above,
                "share": (below + above) / n if n else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=["variable", "low", "high", "below", "above", "total", "share"])


def flagged_customers(
    frame: pd.DataFrame,
    variables: Sequence[str],
    method: str,
    names: Mapping[str, str],
    labels: Mapping[str, str],
    max_rows: int = 500,
    units: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Customers flagged by ``method`` on any variable, or by the loader (``Is_Outlier``).

    Parameters
    ----------
    frame : DataFrame
        Scored customers (``ID``, ``Segment``, the variables, optionally ``Is_Outlier``/``Outlier_Reason``).
    variables : sequence of str
        Numeric variables to check.
    method : str
        ``"iqr"`` or ``"zscore"``.
    names : mapping
        Segment key → display name.
    labels : mapping
        Variable → short display name.
    max_rows : int
        Most rows returned (the loader's flags first, then most flags first).
    units : mapping, optional
        Variable → unit, to show the flagged value in ``Flagged on`` (``"Income $666,666 (high)"``).

    Returns
    -------
    DataFrame
        ``ID``, ``Segment``, ``Flags`` (count), ``Flagged on``, ``Loader note`` and the
        values of the first three variables.
    """
    flags = pd.Series([[] for _ in range(len(frame))], index=frame.index, dtype=object)
    for var in outlier_variables(frame, variables):
        col = pd.to_numeric(frame[var], errors="coerce")
        low, high = outlier_bounds(col, method)
        for mask, word in ((col < low, "low"), (col > high, "high")):
            for i in frame.index[mask.fillna(False).to_numpy()]:
                shown = f" {fmt_value(float(col.at[i]), units[var])}" if units and var in units else ""
                flags.at[i] = [*flags.at[i], f"{labels.get(var, var)}{shown} ({word})"]
    loader = (
        frame["Is_Outlier"].fillna(False).astype(bool) if "Is_Outlier" in frame else pd.Series(False, index=frame.index)
    )
    picked = flags.map(len).gt(0) | loader
    sub = frame.loc[picked]
    out = pd.DataFrame(
        {
            "ID": sub["ID"].astype(str) if "ID" in sub else sub.index.astype(str),
            "Segment": sub["Segment"].map(lambda k: names.get(k, k)) if "Segment" in sub else "",
            "Flags": flags[picked].map(len).to_numpy(),
            "Flagged on": flags[picked].map(", ".join).to_numpy(),
            "Loader note": sub["Outlier_Reason"].fillna("").astype(str).to_numpy() if "Outlier_Reason" in sub else "",
        },
        index=sub.index,
    )
    for var in list(variables)[:3]:
        if var in sub:
            out[var] = pd.to_numeric(sub[var], errors="coerce").round(2).to_numpy()
    out["_loader"] = loader[picked].to_numpy()
    out = out.sort_values(["_loader", "Flags"], ascending=False, kind="stable").drop(columns="_loader")
    return out.head(max_rows).reset_index(drop=True)
