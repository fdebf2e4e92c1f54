"""Branding of the executive report: a name and an optional logo (PNG or JPEG, checked)."""

from __future__ import annotations

import base64
import dataclasses
import io
from pathlib import Path

from pipeline.errors import DataError

#: Largest logo file accepted.
MAX_LOGO_BYTES = 2 * 1024 * 1024
#: Largest logo side in pixels.
MAX_LOGO_PIXELS = 4000
#: Longest brand name.
MAX_BRAND_CHARS = 80
_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


@dataclasses.dataclass(frozen=True)
class Logo:
    """A checked logo image."""

    data: bytes
    mime: str
    width: int
    height: int

    @property
    def data_url(self) -> str:
        """The image inlined as a ``data:`` URL (no file or network access to show it)."""
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode()}"


def check_brand_name(name: str | None) -> str | None:
    """The brand name, stripped, or None; refuses control characters and over-long names."""
    if name is None or not name.strip():
        return None
    text = name.strip()
    if len(text) > MAX_BRAND_CHARS:
        raise DataError(f"The brand name is {len(text)} characters long; at most {MAX_BRAND_CHARS} are allowed.")
    if any(not ch.isprintable() for ch in text):
        raise DataError("The brand name contains control characters; use plain text.")
    return text


def logo_from_bytes(data: bytes, name: str) -> Logo:
    """Check a logo given as bytes.

    Raises
    ------
    DataError
        Not a PNG or JPEG, empty, larger than :data:`MAX_LOGO_BYTES`, damaged,
        or with a side over :data:`MAX_LOGO_PIXELS` pixels.
    """
    if not data:
        raise DataError(f"The logo {name} is empty.")
    if len(data) > MAX_LOGO_BYTES:
        raise DataError(f"The logo {name} is {len(data) / 1024 / 1024:.1f} MB; at most 2 MB is allowed.")
    mime = next((m for magic, m in _MAGIC.items() if data.startswith(magic)), None)
    if mime is None:
        raise DataError(f"The logo {name} is not a PNG or JPEG image; use a .png or .jpg file.")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DataError(f"The logo {name} is a damaged image; it could not be read.") from None
    if max(width, height) > MAX_LOGO_PIXELS:
        raise DataError(
            f"The logo {name} is {width}×{height} pixels; at most {MAX_LOGO_PIXELS} pixels a side are allowed."
        )
    return Logo(data, mime, width, height)


def load_logo(path: str | Path | None) -> Logo | None:
    """The checked logo at ``path`` (None when no path is given)."""
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise DataError(f"The logo {path.name} does not exist or is not a file.")
    if path.stat().st_size > MAX_LOGO_BYTES:
        raise DataError(f"The logo {path.name} is {path.stat().st_size / 1024 / 1024:.1f} MB; at most 2 MB is allowed.")
    return logo_from_bytes(path.read_bytes(), path.name)
