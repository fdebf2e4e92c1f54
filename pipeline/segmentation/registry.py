"""The one registry of clustering models.

Every clustering model the project offers has one :class:`ModelSpec` in
:data:`MODELS`: its name, display label, chart colour, how to build it for
each engine, whether it assigns new customers itself, whether it can leave
customers unassigned (noise), whether it takes k, and the most rows it is
fitted on exactly.  The command-line choices (:func:`model_names`), the
settings check (:class:`pipeline.config.Settings`), the clusterer factory
(:func:`pipeline.segmentation.model.make_clusterer`), the comparison and its
k sweep, and the dashboard's labels, colours and training form all read it,
so a new model is added here and nowhere else.

Readers look the mapping up when they are called (never copy it at import
time), so a test can swap :data:`MODELS` for a larger mapping with
``monkeypatch.setattr(registry, "MODELS", ...)``.

Importing this module does no work and imports no scikit-learn: the factories
import their estimators when called (the command line starts faster).

This is not :mod:`pipeline.store.registry` (the store of data sets and model
versions).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.config import Settings

#: A factory: ``(settings, n_rows, cap) -> unfitted estimator``; ``n_rows`` is the
#: number of training rows (None: unknown), ``cap`` the result of :meth:`ModelSpec.max_fit_rows`.
Factory = Callable[["Settings", "int | None", "int | None"], Any]

#: The engine every model has: scikit-learn in this process.
DEFAULT_ENGINE = "sklearn"

#: Largest sample Ward linkage is fitted on: it holds n²/2 float64 distances
#: in memory (10,000 rows → 400 MB).
WARD_MAX_ROWS = 10_000


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One clustering model.

    Parameters
    ----------
    name : str
        Key used on the command line, in artifacts and in the comparison.
    label : str
        Display name.
    colour : str
        Chart colour (``#RRGGBB``; the Okabe–Ito palette for the built-ins).
    factories : mapping of str to callable
        Engine name → factory building the unfitted estimator (see :data:`Factory`).
    predicts_natively : bool
        True when the fitted model assigns new customers itself; False when it
        is wrapped in :class:`pipeline.segmentation.model.NearestCentroidClusterer`.
    leaves_noise : bool
        True when it may leave customers in no segment (label -1).
    takes_k : bool
        True when it is asked for k segments (and swept over k in the
        comparison); False when it finds its own number of segments.
    quadratic : bool
        True when its time or memory grows with the square of the rows: it is
        then fitted on at most ``settings.max_exact_rows`` rows (a random
        sample; the others go to the nearest segment centroid).
    row_limit : int or None
        A fixed cap on the rows it is fitted on, whatever the settings.
    short_label : str
        Column header in the command line's k-sweep table (default: ``label``).
    """

    name: str
    label: str
    colour: str
    factories: Mapping[str, Factory]
    predicts_natively: bool
    leaves_noise: bool = False
    takes_k: bool = True
    quadratic: bool = False
    row_limit: int | None = None
    short_label: str = ""

    @property
    def short(self) -> str:
        """Short display name (``short_label``, else ``label``)."""
        return self.short_label or self.label

    def max_fit_rows(self, settings: Settings) -> int | None:
        """The largest data it fits exactly (``None``: any number of rows)."""
        caps = [c for c in (settings.max_exact_rows if self.quadratic else None, self.row_limit) if c is not None]
        return min(caps) if caps else None

    def build(self, settings: Settings, n_rows: int | None = None, engine: str = DEFAULT_ENGINE) -> Any:
        """The unfitted estimator for ``engine``.

        Raises
        ------
        ValueError
            The model has no factory for ``engine``.
        """
        if engine not in self.factories:
            raise ValueError(f"{self.label} has no {engine} engine (it has: {', '.join(self.factories)})")
        return self.factories[engine](settings, n_rows, self.max_fit_rows(settings))


# --------------------------------------------------------------------------- scikit-learn factories


def _kmeans(settings: Settings, n_rows: int | None, cap: int | None) -> Any:
    """scikit-learn's KMeans; above 100,000 rows its restarts run on a sample (:mod:`pipeline.segmentation.kmeans`)."""
    from pipeline.segmentation.kmeans import SampledRestartKMeans

    return SampledRestartKMeans(n_clusters=settings.k, n_init=settings.n_init, random_state=settings.random_state)


def _gmm(settings: Settings, n_rows: int | None, cap: int | None) -> Any:
    from sklearn.mixture import GaussianMixture

    return GaussianMixture(
        n_components=settings.k, covariance_type="full", n_init=2, random_state=settings.random_state
    )


def _birch(settings: Settings, n_rows: int | None, cap: int | None) -> Any:
    from sklearn.cluster import Birch

    return Birch(n_clusters=settings.k)


def _agglomerative(settings: Settings, n_rows: int | None, cap: int | None) -> Any:
    from sklearn.cluster import AgglomerativeClustering

    from pipeline.segmentation.model import NearestCentroidClusterer

    return NearestCentroidClusterer(
        AgglomerativeClustering(n_clusters=settings.k, linkage="ward"),
        max_fit_rows=cap,
        random_state=settings.random_state,
    )


def _dbscan(settings: Settings, n_rows: int | None, cap: int | None) -> Any:
    from sklearn.cluster import DBSCAN

    from pipeline.segmentation.model import NearestCentroidClusterer

    min_samples = max(5, 2 * len(settings.features))
    return NearestCentroidClusterer(
        DBSCAN(min_samples=min_samples), auto_eps=True, max_fit_rows=cap, random_state=settings.random_state
    )


def _hdbscan(settings: Settings, n_rows: int | None, cap: int | None) -> Any:
    """HDBSCAN with ``min_cluster_size`` 2% of the rows it is fitted on (at least 10)."""
    from sklearn.cluster import HDBSCAN

    from pipeline.segmentation.model import NearestCentroidClusterer

    fit_rows = min(n_rows, cap) if n_rows is not None and cap is not None else n_rows
    size = max(10, (fit_rows or 1000) // 50)
    return NearestCentroidClusterer(
        HDBSCAN(min_cluster_size=size, copy=True), max_fit_rows=cap, random_state=settings.random_state
    )


# --------------------------------------------------------------------------- Spark MLlib factories
# (pyspark is imported when called: the default engine and the dashboard never import it)

#: The engine key of the Spark MLlib factories (:mod:`pipeline.engines.spark`).
SPARK_ENGINE = "spark"


def _spark_kmeans(settings: Settings, n_rows: int | None, cap: int | None) -> Any:
    """MLlib KMeans (k-means|| initialisation; one run, where scikit-learn restarts ``n_init`` times)."""
    from pyspark.ml.clustering import KMeans

    return KMeans(k=settings.k, seed=settings.random_state, initMode="k-means||", maxIter=50, tol=1e-4)


def _spark_gmm(settings: Settings, n_rows: int | None, cap: int | None) -> Any:
    """MLlib Gaussian mixture (full covariances, like the scikit-learn factory)."""
    from pyspark.ml.clustering import GaussianMixture

    return GaussianMixture(k=settings.k, seed=settings.random_state, maxIter=100, tol=1e-3)


def _spec(
    name: str, label: str, colour: str, factory: Factory, spark: Factory | None = None, **flags: Any
) -> ModelSpec:
    factories = {DEFAULT_ENGINE: factory, **({SPARK_ENGINE: spark} if spark is not None else {})}
    return ModelSpec(name=name, label=label, colour=colour, factories=MappingProxyType(factories), **flags)


#: Every model, in display order (the first is the default).
MODELS: Mapping[str, ModelSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _spec("kmeans", "KMeans", "#0072B2", _kmeans, spark=_spark_kmeans, predicts_natively=True),
            _spec(
                "agglomerative",
                "Agglomerative (Ward)",
                "#E69F00",
                _agglomerative,
                short_label="Ward",
                predicts_natively=False,
                quadratic=True,
                row_limit=WARD_MAX_ROWS,
            ),
            _spec(
                "gmm",
                "Gaussian mixture",
                "#009E73",
                _gmm,
                spark=_spark_gmm,
                short_label="GMM",
                predicts_natively=True,
            ),
            _spec("birch", "Birch", "#CC79A7", _birch, predicts_natively=True),
            _spec(
                "dbscan",
                "DBSCAN",
                "#D55E00",
                _dbscan,
                predicts_natively=False,
                leaves_noise=True,
                takes_k=False,
                quadratic=True,
            ),
            _spec(
                "hdbscan",
                "HDBSCAN",
                "#56B4E9",
                _hdbscan,
                predicts_natively=False,
                leaves_noise=True,
                takes_k=False,
                quadratic=True,
            ),
        )
    }
)


# --------------------------------------------------------------------------- readers (look MODELS up when called)


def model_names() -> tuple[str, ...]:
    """Every model name, in display order."""
    return tuple(MODELS)


def spec(name: str) -> ModelSpec:
    """The entry of ``name``.

    Raises
    ------
    ValueError
        No such model.
    """
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}") from None


def sweep_models() -> tuple[str, ...]:
    """Models asked for k segments (swept over k in the comparison), in display order."""
    return tuple(name for name, s in MODELS.items() if s.takes_k)


def takes_k(name: str) -> bool:
    """Whether ``name`` is asked for k segments (False for unknown names)."""
    entry = MODELS.get(name)
    return bool(entry and entry.takes_k)


def engine_models(engine: str) -> tuple[str, ...]:
    """Models that have a factory for ``engine`` (a key of :attr:`ModelSpec.factories`), in display order."""
    return tuple(name for name, s in MODELS.items() if engine in s.factories)


def label(name: str) -> str:
    """Display name of ``name`` (the name itself when unknown)."""
    entry = MODELS.get(name)
    return entry.label if entry else name


def labels() -> dict[str, str]:
    """Name → display name."""
    return {name: s.label for name, s in MODELS.items()}


def colours() -> dict[str, str]:
    """Name → chart colour."""
    return {name: s.colour for name, s in MODELS.items()}
