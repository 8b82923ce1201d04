// The web console's browser code (lib/console/app), bundled by esbuild in memory at the first
// request that needs it, once per process: nothing built is committed, nothing is fetched at run
// time, and a clean clone serves it after `npm ci`. `npm run build:console` writes the same bundle
// to lib/console/dist and prints its size.
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Where the bundle's files are served: their names carry a hash of their bytes. */
export const CONSOLE_ASSET_PREFIX = '/console/assets/';

const APP_DIR = join(__dirname, 'app');
const ENTRY = join(APP_DIR, 'main.tsx');

export interface ConsoleAsset {
  /** The URL path, under CONSOLE_ASSET_PREFIX. */
  path: string;
  contentType: string;
  body: string;
}

export interface ConsoleBundle {
  /** The page every console URL answers with: it loads the script and the style sheet, nothing inline. */
  html: string;
  /** By URL path. */
  assets: Map<string, ConsoleAsset>;
  /** Bytes of the bundle's files, as sent and gzipped (what a browser fetches over a compressing proxy). */
  bytes: number;
  gzipBytes: number;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Builds the bundle; `minify: false` keeps names readable while working on the console. */
export async function buildConsoleBundle(options: { minify?: boolean } = {}): Promise<ConsoleBundle> {
  // Loaded here, not at the top: the stack and the CLI only pay for esbuild when a console is asked for.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    outdir: '/console-out',
    entryNames: '[name]-[hash]',
    format: 'esm',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: options.minify ?? true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const assets = new Map<string, ConsoleAsset>();
  let script: string | undefined;
  let styles: string | undefined;
  for (const file of result.outputFiles) {
    const name = basename(file.path);
    const extension = name.slice(name.lastIndexOf('.'));
    const contentType = CONTENT_TYPES[extension];
    if (contentType === undefined) continue; // source maps and the like are not served
    const path = `${CONSOLE_ASSET_PREFIX}${name}`;
    assets.set(path, { path, contentType, body: file.text });
    if (extension === '.js') script = path;
    if (extension === '.css') styles = path;
  }
  if (script === undefined) throw new Error('the console bundle has no script: check lib/console/app/main.tsx');
  const bodies = [...assets.values()].map((asset) => Buffer.from(asset.body, 'utf8'));
  return {
    html: indexHtml(script, styles),
    assets,
    bytes: bodies.reduce((sum, body) => sum + body.length, 0),
    gzipBytes: bodies.reduce((sum, body) => sum + gzipSync(body, { level: 9 }).length, 0),
  };
}

let built: Promise<ConsoleBundle> | undefined;

/** The bundle, built once per process; a failed build is tried again by the next request. */
export function consoleBundle(): Promise<ConsoleBundle> {
  built ??= buildConsoleBundle().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

function indexHtml(script: string, styles: string | undefined): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>cascade</title>',
    '<link rel="icon" href="data:,">',
    styles === undefined ? '' : `<link rel="stylesheet" href="${styles}">`,
    `<script type="module" src="${script}"></script>`,
    '</head>',
    '<body>',
    '<div id="app"><noscript>The cascade console needs JavaScript; the same answers come from the cascade command.</noscript></div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
