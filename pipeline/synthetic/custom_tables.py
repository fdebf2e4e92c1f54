"""Generated customer tables for segmenting on your own columns.

:func:`mall_customers` is a stand-in for the widely used public "Mall
Customers" table (``CustomerID, Gender, Age, Annual Income (k$), Spending
Score (1-100)``, 200 customers).  That file is not shipped (it is not on this
machine and its licence is not stated by its publishers), so five groups are
*planted* with the sizes of its well-known k = 5 solution on income and
spending score (81, 39, 35, 23 and 22 customers) and spreads chosen so that
k-means on those two columns has a silhouette of about 0.55, as on the
original.  Income is whole k$ from 15 to 137, the score whole points from 1
to 99; ages 18 to 70 (the high spenders younger); about 56% women.

:func:`planted_table` makes a table with ``k`` planted groups in numeric
columns with arbitrary names and units, for testing that groups are
recovered and named from their evidence on columns the code has never seen.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

#: (size, income centre, income spread, score centre, score spread, age centre, age spread) per group.
_MALL_GROUPS: tuple[tuple[int, float, float, float, float, float, float], ...] = (
    (81, 55.0, 10.0, 50.0, 8.0, 43.0, 14.0),  # average income, average score
    (39, 86.0, 16.0, 82.0, 10.0, 33.0, 4.0),  # high income, high score
    (35, 88.0, 17.0, 17.0, 11.0, 41.0, 11.0),  # high income, low score
    (23, 26.0, 8.0, 21.0, 13.0, 45.0, 13.0),  # low income, low score
    (22, 25.0, 8.0, 79.0, 11.0, 25.0, 5.0),  # low income, high score
)
MALL_COLUMNS: tuple[str, ...] = ("CustomerID", "Gender", "Age", "Annual Income (k$)", "Spending Score (1-100)")


def mall_customers(random_state: int = 23) -> tuple[pd.DataFrame, np.ndarray]:
    """A 200-customer mall-style table and the planted group of each customer.

    Parameters
    ----------
    random_state : int
        Seed.

    Returns
    -------
    (DataFrame, ndarray of int)
        The table (columns :data:`MALL_COLUMNS`, customers in random order,
        ids 1..200) and each row's planted group (0 = average, 1 = high income
        and score, 2 = high income low score, 3 = low income low score, 4 =
        low income high score).
    """
    rng = np.random.default_rng(random_state)
    rows = []
    for g, (n, inc, inc_sd, score, score_sd, age, age_sd) in enumerate(_MALL_GROUPS):
        lo_inc, hi_inc = (15, 42) if inc < 40 else ((40, 72) if inc < 70 else (70, 137))
        lo_sc, hi_sc = (1, 42) if score < 40 else ((36, 62) if score < 70 else (60, 99))
        rows.append(
            pd.DataFrame(
                {
                    "group": g,
                    "Age": np.clip(np.round(rng.normal(age, age_sd, n)), 18, 70).astype(int),
                    "Annual Income (k$)": np.clip(np.round(rng.normal(inc, inc_sd, n)), lo_inc, hi_inc).astype(int),
                    "Spending Score (1-100)": np.clip(np.round(rng.normal(score, score_sd, n)), lo_sc, hi_sc).astype(
                        int
                    ),
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame.insert(0, "Gender", np.where(rng.random(len(frame)) < 0.56, "Female", "Male"))
    frame.insert(0, "CustomerID", np.arange(1, len(frame) + 1))
    groups = frame.pop("group").to_numpy(dtype=int)
    return frame.loc[:, list(MALL_COLUMNS)], groups


def planted_table(
    columns: dict[str, tuple[float, float]],
    centres: list[dict[str, float]],
    sizes: list[int],
    random_state: int = 0,
    id_column: str = "Member Ref",
    noise_columns: dict[str, tuple[float, float]] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """A customer table with planted groups in numeric columns.

    Parameters
    ----------
    columns : dict of str to (mean, sd)
        Each clustered column's population mean and within-group spread.
    centres : list of dict
        Per group, its offset from the mean in within-group spreads, per
        column (missing columns: 0).
    sizes : list of int
        Customers per group.
    random_state : int
        Seed.
    id_column : str
        Name of the customer id column (values ``C00001``...).
    noise_columns : dict of str to (mean, sd), optional
        Further numeric columns without structure.

    Returns
    -------
    (DataFrame, ndarray of int)
        The table (rows shuffled) and each row's planted group.
    """
    rng = np.random.default_rng(random_state)
    parts = []
    for g, (centre, n) in enumerate(zip(centres, sizes, strict=True)):
        data = {"group": np.full(n, g)}
        for col, (mean, sd) in columns.items():
            data[col] = rng.normal(mean + centre.get(col, 0.0) * sd, sd, n)
        for col, (mean, sd) in (noise_columns or {}).items():
            data[col] = rng.normal(mean, sd, n)
        parts.append(pd.DataFrame(data))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame.insert(0, id_column, [f"C{i:05d}" for i in range(1, len(frame) + 1)])
    groups = frame.pop("group").to_numpy(dtype=int)
    return frame.round(3), groups


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV bytes (what an upload or ``--data`` file holds)."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")
