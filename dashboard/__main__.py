"""``python -m dashboard [--data FILE] [--host 127.0.0.1] [--port 8050] [--workers N] [--auth FILE | --trusted-user-header NAME]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import SegmentationError

#: Imported by Dash only to display apps inside Jupyter (``dash._jupyter``), when installed: never
#: used by this server, and about a third of a second of its start.  Marked absent in this process only.
NOT_FOR_THE_SERVER = ("IPython",)


def skip_notebook_imports() -> None:
    """Make ``import IPython`` fail in this server process, so Dash takes its no-notebook path.

    Only ``python -m dashboard`` does this (before Dash is imported); a
    notebook or a test importing :mod:`dashboard.app` is unaffected.
    """
    for name in NOT_FOR_THE_SERVER:
        sys.modules.setdefault(name, None)  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    """Train or load the default artifact, then serve the app."""
    p = argparse.ArgumentParser(prog="python -m dashboard", description="Serve the customer-segmentation dashboard.")
    p.add_argument("--data", type=Path, help="customer table; default: built-in sample")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument(
        "--data-dir", type=Path, default=Path("data"), help="uploads and the state database (owners, versions, jobs)"
    )
    p.add_argument(
        "--max-upload-mb", type=int, default=Settings.max_upload_mb, help="largest file accepted through the browser"
    )
    p.add_argument("--workers", type=int, default=1, help="worker processes (>1: served by gunicorn)")
    p.add_argument("--debug", action="store_true")
    who = p.add_mutually_exclusive_group()
    who.add_argument(
        "--auth",
        type=Path,
        metavar="FILE",
        help='sign-in required: JSON {"users": {"name": "<werkzeug password hash>"}} (default: anonymous browsers)',
    )
    who.add_argument(
        "--trusted-user-header",
        metavar="NAME",
        help="behind an SSO proxy: the user is this request header's value (the proxy must set and strip it)",
    )
    p.add_argument(
        "--share-cli-models",
        action="store_true",
        help="list versions trained with the command line in this models folder for everyone (read-only)",
    )
    args = p.parse_args(argv)
    skip_notebook_imports()
    from .app import create_app, warm_up
    from .identity import IdentityConfig, load_users

    try:
        settings = Settings(models_dir=args.models_dir, data_dir=args.data_dir, max_upload_mb=args.max_upload_mb)
        identity = IdentityConfig(
            users=load_users(args.auth) if args.auth else None, trusted_header=args.trusted_user_header
        )
        app = create_app(settings, data_path=args.data, identity=identity, share_cli_models=args.share_cli_models)
    except SegmentationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Customer Segments on http://{args.host}:{args.port}/", flush=True)
    if args.workers > 1:
        from .serve import serve

        warm_up(app)
        serve(app.server, args.host, args.port, args.workers)
    else:
        app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
