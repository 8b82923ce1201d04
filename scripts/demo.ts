// `npm run demo`: the tutorial, for real, on this machine. Two private registries (CNCF
// distribution, both with passwords), cascade's local stack started with `cascade up`, and every
// step done with the `cascade` command as a user would type it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../lib/cli/main';
import type { Run } from '../lib/domain/types';
import { RegistryClient } from '../lib/images/registry-client';
import { freePort } from '../lib/local/free-port';
import { startRegistry, type RegistryProcess } from '../lib/local/registry-process';
import { createAppRepository, writeBaseContext } from '../lib/local/tutorial-files';

const ROOT = resolve(__dirname, '..');
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

function step(text: string): void {
  console.log(`\n${bold(`== ${text}`)}`);
}

/** Runs one `cascade` command in this process, echoing it first; `stdin` feeds --password-stdin. */
async function cascade(args: string[], options: { stdin?: string; quiet?: boolean; env: NodeJS.ProcessEnv }): Promise<string> {
  const shown = args.map((a) => (/[\s{}']/.test(a) ? `'${a}'` : a)).join(' ');
  if (!options.quiet) console.log(`$ ${options.stdin !== undefined ? 'echo *** | ' : ''}cascade ${shown}`);
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  const stdout = new PassThrough();
  let captured = '';
  stdout.on('data', (chunk: Buffer) => {
    captured += chunk.toString();
    if (!options.quiet) process.stdout.write(chunk);
  });
  const code = await main(args, { stdin, stdout, stderr: process.stderr, env: options.env });
  if (code !== 0) throw new Error(`cascade ${args[0]} ${args[1] ?? ''} exited with ${code}`);
  return captured;
}

async function waitForHealth(url: string, server: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`cascade up exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`cascade up did not answer ${url}/health within ${timeoutMs / 1000}s`);
}

async function waitForRun(env: NodeJS.ProcessEnv, predicate: (run: Run) => boolean, timeoutMs: number): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const runs = JSON.parse(await cascade(['task', 'list-runs', '--output', 'json'], { env, quiet: true })) as Run[];
    const run = runs.find(predicate);
    if (run && ['Succeeded', 'Failed', 'Error', 'Timeout', 'Canceled'].includes(run.status)) return run;
    await sleep(500);
  }
  throw new Error(`no matching run finished within ${timeoutMs / 1000}s`);
}

async function demo(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'cascade-demo-'));
  const cleanups: Array<() => Promise<unknown>> = [async () => rm(work, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const password = () => randomBytes(12).toString('base64url');
    const users = { appPush: password(), basePush: password(), basePull: password() };

    step('Start cascade (`cascade up`) with its data under a temporary folder');
    const port = await freePort();
    const api = `http://127.0.0.1:${port}`;
    const env = { ...process.env, CASCADE_API: api };
    const server = spawn(join(ROOT, 'bin', 'cascade'), ['up', '--port', String(port), '--data-dir', join(work, 'cascade')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    const serverLog: string[] = [];
    server.stdout?.on('data', (d: Buffer) => serverLog.push(d.toString()));
    server.stderr?.on('data', (d: Buffer) => serverLog.push(d.toString()));
    cleanups.push(async () => {
      server.kill('SIGINT');
      await new Promise((r) => server.once('exit', r));
    });
    await waitForHealth(api, server, 120_000);
    console.log(`cascade is listening on ${api}`);

    step('The base registry will notify cascade of pushes: create a webhook for it');
    const webhook = JSON.parse(
      await cascade(['webhook', 'create', '--name', 'baseregistry', '--provider', 'distribution', '--output', 'json'], { env }),
    ) as { url: string; secret: string };

    step('Start two private registries: the base registry (notifying cascade) and the app registry');
    const baseRegistry: RegistryProcess = await startRegistry({
      dataDir: join(work, 'base-registry'),
      users: { basepush: users.basePush, basepull: users.basePull },
      notify: { url: webhook.url, headers: { Authorization: `Bearer ${webhook.secret}` } },
    });
    cleanups.push(() => baseRegistry.stop());
    const appRegistry = await startRegistry({ dataDir: join(work, 'app-registry'), users: { apppush: users.appPush } });
    cleanups.push(() => appRegistry.stop());
    console.log(`base registry: ${baseRegistry.host} (users basepush, basepull)\napp registry:  ${appRegistry.host} (user apppush)`);

    step('Give cascade push rights to both registries');
    await cascade(['registry', 'login', baseRegistry.host, '--username', 'basepush', '--password-stdin'], { env, stdin: users.basePush });
    await cascade(['registry', 'login', appRegistry.host, '--username', 'apppush', '--password-stdin'], { env, stdin: users.appPush });

    step('1. Build the base image baseimages/node:9-alpine (NODE_VERSION 9.11.2) and push it to the base registry');
    const baseContext = await writeBaseContext(join(work, 'base'), '9.11.2');
    await cascade(['build', '--registry', baseRegistry.host, '--image', 'baseimages/node:9-alpine', '--file', 'Dockerfile-base', baseContext], { env });

    step('2. Create the app task in the app registry; its context is a git repository');
    const repo = await createAppRepository(join(work, 'git'));
    await cascade(
      ['task', 'create', '--name', 'baseexample2', '--registry', appRegistry.host, '--image', 'helloworld:{{.Run.ID}}',
        '--context', `${repo}#main`, '--file', 'Dockerfile-app', '--arg', `REGISTRY_NAME=${baseRegistry.host}`],
      { env },
    );

    step('3. Give the task pull credentials for the base registry (not its push rights)');
    await cascade(['task', 'credential', 'add', '--name', 'baseexample2', '--login-server', baseRegistry.host, '--username', 'basepull', '--password-stdin'], { env, stdin: users.basePull });
    await cascade(['task', 'show', '--name', 'baseexample2'], { env });

    step('4. Run the task once by hand: this records its base-image dependencies');
    await cascade(['task', 'run', '--name', 'baseexample2'], { env });
    await cascade(['task', 'show', '--name', 'baseexample2'], { env });

    step('5. The runs so far');
    await cascade(['task', 'list-runs'], { env });

    step('6. Change the base (ENV NODE_VERSION 9.11.2a) and push it again');
    await writeBaseContext(baseContext, '9.11.2a');
    await cascade(['build', '--registry', baseRegistry.host, '--image', 'baseimages/node:9-alpine', '--file', 'Dockerfile-base', baseContext], { env });
    console.log('The base registry notifies cascade of the push; cascade starts the app task with trigger Image Update.');
    const update = await waitForRun(env, (r) => r.taskName === 'baseexample2' && r.trigger === 'Image Update', 120_000);
    await cascade(['task', 'logs', '--run-id', update.id], { env, quiet: true }).then((log) => process.stdout.write(log.split('\n').slice(-6).join('\n') + '\n'));
    await cascade(['task', 'list-runs'], { env });

    step('The new app image carries the new base');
    const pushed = update.outputImages[0];
    if (update.status !== 'Succeeded' || !pushed) throw new Error(`the Image Update run ${update.id} ended ${update.status}: ${update.error ?? ''}`);
    const client = new RegistryClient({ credentials: async () => ({ username: 'apppush', password: users.appPush }) });
    const [repository, tag] = pushed.reference.slice(appRegistry.host.length + 1).split(':') as [string, string];
    const config = await client.getImageConfig({ registry: appRegistry.host, repository, tag });
    const nodeVersion = (config.config?.Env ?? []).find((e) => e.startsWith('NODE_VERSION='));
    console.log(`${pushed.reference} (${pushed.digest}): ${nodeVersion ?? 'NODE_VERSION missing'}`);
    if (nodeVersion !== 'NODE_VERSION=9.11.2a') throw new Error('the rebuilt app image does not carry NODE_VERSION=9.11.2a');
    console.log(`\n${bold('The tutorial ran end to end.')} Stopping everything.`);
  } finally {
    await stopAll();
  }
}

demo().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
