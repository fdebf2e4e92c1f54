"""``score --engine spark``: every customer's segment under a saved model, computed in Spark, written as Parquet.

The customers are read and their features computed as by the Spark engine's
training (:func:`pipeline.engines.spark_read.load_customers`); each partition is
scored by the artifact's own scikit-learn pipeline (the model the dashboard
uses), so Spark and default scoring agree row for row.  Text cells go through
:func:`pipeline.data.export.neutralise`, as every file the project writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.config import Settings
from pipeline.errors import DataError, SegmentationError
from pipeline.features.definitions import ID_COLUMN

if TYPE_CHECKING:
    from pipeline.store.artifacts import LoadedArtifact

#: Columns of the Parquet output, in order.
OUTPUT_SCHEMA = "ID string, Segment_Key string, Segment_Name string, Model_Version string, As_Of string"


def find_model(models_dir: Path, data_hash: str, settings: Settings) -> LoadedArtifact:
    """The newest artifact in ``models_dir`` trained on data with this hash.

    Raises
    ------
    DataError
        None found.
    """
    from pipeline.store.artifacts import list_manifests, load_artifact

    same = [m for m in list_manifests(models_dir, settings) if m["data"].get("hash") == data_hash]
    if not same:
        raise DataError(
            f"No model trained on this data was found in {models_dir}; train one "
            "(python -m pipeline train --engine spark --data ...) or choose a model with --model <artifact folder>."
        )
    return load_artifact(models_dir / str(same[0]["artifact_id"]), settings)


def score(
    data: Path,
    out: Path,
    settings: Settings,
    model_dir: Path | None = None,
    master: str | None = None,
) -> tuple[int, LoadedArtifact]:
    """Score ``data`` in Spark and write a Parquet folder at ``out``: (customers written, the model used).

    Raises
    ------
    SegmentationError
        ``out`` is not a ``.parquet`` path, pyspark/Java missing, or the data lacks the model's features.
    """
    from pipeline.data.export import neutralise
    from pipeline.engines.spark import spark_session
    from pipeline.engines.spark_read import load_customers
    from pipeline.store.artifacts import load_artifact

    if not isinstance(data, Path) or not isinstance(out, Path) or out.suffix.lower() != ".parquet":
        raise SegmentationError(
            "score --engine spark reads a file or folder (--data) and writes Parquet: --out NAME.parquet."
        )
    given = load_artifact(model_dir, settings) if model_dir is not None else None
    spark = spark_session(master)
    customers, _report, as_of, _name, digest = load_customers(spark, data, settings.as_of)
    artifact = given or find_model(settings.models_dir, digest, settings)
    feats = [str(f["name"]) for f in artifact.manifest["features"]]
    missing = [f for f in feats if f not in customers.columns]
    if missing:
        raise DataError(f"{data.name} lacks the model's feature(s): {', '.join(missing)}.")
    pipe = artifact.bundle["pipeline"]
    segments = {int(s["label"]): (s["key"], s["name"]) for s in artifact.manifest["segments"]}
    version, day = artifact.artifact_id, as_of.isoformat()

    def assign(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for chunk in chunks:
            labels = pipe.predict(chunk[feats]) if len(chunk) else []
            named = [segments[int(v)] for v in labels]
            yield neutralise(
                pd.DataFrame(
                    {
                        ID_COLUMN: chunk[ID_COLUMN].astype("string"),
                        "Segment_Key": [k for k, _ in named],
                        "Segment_Name": [n for _, n in named],
                        "Model_Version": version,
                        "As_Of": day,
                    }
                )
            )

    customers.select(ID_COLUMN, *feats).mapInPandas(assign, OUTPUT_SCHEMA).write.mode("overwrite").parquet(str(out))
    return spark.read.parquet(str(out)).count(), artifact
