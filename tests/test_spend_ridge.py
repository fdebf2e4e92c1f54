"""The ridge rule for the spend model (issue #12): the Gamma-Gamma fit when customers' average spend does not differ.

When every customer has the same mean spend per purchase (only purchase-to-purchase noise),
the Gamma-Gamma likelihood has no finite maximum: ``q`` (and ``gamma``) run away.  The spend
fit then takes L-BFGS-B's first look, sees ``q >= RIDGE`` and applies the purchase model's
rule (:func:`pipeline.churn.measure._off_the_ridge`): the smallest penalty that gives finite
values, said in the note.  Off the ridge the fit is the plain one, to the bit.  Known answers
on planted data (fixed seeds); no wall clock.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from pipeline.churn import measure
from pipeline.churn.gamma_gamma import GammaGammaModel, in_larger_units
from pipeline.churn.inputs import ChurnInputs
from pipeline.churn.simulate import simulate_gamma_gamma

PLANTED = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def spend_inputs(x: np.ndarray, m: np.ndarray) -> tuple[ChurnInputs, np.ndarray]:
    inputs = ChurnInputs(
        x=x, t_x=np.where(x > 0, 1.0, 0.0), T=np.full(x.size, 10.0), monetary=m, source="marketing",
        as_of=dt.date(2024, 1, 1),
    )  # fmt: skip
    return inputs, np.ones(x.size, bool)


def same_mean_spend(seed: int, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Every customer's purchases ~ Gamma(2, rate 0.1) (mean 20); ``m`` = mean of the x + 1 purchases."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, n).astype(float)
    k = x + 1
    return x, rng.gamma(k * 2.0, 1.0 / (k * 0.1))


def plain_note(gg: GammaGammaModel) -> str:
    return (
        f"Spend model fitted on {gg.n_customers_:,} customers with repeat purchases and a positive spend; correlation "
        f"of repeat purchases and spend per purchase {gg.frequency_monetary_corr_:+.2f} (the model assumes 0)."
    )


def penalised(x: np.ndarray, m: np.ndarray, penalty: float) -> GammaGammaModel:
    unit = float(m.mean())
    return in_larger_units(GammaGammaModel(penalizer=penalty).fit(x + 1.0, m / unit), unit)


@pytest.fixture(scope="module")
def degenerate() -> tuple[np.ndarray, np.ndarray]:
    return same_mean_spend(1)


def test_planted_spend_differences_are_fitted_as_before_and_not_noted() -> None:
    x = np.random.default_rng(0).integers(1, 4, 5000).astype(float)
    z = simulate_gamma_gamma(x + 1.0, PLANTED, random_state=0)
    gg, note = measure._fit_spend(*spend_inputs(x, z))
    before = GammaGammaModel().fit(x + 1.0, z)  # the fit before the rule
    assert gg.params_ == before.params_ and gg.log_likelihood_ == before.log_likelihood_
    assert gg.penalizer == 0.0 and note == plain_note(gg)
    for k, v in PLANTED.items():
        assert abs(gg.params_[k] - v) < 3 * gg.params_se_[k], k


def test_same_mean_spend_takes_the_smallest_penalty_and_says_so(degenerate) -> None:
    x, m = degenerate
    plain = GammaGammaModel(polish=False).fit(x + 1.0, m)
    assert plain.params_["q"] >= measure.RIDGE  # on the ridge: q = 4.56e+06
    gg, note = measure._fit_spend(*spend_inputs(x, m))
    expected = penalised(x, m, 1e-10)
    assert gg.params_ == expected.params_ and gg.penalizer == 1e-10 and gg.params_["q"] < measure.RIDGE
    drop = plain.log_likelihood_ - gg.log_likelihood_
    assert note == plain_note(gg) + (
        " Its likelihood has no maximum at finite q (no sign that customers' average spend per purchase differs "
        "beyond the purchase-to-purchase noise: the plain fit runs to q = 4.56e+06), so each customer's expected "
        f"spend per purchase is close to the population mean, 20.03; a penalty of 1e-10 × (p² + q² + (gamma / "
        f"19.97)²) picks finite values, at a log-likelihood {drop:.1f} lower ({drop / 2000:.4f} per customer)."
    )
    assert 0 < drop < 1
    # In the limit of one mean spend for everyone, its estimate is total spend / purchases, and every
    # customer's expected spend is that mean.
    k = x + 1.0
    assert gg.population_mean_ == pytest.approx(float((k * m).sum() / k.sum()), rel=1e-3)
    e = gg.expected_average_value(k, m)
    assert np.abs(e / gg.population_mean_ - 1.0).max() < 0.025


def test_the_spend_ridge_threshold_is_strict(monkeypatch, degenerate) -> None:
    x, m = degenerate
    inputs, ok = spend_inputs(x, m)
    at_plain = GammaGammaModel(polish=False).fit(x + 1.0, m).params_["q"]
    monkeypatch.setattr(measure, "RIDGE", at_plain)  # exactly at the threshold: the rule applies
    gg, note = measure._fit_spend(inputs, ok)
    assert gg.penalizer == 1e-10 and "a penalty of 1e-10 ×" in note
    monkeypatch.setattr(measure, "RIDGE", penalised(x, m, 1e-10).params_["q"])  # the first penalty: at it
    gg, note = measure._fit_spend(inputs, ok)
    assert gg.params_ == penalised(x, m, 1e-9).params_ and "a penalty of 1e-09 ×" in note
    monkeypatch.setattr(measure, "RIDGE", at_plain * (1 + 1e-9))  # just above the plain fit: the plain fit
    gg, note = measure._fit_spend(inputs, ok)
    assert gg.params_ == GammaGammaModel().fit(x + 1.0, m).params_
    assert gg.penalizer == 0.0 and note == plain_note(gg)


def test_off_the_ridge_an_unconverged_first_look_gets_the_full_fit(monkeypatch) -> None:
    x, m = same_mean_spend(5)
    quick = GammaGammaModel(polish=False).fit(x + 1.0, m)
    assert not quick.converged_ and quick.params_["q"] == pytest.approx(5.08e6, rel=1e-3)
    monkeypatch.setattr(measure, "RIDGE", 1e7)  # not on the ridge by this threshold: Nelder-Mead as before
    gg, note = measure._fit_spend(*spend_inputs(x, m))
    assert gg.params_ == GammaGammaModel().fit(x + 1.0, m).params_ and note == plain_note(gg)


def test_no_penalty_reaching_finite_values_keeps_the_plain_fit(monkeypatch, degenerate) -> None:
    x, m = degenerate
    largest = penalised(x, m, measure.RIDGE_PENALTIES[-1]).params_["q"]
    monkeypatch.setattr(measure, "RIDGE", largest)  # not below it: no penalty gives "finite" values
    gg, note = measure._fit_spend(*spend_inputs(x, m))
    assert gg.params_ == GammaGammaModel().fit(x + 1.0, m).params_ and note == plain_note(gg)


def test_a_fit_in_larger_units_is_restated_in_the_original_ones() -> None:
    x = np.random.default_rng(0).integers(1, 4, 3000).astype(float)
    z = simulate_gamma_gamma(x, PLANTED, random_state=0)
    direct = GammaGammaModel().fit(x, z)
    scaled = GammaGammaModel().fit(x, z / 40.0)
    restated = in_larger_units(scaled, 40.0)
    assert scaled.params_["gamma"] == pytest.approx(direct.params_["gamma"] / 40.0, rel=1e-5)
    for k in ("p", "q", "gamma"):
        assert restated.params_[k] == pytest.approx(direct.params_[k], rel=1e-5), k
        assert restated.params_se_[k] == pytest.approx(direct.params_se_[k], rel=1e-3), k
    # each of the 3,000 densities is 1/40 as large in the original units
    assert scaled.log_likelihood_ - restated.log_likelihood_ == pytest.approx(3000 * np.log(40.0), rel=1e-12)
    assert restated.log_likelihood_ == pytest.approx(direct.log_likelihood_, abs=1e-6)
    assert (restated.n_customers_, restated.converged_) == (3000, direct.converged_)


def test_without_polish_the_first_look_is_l_bfgs_b_alone(degenerate) -> None:
    x, m = same_mean_spend(5)
    quick = GammaGammaModel(polish=False).fit(x + 1.0, m)
    full = GammaGammaModel().fit(x + 1.0, m)
    assert full.log_likelihood_ >= quick.log_likelihood_ and full.params_ != quick.params_
    x, m = degenerate  # L-BFGS-B converged (on the ridge's flat top): nothing to polish, the same fit
    assert GammaGammaModel(polish=False).fit(x + 1.0, m).params_ == GammaGammaModel().fit(x + 1.0, m).params_
