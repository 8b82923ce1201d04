// A 3-level chain with a diamond, built for real with buildah against two CNCF distribution
// registries that send no notifications, the local stack's poller carrying each push on:
//
//   base registry: baseimages/node:9-alpine
//     └─ base-app  pushes base-app:latest
//          ├─ api  pushes api:latest ─┐
//          └─ web  pushes web:latest ─┴─ edge (FROM api AS …, FROM web)
//
// `cascade graph --output mermaid` draws it; a new base rebuilds base-app, then api and web, then
// edge once, after both; `cascade why` follows edge's run back to the poller's first sighting.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Run } from '../../lib/domain/types';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { runCli, succeeding, type CliResult } from '../unit/cli/api-double';
import { freePort } from '../../lib/local/free-port';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { writeBaseContext } from '../../lib/local/tutorial-files';

jest.setTimeout(420_000);

let work: string;
let stack: LocalStack;
let base: RegistryProcess;
let app: RegistryProcess;

function cascade(args: string[]): Promise<CliResult> {
  return runCli(args, { api: stack.url, pollIntervalMs: 100 });
}

const ok = succeeding(cascade);

/** The registries' ports differ from run to run: the drawing is compared with them named. */
const named = (text: string) => text.replaceAll(base.host, 'BASE').replaceAll(app.host, 'APP');

async function context(name: string, dockerfile: string[]): Promise<string> {
  const dir = join(work, 'contexts', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), [...dockerfile, ''].join('\n'));
  await writeFile(join(dir, `${name}.txt`), `${name}\n`);
  return dir;
}

async function createTask(name: string, dockerfile: string[], extra: string[] = []): Promise<void> {
  await ok(['task', 'create', '--name', name, '--registry', app.host, '--image', `${name}:latest`, '--context', await context(name, dockerfile), ...extra]);
  expect((await cascade(['task', 'run', '--name', name])).code).toBe(0);
}

async function imageUpdates(): Promise<Run[]> {
  return (JSON.parse(await ok(['task', 'list-runs', '--top', '100', '--output', 'json'])) as Run[]).filter((r) => r.trigger === 'Image Update').reverse();
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-diamond-'));
  // The app registry's port is the lower of two, so that its images sort before the base's in
  // the drawing, as the literal below has them.
  const first = await freePort();
  let second = await freePort();
  while (second === first || String(second).length !== String(first).length) second = await freePort();
  const [appPort, basePort] = [first, second].sort((a, b) => a - b);
  base = await startRegistry({ port: basePort });
  app = await startRegistry({ port: appPort });
  stack = await startLocalStack({ port: 0, dataDir: join(work, 'cascade'), log: (line) => console.log(line), pollIntervalSeconds: 2 });
  await ok(['build', '--registry', base.host, '--image', 'baseimages/node:9-alpine', '--file', 'Dockerfile-base', await writeBaseContext(join(work, 'base'), '9.11.1')]);
  await createTask('base-app', [`FROM ${base.host}/baseimages/node:9-alpine`, 'COPY base-app.txt /srv/']);
  await createTask('api', [`FROM ${app.host}/base-app:latest`, 'COPY api.txt /srv/']);
  await createTask('web', [`FROM ${app.host}/base-app:latest`, 'COPY web.txt /srv/']);
  await createTask('edge', [`FROM ${app.host}/api:latest AS api`, `FROM ${app.host}/web:latest`, 'COPY --from=api /srv/api.txt /srv/', 'COPY edge.txt /srv/'], ['--base-image-trigger-type', 'All']);
  await stack.idle();
});

afterAll(async () => {
  await stack?.stop();
  await base?.stop();
  await app?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

it('draws the graph as mermaid', async () => {
  expect(named(await ok(['graph', '--output', 'mermaid']))).toBe(
    [
      'flowchart TD',
      '  i1[("APP/api:latest")]',
      '  i2[("APP/base-app:latest")]',
      '  i3[("APP/web:latest")]',
      '  i4[("BASE/baseimages/node:9-alpine")]',
      '  t1["api"]',
      '  t2["base-app"]',
      '  t3["edge"]',
      '  t4["web"]',
      '  i1 -->|build-time| t3',
      '  i2 -->|runtime| t1',
      '  i2 -->|runtime| t4',
      '  i3 -->|runtime| t3',
      '  i4 -->|runtime| t2',
      '  t1 ==> i1',
      '  t2 ==> i2',
      '  t4 ==> i3',
      '',
    ].join('\n'),
  );
  const order = JSON.parse(await ok(['graph', '--image', `${base.host}/baseimages/node:9-alpine`, '--output', 'json'])) as { rebuildOrder: string[][] };
  expect(order.rebuildOrder).toEqual([['base-app'], ['api', 'web'], ['edge']]);
});

it('rebuilds the chain in order when the base changes, the diamond tip once, after both sides', async () => {
  await ok(['build', '--registry', base.host, '--image', 'baseimages/node:9-alpine', '--file', 'Dockerfile-base', await writeBaseContext(join(work, 'base2'), '9.11.2a')]);
  let runs: Run[] = [];
  for (let waited = 0; waited < 300_000; waited += 500) {
    await sleep(500);
    runs = await imageUpdates();
    if (runs.some((r) => r.taskName === 'edge' && r.status === 'Succeeded')) break;
  }
  await sleep(6_000); // two more polls: nothing else rebuilds
  await stack.idle();
  runs = await imageUpdates();
  expect(runs.map((r) => [r.taskName, r.status]).sort()).toEqual([['api', 'Succeeded'], ['base-app', 'Succeeded'], ['edge', 'Succeeded'], ['web', 'Succeeded']]);
  const byTask = Object.fromEntries(runs.map((r) => [r.taskName, r]));
  const finished = (task: string) => Date.parse(byTask[task]!.finishedAt!);
  const created = (task: string) => Date.parse(byTask[task]!.createdAt);
  expect(created('api')).toBeGreaterThanOrEqual(finished('base-app'));
  expect(created('web')).toBeGreaterThanOrEqual(finished('base-app'));
  expect(created('edge')).toBeGreaterThanOrEqual(Math.max(finished('api'), finished('web')));

  const why = named(await ok(['why', byTask.edge!.id]));
  expect(why).toMatch(new RegExp(`^${byTask.edge!.id}  edge  Image Update  Succeeded`));
  expect(why).toContain('because APP/');
  expect(why).toContain(`${byTask['base-app']!.id}  base-app  Image Update  Succeeded`);
  expect(why).toMatch(/first event: the poller saw BASE\/baseimages\/node:9-alpine at sha256:[a-f0-9]{64}/);
  expect(why).toMatch(/change image:BASE\/baseimages\/node:9-alpine@sha256:[a-f0-9]{64} went through base-app → (api|web)\n$/);
  if (process.env.CASCADE_PRINT_GRAPH) console.warn(await ok(['graph', '--output', 'mermaid']), why);
});
