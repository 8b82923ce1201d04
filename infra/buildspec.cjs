/* global Buffer */
// serverless loads ${file(...)} sources with require(), so this file is CommonJS.
// Renders infra/buildspec.yml for the CodeBuild project: the build helper (lib/aws/build-helper.ts),
// bundled, gzipped and base64-encoded, takes the place of @@CASCADE_BUILD_HELPER@@, so builds
// run the same build steps (lib/build/build-steps.ts) as local builds and need nothing downloaded.
// serverless.yml reads it as ${file(infra/buildspec.cjs)}; `node infra/buildspec.cjs` prints it.
const { buildSync } = require('esbuild');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { gzipSync } = require('node:zlib');

const ROOT = join(__dirname, '..');
const PLACEHOLDER = '@@CASCADE_BUILD_HELPER@@';

/** The helper as one CommonJS file for the Node.js 24 runtime the buildspec asks of the build image. */
function bundleHelper() {
  const result = buildSync({
    stdin: {
      contents: "import { main } from './lib/aws/build-helper';\nmain();\n",
      resolveDir: ROOT,
      sourcefile: 'build-helper-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

function renderBuildspec() {
  const template = readFileSync(join(ROOT, 'infra', 'buildspec.yml'), 'utf8');
  const count = template.split(PLACEHOLDER).length - 1;
  if (count !== 1) throw new Error(`infra/buildspec.yml must contain ${PLACEHOLDER} exactly once, found ${count}`);
  // gzip without a file name or time: the same sources give the same buildspec, so deploys stay quiet.
  const helper = gzipSync(Buffer.from(bundleHelper(), 'utf8'), { level: 9 }).toString('base64');
  return template.replace(PLACEHOLDER, helper);
}

module.exports = renderBuildspec;
module.exports.bundleHelper = bundleHelper;

if (require.main === module) process.stdout.write(renderBuildspec());
