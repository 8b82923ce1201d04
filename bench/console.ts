// The console's measure for `npm run bench` (alone: `npm run bench -- --console-only`): its
// bundle's size, gzipped, and the time from navigation to the first render of /console/runs with
// 1,000 runs in the table, in Debian's Chromium against the local stack (DynamoDB Local, the real
// HTTP server); with the share of it the API's answer takes (GET /api/runs?top=1000).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDynamoDbStores } from '../lib/adapters/dynamodb-stores';
import { buildConsoleBundle } from '../lib/console/console-bundle';
import type { Run, RunStatus, Trigger } from '../lib/domain/types';
import { startLocalStack } from '../lib/local/stack';
import { CHROMIUM, launchChromium } from '../test/support/chromium';
import { RecordingBuilder } from '../test/support/recording-builder';

const RUNS = 1000;
const LOADS = 5;

export interface ConsoleMeasure {
  bundle_bytes: number;
  bundle_gzip_bytes: number;
  runs: number;
  /** Navigation start to the table holding every run, median of the loads. */
  first_render_ms?: number;
  first_render_ms_each?: number[];
  /** GET /api/runs?top=1000 alone, median. */
  api_ms?: number;
  skipped?: string;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

export async function benchConsole(): Promise<ConsoleMeasure> {
  const bundle = await buildConsoleBundle();
  const size = { bundle_bytes: bundle.bytes, bundle_gzip_bytes: bundle.gzipBytes, runs: RUNS };
  if (!existsSync(CHROMIUM)) return { ...size, skipped: `no Chromium at ${CHROMIUM} (scripts/setup.sh installs it)` };
  const dir = mkdtempSync(join(tmpdir(), 'cascade-bench-console-'));
  const stack = await startLocalStack({
    port: 0,
    dataDir: dir,
    inMemory: true,
    pollIntervalSeconds: 0,
    timerTickMs: 0,
    log: () => undefined,
    sources: null,
    builder: (report) => new RecordingBuilder({ report }),
  });
  const browser = await launchChromium();
  try {
    await seedFinishedRuns(stack.dynamo.client, stack.dynamo.tableName, RUNS);
    const url = `${stack.url}/console/runs?top=${RUNS}`;
    const apiMs: number[] = [];
    for (let i = 0; i < LOADS; i += 1) {
      const started = performance.now();
      const answer = await fetch(`${stack.url}/api/runs?top=${RUNS}`);
      await answer.arrayBuffer();
      apiMs.push(performance.now() - started);
    }
    const each: number[] = [];
    // The first load builds the bundle on the server: warmed, not counted.
    for (let i = 0; i <= LOADS; i += 1) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(url, { waitUntil: 'commit' });
      // window.performance: the page's clock (from its navigation), not this process's.
      const at = await page.waitForFunction((count) => (document.querySelectorAll('tr[data-run-id]').length >= count ? window.performance.now() : false), RUNS, { polling: 'raf', timeout: 60_000 });
      if (i > 0) each.push(Math.round(Number(await at.jsonValue())));
      await context.close();
    }
    return { ...size, first_render_ms: median(each), first_render_ms_each: each, api_ms: Math.round(median(apiMs)) };
  } finally {
    await browser.close();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const STATUSES: RunStatus[] = ['Succeeded', 'Succeeded', 'Succeeded', 'Failed', 'Canceled'];
const TRIGGERS: Trigger[] = ['Manual', 'Image Update', 'Git Commit', 'Timer'];

/** `count` finished runs of 20 tasks, written directly: what a busy installation's history holds. */
async function seedFinishedRuns(client: Parameters<typeof createDynamoDbStores>[0]['client'], tableName: string, count: number): Promise<void> {
  const stores = createDynamoDbStores({ client, tableName });
  const ids = await stores.runs.nextIds(count);
  const start = Date.now() - count * 60_000;
  await stores.runs.createMany(
    ids.map(({ id, sequence }): Run => {
      const task = `service${sequence % 20}`;
      const createdAt = new Date(start + sequence * 60_000).toISOString();
      return {
        id,
        sequence,
        taskName: task,
        platform: 'linux/amd64',
        status: STATUSES[sequence % STATUSES.length] as RunStatus,
        trigger: TRIGGERS[sequence % TRIGGERS.length] as Trigger,
        cause: { kind: 'manual' },
        origin: { root: `run:${id}`, via: [] },
        spec: { registry: 'bench.registry:5000', images: [`${task}:${id}`], context: { kind: 'git', url: 'https://git.example.com/x.git', branch: 'main', folder: '.' }, dockerfile: 'Dockerfile', buildArgs: {}, platform: 'linux/amd64', credentials: [] },
        createdAt,
        startedAt: createdAt,
        finishedAt: new Date(start + sequence * 60_000 + 42_000).toISOString(),
        durationMs: 42_000,
        outputImages: [],
        baseImages: [],
      };
    }),
  );
}
