"""Customer segmentation pipeline: data → features → scaling → clustering → named segments.

Pure library code (pandas, numpy, scikit-learn, joblib); the Dash app and the
command line (``python -m pipeline``) are thin layers over it.  Importing the
package does no work.
"""

from .config import Settings
from .errors import ArtifactError, ArtifactVersionError, DataError, SegmentationError

__all__ = [
    "ArtifactError",
    "ArtifactVersionError",
    "DataError",
    "SegmentationError",
    "Settings",
]
