#!/bin/sh
# Rebuild the two plotly.js files of assets/vendor: only the trace types the app draws.
#
#   plotly-2d.min.js  plotly.js's core and every 2-D trace type the app draws; linked by every page
#   plotly-3d.min.js  the 3-D part: scatter3d, its WebGL scene (gl3d) and the scene's annotations, which
#                     it registers into the 2-D build already on the page (window.Plotly.register); it
#                     holds none of the core, and uses the 2-D build's own modules (see below).
#                     dashboard/plotly_loading.py has it run when a 3-D chart is first drawn.
#
# Usage: sh assets/vendor/build_plotly.sh   (needs node >= 20 and npm; network access to the npm registry)
#
# PLOTLY_VERSION must be the plotly.js that dcc.Graph would otherwise load
# (python -c "from plotly.offline import get_plotlyjs_version as v; print(v())");
# tests/test_plotly_bundle.py checks both that and that every trace type the
# dashboard builds is in the bundle its page loads.  The build follows
# plotly.js's own esbuild configuration (esbuild-config.js of the same release)
# with custom entries.
#
# How the 3-D part shares the 2-D build's modules.  scatter3d's code requires about 40 of the core's
# modules (the registry, lib, colour, axes' attributes, fx, ...).  A second copy of them would not work
# (it would register into a second, empty registry) and would be half the size of the core again.  So the
# 3-D part is built first with a plugin that stops at every module the 2-D build holds (its esbuild
# metafile): each such require becomes window.Plotly.__internals["<module path>"](), and the 2-D build
# is built again with __internals, one function per module the 3-D part asked for, returning the 2-D
# build's own instance.  Both files come from one run, so the names match; the 3-D part checks that
# every module it needs is there, and that the 2-D build is of the same plotly.js code (a digest of its
# files, Plotly.__internals.__build), and otherwise throws before registering anything.
set -eu
PLOTLY_VERSION=4.1.1
TRACES_2D="bar box heatmap histogram indicator sankey scatter"
TRACES_3D="scatter3d"
# Components of plotly.js's core that no figure of the app uses (tests/test_plotly_bundle.py checks that
# the dashboard's code names none of them), left out of both files.  With the map stylesheet below: 151 KB
# of the 2-D build's 1.49 MB.  plotly.js allows for their absence: the core asks the registry for a
# component's methods and gets a no-op when it is not registered.
WITHOUT_3D="images updatemenus sliders rangeslider rangeselector"
# In the 3-D part, not the 2-D build: there is no 3-D scene to annotate without scatter3d.
COMPONENTS_3D="annotations3d"
WITHOUT_2D="$WITHOUT_3D $COMPONENTS_3D"
# First line of each file: V8's explicit compile hint (Chrome >= 136).  Every function of the file is
# compiled while it streams in, on a background thread, instead of on the main thread when first called:
# a bundle is almost all run on load (plotly.js registers every module it holds).  Other engines read a
# comment.  dashboard/plotly_loading.py keeps it first in the guarded 3-D part.
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
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const words = (name) => (process.env[name] || '').split(' ').filter(Boolean);
const options = (entry, outfile, banner, plugins) => ({
    entryPoints: [entry],
    outfile,
    format: 'iife',
    bundle: true,
    minify: true,
    legalComments: 'none',
    metafile: true,
    banner: { js: banner },
    plugins: [...plugins, InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
    // maplibre's stylesheet (83 KB) is only injected for map traces, which neither file has
    alias: { regl: '@plotly/regl', stream: 'stream-browserify', 'maplibre-gl/dist/maplibre-gl.css': './empty.css' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'warning',
});
const lib = (t) => `require('plotly.js/lib/${t}')`;
const component = (c) => `require('plotly.js/src/components/${c}')`;

// entry of the 2-D build; with `shared`, the __internals the 3-D part uses, stamped with the build's id
function entry2d(shared, build) {
    const traces = words('TRACES_2D').filter((t) => t !== 'scatter').map(lib);  // scatter is always in core
    const internals = shared.map((m) => `    ${JSON.stringify(m)}: function () { return require(${JSON.stringify('./' + m)}); },`);
    return ["var Plotly = require('./core.js');", `Plotly.register([${traces.join(', ')}]);`,
        `Plotly.__internals = {\n    __build: ${JSON.stringify(build)},\n${internals.join('\n')}\n};`, 'module.exports = Plotly;', ''].join('\n');
}

// every require of a module the 2-D build holds becomes a call to the 2-D build's __internals
function sharedWith(core, shared) {
    return {
        name: 'shared-with-the-2d-build',
        setup(build) {
            build.onResolve({ filter: /.*/ }, async (args) => {
                if (args.kind === 'entry-point' || (args.pluginData && args.pluginData.inner)) return undefined;
                const found = await build.resolve(args.path, {
                    resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: { inner: true },
                });
                if (found.errors.length || !found.path) return undefined;
                const module = path.relative(process.cwd(), found.path);
                if (!core.has(module)) return { path: found.path, namespace: found.namespace, pluginData: found.pluginData };
                shared.add(module);
                return { path: module, namespace: 'plotly-2d' };
            });
            build.onLoad({ filter: /.*/, namespace: 'plotly-2d' }, (args) => ({
                contents: `module.exports = window.Plotly.__internals[${JSON.stringify(args.path)}]();`, loader: 'js',
            }));
        },
    };
}

async function main() {
    const banner = (traces, without) => `${process.env.COMPILE_HINT}\n/* plotly.js v${process.env.PLOTLY_VERSION} partial bundle, `
        + `traces: ${traces.join(',')} without: ${without.join(',')} (assets/vendor/build_plotly.sh). `
        + 'Copyright 2012-2026, Plotly, Inc. MIT license. */';
    const banner2d = banner(words('TRACES_2D'), words('WITHOUT_2D'));
    // 1. the 2-D build as it is, for the list of its modules
    fs.writeFileSync('entry-2d.js', entry2d([], ''));
    const build2d = () => esbuild.build({ ...options('./entry-2d.js', './plotly-2d.min.js', banner2d, []), globalName: 'Plotly' });
    const first = await build2d();
    const core = new Set(Object.keys(first.metafile.inputs));
    // the build's id: a digest of every file of the 2-D build but its entry, so a part and a 2-D build of
    // different plotly.js code (a tab opened before an upgrade) are told apart even where the names match
    const digest = crypto.createHash('sha256');
    for (const input of [...core].filter((f) => f !== 'entry-2d.js').sort()) {
        digest.update(input).update('\0').update(fs.readFileSync(input)).update('\0');
    }
    const id = digest.digest('hex').slice(0, 16);
    // 2. the 3-D part, stopping at those modules; it checks they are all there before registering
    const shared = new Set();
    const needed = () => JSON.stringify([...shared].sort());
    fs.writeFileSync('entry-3d.js', [
        'var P = window.Plotly, own = P && P.__internals, need = NEEDED, build = BUILD;',
        "if (!own || own.__build !== build) throw new Error('plotly-3d.min.js needs the plotly-2d.min.js of its own build ' + build + '; this page has ' + (own ? own.__build : 'none'));",
        'var missing = need.filter(function (m) { return !own[m]; });',
        "if (missing.length) throw new Error('plotly-3d.min.js needs the plotly-2d.min.js of its own build; missing: ' + missing.join(', '));",
        `P.register([${[...words('TRACES_3D').map(lib), ...words('COMPONENTS_3D').map(component)].join(', ')}]);`, '',
    ].join('\n'));
    const banner3d = `${banner([...words('TRACES_2D'), ...words('TRACES_3D')], words('WITHOUT_3D'))}\n/* the 3-D part: adds `
        + `${words('TRACES_3D').join(',')} and the component ${words('COMPONENTS_3D').join(',')} to plotly-2d.min.js `
        + 'of the same build, whose modules it uses */';
    const ext = options('./entry-3d.js', './plotly-3d.min.js', banner3d, [sharedWith(core, shared)]);
    ext.define.NEEDED = 'undefined';
    ext.define.BUILD = JSON.stringify(id);
    await esbuild.build(ext);
    ext.define.NEEDED = needed();  // the same modules again (the define does not change the imports)
    await esbuild.build(ext);
    // 3. the 2-D build with the __internals the 3-D part uses
    fs.writeFileSync('entry-2d.js', entry2d([...shared].sort(), id));
    const second = await build2d();
    if (Object.keys(second.metafile.inputs).length !== core.size) throw new Error('__internals changed the 2-D build');
    console.log(`build ${id}: the 3-D part uses ${shared.size} modules of the 2-D build`);
}
main().catch((e) => { console.error(e); process.exit(1); });
JS

: >empty.css

# write core.js: plotly.js's own src/core.js of this release without the components named
core() {
    sed -e "s#require('\./#require('plotly.js/src/#g" -e "s#require('\.\./build/#require('plotly.js/build/#g" \
        node_modules/plotly.js/src/core.js >core.js
    for c in "$@"; do
        grep -q "require('plotly.js/src/components/$c')," core.js || { echo "no component $c in core.js" >&2; exit 1; }
        sed -i "\#require('plotly.js/src/components/$c'),#d" core.js
    done
}
# shellcheck disable=SC2086  # word splitting of the lists is intended
core $WITHOUT_2D
PLOTLY_VERSION=$PLOTLY_VERSION TRACES_2D=$TRACES_2D TRACES_3D=$TRACES_3D WITHOUT_2D=$WITHOUT_2D \
    WITHOUT_3D=$WITHOUT_3D COMPONENTS_3D=$COMPONENTS_3D COMPILE_HINT=$COMPILE_HINT node build.js
for name in 2d 3d; do
    cp "plotly-$name.min.js" "$HERE/"
    echo "wrote $HERE/plotly-$name.min.js ($(wc -c <"plotly-$name.min.js") bytes)"
done
