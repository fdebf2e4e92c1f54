"""What a churn measurement gives: per customer, per segment, the holdout check, and the whole.

:class:`ChurnMeasurement` is what :func:`pipeline.churn.measure.measure_churn`
returns (its :meth:`~ChurnMeasurement.to_dict` is the manifest's ``churn_model``);
:class:`SegmentChurn` aggregates a segment's customers (:func:`segment_churn`),
:class:`CustomerChurn` is one customer's figures (the simulator) and
:class:`HoldoutCheck` compares predicted with observed purchases on a holdout period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np

from pipeline.config import Settings


@dataclasses.dataclass(frozen=True)
class CustomerChurn:
    """One customer's measured figures (see the module docstring).

    ``expected_clv`` is None when the model has no spend part; all are NaN
    when the customer's inputs cannot be measured.
    """

    p_alive: float
    expected_purchases: float
    expected_clv: float | None


@dataclasses.dataclass(frozen=True)
class SegmentChurn:
    """A segment's churn figures (over its members with a measured ``p_alive``).

    Attributes
    ----------
    share_likely_inactive : float or None
        Share of members with ``p_alive`` below the threshold.
    mean_p_alive : float or None
    mean_clv, total_clv : float or None
        Mean and total expected CLV; None without a spend model.
    value_at_risk : float or None
        Total expected CLV of the likely inactive members; None without a spend model.
    """

    share_likely_inactive: float | None
    mean_p_alive: float | None
    mean_clv: float | None
    total_clv: float | None
    value_at_risk: float | None

    def to_dict(self) -> dict[str, float | None]:
        """JSON-safe form (the manifest's per-segment ``churn``)."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class HoldoutGroup:
    """Calibration customers with a given number of repeat purchases, predicted vs actual."""

    repeat_purchases: str
    n_customers: int
    predicted_mean: float
    actual_mean: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class HoldoutCheck:
    """Predicted and actual purchase days in a period the model did not see.

    Attributes
    ----------
    kind : str
        ``"after_as_of"`` (the log's lines after the as-of date) or
        ``"internal"`` (refitted on the period up to ``calibration_end``).
    calibration_end, end : date
        The holdout period is ``(calibration_end, end]``.
    n_customers : int
        Customers who had bought by ``calibration_end``.
    predicted_total, actual_total : float
        Purchase days in the period, predicted and counted.
    groups : tuple of HoldoutGroup
        Per number of calibration repeat purchases (0..6, 7+).
    params : dict
        BG/NBD parameters used for the prediction (the refit, for an internal holdout).
    """

    kind: str
    calibration_end: dt.date
    end: dt.date
    n_customers: int
    predicted_total: float
    actual_total: float
    groups: tuple[HoldoutGroup, ...]
    params: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (``churn_model["holdout"]``)."""
        days = (self.end - self.calibration_end).days
        if self.kind == "after_as_of":
            how = (
                f"Model fitted on purchases up to {self.calibration_end.isoformat()} (the as-of date); "
                f"purchase days in the log after it, to {self.end.isoformat()}, compared with the prediction."
            )
        else:
            how = (
                "The log has no lines after the as-of date, so the model was refitted on purchases up to "
                f"{self.calibration_end.isoformat()} (two thirds of the period) and its prediction compared "
                f"with the purchase days from then to {self.end.isoformat()}."
            )
        return {
            "kind": self.kind,
            "period": {"start": self.calibration_end.isoformat(), "end": self.end.isoformat(), "days": days},
            "n_customers": self.n_customers,
            "predicted_total": self.predicted_total,
            "actual_total": self.actual_total,
            "by_repeat_purchases": [g.to_dict() for g in self.groups],
            "params": dict(self.params),
            "how_measured": how,
        }


@dataclasses.dataclass(frozen=True, eq=False)
class ChurnMeasurement:
    """The fitted churn and spend models of a data set and every customer's figures.

    Attributes
    ----------
    reason : str or None
        Why nothing was measured (then every other model field is empty and
        the per-customer arrays are NaN).
    p_alive, expected_purchases, expected_clv : ndarray
        One value per row of the customer table (NaN where not measured).
    """

    reason: str | None
    p_alive: np.ndarray
    expected_purchases: np.ndarray
    expected_clv: np.ndarray
    bg_params: dict[str, float] = dataclasses.field(default_factory=dict)
    gg_params: dict[str, float] | None = None
    n_customers_fitted: int = 0
    transactions_after_as_of: int = 0
    holdout: HoldoutCheck | None = None
    as_of: dt.date | None = None
    horizon_months: int = 12
    margin: float = 1.0
    annual_discount_rate: float = 0.0
    inactive_threshold: float = 0.5
    source: str = ""
    assumptions: tuple[str, ...] = ()
    tenure_offset_days: int = 0
    spend_note: str = ""

    @property
    def measured(self) -> bool:
        """True when the model was fitted."""
        return self.reason is None

    def how_measured(self) -> str:
        """A short plain-language note on how the figures were measured."""
        if not self.measured:
            return self.reason or ""
        unit = "customers' repeat purchase days, days from first to last purchase and age in days"
        text = (
            f"BG/NBD model (Fader, Hardie & Lee 2005) fitted by maximum likelihood on {self.n_customers_fitted:,} "
            f"{unit} at {self.as_of.isoformat() if self.as_of else '?'}. p_alive is the probability that a customer "
            f"is still active; likely inactive means p_alive below {self.inactive_threshold:g}. "
        )
        if self.gg_params is None:
            text += f"No expected lifetime value: {self.spend_note}"
        else:
            text += (
                f"Expected CLV = expected purchases over the next {self.horizon_months} months × expected spend per "
                f"purchase (Gamma-Gamma model, Fader & Hardie 2013) × margin {self.margin:g}, discounted at "
                f"{self.annual_discount_rate:.0%} a year. Value at risk = expected CLV of the likely inactive customers."
            )
            if self.spend_note:
                text += f" {self.spend_note}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The manifest's ``churn_model`` (``{"model": None, "reason": ...}`` when not measured)."""
        if not self.measured:
            return {"model": None, "reason": self.reason}
        return {
            "model": "bg/nbd",
            "time_unit": "day",
            "params": dict(self.bg_params),
            "spend_model": None if self.gg_params is None else {"model": "gamma-gamma", "params": dict(self.gg_params)},
            "n_customers_fitted": self.n_customers_fitted,
            "transactions_after_as_of": self.transactions_after_as_of,
            "holdout": None if self.holdout is None else self.holdout.to_dict(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "horizon_months": self.horizon_months,
            "margin": self.margin,
            "annual_discount_rate": self.annual_discount_rate,
            "inactive_threshold": self.inactive_threshold,
            "source": self.source,
            "assumptions": list(self.assumptions),
            "how_measured": self.how_measured(),
            "tenure_offset_days": self.tenure_offset_days,
        }

    def segment(self, members: np.ndarray) -> SegmentChurn | None:
        """Figures of the customers selected by the boolean mask ``members`` (None when not measured)."""
        if not self.measured:
            return None
        return segment_churn(
            self.p_alive[members],
            self.expected_clv[members],
            self.inactive_threshold,
            has_spend_model=self.gg_params is not None,
        )


def segment_churn(
    p_alive: np.ndarray, clv: np.ndarray, threshold: float, *, has_spend_model: bool = True
) -> SegmentChurn:
    """Aggregate members' ``p_alive`` and expected CLV (customers with NaN ``p_alive`` are left out).

    Parameters
    ----------
    p_alive, clv : ndarray
        The members' values.
    threshold : float
        Likely inactive: ``p_alive < threshold``.
    has_spend_model : bool
        False: the CLV figures are None.
    """
    p = np.asarray(p_alive, dtype="float64")
    v = np.asarray(clv, dtype="float64")
    ok = np.isfinite(p)
    if not ok.any():
        return SegmentChurn(None, None, None, None, None)
    inactive = ok & (p < threshold)
    out = {
        "share_likely_inactive": float(inactive.sum() / ok.sum()),
        "mean_p_alive": float(p[ok].mean()),
        "mean_clv": None,
        "total_clv": None,
        "value_at_risk": None,
    }
    valued = ok & np.isfinite(v)
    if has_spend_model and valued.any():
        out["mean_clv"] = float(v[valued].mean())
        out["total_clv"] = float(v[valued].sum())
        out["value_at_risk"] = float(v[valued & inactive].sum())
    return SegmentChurn(**out)


@dataclasses.dataclass(frozen=True)
class PopulationChurn:
    """All customers' churn figures, over the customers whose ``p_alive`` could be measured.

    Attributes
    ----------
    n_customers, n_measured : int
        Customers in the table, and those with a measured ``p_alive``.
    n_likely_inactive : int
        Measured customers with ``p_alive`` below the threshold.
    share_likely_inactive : float
        ``n_likely_inactive / n_measured``: a share of the measured customers,
        never of customers who could not be measured.
    value_at_risk, total_clv : float or None
        Expected CLV of the likely inactive, and of all measured customers;
        None without a spend model.
    """

    n_customers: int
    n_measured: int
    n_likely_inactive: int
    share_likely_inactive: float
    value_at_risk: float | None
    total_clv: float | None

    @property
    def n_not_measured(self) -> int:
        """Customers whose ``p_alive`` could not be measured."""
        return self.n_customers - self.n_measured


def population_churn(p_alive: np.ndarray, clv: np.ndarray | None, threshold: float) -> PopulationChurn | None:
    """All customers' figures from each customer's ``p_alive`` and expected CLV (None when none is measured).

    The one computation behind the overview's KPIs, the report's and the
    priority matrix's line for all customers: a segment's share is over its
    measured members, so weighting the segments' shares by their sizes would
    count customers who were never measured.
    """
    p = np.asarray(p_alive, dtype="float64")
    measured = np.isfinite(p)
    if not measured.any():
        return None
    inactive = measured & (p < threshold)
    value_at_risk = total_clv = None
    if clv is not None:
        v = np.asarray(clv, dtype="float64")
        valued = measured & np.isfinite(v)
        if valued.any():
            value_at_risk = float(v[valued & inactive].sum())
            total_clv = float(v[valued].sum())
    return PopulationChurn(
        n_customers=int(p.size),
        n_measured=int(measured.sum()),
        n_likely_inactive=int(inactive.sum()),
        share_likely_inactive=float(inactive.sum() / measured.sum()),
        value_at_risk=value_at_risk,
        total_clv=total_clv,
    )


def not_measured(n: int, reason: str, settings: Settings) -> ChurnMeasurement:
    """A :class:`ChurnMeasurement` that says why nothing was measured."""
    nan = np.full(n, np.nan)
    return ChurnMeasurement(
        reason=reason,
        p_alive=nan,
        expected_purchases=nan.copy(),
        expected_clv=nan.copy(),
        horizon_months=settings.horizon_months,
        margin=settings.margin,
        annual_discount_rate=settings.annual_discount_rate,
        inactive_threshold=settings.inactive_threshold,
    )
