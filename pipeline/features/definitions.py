"""Feature definitions and feature engineering.

The four behavioural features (plus ``Recency``, clustered for transaction
logs) are declared once, as data, so the CLI, the manifest and the app display
the same name, formula, unit and description.

Descriptions state only what the data shows: the reference marketing table
documents its spend and purchase counts as "over the last two years"; a
transaction log covers the period between its first purchase and the as-of
date (:func:`data_period`, :func:`describe_features`); a customer table's
period is whatever its export covered, which the data does not say.

Negligible spread
-----------------
Standardising a feature divides by its spread, so a feature that barely
varies is blown up into the largest split (a log whose customers all first
bought within a few weeks has tenures that differ by days, yet tenure would
drive the segmentation).  :func:`negligible_spread` measures each feature's
real spread as the range between its 1st and 99th percentiles, *in the
feature's own unit*, and calls it negligible below :attr:`FeatureDefinition.min_spread`:
90 days of tenure, 30 days of recency, one purchase, one campaign; for spend
(whose unit depends on the currency) below 5% of its median.  A constant
feature is not "negligible" but refused (the mapping is likely wrong).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

SPEND_COLUMNS: tuple[str, ...] = (
    "MntWines",
    "MntFruits",
    "MntMeatProducts",
    "MntFishProducts",
    "MntSweetProducts",
    "MntGoldProds",
)
PURCHASE_COLUMNS: tuple[str, ...] = (
    "NumWebPurchases",
    "NumCatalogPurchases",
    "NumStorePurchases",
    "NumDealsPurchases",
)
CAMPAIGN_COLUMNS: tuple[str, ...] = (
    "AcceptedCmp1",
    "AcceptedCmp2",
    "AcceptedCmp3",
    "AcceptedCmp4",
    "AcceptedCmp5",
    "Response",
)
DATE_COLUMN = "Dt_Customer"
ID_COLUMN = "ID"

#: The reference table's columns, in its order.
MARKETING_COLUMNS: tuple[str, ...] = (
    "ID",
    "Year_Birth",
    "Education",
    "Marital_Status",
    "Income",
    "Kidhome",
    "Teenhome",
    "Dt_Customer",
    "Recency",
    *SPEND_COLUMNS,
    "NumDealsPurchases",
    "NumWebPurchases",
    "NumCatalogPurchases",
    "NumStorePurchases",
    "NumWebVisitsMonth",
    "AcceptedCmp3",
    "AcceptedCmp4",
    "AcceptedCmp5",
    "AcceptedCmp1",
    "AcceptedCmp2",
    "Complain",
    "Z_CostContact",
    "Z_Revenue",
    "Response",
)

#: Columns without which the four features cannot be computed.
REQUIRED_COLUMNS: tuple[str, ...] = (
    *SPEND_COLUMNS,
    *PURCHASE_COLUMNS,
    *CAMPAIGN_COLUMNS,
    DATE_COLUMN,
)

#: Numeric columns of the reference table (counts and money are non-negative).
NON_NEGATIVE_COLUMNS: tuple[str, ...] = (
    *SPEND_COLUMNS,
    *PURCHASE_COLUMNS,
    *CAMPAIGN_COLUMNS,
    "Income",
    "Kidhome",
    "Teenhome",
    "Recency",
    "NumWebVisitsMonth",
    "Complain",
)
NUMERIC_COLUMNS: tuple[str, ...] = (*NON_NEGATIVE_COLUMNS, "Year_Birth")


@dataclasses.dataclass(frozen=True)
class FeatureDefinition:
    """A declared feature: what it is called, how it is computed, what it means."""

    name: str
    label: str
    formula: str
    unit: str
    description: str
    short: str
    #: Smallest 1st–99th percentile range that is a real difference, in ``unit``
    #: (``None``: relative rule, 5% of the median).
    min_spread: float | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form, as stored in the manifest."""
        return dataclasses.asdict(self)


#: Tenures closer than this (a quarter) are not different kinds of customers.
TENURE_MIN_SPREAD_DAYS = 90.0
#: Last purchases closer than this (a month) are not a real difference in recency.
RECENCY_MIN_SPREAD_DAYS = 30.0
#: For a feature without an absolute threshold: spread below this share of its median is negligible.
RELATIVE_MIN_SPREAD = 0.05

FEATURE_DEFINITIONS: dict[str, FeatureDefinition] = {
    d.name: d
    for d in (
        FeatureDefinition(
            name="Customer_Value",
            label="Customer value",
            formula=" + ".join(SPEND_COLUMNS),
            unit="$",
            description="Total amount spent over the period the data covers, across all product families.",
            short="spend",
            min_spread=None,
        ),
        FeatureDefinition(
            name="Purchase_Frequency",
            label="Purchase frequency",
            formula=" + ".join(PURCHASE_COLUMNS),
            unit="purchases",
            description="Number of purchases over the period the data covers.",
            short="frequency",
            min_spread=1.0,
        ),
        FeatureDefinition(
            name="Campaign_Response",
            label="Campaign response",
            formula=" + ".join(CAMPAIGN_COLUMNS),
            unit="campaigns accepted",
            description="How many of the six marketing campaigns the customer accepted (0 to 6).",
            short="response",
            min_spread=1.0,
        ),
        FeatureDefinition(
            name="Customer_For_Years",
            label="Tenure",
            formula="(as-of date − Dt_Customer) / 365.25",
            unit="years",
            description="Years since the customer enrolled, counted to the as-of date.",
            short="tenure",
            min_spread=TENURE_MIN_SPREAD_DAYS / 365.25,
        ),
        FeatureDefinition(
            name="Recency",
            label="Recency",
            formula="as-of date − day of the last purchase",
            unit="days",
            description="Days since the customer's last purchase, counted to the as-of date (the R of RFM).",
            short="recency",
            min_spread=RECENCY_MIN_SPREAD_DAYS,
        ),
    )
}
#: The features computed for every kind of input (``Recency`` is clustered for transaction logs only).
BEHAVIOURAL_FEATURES: tuple[str, ...] = (
    "Customer_Value",
    "Purchase_Frequency",
    "Campaign_Response",
    "Customer_For_Years",
)
#: Features a transaction log adds to the default set (the R of RFM).
LOG_FEATURES: tuple[str, ...] = ("Recency",)

#: Profile attributes derived for drill-down (not clustered by default).
PROFILE_ATTRIBUTES: tuple[str, ...] = (
    "Age",
    "Income",
    "Children",
    "Recency",
    "Web_Visits",
    "Complain",
    "Education",
    "Marital_Status",
)
PROFILE_LABELS: dict[str, str] = {
    "Age": "Age (years)",
    "Income": "Income ($/year)",
    "Children": "Children at home",
    "Recency": "Days since last purchase",
    "Web_Visits": "Web visits per month",
    "Complain": "Complained (last 2 years)",
    "Education": "Education",
    "Marital_Status": "Marital status",
}


def feature_definitions(
    names: tuple[str, ...], kind: str | None = None, period: DataPeriod | None = None
) -> list[FeatureDefinition]:
    """Definitions of ``names``, in that order (a custom column's from its name: :mod:`pipeline.features.custom`).

    Parameters
    ----------
    names : tuple of str
        Feature names.
    kind : str or None
        The input kind (``"marketing"``, ``"customer_table"``,
        ``"transactions"``); with it, formulas and descriptions say what that
        kind of data measures and over which period (:func:`describe_features`).
    period : DataPeriod or None
        The measured period of the data (:func:`data_period`).
    """
    from pipeline.features.custom import custom_definition

    out = []
    for n in names:
        d = FEATURE_DEFINITIONS.get(n) or custom_definition(n)
        if kind is not None:
            d = dataclasses.replace(d, **describe_features(kind, period).get(n, {}))
        out.append(d)
    return out


@dataclasses.dataclass(frozen=True)
class DataPeriod:
    """The period a data set covers, measured from its dates.

    Attributes
    ----------
    start : date or None
        The first enrolment or first purchase (``None``: the data has no such date).
    end : date
        The as-of date (for a log: the last purchase unless an earlier date was given).
    text : str
        ``"1997-01-01 to 1998-06-30 (18 months)"``, or ``"to 2014-06-29"`` without a start.
    """

    start: dt.date | None
    end: dt.date
    text: str

    def to_dict(self) -> dict[str, str | None]:
        """JSON-safe form (``data.period`` in the manifest)."""
        return {"start": self.start.isoformat() if self.start else None, "end": self.end.isoformat(), "text": self.text}


def data_period(customers: pd.DataFrame, as_of: dt.date) -> DataPeriod:
    """The period from the earliest ``Enrolled`` date (first enrolment or first purchase) to ``as_of``.

    Examples
    --------
    Customers enrolled (or first buying) from 1997-01-01, as of 1998-06-30:
    ``DataPeriod(1997-01-01, 1998-06-30, "1997-01-01 to 1998-06-30 (18 months)")``.
    """
    start = None
    if "Enrolled" in customers.columns:
        first = pd.to_datetime(customers["Enrolled"], errors="coerce").min()
        if not pd.isna(first):
            start = min(first.date(), as_of)
    if start is None:
        return DataPeriod(None, as_of, f"to {as_of.isoformat()}")
    days = (as_of - start).days
    months = round(days / 30.4375)
    if days < 61:
        length = f"{days} day{'s' if days != 1 else ''}"
    else:
        length = f"{months} months" if months < 24 or months % 12 else f"{months // 12} years"
    return DataPeriod(start, as_of, f"{start.isoformat()} to {as_of.isoformat()} ({length})")


def spend_period(kind: str, period_text: str) -> str:
    """The period a customer's spend covers, as far as the data shows it (see :func:`describe_features`).

    A log's spend is summed over its measured period (``period_text``); the
    reference table documents "the last two years"; a mapped customer table's
    spend covers whatever period its export did, which the data does not say
    (its enrolment dates are not that period).
    """
    if kind == "transactions":
        return period_text
    if kind == "marketing":
        return "the last two years, per the source table"
    return "period not stated in the data"


def describe_features(kind: str, period: DataPeriod | None = None) -> dict[str, dict[str, str]]:
    """Formula and description overrides per feature for one kind of input.

    Only what the data shows: the reference table documents "the last two
    years"; a log states its measured period; a customer table's columns
    cover whatever period its export did, which the data does not say.
    """
    span = f"from {period.start.isoformat()} to {period.end.isoformat()}" if period and period.start else "in the log"
    if kind == "marketing":
        return {
            "Customer_Value": {
                "description": "Total amount spent over the last two years (as the source table documents), "
                "across all product families."
            },
            "Purchase_Frequency": {
                "description": "Number of purchases over the last two years (as the source table documents), "
                "across web, catalogue, store and deals."
            },
        }
    if kind == "transactions":
        return {
            "Customer_Value": {
                "formula": "sum of line amounts (purchases − returns − cancellations)",
                "description": f"Net spend {span}: purchases minus returns and cancellations.",
            },
            "Purchase_Frequency": {
                "formula": "distinct orders (order ids, else timestamps)",
                "description": f"Number of distinct orders {span}.",
            },
            "Campaign_Response": {
                "formula": "distinct orders with a campaign flag",
                "unit": "orders",
                "description": f"Number of orders placed through a campaign {span}.",
            },
            "Customer_For_Years": {
                "formula": "(as-of date − first purchase) / 365.25",
                "description": "Years since the customer's first purchase in the log, counted to the as-of date.",
            },
        }
    if kind == "customer_table":
        return {
            "Customer_Value": {
                "formula": "the mapped spend column(s)",
                "description": "Total spend as given in the mapped column(s); the data does not say which period it covers.",
            },
            "Purchase_Frequency": {
                "formula": "the mapped purchase column(s)",
                "description": "Number of purchases as given in the mapped column(s); the data does not say which "
                "period it covers.",
            },
            "Campaign_Response": {
                "formula": "the mapped response column(s)",
                "unit": "responses",
                "description": "Campaign or promotion responses as given in the mapped column(s).",
            },
        }
    return {}


def negligible_spread(customers: pd.DataFrame, features: tuple[str, ...]) -> dict[str, str]:
    """Features whose real spread is negligible, each with the reason in words.

    The spread is the range between the 1st and 99th percentiles of the
    feature's values, in its own unit; it is negligible when below the
    feature's :attr:`FeatureDefinition.min_spread` (or, without one, below
    5% of its median).  Missing, empty and constant features are left to
    :func:`pipeline.data.ingest.training_problems` (refused, not left out).

    Parameters
    ----------
    customers : DataFrame
        One row per customer.
    features : tuple of str
        The features to check.

    Returns
    -------
    dict of str to str
        ``{feature: fact}`` for each negligible feature, in ``features`` order; the fact reads
        "Tenure: 98% of customers lie within 84 days of each other (1st to 99th percentile),
        less than the 90 days that count as a real difference".
    """
    out = {}
    for f in features:
        if f not in customers.columns:
            continue
        col = pd.to_numeric(customers[f], errors="coerce").dropna().to_numpy(dtype=float)
        if len(col) == 0 or np.unique(col).size <= 1:
            continue
        lo, hi = np.quantile(col, [0.01, 0.99])
        spread = float(hi - lo)
        d = FEATURE_DEFINITIONS.get(f)
        label = d.label if d else f.replace("_", " ")
        if d is not None and d.min_spread is not None:
            if spread >= d.min_spread:
                continue
            if d.unit == "years":
                shown, limit = f"{spread * 365.25:,.0f} days", f"{d.min_spread * 365.25:,.0f} days"
            else:
                shown, limit = f"{spread:,.4g} {d.unit}", f"{d.min_spread:,.4g} {d.unit}"
        else:
            median = abs(float(np.median(col)))
            if spread >= RELATIVE_MIN_SPREAD * median or median == 0:
                continue
            shown, limit = f"{spread:,.4g}", f"{RELATIVE_MIN_SPREAD:.0%} of its median ({median:,.4g})"
        out[f] = (
            f"{label}: 98% of customers lie within {shown} of each other "
            f"(1st to 99th percentile), less than the {limit} that count as a real difference"
        )
    return out


def default_as_of(enrolment: pd.Series) -> dt.date:
    """The default as-of date: the latest enrolment date in the data."""
    latest = pd.to_datetime(enrolment).max()
    if pd.isna(latest):
        return dt.date.today()
    return latest.date()


def tenure_years(enrolment: pd.Series, as_of: dt.date) -> pd.Series:
    """Years from each enrolment date to ``as_of`` (negative values clipped to 0)."""
    days = (pd.Timestamp(as_of) - pd.to_datetime(enrolment)).dt.days
    return (days / 365.25).clip(lower=0.0).astype("float64")


def engineer_features(clean: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Compute the four behavioural features and the profile attributes.

    Parameters
    ----------
    clean : DataFrame
        Output of :func:`pipeline.data.loading.clean_marketing`: numeric columns
        already coerced, ``Dt_Customer`` parsed to datetimes.
    as_of : date
        Reference date for tenure and age.

    Returns
    -------
    DataFrame
        One row per customer, indexed like ``clean``: ``ID``, the four
        features, then whichever profile attributes the input supports, plus
        ``Enrolled`` (the enrolment date).  A feature is NaN where one of its
        inputs is missing; the model imputes it.
    """
    out = pd.DataFrame(index=clean.index)
    out[ID_COLUMN] = clean[ID_COLUMN]
    # A sum is only known when all of its parts are (min_count = number of parts).
    out["Customer_Value"] = clean[list(SPEND_COLUMNS)].sum(axis=1, min_count=len(SPEND_COLUMNS))
    out["Purchase_Frequency"] = clean[list(PURCHASE_COLUMNS)].sum(axis=1, min_count=len(PURCHASE_COLUMNS))
    out["Campaign_Response"] = clean[list(CAMPAIGN_COLUMNS)].sum(axis=1, min_count=len(CAMPAIGN_COLUMNS))
    out["Customer_For_Years"] = tenure_years(clean[DATE_COLUMN], as_of)
    out = out.astype({name: "float64" for name in BEHAVIOURAL_FEATURES})
    return pd.concat([out, profile_attributes(clean, as_of)], axis=1)


def profile_attributes(clean: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Drill-down attributes; only those whose source columns exist."""
    prof = pd.DataFrame(index=clean.index)
    if "Year_Birth" in clean:
        prof["Age"] = (as_of.year - clean["Year_Birth"]).astype("float64")
    if "Income" in clean:
        prof["Income"] = clean["Income"].astype("float64")
    if "Kidhome" in clean and "Teenhome" in clean:
        prof["Children"] = (clean["Kidhome"] + clean["Teenhome"]).astype("float64")
    if "Recency" in clean:
        prof["Recency"] = clean["Recency"].astype("float64")
    if "NumWebVisitsMonth" in clean:
        prof["Web_Visits"] = clean["NumWebVisitsMonth"].astype("float64")
    if "Complain" in clean:
        prof["Complain"] = clean["Complain"].astype("float64")
    for col in ("Education", "Marital_Status"):
        if col in clean:
            prof[col] = clean[col].astype("string").fillna("Unknown").astype(str)
    for col in ("Is_Outlier", "Outlier_Reason"):
        if col in clean:
            prof[col] = clean[col]
    prof["Enrolled"] = pd.to_datetime(clean[DATE_COLUMN])
    return prof


def features_from_values(values: dict[str, float], names: tuple[str, ...]) -> pd.DataFrame:
    """A one-row feature frame from plain values (the simulator's input)."""
    missing = [n for n in names if n not in values]
    if missing:
        raise KeyError(f"missing feature values: {missing}")
    return pd.DataFrame([{n: float(values[n]) for n in names}], columns=list(names))


def is_feature_frame(frame: pd.DataFrame, names: tuple[str, ...]) -> bool:
    """True when ``frame`` already holds every engineered feature in ``names``."""
    return all(n in frame.columns for n in names)


def nan_share(frame: pd.DataFrame, names: tuple[str, ...]) -> dict[str, int]:
    """Number of missing values per feature (what the imputer will fill)."""
    return {n: int(np.isnan(frame[n].to_numpy(dtype=float)).sum()) for n in names}
