#!/bin/sh
# Rebuild assets/vendor/plotly-partial.min.js: plotly.js with only the trace types the app draws.
#
# Usage: sh assets/vendor/build_plotly.sh   (needs node >= 20 and npm; network access to the npm registry)
#
# PLOTLY_VERSION must be the plotly.js that dcc.Graph would otherwise load
# (python -c "from plotly.offline import get_plotlyjs_version as v; print(v())");
# tests/test_plotly_bundle.py checks both that and that every trace type the
# dashboard builds is in TRACES.  The build follows plotly.js's own esbuild
# configuration (esbuild-config.js of the same release) with a custom entry.
set -eu
PLOTLY_VERSION=4.1.1
TRACES="bar box heatmap histogram indicator sankey scatter scatter3d"
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/plotly-partial.min.js"
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
{
    echo "var Plotly = require('plotly.js/lib/core');"
    echo "Plotly.register(["
    for t in $TRACES; do
        [ "$t" = scatter ] || echo "    require('plotly.js/lib/$t'),"  # scatter is always in core
    done
    echo "]);"
    echo "module.exports = Plotly;"
} >entry.js
cat >build.js <<'JS'
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
esbuild.build({
    entryPoints: ['./entry.js'],
    outfile: './plotly-partial.min.js',
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
BANNER="/* plotly.js v$PLOTLY_VERSION partial bundle, traces: $(echo $TRACES | tr ' ' ',') (assets/vendor/build_plotly.sh). Copyright 2012-2026, Plotly, Inc. MIT license. */" \
    node build.js
cp plotly-partial.min.js "$OUT"
echo "wrote $OUT ($(wc -c <"$OUT") bytes)"
