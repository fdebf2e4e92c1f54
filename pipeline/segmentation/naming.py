"""Segment names, colours and strategies inferred from centroids.

Rule (documented in the README):

1. Each segment's centroid is expressed in standardised units of the
   *population* (z-score of the segment mean of each feature: how many
   standard deviations above or below the average customer).
2. Each archetype has a prototype profile over the four features.  Only the
   features actually clustered are compared, so a model on three features is
   named from those three.  An archetype whose name claims something about a
   feature that is not clustered (``requires``: "Low Engagement" needs the
   campaign response, "New" needs tenure) is not a candidate, so names and
   strategies only state what the data shows.
3. The cost of naming segment *i* after archetype *j* is the Euclidean
   distance between the centroid and the prototype.  Segments are matched
   one-to-one to archetypes by minimising the total cost (Hungarian
   algorithm).  For k ≤ 4 only the core archetypes are candidates (while
   at least k of them are); otherwise the extended archetypes join.
4. If k exceeds the number of archetypes, each remaining segment takes its
   nearest archetype and every segment sharing an archetype is qualified by
   the feature in which it differs most from its siblings ("Low-Value ·
   higher tenure"); keys get a numeric suffix ordered by value.
5. Segments are processed in a canonical order (sorted by centroid), so the
   result never depends on how the clustering algorithm numbered them.

Colours are fixed per archetype (Okabe–Ito, colour-blind safe), so a segment
keeps its colour when the model is refit.
"""

from __future__ import annotations

import colorsys
import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from pipeline.features.definitions import FEATURE_DEFINITIONS


@dataclasses.dataclass(frozen=True)
class Archetype:
    """A kind of customer a segment can be named after."""

    key: str
    name: str
    objective: str
    actions: tuple[str, ...]
    risk: str
    colour: str
    prototype: Mapping[str, float]
    core: bool = True
    requires: tuple[str, ...] = ()


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "high_value_loyal",
        "High-Value Loyal",
        "Maximise lifetime value",
        ("VIP rewards programme", "Premium and early-access offers", "Personal account contact"),
        "low",
        "#0072B2",
        {"Customer_Value": 1.2, "Purchase_Frequency": 1.0, "Campaign_Response": 1.5, "Customer_For_Years": 0.4},
        requires=("Customer_Value",),
    ),
    Archetype(
        "high_spend_low_engagement",
        "High Spend – Low Engagement",
        "Prevent churn",
        ("Personalised win-back campaigns", "Ask for feedback on recent purchases", "Tailored product recommendations"),
        "high",
        "#D55E00",
        {"Customer_Value": 1.0, "Purchase_Frequency": 1.0, "Campaign_Response": -0.5, "Customer_For_Years": 0.0},
        requires=("Customer_Value", "Campaign_Response"),
    ),
    Archetype(
        "new_occasional",
        "New / Occasional",
        "Convert to loyal",
        ("Onboarding journey", "Second-purchase incentive", "Welcome discount on a new product family"),
        "medium",
        "#009E73",
        {"Customer_Value": -0.8, "Purchase_Frequency": -0.8, "Campaign_Response": -0.2, "Customer_For_Years": -1.1},
        requires=("Customer_For_Years",),
    ),
    Archetype(
        "low_value",
        "Low-Value",
        "Cost optimisation",
        ("Generic low-cost offers", "Automated e-mail only", "Bundle deals to lift basket size"),
        "medium",
        "#E69F00",
        {"Customer_Value": -0.8, "Purchase_Frequency": -0.8, "Campaign_Response": -0.3, "Customer_For_Years": 0.9},
        requires=("Customer_Value",),
    ),
    Archetype(
        "campaign_responsive",
        "Campaign Responsive",
        "Grow spend through campaigns",
        ("Targeted campaigns with upsell", "Loyalty points for campaign purchases"),
        "low",
        "#56B4E9",
        {"Customer_Value": -0.3, "Purchase_Frequency": -0.3, "Campaign_Response": 2.0, "Customer_For_Years": 0.0},
        core=False,
        requires=("Campaign_Response",),
    ),
    Archetype(
        "rising_star",
        "Rising Stars",
        "Nurture into high value",
        ("Early loyalty-tier upgrade", "Cross-sell to new product families"),
        "medium",
        "#CC79A7",
        {"Customer_Value": 0.8, "Purchase_Frequency": 0.8, "Campaign_Response": 0.0, "Customer_For_Years": -1.0},
        core=False,
        requires=("Customer_Value", "Customer_For_Years"),
    ),
    Archetype(
        "steady_regular",
        "Steady Regulars",
        "Keep them engaged",
        ("Regular-customer perks", "Subscription or replenishment offers"),
        "low",
        "#F0E442",
        {"Customer_Value": 0.2, "Purchase_Frequency": 0.5, "Campaign_Response": -0.3, "Customer_For_Years": 0.8},
        core=False,
        requires=("Purchase_Frequency", "Customer_For_Years"),
    ),
)
ARCHETYPE_BY_KEY: dict[str, Archetype] = {a.key: a for a in ARCHETYPES}
RISK_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2}
_EXTRA_COLOURS = ("#999999", "#8C564B", "#17BECF", "#7F7F7F", "#BCBD22")


@dataclasses.dataclass(frozen=True)
class SegmentName:
    """The name given to one cluster, with everything the app shows about it."""

    label: int
    key: str
    archetype: str
    name: str
    objective: str
    actions: tuple[str, ...]
    risk: str
    colour: str
    evidence: str
    match_distance: float

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form."""
        d = dataclasses.asdict(self)
        d["actions"] = list(self.actions)
        return d


def standardised_centroids(features: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Segment means in population standard deviations (z-scores).

    Parameters
    ----------
    features : DataFrame
        One column per clustered feature (imputed, original units).
    labels : array of int
        Cluster label per row; negative labels (noise) are ignored.

    Returns
    -------
    DataFrame
        Indexed by label (ascending), one column per feature.
    """
    mu = features.mean()
    sd = features.std(ddof=0).replace(0.0, 1.0)
    z = (features - mu) / sd
    z = z.assign(_label=np.asarray(labels))
    z = z[z["_label"] >= 0]
    return z.groupby("_label").mean().sort_index()


def evidence_text(centroid_z: Mapping[str, float]) -> str:
    """``"spend +1.6σ, frequency +1.1σ, response −0.4σ"``, strongest first."""
    items = sorted(centroid_z.items(), key=lambda kv: -abs(kv[1]))
    parts = []
    for name, z in items:
        short = FEATURE_DEFINITIONS[name].short if name in FEATURE_DEFINITIONS else name
        sign = "+" if z >= 0 else "−"
        parts.append(f"{short} {sign}{abs(z):.1f}σ")
    return ", ".join(parts)


def _cost(centroids: pd.DataFrame, archetypes: Sequence[Archetype]) -> np.ndarray:
    feats = [f for f in centroids.columns if all(f in a.prototype for a in archetypes)]
    if not feats:
        raise ValueError("no clustered feature is known to the archetypes")
    c = centroids[feats].to_numpy(dtype=float)
    p = np.array([[a.prototype[f] for f in feats] for a in archetypes])
    return np.sqrt(((c[:, None, :] - p[None, :, :]) ** 2).sum(axis=2))


def candidate_archetypes(features: Sequence[str], k: int) -> list[Archetype]:
    """The archetypes segments may be named after, given the clustered features and k.

    Archetypes whose ``requires`` are not all clustered are left out (all
    are kept if that leaves none).  For k ≤ 4 the core archetypes alone are
    used when there are at least k of them.
    """
    known = set(features)
    eligible = [a for a in ARCHETYPES if set(a.requires) <= known] or list(ARCHETYPES)
    core = [a for a in eligible if a.core]
    return core if k <= 4 and len(core) >= k else eligible


def name_segments(centroids: pd.DataFrame) -> list[SegmentName]:
    """Name every segment from its standardised centroid.

    Parameters
    ----------
    centroids : DataFrame
        Output of :func:`standardised_centroids` (index = cluster labels).

    Returns
    -------
    list of SegmentName
        One per row of ``centroids``, in the order of ``centroids.index``.
        Keys and names are unique.
    """
    if centroids.empty:
        return []
    # Canonical order: independent of how the algorithm numbered clusters.
    order = np.lexsort(centroids.to_numpy(dtype=float).T[::-1])
    canon = centroids.iloc[order]
    k = len(canon)
    pool = candidate_archetypes(tuple(canon.columns), k)
    cost = _cost(canon, pool)
    chosen: list[int] = [-1] * k
    rows, cols = linear_sum_assignment(cost)
    for r, c in zip(rows, cols, strict=True):
        chosen[r] = int(c)
    for r in range(k):  # more segments than archetypes: nearest archetype
        if chosen[r] < 0:
            chosen[r] = int(np.argmin(cost[r]))

    named: dict[int, SegmentName] = {}
    value_col = "Customer_Value" if "Customer_Value" in canon.columns else canon.columns[0]
    for a_idx in sorted(set(chosen)):
        members = [r for r in range(k) if chosen[r] == a_idx]
        arch = pool[a_idx]
        members.sort(key=lambda r: -canon.iloc[r][value_col])
        for rank, r in enumerate(members):
            label = int(canon.index[r])
            cz = canon.iloc[r].to_dict()
            name, key, colour = arch.name, arch.key, arch.colour
            if len(members) > 1:
                name = f"{arch.name} · {_qualifier(canon, r, members)}"
                key = f"{arch.key}_{rank + 1}"
                colour = arch.colour if rank == 0 else _EXTRA_COLOURS[(a_idx + rank) % len(_EXTRA_COLOURS)]
            named[label] = SegmentName(
                label=label,
                key=key,
                archetype=arch.key,
                name=name,
                objective=arch.objective,
                actions=arch.actions,
                risk=arch.risk,
                colour=colour,
                evidence=evidence_text(cz),
                match_distance=float(cost[r, a_idx]),
            )
    names = [named[int(lbl)] for lbl in centroids.index]
    _dedupe_colours(names)
    _dedupe_names(names)
    return names


def _dedupe_names(names: list[SegmentName]) -> None:
    """Number any names still shared after qualification ("… (2)"); local list only."""
    seen: dict[str, int] = {}
    for i, seg in enumerate(names):
        seen[seg.name] = seen.get(seg.name, 0) + 1
        if seen[seg.name] > 1:
            names[i] = dataclasses.replace(seg, name=f"{seg.name} ({seen[seg.name]})")


def _qualifier(canon: pd.DataFrame, r: int, members: list[int]) -> str:
    """'higher tenure' / 'lower spend': where this segment differs most from its siblings."""
    others = canon.iloc[[m for m in members if m != r]].mean()
    diff = canon.iloc[r] - others
    feat = str(diff.abs().idxmax())
    short = FEATURE_DEFINITIONS[feat].short if feat in FEATURE_DEFINITIONS else feat
    return f"{'higher' if diff[feat] > 0 else 'lower'} {short}"


def _generated_colour(n: int) -> str:
    """A further distinct colour once the palette is used up (golden-angle hues)."""
    r, g, b = colorsys.hls_to_rgb(((n * 0.618034) % 1.0), 0.5, 0.55)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def _dedupe_colours(names: list[SegmentName]) -> None:
    """Give every segment a distinct colour (mutates the local list only)."""
    seen: set[str] = set()
    spare = [*[a.colour for a in ARCHETYPES], *_EXTRA_COLOURS]
    for i, seg in enumerate(names):
        if seg.colour in seen:
            colour = next((c for c in spare if c not in seen), None) or _generated_colour(len(seen))
            names[i] = dataclasses.replace(seg, colour=colour)
        seen.add(names[i].colour)
