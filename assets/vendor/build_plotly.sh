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
# Components of plotly.js's core that no figure of the app uses (tests/test_plotly_bundle.py checks that
# the dashboard's code names none of them), left out of both bundles; the 2-D one also leaves out the 3-D
# scene's annotations (no scene without scatter3d).  With the map stylesheet below: 151 KB of the 2-D
# bundle's 1.49 MB.  plotly.js allows for their absence: the core asks the registry for a component's
# methods and gets a no-op when it is not registered.
WITHOUT_3D="images updatemenus sliders rangeslider rangeselector"
WITHOUT_2D="$WITHOUT_3D annotations3d"
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
    // maplibre's stylesheet (83 KB) is only injected for map traces, which neither bundle has
    alias: { regl: '@plotly/regl', stream: 'stream-browserify', 'maplibre-gl/dist/maplibre-gl.css': './empty.css' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'warning',
}).catch(() => process.exit(1));
JS

: >empty.css

# core COMPONENTS...: write core.js, plotly.js's own src/core.js of this release without COMPONENTS
core() {
    WITHOUT=$*
    sed -e "s#require('\./#require('plotly.js/src/#g" -e "s#require('\.\./build/#require('plotly.js/build/#g" \
        node_modules/plotly.js/src/core.js >core.js
    for c in "$@"; do
        grep -q "require('plotly.js/src/components/$c')," core.js || { echo "no component $c in core.js" >&2; exit 1; }
        sed -i "\#require('plotly.js/src/components/$c'),#d" core.js
    done
}

# build NAME TRACES...: write assets/vendor/plotly-NAME.min.js
build() {
    name=$1
    shift
    {
        echo "var Plotly = require('./core.js');"
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
/* plotly.js v$PLOTLY_VERSION partial bundle, traces: $(echo "$@" | tr ' ' ',') without: $(echo $WITHOUT | tr ' ' ',') (assets/vendor/build_plotly.sh). Copyright 2012-2026, Plotly, Inc. MIT license. */" \
        node build.js
    cp "plotly-$name.min.js" "$out"
    echo "wrote $out ($(wc -c <"$out") bytes)"
}
# shellcheck disable=SC2086  # word splitting of the lists is intended
core $WITHOUT_2D
# shellcheck disable=SC2086
build 2d $TRACES_2D
# shellcheck disable=SC2086
core $WITHOUT_3D
# shellcheck disable=SC2086
build 3d $TRACES_3D
