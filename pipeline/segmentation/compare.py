"""The model comparison (kept as the import path of earlier versions).

The code lives in :mod:`pipeline.segmentation.comparison`, one module per job;
this module re-exports its public names, each imported on first use like the
package's own (so importing this module does not import scikit-learn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.segmentation import comparison
from pipeline.segmentation.comparison import __all__ as __all__

if TYPE_CHECKING:
    from pipeline.segmentation.comparison import *  # noqa: F403


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(comparison, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
