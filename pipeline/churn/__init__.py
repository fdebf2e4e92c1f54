"""Churn and lifetime value: BG/NBD (still active? how many purchases?) and Gamma-Gamma (spend per purchase).

Small maximum-likelihood implementations on scipy (see :mod:`pipeline.churn.bgnbd`),
the expected customer lifetime value (:func:`expected_clv`) and simulators that draw
customers from the models themselves.  Importing the package does no work.
"""

from pipeline.churn.bgnbd import BetaGeoModel
from pipeline.churn.clv import expected_clv
from pipeline.churn.gamma_gamma import GammaGammaModel
from pipeline.churn.simulate import simulate_bgnbd, simulate_gamma_gamma

__all__ = ["BetaGeoModel", "GammaGammaModel", "expected_clv", "simulate_bgnbd", "simulate_gamma_gamma"]
