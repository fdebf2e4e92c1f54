"""The app's start: the default artifact's id, without reading the data or importing scikit-learn when it is known.

:func:`default_artifact_id` is what ``python -m dashboard`` calls.  A data
file recognised unchanged since its model was saved, or the built-in sample
under the same generator (:func:`pipeline.synthetic.customers.sample_identity`),
is answered from the signed record of :mod:`pipeline.store.fingerprints`
and the artifact's signed manifest: one ``stat``, two small JSON files, no
data read, nothing unpickled, and neither :mod:`pipeline.segmentation.training`
nor scikit-learn imported.  Anything else goes to
:func:`pipeline.segmentation.training.default_artifact_id` (read, train or
reuse, remember).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import ArtifactError
from pipeline.store.fingerprints import NO_FILE, Fingerprint, recognise, recognise_generated, remember, still_saved
from pipeline.synthetic.customers import sample_identity


def default_artifact_id(path: str | Path | None, settings: Settings) -> str:
    """The artifact of ``path`` (None: the built-in sample) under ``settings``, trained if needed.

    Same answer as :func:`pipeline.segmentation.training.default_artifact_id`;
    when that has to run for the built-in sample, the sample's data hash is
    remembered under its identity, so the next start neither generates it
    nor imports the training code.

    Raises
    ------
    DataError
        Unreadable file or data that cannot be segmented (as the training's ``default_artifact_id``).
    """
    wanted = settings.model_hash()
    key = sample_identity(settings.sample_rows, settings.sample_seed) if path is None else None
    known = recognise(path, wanted, settings) if key is None else recognise_generated(key, wanted, settings)
    if known is not None and still_saved(known, settings):
        return known.artifact_id
    from pipeline.segmentation import training  # scikit-learn and the readers: only when the data must be read

    trained = training.default_artifact_id(path, settings)
    if key is not None:
        from pipeline.store.artifacts import read_manifest

        with contextlib.suppress(ArtifactError, KeyError, TypeError):
            data_hash = str(read_manifest(settings.models_dir / trained, settings)["data"]["hash"])
            remember(Fingerprint(key, NO_FILE, data_hash, wanted, trained), settings)
    return trained
