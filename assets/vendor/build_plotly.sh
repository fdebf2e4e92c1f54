#!/bin/sh
# Rebuild the two plotly.js bundles of assets/vendor: only the trace types the app draws.
#
#   plotly-2d.min.js  every 2-D trace type the app draws; linked by every page
#   plotly-3d.min.js  the same plus scatter3d (WebGL, gl3d); only where a 3-D chart is drawn
#                     (dashboard/plotly_loading.py swaps it in for /explorer or loads it on demand)
#
# Usage: sh assets/vendor/build_plotly.sh   (needs node >= 20 and npm; network access to the npm registry)
#
# PLOTLY_VERSION must be the plotly.js that dcc.Graph would otherwise load
# (python -c "from plotly.offline import get_plotlyjs_version as v; print(v())");
# tests/test_plotly_bundle.py checks both that and that every trace type the
# dashboard builds is in the bundle its page loads.  The build follows
# plotly.js's own esbuild configuration (esbuild-config.js of the same release)
# with a custom entry.
set -eu
PLOTLY_VERSION=4.1.1
TRACES_2D="bar box heatmap histogram indicator sankey scatter"
TRACES_3D="$TRACES_2D scatter3d"
# First line of each bundle: V8's explicit compile hint (Chrome >= 136).  Every function of the file is
# compiled while it streams in, on a background thread, instead of on the main thread when first called:
# a bundle is almost all run on load (plotly.js registers every module it holds).  Other engines read a
# comment.  dashboard/plotly_loading.py keeps it first in the guarded 3-D bundle.
COMPILE_HINT="//# allFunctionsCalledOnLoad"
HERE=$(cd "$(dirname "$0")" && pwd)
# A fixed folder: the inline-CSS plugin names its <style> element after the CSS file's absolute
# path, so the same folder gives a byte-identical bundle.
WORK=/tmp/plotly-partial-build
rm -rf "$WORK" && mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
echo '{"name": "plotly-partial", "private": true}' >package.json
npm install --silent --no-audit --no-fund --ignore-scripts \
    "plotly.js@$PLOTLY_VERSION" esbuild@0.28.2 esbuild-plugin-glsl@1.4.2 \
    esbuild-plugin-inline-css@0.0.1 esbuild-plugin-environment@0.5.0 stream-browserify@3.0.0
cat >build.js <<'JS'
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
esbuild.build({
    entryPoints: ['./entry.js'],
    outfile: process.env.OUTFILE,
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    legalComments: 'none',
    banner: { js: process.env.BANNER },
    plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'warning',
}).catch(() => process.exit(1));
JS

# build NAME TRACES...: write assets/vendor/plotly-NAME.min.js
build() {
    name=$1
    shift
    {
        echo "var Plotly = require('plotly.js/lib/core');"
        echo "Plotly.register(["
        for t in "$@"; do
            [ "$t" = scatter ] || echo "    require('plotly.js/lib/$t'),"  # scatter is always in core
        done
        echo "]);"
        echo "module.exports = Plotly;"
    } >entry.js
    out="$HERE/plotly-$name.min.js"
    OUTFILE="./plotly-$name.min.js" \
        BANNER="$COMPILE_HINT
/* plotly.js v$PLOTLY_VERSION partial bundle, traces: $(echo "$@" | tr ' ' ',') (assets/vendor/build_plotly.sh). Copyright 2012-2026, Plotly, Inc. MIT license. */" \
        node build.js
    cp "plotly-$name.min.js" "$out"
    echo "wrote $out ($(wc -c <"$out") bytes)"
}
# shellcheck disable=SC2086  # word splitting of the trace lists is intended
build 2d $TRACES_2D
# shellcheck disable=SC2086
build 3d $TRACES_3D
