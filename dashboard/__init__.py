"""Customer-segmentation dashboard (Dash).  Build the app with :func:`dashboard.app.create_app`."""
