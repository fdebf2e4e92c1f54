"""Training engines: where the features, scaling, clustering and PCA are computed.

:data:`ENGINES` maps the ``--engine`` name of ``train`` and ``score`` to the
module that runs it and to the factory key of the model registry
(:attr:`pipeline.segmentation.registry.ModelSpec.factories`):

* ``default``: pandas and scikit-learn in this process
  (:mod:`pipeline.segmentation.training`);
* ``spark``: Spark SQL and MLlib (:mod:`pipeline.engines.spark`), locally or
  on a cluster.  It writes the same signed artifact, so the dashboard serves
  a Spark-trained model without Spark.

Importing this package imports neither engine (pyspark is imported only
inside :mod:`pipeline.engines.spark`'s functions).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from types import MappingProxyType, ModuleType

from pipeline.errors import SegmentationError


@dataclasses.dataclass(frozen=True)
class Engine:
    """One engine: its ``--engine`` name, its modules and its model-registry factory key.

    ``module`` has ``train(data, settings, master=, force=)``; ``score_module``
    has ``score(data, out, settings, model_dir=, master=)`` (the default
    engine's ``train`` and ``score`` commands call theirs directly).
    """

    name: str
    module: str
    score_module: str
    factory_key: str

    def load(self) -> ModuleType:
        """The engine's training module (imported now, not at package import)."""
        return importlib.import_module(self.module)

    def load_scorer(self) -> ModuleType:
        """The engine's scoring module."""
        return importlib.import_module(self.score_module)


#: Every engine, by ``--engine`` name (the first is the default).
ENGINES = MappingProxyType(
    {
        e.name: e
        for e in (
            Engine("default", "pipeline.segmentation.training", "pipeline.segmentation.assignments", "sklearn"),
            Engine("spark", "pipeline.engines.spark", "pipeline.engines.spark_score", "spark"),
        )
    }
)
DEFAULT_ENGINE = "default"


def add_engine_options(p: argparse.ArgumentParser) -> None:
    """``--engine`` and ``--spark-master`` (for ``train`` and ``score``)."""
    p.add_argument(
        "--engine", choices=tuple(ENGINES), default=DEFAULT_ENGINE, help="where to compute (default: default)"
    )
    p.add_argument(
        "--spark-master",
        dest="spark_master",
        help="with --engine spark: local[*] or spark://HOST:PORT (default: spark-submit's master, else local[*])",
    )


def engine(name: str) -> Engine:
    """The engine called ``name``.

    Raises
    ------
    SegmentationError
        No such engine.
    """
    try:
        return ENGINES[name]
    except KeyError:
        raise SegmentationError(f"Unknown engine {name!r}; choose one of {', '.join(ENGINES)}.") from None
