"""The variables a page shows: which columns, their labels and units, and how their values are written.

Shared by the figures of every page (EDA, segments, explorer, simulator): every
number a business user sees is shown in original units with the same wording
on every page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.features.definitions import PROFILE_LABELS

#: Numeric profile attributes (never clustered), in display order.
NUMERIC_PROFILE: tuple[str, ...] = ("Age", "Income", "Children", "Recency", "Web_Visits", "Complain")
#: Categorical profile attributes.
CATEGORICAL_PROFILE: tuple[str, ...] = ("Education", "Marital_Status")
#: Units of the profile attributes ("share" is shown as a percentage).
PROFILE_UNITS: dict[str, str] = {
    "Age": "years",
    "Income": "$",
    "Children": "children",
    "Recency": "days",
    "Web_Visits": "visits/month",
    "Complain": "share",
}
#: Short names for tables (the manifest's labels for features, these for profile attributes).
PROFILE_SHORT: dict[str, str] = {
    "Age": "Age",
    "Income": "Income",
    "Children": "Children at home",
    "Recency": "Days since last purchase",
    "Web_Visits": "Web visits per month",
    "Complain": "Complained (2 years)",
    "Education": "Education",
    "Marital_Status": "Marital status",
}


def variable_label(name: str, feature_defs: Mapping[str, Mapping[str, str]], short: bool = False) -> str:
    """Display name of a feature or profile attribute.

    Parameters
    ----------
    name : str
        Column name (``Customer_Value``, ``Age``, ...).
    feature_defs : mapping
        The artifact's feature definitions (``label``, ``unit``).
    short : bool
        Without the unit (for table rows and legends).
    """
    if name in feature_defs:
        label = feature_defs[name].get("label", name.replace("_", " "))
        unit = feature_defs[name].get("unit", "")
        return label if short or not unit else f"{label} ({unit})"
    if short:
        return PROFILE_SHORT.get(name, name.replace("_", " "))
    return PROFILE_LABELS.get(name, name.replace("_", " "))


def variable_unit(name: str, feature_defs: Mapping[str, Mapping[str, str]]) -> str:
    """Unit of a feature or profile attribute (``"$"``, ``"years"``, ``"share"``, ...)."""
    if name in feature_defs:
        return feature_defs[name].get("unit", "")
    return PROFILE_UNITS.get(name, "")


def fmt_value(value: float | None, unit: str = "", compact: bool = False) -> str:
    """A number in its unit: ``$1,701``, ``37.5 purchases``, ``1.3 years``, ``0.8%``.

    Parameters
    ----------
    value : float or None
        The number; None or NaN gives ``"n/a"``.
    unit : str
        ``"$"`` (prefix), ``"share"`` (percentage) or a suffix word.
    compact : bool
        Leave out suffix words (``"37.5"``); ``$`` and ``%`` are kept.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if unit == "$":
        sign = "−" if value < 0 else ""
        v = abs(value)
        return f"{sign}${v / 1e6:,.1f}M" if v >= 1e6 else f"{sign}${v:,.0f}"
    if unit == "share":
        return f"{value:.1%}"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".removesuffix(".0")
    return text if compact else f"{text} {unit}".strip()


def unit_note(unit: str, label: str = "") -> str:
    """The unit as a short note next to a label (``"purchases"``).

    Empty for ``$`` and shares, and when the label already says it
    (``"Days since last purchase"`` needs no ``"days"``).
    """
    if unit in ("$", "share", ""):
        return ""
    words = label.lower().replace("/", " ").split()
    if any(w in words for w in unit.lower().replace("/", " ").split()):
        return ""
    return unit


def numeric_variables(frame: pd.DataFrame, features: Sequence[str]) -> list[str]:
    """Clustered features, then the numeric profile attributes present in ``frame``."""
    extra = [c for c in NUMERIC_PROFILE if c in frame.columns and c not in features]
    return [f for f in features if f in frame.columns] + extra


#: Text columns of the scored table that are not attributes of the customer.
_NOT_CATEGORIES = frozenset({"ID", "Segment", "Outlier_Reason", "Enrolled"})


def categorical_variables(frame: pd.DataFrame) -> list[str]:
    """Categorical profile attributes present in ``frame``.

    The reference table's (education, marital status), then any other text
    column with 2 to 12 categories (a customer table's categorical columns).
    """
    known = [c for c in CATEGORICAL_PROFILE if c in frame.columns]
    other = [
        str(c)
        for c in frame.columns
        if c not in known
        and c not in _NOT_CATEGORIES
        and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]))
        and 2 <= frame[c].nunique() <= 12
    ]
    return known + other


def population_means(frame: pd.DataFrame, variables: Sequence[str]) -> dict[str, float]:
    """Average of each numeric variable over all customers (missing values ignored)."""
    return {v: float(pd.to_numeric(frame[v], errors="coerce").mean()) for v in variables if v in frame.columns}


def numeric_values(values: pd.Series) -> pd.Series:
    """The column as floats, non-numbers and missing values dropped."""
    out = pd.to_numeric(values, errors="coerce").astype("float64")
    return out[np.isfinite(out.to_numpy())]
