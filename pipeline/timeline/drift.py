"""Drift between two snapshots: feature distributions, segment shares, segment centres.

Population stability index (PSI)
--------------------------------
Per feature, the earlier snapshot's values are cut into :data:`PSI_BINS`
quantile bins (ties merge bins, so a count feature may get fewer); both
snapshots' shares per bin are compared::

    PSI = sum over bins of (actual - expected) * ln(actual / expected)

An empty bin's share is replaced by :data:`PSI_EPSILON` (0.0001) so the
logarithm stays finite.  Missing values are left out.  The usual reading:
below 0.1 stable, 0.1 to 0.25 moderate shift, 0.25 or more major shift.

Segment share change
    Percentage points: share of customers in the later snapshot minus share
    in the earlier one.
Centroid shift
    Per segment, the distance between its members' mean feature values in
    the two snapshots, Euclidean in units of the earlier snapshot's standard
    deviation per feature.

Retrain recommendation
----------------------
Retraining is recommended when any feature's PSI is at least
:data:`RETRAIN_PSI` (0.25, a major shift) or any segment's centre moved at
least :data:`RETRAIN_SHIFT_SD` (0.5) standard deviations: the model's segments
then describe customers who are no longer there.  Alerts are raised from
PSI 0.1, share changes of :data:`SHARE_ALERT_POINTS` (2) points or more, and
centroid shifts of 0.5 standard deviations or more.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from pipeline.timeline.snapshot import SEGMENT, Snapshot

PSI_BINS = 10
PSI_EPSILON = 1e-4
PSI_MODERATE = 0.1
RETRAIN_PSI = 0.25
RETRAIN_SHIFT_SD = 0.5
SHARE_ALERT_POINTS = 2.0


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = PSI_BINS, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of ``actual`` against ``expected`` (quantile bins of ``expected``).

    Returns NaN when either side has no value.
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    e, a = e[~np.isnan(e)], a[~np.isnan(a)]
    if not len(e) or not len(a):
        return float("nan")
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    n_bins = len(edges) + 1
    pe = np.bincount(np.searchsorted(edges, e, side="right"), minlength=n_bins) / len(e)
    pa = np.bincount(np.searchsorted(edges, a, side="right"), minlength=n_bins) / len(a)
    pe = np.where(pe > 0, pe, epsilon)
    pa = np.where(pa > 0, pa, epsilon)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def psi_band(value: float) -> str:
    """``"stable"`` (< 0.1), ``"moderate"`` (< 0.25), ``"major"``, or ``"not measured"`` (NaN)."""
    if not np.isfinite(value):
        return "not measured"
    return "stable" if value < PSI_MODERATE else "moderate" if value < RETRAIN_PSI else "major"


@dataclasses.dataclass(frozen=True)
class FeatureDrift:
    """PSI of one feature."""

    name: str
    psi: float
    band: str


@dataclasses.dataclass(frozen=True)
class SegmentDrift:
    """Share and centre of one segment in both snapshots."""

    key: str
    name: str
    share_before: float
    share_after: float
    centroid_shift_sd: float

    @property
    def share_change_points(self) -> float:
        """Percentage points gained (negative: lost)."""
        return 100.0 * (self.share_after - self.share_before)


@dataclasses.dataclass(frozen=True)
class Drift:
    """What changed between two snapshots, with alerts and the retrain recommendation."""

    features: tuple[FeatureDrift, ...]
    segments: tuple[SegmentDrift, ...]
    alerts: tuple[str, ...]
    retrain_recommended: bool

    def to_json(self) -> dict[str, Any]:
        """The ``drift`` object of the CLI's JSON."""
        return {
            "features": [{"name": f.name, "psi": _num(f.psi)} for f in self.features],
            "segment_share_change": {s.key: round(s.share_change_points, 2) for s in self.segments},
            "alerts": list(self.alerts),
            "retrain_recommended": self.retrain_recommended,
        }


def _num(v: float) -> float | None:
    return round(float(v), 4) if np.isfinite(v) else None


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def drift(before: Snapshot, after: Snapshot) -> Drift:
    """PSI per shared feature, share change and centroid shift per segment, alerts (see the module docstring)."""
    features = tuple(f for f in before.features if f in after.features)
    a, b = before.customers, after.customers
    feats = tuple(FeatureDrift(f, v, psi_band(v)) for f in features for v in [psi(a[f].to_numpy(), b[f].to_numpy())])
    sd = a[list(features)].std(ddof=0).replace(0, np.nan)
    mean_a = a.groupby(SEGMENT, observed=True)[list(features)].mean()
    mean_b = b.groupby(SEGMENT, observed=True)[list(features)].mean()
    share_a = a[SEGMENT].value_counts(normalize=True)
    share_b = b[SEGMENT].value_counts(normalize=True)
    names = {**after.names(), **before.names()}
    keys = list(dict.fromkeys([s.key for s in before.segments] + [s.key for s in after.segments]))
    segs = []
    for k in keys:
        shift = float("nan")
        if k in mean_a.index and k in mean_b.index:
            z = ((mean_b.loc[k] - mean_a.loc[k]) / sd).dropna().to_numpy(dtype=float)
            shift = float(np.sqrt(np.sum(z**2))) if len(z) else float("nan")
        segs.append(SegmentDrift(k, names[k], float(share_a.get(k, 0.0)), float(share_b.get(k, 0.0)), shift))

    since = before.as_of.isoformat()
    alerts = []
    for s in segs:
        if abs(s.share_change_points) >= SHARE_ALERT_POINTS:
            verb = "grew" if s.share_change_points > 0 else "shrank"
            alerts.append(
                f"{s.name} {verb} from {_pct(s.share_before)} to {_pct(s.share_after)} of customers since {since}."
            )
    for f in feats:
        if f.band in ("moderate", "major"):
            alerts.append(
                f"{f.name} shifted ({f.band}: PSI {f.psi:.2f}) between {since} and {after.as_of.isoformat()}."
            )
    for s in segs:
        if np.isfinite(s.centroid_shift_sd) and s.centroid_shift_sd >= RETRAIN_SHIFT_SD:
            alerts.append(f"The centre of {s.name} moved {s.centroid_shift_sd:.1f} standard deviations since {since}.")
    retrain = any(np.isfinite(f.psi) and f.psi >= RETRAIN_PSI for f in feats) or any(
        np.isfinite(s.centroid_shift_sd) and s.centroid_shift_sd >= RETRAIN_SHIFT_SD for s in segs
    )
    if retrain:
        alerts.append(
            f"Retraining is recommended: a feature's PSI reached {RETRAIN_PSI} or a segment's centre moved "
            f"{RETRAIN_SHIFT_SD} standard deviations or more."
        )
    return Drift(feats, tuple(segs), tuple(alerts), retrain)
