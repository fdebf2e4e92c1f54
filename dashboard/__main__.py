"""``python -m dashboard [--data FILE] [--host 127.0.0.1] [--port 8050] [--workers N]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import SegmentationError


def main(argv: list[str] | None = None) -> int:
    """Train or load the default artifact, then serve the app."""
    p = argparse.ArgumentParser(prog="python -m dashboard", description="Serve the customer-segmentation dashboard.")
    p.add_argument("--data", type=Path, help="customer table; default: built-in sample")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="uploads and background-job cache")
    p.add_argument(
        "--max-upload-mb", type=int, default=Settings.max_upload_mb, help="largest file accepted through the browser"
    )
    p.add_argument("--workers", type=int, default=1, help="worker processes (>1: served by gunicorn)")
    p.add_argument("--debug", action="store_true")
    args = p.parse_args(argv)
    from .app import create_app

    try:
        settings = Settings(models_dir=args.models_dir, data_dir=args.data_dir, max_upload_mb=args.max_upload_mb)
        app = create_app(settings, data_path=args.data)
    except SegmentationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Customer Segments on http://{args.host}:{args.port}/", flush=True)
    if args.workers > 1:
        from .serve import serve

        serve(app.server, args.host, args.port, args.workers)
    else:
        app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
