"""A deterministic generator of realistic, dirty marketing-campaign data.

Customers are drawn from four latent types that match the four core segment
archetypes (see :mod:`pipeline.segmentation.naming`).  Within a type, attributes are
correlated the way they are in the public data set: income drives spend,
children lower it, spend is heavy-tailed (log-normal), purchase counts are
Poisson, campaign acceptance is rare, enrolment dates span about two years.
The same dirt as public copies is added: blank rows at the end, about 1%
missing incomes, an income of 666,666, birth years before 1901, junk
marital statuses and the constant ``Z_*`` columns.

Everything is driven by one :class:`numpy.random.Generator` seeded from the
``seed`` argument, so a (rows, seed) pair always gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.features import definitions
from pipeline.features.definitions import MARKETING_COLUMNS, SPEND_COLUMNS

#: The built-in sample's data set name (in its artifacts' manifests and the app).
SAMPLE_NAME = "Built-in sample"

#: Highest two-year spend, as in the public data set; log-normal noise sigma of spend.
SPEND_CAP = 2_600.0
SPEND_SIGMA = 0.45

#: Enrolment window of the public data set.
FIRST_ENROLMENT = dt.date(2012, 7, 30)
LAST_ENROLMENT = dt.date(2014, 6, 29)


@dataclasses.dataclass(frozen=True)
class LatentType:
    """Generating parameters of one latent customer type."""

    key: str
    share: float
    income_median: float
    base_spend: float
    tenure_days: tuple[int, int]
    campaign_p: float
    response_p: float
    age_mean: float
    kid_rate: float
    teen_rate: float


LATENT_TYPES: tuple[LatentType, ...] = (
    LatentType("high_value_loyal", 0.20, 76_000, 1_350, (380, 699), 0.36, 0.70, 50, 0.05, 0.25),
    LatentType("high_spend_low_engagement", 0.24, 71_000, 1_050, (220, 640), 0.01, 0.04, 48, 0.10, 0.45),
    LatentType("new_occasional", 0.26, 39_000, 110, (0, 300), 0.02, 0.10, 40, 0.65, 0.45),
    LatentType("low_value", 0.30, 37_000, 120, (400, 699), 0.01, 0.03, 44, 0.60, 0.60),
)

_EDUCATION = (("Graduation", 0.50), ("PhD", 0.22), ("Master", 0.165), ("2n Cycle", 0.09), ("Basic", 0.025))
_MARITAL = (("Married", 0.39), ("Together", 0.26), ("Single", 0.21), ("Divorced", 0.10), ("Widow", 0.04))
_SPEND_MIX = np.array([6.0, 1.0, 4.0, 1.3, 1.0, 1.6])  # Dirichlet weights in SPEND_COLUMNS order


def below_cap(base: np.ndarray, noise: np.ndarray, seed: int) -> np.ndarray:
    """``base · exp(noise)``, with the noise of customers above :data:`SPEND_CAP` drawn again below it.

    Clipping at the cap piled every such customer onto the same top value (a spike at
    the end of the spend histogram).  Their noise is redrawn from the normal
    distribution truncated at the cap (inverse CDF), from a second generator seeded
    from ``seed``, so customers under the cap, and every later draw of the main
    generator, keep their values.
    """
    spend = base * np.exp(noise)
    over = spend > SPEND_CAP
    if over.any():
        from scipy import special  # only when generating: the app's start does not import scipy

        limit = special.ndtr(np.log(SPEND_CAP / base[over]) / SPEND_SIGMA)  # P(noise keeps spend under the cap)
        u = np.random.default_rng([seed, 1]).random(int(over.sum())) * limit
        spend[over] = base[over] * np.exp(SPEND_SIGMA * special.ndtri(np.maximum(u, 1e-300)))
    return spend


def generate_sample(rows: int = 2240, seed: int = 2014) -> tuple[pd.DataFrame, pd.Series]:
    """Generate a dirty marketing-campaign table and its ground truth.

    Parameters
    ----------
    rows : int
        Number of customers (blank rows are added on top).
    seed : int
        Seed of the random generator.

    Returns
    -------
    (DataFrame, Series)
        The table with exactly :data:`~pipeline.features.definitions.MARKETING_COLUMNS`
        (blank rows at the end are all-missing), and the latent type key of
        each customer indexed by ``ID``.
    """
    if rows < 10:
        raise ValueError("rows must be at least 10")
    rng = np.random.default_rng(seed)
    shares = np.array([t.share for t in LATENT_TYPES])
    kind = rng.choice(len(LATENT_TYPES), size=rows, p=shares / shares.sum())
    param = {
        f.name: np.array([getattr(LATENT_TYPES[i], f.name) for i in kind])
        for f in dataclasses.fields(LatentType)
        if f.name not in ("key", "tenure_days")
    }

    ids = rng.choice(np.arange(0, max(11_200, rows * 5)), size=rows, replace=False)
    age = np.clip(rng.normal(param["age_mean"], 11), 19, 80).round()
    year_birth = (LAST_ENROLMENT.year - age).astype(int)
    income = param["income_median"] * np.exp(rng.normal(0, 0.28, rows))
    kid = np.minimum(rng.poisson(param["kid_rate"]), 2)
    teen = np.minimum(rng.poisson(param["teen_rate"]), 2)
    children = kid + teen

    base = param["base_spend"] * (income / 60_000) ** 1.2 * 0.8**children
    spend = np.clip(below_cap(base, rng.normal(0, SPEND_SIGMA, rows), seed), 6, SPEND_CAP)
    mix = rng.dirichlet(_SPEND_MIX, size=rows)
    amounts = np.floor(spend[:, None] * mix).astype(int)

    purchases = 4 + spend / 55.0
    web = rng.poisson(purchases * 0.30)
    catalog = rng.poisson(purchases * 0.22)
    store = rng.poisson(purchases * 0.40 + 2)
    deals = rng.poisson(1 + 0.8 * children + purchases * 0.05)

    cmp = (rng.random((rows, 5)) < param["campaign_p"][:, None]).astype(int)
    response = (rng.random(rows) < param["response_p"]).astype(int)

    lo = np.array([LATENT_TYPES[i].tenure_days[0] for i in kind])
    hi = np.array([LATENT_TYPES[i].tenure_days[1] for i in kind])
    days_ago = np.floor(lo + rng.random(rows) * (hi - lo + 1)).astype(int)
    enrol = pd.Timestamp(LAST_ENROLMENT) - pd.to_timedelta(days_ago, unit="D")
    enrol = enrol.where(enrol >= pd.Timestamp(FIRST_ENROLMENT), pd.Timestamp(FIRST_ENROLMENT))

    table = pd.DataFrame(
        {
            "ID": ids,
            "Year_Birth": year_birth,
            "Education": _choose(rng, _EDUCATION, rows),
            "Marital_Status": _choose(rng, _MARITAL, rows),
            "Income": np.round(income),
            "Kidhome": kid,
            "Teenhome": teen,
            "Dt_Customer": enrol.strftime("%d-%m-%Y"),
            "Recency": rng.integers(0, 100, rows),
            **{col: amounts[:, j] for j, col in enumerate(SPEND_COLUMNS)},
            "NumDealsPurchases": deals,
            "NumWebPurchases": web,
            "NumCatalogPurchases": catalog,
            "NumStorePurchases": store,
            "NumWebVisitsMonth": np.clip(rng.poisson(np.maximum(1.0, 9 - income / 11_000)), 0, 20),
            "AcceptedCmp3": cmp[:, 2],
            "AcceptedCmp4": cmp[:, 3],
            "AcceptedCmp5": cmp[:, 4],
            "AcceptedCmp1": cmp[:, 0],
            "AcceptedCmp2": cmp[:, 1],
            "Complain": (rng.random(rows) < 0.01).astype(int),
            "Z_CostContact": 3,
            "Z_Revenue": 11,
            "Response": response,
        },
        columns=list(MARKETING_COLUMNS),
    )
    table = _add_dirt(table, rng)
    truth = pd.Series(
        [LATENT_TYPES[i].key for i in kind], index=table["ID"].iloc[:rows].astype(str), name="latent_type"
    )
    truth.index.name = "ID"
    return table, truth


def _choose(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    names = np.array([o[0] for o in options], dtype=object)
    p = np.array([o[1] for o in options])
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def _add_dirt(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Missing incomes, outliers, junk categories and trailing blank rows."""
    out = table.astype({"Income": "float64", "Year_Birth": "int64"}).copy()
    n = len(out)
    picks = rng.choice(n, size=min(n, max(1, round(0.0107 * n)) + 10), replace=False)
    n_missing = max(1, round(0.0107 * n))
    out.loc[picks[:n_missing], "Income"] = np.nan
    out.loc[picks[n_missing], "Income"] = 666_666.0
    for j, year in enumerate((1893, 1899, 1900)):
        out.loc[picks[n_missing + 1 + j], "Year_Birth"] = year
    for j, junk in enumerate(("Alone", "Alone", "Absurd", "YOLO", "Alone", "Absurd")):
        if n_missing + 4 + j < len(picks):
            out.loc[picks[n_missing + 4 + j], "Marital_Status"] = junk
    n_blank = max(2, n // 100)
    blank = pd.DataFrame(np.nan, index=range(n, n + n_blank), columns=out.columns)
    return pd.concat([out, blank]).astype({"ID": "Int64", "Year_Birth": "Int64"})


def sample_bytes(rows: int = 2240, seed: int = 2014, sep: str = "\t") -> bytes:
    """The sample table serialised like the public file (tab-separated by default)."""
    table, _ = generate_sample(rows, seed)
    return to_text_bytes(table, sep)


def sample_identity(rows: int = 2240, seed: int = 2014) -> str:
    """A name for the bytes :func:`sample_bytes` gives for ``(rows, seed)``, without generating them.

    Made of ``rows``, ``seed``, the SHA-256 of this generator's source and of
    the column definitions it writes (:mod:`pipeline.features.definitions`),
    and the versions of Python and of the libraries that draw and write the
    numbers (numpy, pandas, scipy): any change to one of them gives another
    name.  :mod:`pipeline.segmentation.start` remembers the sample's data
    hash under this name, so the app's start need not generate the sample.
    """
    digest = hashlib.sha256()
    for source in (Path(__file__), Path(definitions.__file__)):
        digest.update(source.read_bytes())
    versions = (sys.version.split()[0], np.__version__, pd.__version__, metadata.version("scipy"))
    return f"built-in sample rows={rows} seed={seed} {'/'.join(versions)} {digest.hexdigest()[:32]}"


def to_text_bytes(table: pd.DataFrame, sep: str = "\t") -> bytes:
    """Serialise a table as delimited text with integers written without decimals."""
    return table.to_csv(sep=sep, index=False, lineterminator="\n", float_format="%.0f").encode("utf-8")
