// `npm run package`: the CloudFormation template and one zipped bundle per function, offline,
// then each bundle's size against the 400 KB budget. Arguments go to `serverless package`
// (`--package DIR`, `--stage`, `--param="name=value"`). serverless-esbuild can hang when esbuild
// fails, so packaging is killed after 5 minutes. Exits non-zero on any failure or a bundle over budget.
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const { join, resolve } = require('node:path');

const ROOT = join(__dirname, '..');
const BUDGET = 400 * 1024;
const TIMEOUT_MS = 5 * 60 * 1000;

const args = process.argv.slice(2);
const packaged = spawnSync(join(ROOT, 'node_modules', '.bin', 'serverless'), ['package', ...args], {
  cwd: ROOT,
  stdio: 'inherit',
  timeout: TIMEOUT_MS,
  env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
});
if (packaged.error || packaged.status !== 0) {
  const why = packaged.error?.code === 'ETIMEDOUT' ? `did not finish within ${TIMEOUT_MS / 60000} minutes` : `exited with ${packaged.status ?? packaged.signal}`;
  console.error(`serverless package ${why}`);
  process.exit(1);
}

const at = args.findIndex((a) => a === '--package' || a.startsWith('--package='));
const dir = at < 0 ? join(ROOT, '.serverless') : resolve(ROOT, args[at].includes('=') ? args[at].split('=')[1] : args[at + 1]);
const rows = readdirSync(dir)
  .filter((f) => f.endsWith('.zip'))
  .sort()
  .map((file) => ({ fn: file.replace(/\.zip$/, ''), bytes: statSync(join(dir, file)).size }));
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const width = Math.max(8, ...rows.map((r) => r.fn.length));
console.log(`\n${'FUNCTION'.padEnd(width)}  ${'ZIPPED'.padStart(9)}  OF ${kb(BUDGET)}`);
for (const { fn, bytes } of rows) {
  console.log(`${fn.padEnd(width)}  ${kb(bytes).padStart(9)}  ${String(Math.round((100 * bytes) / BUDGET)).padStart(3)}%${bytes > BUDGET ? '  OVER BUDGET' : ''}`);
}
console.log(`template: ${join(dir, 'cloudformation-template-update-stack.json')}`);
if (rows.length === 0 || rows.some((r) => r.bytes > BUDGET)) process.exit(1);
