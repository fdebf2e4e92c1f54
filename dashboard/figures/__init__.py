"""Pure figure builders: data in, ``go.Figure`` out.

Every builder takes plain data (frames, the manifest's segment map) and a
theme name, and never touches Dash, the cache or the request.  They are unit
tested as plain functions.
"""
