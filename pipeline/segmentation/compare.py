"""The model comparison (kept as the import path of earlier versions).

The code lives in :mod:`pipeline.segmentation.comparison`, one module per job;
this module re-exports its public names.
"""

from __future__ import annotations

from pipeline.segmentation.comparison import *  # noqa: F403
from pipeline.segmentation.comparison import __all__ as __all__
