"""Feature definitions and feature engineering.

The four behavioural features are declared once, as data, so the CLI, the
manifest and the app display the same name, formula, unit and description.
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

    def to_dict(self) -> dict[str, str]:
        """JSON-safe form, as stored in the manifest."""
        return dataclasses.asdict(self)


FEATURE_DEFINITIONS: dict[str, FeatureDefinition] = {
    d.name: d
    for d in (
        FeatureDefinition(
            name="Customer_Value",
            label="Customer value",
            formula=" + ".join(SPEND_COLUMNS),
            unit="$",
            description="Total amount spent over the last two years, across all product families.",
            short="spend",
        ),
        FeatureDefinition(
            name="Purchase_Frequency",
            label="Purchase frequency",
            formula=" + ".join(PURCHASE_COLUMNS),
            unit="purchases",
            description="Number of purchases over the last two years, across web, catalogue, store and deals.",
            short="frequency",
        ),
        FeatureDefinition(
            name="Campaign_Response",
            label="Campaign response",
            formula=" + ".join(CAMPAIGN_COLUMNS),
            unit="campaigns accepted",
            description="How many of the six marketing campaigns the customer accepted (0 to 6).",
            short="response",
        ),
        FeatureDefinition(
            name="Customer_For_Years",
            label="Tenure",
            formula="(as-of date − Dt_Customer) / 365.25",
            unit="years",
            description="Years since the customer enrolled, counted to the as-of date.",
            short="tenure",
        ),
    )
}

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


def feature_definitions(names: tuple[str, ...]) -> list[FeatureDefinition]:
    """Definitions of ``names``, in that order (unknown names get a plain one)."""
    return [
        FEATURE_DEFINITIONS.get(n, FeatureDefinition(n, n.replace("_", " "), n, "", n.replace("_", " "), n.lower()))
        for n in names
    ]


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
    out = out.astype({name: "float64" for name in FEATURE_DEFINITIONS})
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
