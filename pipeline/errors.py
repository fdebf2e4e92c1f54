"""User-facing errors.

Every problem caused by the user's input (a file, an option, an artifact on
disk) is raised as a :class:`SegmentationError` subclass whose message is one
clear sentence.  The CLI prints it on one line and exits non-zero; the app
shows it in an alert.  Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class SegmentationError(Exception):
    """Base class for errors caused by user input; ``str(err)`` is the message."""


class DataError(SegmentationError):
    """The data cannot be read or does not support segmentation."""


class ArtifactError(SegmentationError):
    """An artifact on disk is missing, foreign, tampered with or unusable."""


class ArtifactVersionError(ArtifactError):
    """An artifact was written with other library versions than the running ones."""


class AccessDenied(SegmentationError):
    """An upload, data set or model version that does not exist or is not the asker's (same message for both)."""
