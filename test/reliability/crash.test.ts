// A crash between "run created" and "build started": the process is killed (SIGKILL) with the
// run Queued and no build. On restart the run is started exactly once; a run whose build was
// running when the process died is marked Error with the reason. Never Queued forever.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../../lib/local/stack';
import { RecordingBuilder } from '../support/recording-builder';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..');
let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-crash-'));
});
afterEach(async () => {
  killLeftovers(work);
  await rm(work, { recursive: true, force: true });
});

/** Processes whose command line names `dir`: what a killed stack leaves behind (DynamoDB Local's JVM). */
function killLeftovers(dir: string): number[] {
  const killed: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir) && Number(pid) !== process.pid) {
        process.kill(Number(pid), 'SIGKILL');
        killed.push(Number(pid));
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return killed;
}

/** Starts the crashing stack in its own process and resolves with its URL once it serves. */
function startCrashingStack(dataDir: string): Promise<{ child: ChildProcess; url: string; exited: Promise<string> }> {
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(__dirname, 'crash-stack.ts'), dataDir], {
    cwd: ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // tsx runs the script in a child of its own and passes its death on as exit code 128 + 9.
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? (code === 137 ? 'SIGKILL' : `exit ${code}`))));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const ready = /^ready (\S+)$/m.exec(out);
      if (ready) resolve({ child, url: ready[1]!, exited });
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', () => reject(new Error(`the crashing stack exited before it served: ${err}`)));
  });
}

it('a run created but not started when the process is killed starts exactly once after the restart', async () => {
  const dataDir = join(work, 'cascade');
  const crashing = await startCrashingStack(dataDir);
  const api = (path: string, body: unknown) => fetch(`${crashing.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await api('/api/tasks', { name: 'app', registry: '127.0.0.1:5998', images: ['app:{{.Run.ID}}'], context: 'https://git.example.com/app.git#main', file: 'Dockerfile', args: {} })).status).toBe(201);
  // The run is written, then the builder kills the process: the request never gets its answer.
  await expect(api('/api/tasks/app/runs', {})).rejects.toThrow();
  expect(await crashing.exited).toBe('SIGKILL');
  // The whole machine went down: DynamoDB Local with it.
  expect(killLeftovers(dataDir).length).toBeGreaterThan(0);

  const builder = new RecordingBuilder({ buildId: (request) => `after-restart-${request.runId}` });
  const lines: string[] = [];
  const restarted = await startLocalStack({ port: 0, dataDir, log: (line) => lines.push(line), sources: null, builder: () => builder });
  try {
    await restarted.idle();
    expect(builder.started.map((s) => s.runId)).toEqual(['da1']);
    expect(await restarted.cascade.runs.get('da1')).toMatchObject({ status: 'Running', buildId: 'after-restart-da1' });
    expect(lines).toContain('cascade: after restart, started again da1; marked interrupted none');
  } finally {
    await restarted.stop();
  }

  // A second restart finds nothing to recover: the run is not started twice.
  const again = new RecordingBuilder();
  const second = await startLocalStack({ port: 0, dataDir, log: () => undefined, sources: null, builder: () => again });
  try {
    expect(again.started).toEqual([]);
    expect(await second.cascade.runs.get('da1')).toMatchObject({ status: 'Error', error: 'the build was interrupted by a restart of cascade' });
  } finally {
    await second.stop();
  }
});
