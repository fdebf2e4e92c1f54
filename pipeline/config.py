"""The one settings object.

:class:`Settings` is frozen and passed explicitly to every function that needs
it; nothing in the package reads configuration from module globals or the
environment.  Only the fields that change a fitted model enter
:meth:`Settings.model_hash`, so moving the models directory does not
invalidate the cache.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from .errors import SegmentationError

#: The four behavioural features clustered by default, in display order.
DEFAULT_FEATURES: tuple[str, ...] = (
    "Customer_Value",
    "Purchase_Frequency",
    "Campaign_Response",
    "Customer_For_Years",
)

#: Model names accepted by :func:`pipeline.segmentation.model.make_clusterer`.
MODEL_NAMES: tuple[str, ...] = (
    "kmeans",
    "agglomerative",
    "gmm",
    "birch",
    "dbscan",
    "hdbscan",
)

#: Preprocessing variants accepted by :func:`pipeline.segmentation.model.make_scaler`.
SCALINGS: tuple[str, ...] = ("standard", "log1p", "yeo-johnson")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything that determines a segmentation run.

    Parameters
    ----------
    k : int
        Number of segments for the k-based models.
    model : str
        Clustering model, one of :data:`MODEL_NAMES`.
    scaling : str
        Preprocessing before clustering, one of :data:`SCALINGS`.
    features : tuple of str
        Engineered features that are clustered: the behavioural ones, or any
        numeric columns of a customer table (custom features, see
        :mod:`pipeline.features.custom`).
    feature_weights : tuple of (str, float)
        Weight of a clustered feature in the scaled space where not 1 (the
        one-hot indicators of a categorical column); empty: all weigh 1.
    as_of : datetime.date or None
        Reference date for tenure and age; ``None`` means the latest
        enrolment date found in the data.
    random_state : int
        Seed for every random step (KMeans init, bootstraps, sampling).
    n_init : int
        KMeans restarts.
    sample_rows, sample_seed : int
        Size and seed of the built-in sample data set.
    models_dir : Path
        Where artifacts are written and looked up.
    bootstrap_resamples : int
        Resamples used to measure segment stability in the comparison.
    max_exact_rows : int
        Above this many customers, silhouette and quadratic-memory models
        are computed on a stratified sample of this size.
    data_dir : Path
        Where uploaded files and the state database (owners, versions, jobs) live.
    max_upload_mb : int
        Largest file accepted through the browser (larger: use the CLI).
    horizon_months : int
        Future period of the expected customer lifetime value (CLV), in
        months (1 to 120; default 12).
    margin : float
        Share of revenue kept as profit, applied to the expected CLV
        (0 < margin <= 1; default 1: the CLV is revenue).
    annual_discount_rate : float
        Yearly rate the future purchases of the CLV are discounted at
        (0 <= rate < 1; default 0: no discounting).
    inactive_threshold : float
        A customer is *likely inactive* when the churn model's probability
        of still being active (``p_alive``) is below this (default 0.5: more
        likely inactive than active).  Segments report the share of likely
        inactive customers and their expected CLV (value at risk).
    secret_file : Path or None
        Where this installation's secret is kept (see :mod:`pipeline.store.keys`);
        ``None`` means ``$XDG_CONFIG_HOME/customer-segments/secret-key``.  Never
        inside the repository or the models folder; not part of the model hash.
    """

    k: int = 4
    model: str = "kmeans"
    scaling: str = "standard"
    features: tuple[str, ...] = DEFAULT_FEATURES
    feature_weights: tuple[tuple[str, float], ...] = ()
    as_of: dt.date | None = None
    random_state: int = 42
    n_init: int = 10
    sample_rows: int = 2240
    sample_seed: int = 2014
    models_dir: Path = Path("models")
    bootstrap_resamples: int = 20
    max_exact_rows: int = 20_000
    data_dir: Path = Path("data")
    max_upload_mb: int = 50
    horizon_months: int = 12
    margin: float = 1.0
    annual_discount_rate: float = 0.0
    inactive_threshold: float = 0.5
    secret_file: Path | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.k, int) or isinstance(self.k, bool) or not 2 <= self.k <= 12:
            raise SegmentationError(f"k must be a whole number from 2 to 12, got {self.k!r}.")
        if self.model not in MODEL_NAMES:
            raise SegmentationError(f"Unknown model {self.model!r}; choose one of {', '.join(MODEL_NAMES)}.")
        if self.scaling not in SCALINGS:
            raise SegmentationError(f"Unknown scaling {self.scaling!r}; choose one of {', '.join(SCALINGS)}.")
        if len(self.features) < 2 or len(set(self.features)) != len(self.features):
            raise SegmentationError("At least two distinct features are needed to segment.")
        if self.sample_rows < 10:
            raise SegmentationError("The sample needs at least 10 rows.")
        if self.max_exact_rows < 100:
            raise SegmentationError("max_exact_rows must be at least 100.")
        if not isinstance(self.horizon_months, int) or isinstance(self.horizon_months, bool):
            raise SegmentationError(f"The horizon must be a whole number of months, got {self.horizon_months!r}.")
        if not 1 <= self.horizon_months <= 120:
            raise SegmentationError(f"The horizon must be 1 to 120 months, got {self.horizon_months}.")
        if not 0 < self.margin <= 1:
            raise SegmentationError(
                f"The margin must be above 0 and at most 1 (a share of revenue), got {self.margin!r}."
            )
        if not 0 <= self.annual_discount_rate < 1:
            raise SegmentationError(
                f"The annual discount rate must be at least 0 and below 1 (0.1 = 10%), got {self.annual_discount_rate!r}."
            )
        if not 0 < self.inactive_threshold < 1:
            raise SegmentationError(
                f"The inactive threshold must be a probability above 0 and below 1, got {self.inactive_threshold!r}."
            )
        object.__setattr__(self, "features", tuple(self.features))
        weights = tuple((str(f), float(w)) for f, w in dict(self.feature_weights).items() if float(w) != 1.0)
        if any(not 0 < w <= 1 for _, w in weights):
            raise SegmentationError("A feature weight must be above 0 and at most 1.")
        object.__setattr__(self, "feature_weights", tuple(sorted(weights)))
        object.__setattr__(self, "models_dir", Path(self.models_dir))
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.secret_file is not None:
            object.__setattr__(self, "secret_file", Path(self.secret_file))

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def model_fields(self) -> dict[str, Any]:
        """The JSON-safe fields that change a fitted model."""
        return {
            "k": self.k,
            "model": self.model,
            "scaling": self.scaling,
            "features": list(self.features),
            # Only when set: models without weights keep their hash.
            **({"feature_weights": [list(fw) for fw in self.feature_weights]} if self.feature_weights else {}),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "random_state": self.random_state,
            "n_init": self.n_init,
            # Above this size quadratic models are fitted on a sample: it changes them.
            "max_exact_rows": self.max_exact_rows,
            # The churn figures (per-customer expected CLV, per-segment value at risk) are stored in the artifact.
            "horizon_months": self.horizon_months,
            "margin": self.margin,
            "annual_discount_rate": self.annual_discount_rate,
            "inactive_threshold": self.inactive_threshold,
        }

    def model_hash(self) -> str:
        """SHA-256 of :meth:`model_fields` (stable across runs and machines)."""
        blob = json.dumps(self.model_fields(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


def parse_date(text: str) -> dt.date:
    """Parse an ISO ``YYYY-MM-DD`` date given on the command line or in the UI.

    Raises
    ------
    SegmentationError
        If ``text`` is not an ISO date.
    """
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise SegmentationError(f"The as-of date {text!r} is not a date in the form YYYY-MM-DD.") from None
