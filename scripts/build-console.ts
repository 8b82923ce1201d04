// `npm run build:console`: the console's bundle written to lib/console/dist (what `cascade up` and
// `cascade console` build in memory at their first console request), with its size printed.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildConsoleBundle, CONSOLE_ASSET_PREFIX } from '../lib/console/console-bundle';

/** The budget the issue sets for the whole console, gzipped. */
const BUDGET_GZIP_BYTES = 300 * 1024;

async function main(): Promise<void> {
  const started = performance.now();
  const bundle = await buildConsoleBundle();
  const ms = Math.round(performance.now() - started);
  const out = join(__dirname, '..', 'lib', 'console', 'dist');
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'assets'), { recursive: true });
  await writeFile(join(out, 'index.html'), bundle.html);
  for (const asset of bundle.assets.values()) await writeFile(join(out, 'assets', asset.path.slice(CONSOLE_ASSET_PREFIX.length)), asset.body);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  console.log(`console bundle built in ${ms} ms, written to ${out}`);
  for (const asset of bundle.assets.values()) console.log(`  ${asset.path}  ${kb(Buffer.byteLength(asset.body))}`);
  console.log(`total ${kb(bundle.bytes)}, gzipped ${kb(bundle.gzipBytes)} (budget ${kb(BUDGET_GZIP_BYTES)} gzipped)`);
  if (bundle.gzipBytes > BUDGET_GZIP_BYTES) {
    console.error('the console bundle is over its budget');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
