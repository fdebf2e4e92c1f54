"""Your own features: numeric columns of a customer table clustered as given.

Besides the four behavioural features (:mod:`pipeline.features.definitions`),
any numeric column of a customer table can be clustered ("custom features":
survey scores, loyalty points, income, basket size, margins).  A categorical
column can be profiled and, when chosen, one-hot encoded into the clustering:
one 0/1 indicator per category, named ``"Gender = Female"``, whose scaled
values are multiplied by a stated weight (:data:`DEFAULT_CATEGORICAL_WEIGHT`)
so a category never outweighs the numeric features by accident.

A custom feature's definition comes from the column: its label is the name
without a trailing parenthesis, its unit is the parenthesis
(``"Annual Income (k$)"`` → label ``Annual Income``, unit ``k$``), and how it
is measured is "column X as given" (the data does not say more).

What the data page and the CLI report about each feature
(:func:`feature_checks`): values missing (imputed with the median), a
constant column (refused), a near-constant one (left out, the same rule as
the built-in features: :func:`pipeline.features.definitions.negligible_spread`)
and a heavy tail (skewness above :data:`HEAVY_TAIL_SKEW`; the ``log1p`` or
``yeo-johnson`` scaling tames it).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

from pipeline.data.quality import QualityItem
from pipeline.features.definitions import FEATURE_DEFINITIONS, ID_COLUMN, FeatureDefinition

#: Columns the scored customer table uses itself: a custom feature may not be called so.
RESERVED_COLUMNS: frozenset[str] = frozenset(
    {
        ID_COLUMN,
        "Cluster",
        "Segment",
        "PC1",
        "PC2",
        "PC3",
        "p_alive",
        "expected_clv",
        "Enrolled",
        "Recency",
        "Is_Outlier",
        "Outlier_Reason",
        *FEATURE_DEFINITIONS,
    }
)
#: Separator between a categorical column and its category in an indicator feature's name.
INDICATOR_SEPARATOR = " = "
#: Weight of each one-hot indicator in the scaled space (1 = as much as a numeric feature).
DEFAULT_CATEGORICAL_WEIGHT = 0.5
#: Most categories a column may have to be one-hot encoded (more: profiled only).
MAX_CATEGORIES = 12
#: Above this skewness a feature is called heavy-tailed.
HEAVY_TAIL_SKEW = 2.0

_SCALE = re.compile(r"^-?\d+(\.\d+)?\s*(-|–|to)\s*-?\d+(\.\d+)?$")
_UNIT = re.compile(r"^(?P<label>.*?)\s*[\(\[](?P<unit>[^\)\]]{1,20})[\)\]]\s*$")


def indicator_name(column: str, category: str) -> str:
    """``"Gender = Female"``: the feature that is 1 for customers whose ``column`` is ``category``."""
    return f"{column}{INDICATOR_SEPARATOR}{category}"


def split_indicator(name: str) -> tuple[str, str] | None:
    """``("Gender", "Female")`` for an indicator feature's name, else None."""
    if INDICATOR_SEPARATOR not in name:
        return None
    column, category = name.split(INDICATOR_SEPARATOR, 1)
    return column, category


def label_and_unit(column: str) -> tuple[str, str]:
    """A column name split into label and unit: ``"Annual Income (k$)"`` → ``("Annual Income", "k$")``.

    Without a trailing parenthesis the unit is empty; a parenthesised scale
    such as ``(1-100)`` stays in the label (``"Spending Score (1-100)"``, no
    unit); underscores read as spaces.
    """
    text = str(column).replace("_", " ").strip()
    m = _UNIT.match(text)
    if m and m.group("label"):
        unit = m.group("unit").strip()
        if _SCALE.match(unit):  # "(1-100)" is a scale, not a unit: it stays in the label
            return text, ""
        return m.group("label").strip(), unit
    return text, ""


def custom_definition(name: str) -> FeatureDefinition:
    """The definition of a custom feature (a column as given, or a one-hot indicator).

    Examples
    --------
    ``custom_definition("Annual Income (k$)")``: label ``Annual Income``,
    unit ``k$``, formula ``column "Annual Income (k$)" as given``, short
    ``annual income``.
    """
    parts = split_indicator(name)
    if parts is not None:
        column, category = parts
        label = f"{label_and_unit(column)[0]}: {category}"
        return FeatureDefinition(
            name=name,
            label=label,
            formula=f'1 when column "{column}" is "{category}", else 0 (one-hot)',
            unit="share",
            description=f'Whether the customer\'s "{column}" is "{category}" (a segment\'s average is its share).',
            short=f"{category.lower()}",
            min_spread=None,
        )
    label, unit = label_and_unit(name)
    return FeatureDefinition(
        name=name,
        label=label,
        formula=f'column "{name}" as given',
        unit=unit,
        description=f'The column "{name}" as given in the data; the data does not say how it was measured.',
        short=_UNIT.sub(lambda m: m.group("label"), label).lower(),
        min_spread=None,
    )


def is_numeric_column(values: pd.Series, min_share: float = 0.8) -> bool:
    """Mostly numbers (at least ``min_share`` of the values present) and not constant."""
    from pipeline.data.coerce import read_numbers

    present = values.loc[values.notna()]
    if present.empty:
        return False
    num, _ = read_numbers(present.head(500))
    return bool(num.notna().mean() >= min_share and present.nunique() > 1)


def categorical_columns(table: pd.DataFrame, exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Text columns with 2 to :data:`MAX_CATEGORIES` distinct values (profilable, one-hot encodable)."""
    out = []
    for col in table.columns:
        name = str(col)
        if name in exclude or is_numeric_column(table[col]):
            continue
        n = table[col].dropna().astype(str).str.strip().replace("", np.nan).dropna().nunique()
        if 2 <= n <= MAX_CATEGORIES:
            out.append(name)
    return tuple(out)


def one_hot(values: pd.Series, column: str) -> pd.DataFrame:
    """One 0/1 indicator column per category of ``values`` (missing: a category ``"Unknown"``), sorted."""
    text = values.astype("string").str.strip().replace("", pd.NA).fillna("Unknown").astype(str)
    cats = sorted(text.unique())
    return pd.DataFrame(
        {indicator_name(column, c): (text == c).astype("float64").to_numpy() for c in cats}, index=values.index
    )


@dataclasses.dataclass(frozen=True)
class FeatureCheck:
    """What the data shows about one candidate feature (for the data page and the CLI).

    Attributes
    ----------
    name : str
        The feature.
    missing : int
        Customers without a value (imputed with the median when clustered).
    distinct : int
        Distinct values.
    skew : float or None
        Sample skewness (``None``: fewer than three values).
    verdict : str
        ``"ok"``, ``"heavy_tail"`` (clusterable; log1p or yeo-johnson scaling
        advised), ``"near_constant"`` (left out) or ``"constant"``/``"empty"``
        (refused).
    message : str
        The verdict in one sentence.
    """

    name: str
    missing: int
    distinct: int
    skew: float | None
    verdict: str
    message: str

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form."""
        return dataclasses.asdict(self)


def feature_checks(customers: pd.DataFrame, features: tuple[str, ...]) -> list[FeatureCheck]:
    """Missing values, constant / near-constant spread and heavy tails of each feature.

    Parameters
    ----------
    customers : DataFrame
        One row per customer.
    features : tuple of str
        The features to check (absent ones are skipped).
    """
    from pipeline.features.definitions import negligible_spread

    flat = negligible_spread(customers, features)
    out = []
    for f in features:
        if f not in customers.columns:
            continue
        col = pd.to_numeric(customers[f], errors="coerce")
        present = col.dropna()
        missing = int(col.isna().sum())
        distinct = int(present.nunique())
        skew = float(present.skew()) if len(present) >= 3 and distinct > 1 else None
        label = custom_definition(f).label if f not in FEATURE_DEFINITIONS else FEATURE_DEFINITIONS[f].label
        if present.empty:
            verdict, msg = "empty", f"{label}: no values; it cannot be clustered."
        elif distinct <= 1:
            verdict, msg = "constant", f"{label}: the same value for every customer; it cannot separate segments."
        elif f in flat:
            verdict, msg = "near_constant", f"{flat[f]}; left out of the clustering."
        elif skew is not None and abs(skew) > HEAVY_TAIL_SKEW:
            verdict = "heavy_tail"
            msg = (
                f"{label}: heavy-tailed (skewness {skew:.1f}); a few extreme customers would dominate standard "
                "scaling: choose log1p or yeo-johnson scaling."
            )
        else:
            verdict, msg = "ok", f"{label}: usable."
        if missing and verdict not in ("empty",):
            msg += f" {missing:,} missing values are imputed with the median."
        out.append(FeatureCheck(f, missing, distinct, skew, verdict, msg))
    return out


def heavy_tail_items(customers: pd.DataFrame, features: tuple[str, ...]) -> tuple[QualityItem, ...]:
    """One ``heavy_tail`` info item per heavy-tailed feature (see :func:`feature_checks`)."""
    return tuple(
        QualityItem("heavy_tail", "info", 0, c.message, column=c.name)
        for c in feature_checks(customers, features)
        if c.verdict == "heavy_tail"
    )
