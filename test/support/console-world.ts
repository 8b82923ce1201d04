// The tutorial's world for the console's browser tests and its screenshots: a local stack, the
// base and app registries (CNCF distribution, the base one notifying the stack), registry logins,
// the app in a git repository and the base image built with buildah. Everything it starts,
// stop() stops.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../../lib/domain/types';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { createAppRepository, writeBaseContext } from '../../lib/local/tutorial-files';
import { runCli, type CliResult } from '../unit/cli/api-double';
import { newSecret, rememberSecrets } from './secrets';

export interface ConsoleWorld {
  work: string;
  stack: LocalStack;
  base: RegistryProcess;
  app: RegistryProcess;
  /** `file://` URL of the tutorial's app repository. */
  repo: string;
  /** `<base registry>/baseimages/node:9-alpine`, as the graph names it. */
  baseRef: string;
  cascade(args: string[], stdin?: string): Promise<CliResult>;
  /** `cascade ARGS`, failing with its stderr unless it exits 0; its stdout. */
  ok(args: string[], stdin?: string): Promise<string>;
  runs(): Promise<Run[]>;
  /** The tutorial's task: helloworld:{{.Run.ID}} from Dockerfile-app, with pull rights on the base registry. */
  createTutorialTask(name: string, options?: { image?: string; context?: string; file?: string; args?: string[] }): Promise<void>;
  /** A folder context whose Dockerfile builds on the base and then runs `steps`. */
  writeFolderContext(name: string, steps: string[]): Promise<string>;
  /** Builds and pushes the base again with another NODE_VERSION: the registry notifies the stack. */
  pushBase(nodeVersion: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startConsoleWorld(options: { log?: (line: string) => void } = {}): Promise<ConsoleWorld> {
  const work = await mkdtemp(join(tmpdir(), 'cascade-console-'));
  const password = { basePush: newSecret(), basePull: newSecret(), appPush: newSecret() };
  rememberSecrets(...Object.values(password));
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  };
  try {
    const stack = await startLocalStack({ port: 0, dataDir: join(work, 'cascade'), pollIntervalSeconds: 0, log: options.log ?? (() => undefined) });
    stops.push(() => stack.stop());
    const cascade = (args: string[], stdin = '') => runCli(args, { api: stack.url, stdin, pollIntervalMs: 100 });
    const ok = async (args: string[], stdin = '') => {
      const result = await cascade(args, stdin);
      if (result.code !== 0) throw new Error(`cascade ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
      return result.stdout;
    };
    const webhook = JSON.parse(await ok(['webhook', 'create', '--name', 'baseregistry', '--provider', 'distribution', '--output', 'json'])) as { url: string; secret: string };
    rememberSecrets(webhook.secret);
    const base = await startRegistry({
      users: { basepush: password.basePush, basepull: password.basePull },
      notify: { url: webhook.url, headers: { Authorization: `Bearer ${webhook.secret}` } },
    });
    stops.push(() => base.stop());
    const app = await startRegistry({ users: { apppush: password.appPush } });
    stops.push(() => app.stop());
    await ok(['registry', 'login', base.host, '--username', 'basepush', '--password-stdin'], password.basePush);
    await ok(['registry', 'login', app.host, '--username', 'apppush', '--password-stdin'], password.appPush);
    const repo = await createAppRepository(join(work, 'git'));
    const baseContext = await writeBaseContext(join(work, 'base'), '9.11.2');
    const buildBase = () => ok(['build', '--registry', base.host, '--image', 'baseimages/node:9-alpine', '--file', 'Dockerfile-base', baseContext]);
    await buildBase();
    return {
      work,
      stack,
      base,
      app,
      repo,
      baseRef: `${base.host}/baseimages/node:9-alpine`,
      cascade,
      ok,
      runs: async () => JSON.parse(await ok(['task', 'list-runs', '--top', '100', '--output', 'json'])) as Run[],
      async createTutorialTask(name, task = {}) {
        await ok([
          'task', 'create', '--name', name, '--registry', app.host, '--image', task.image ?? 'helloworld:{{.Run.ID}}',
          '--context', task.context ?? `${repo}#main`, '--file', task.file ?? 'Dockerfile-app', '--arg', `REGISTRY_NAME=${base.host}`, ...(task.args ?? []),
        ]);
        await ok(['task', 'credential', 'add', '--name', name, '--login-server', base.host, '--username', 'basepull', '--password-stdin'], password.basePull);
      },
      async writeFolderContext(name, steps) {
        const dir = join(work, 'contexts', name);
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'Dockerfile'), ['ARG REGISTRY_NAME', 'FROM ${REGISTRY_NAME}/baseimages/node:9-alpine', ...steps, ''].join('\n'));
        return dir;
      },
      async pushBase(nodeVersion) {
        await writeBaseContext(baseContext, nodeVersion);
        await buildBase();
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
