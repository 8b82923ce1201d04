// Runs the CNCF distribution registry (`docker-registry serve`) as a child process, for the
// local stack, the demo and tests. Everything it needs (config, htpasswd, storage) lives
// under one data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freePort } from './free-port';

export interface StartRegistryOptions {
  /** Kept after stop() when given; a temp dir is created (and removed by stop()) otherwise. */
  dataDir?: string;
  /** username → password; the registry then requires Basic auth for everything. */
  users?: Record<string, string>;
  /** Bearer-token auth (JWTs signed by a key whose certificate is in rootCertBundle). Exclusive with users. */
  tokenAuth?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Where push/pull notifications go; headers are sent verbatim with every delivery. */
  notify?: { url: string; headers?: Record<string, string> };
  /** A free port is picked when absent. */
  port?: number;
  /** Defaults to `<dataDir>/registry.log`. */
  logFile?: string;
  /** Defaults to `docker-registry` on the PATH. */
  binary?: string;
  readyTimeoutMs?: number;
}

export interface RegistryProcess {
  /** `127.0.0.1:PORT`, the registry part of image references. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  dataDir: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
const LOG_TAIL_BYTES = 4_096;

// Children still running when this process exits are killed, so a crashed test run or an
// interrupted demo does not leave registries holding ports.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<RegistryProcess> {
  if (opts.users && opts.tokenAuth) throw new Error('startRegistry: users and tokenAuth are exclusive');
  const ownsDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : await mkdtemp(join(tmpdir(), 'cascade-registry-'));
  try {
    await mkdir(join(dataDir, 'storage'), { recursive: true });
    const htpasswdPath = opts.users ? await writeHtpasswd(dataDir, opts.users) : undefined;
    const logFile = resolve(opts.logFile ?? join(dataDir, 'registry.log'));
    await mkdir(dirname(logFile), { recursive: true });
    const secrets = [
      ...Object.values(opts.users ?? {}),
      ...Object.values(opts.notify?.headers ?? {}),
    ].filter((s) => s.length >= 4);

    // A port found free can be taken before the registry binds it: pick another and retry.
    const attempts = opts.port === undefined ? 3 : 1;
    for (let attempt = 1; ; attempt++) {
      const port = opts.port ?? (await freePort());
      try {
        const launched = await launch({ ...opts, dataDir, htpasswdPath, logFile, port, secrets });
        return {
          ...launched,
          dataDir,
          logFile,
          stop: once(async () => {
            await launched.stop();
            if (ownsDir) await rm(dataDir, { recursive: true, force: true });
          }),
        };
      } catch (err) {
        if (err instanceof PortInUseError && attempt < attempts) continue;
        throw err;
      }
    }
  } catch (err) {
    if (ownsDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

class PortInUseError extends Error {}

interface LaunchOptions extends StartRegistryOptions {
  dataDir: string;
  htpasswdPath?: string;
  logFile: string;
  port: number;
  secrets: string[];
}

async function launch(o: LaunchOptions): Promise<{ host: string; url: string; pid: number; stop(): Promise<void> }> {
  const host = `127.0.0.1:${o.port}`;
  const url = `http://${host}`;
  const configPath = join(o.dataDir, 'config.yml');
  await writeFile(configPath, renderConfig(o, host), { mode: 0o600 });

  const logStart = await fileSize(o.logFile);
  const logFd = openSync(o.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(o.binary ?? 'docker-registry', ['serve', configPath], {
      stdio: ['ignore', logFd, logFd],
      env: registryEnv(),
    });
  } finally {
    closeSync(logFd);
  }
  child.unref();
  track(child);

  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      res();
    });
    child.once('error', (err) => {
      spawnError = err;
      res();
    });
  });

  const stop = once(() => terminate(child, exited, () => exit !== undefined || spawnError !== undefined));

  const failure = async (why: string): Promise<Error> => {
    await stop();
    const tail = redact(await readTail(o.logFile, logStart), o.secrets);
    const message = `docker-registry on ${host} ${why}${tail ? `; last log lines:\n${tail}` : ''}`;
    return /address already in use/.test(tail) ? new PortInUseError(message) : new Error(message);
  };

  const deadline = Date.now() + (o.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (spawnError) {
      const code = (spawnError as NodeJS.ErrnoException).code;
      await stop();
      throw new Error(
        code === 'ENOENT'
          ? `cannot start ${o.binary ?? 'docker-registry'}: not found (install it with apt-get install docker-registry)`
          : `cannot start ${o.binary ?? 'docker-registry'}: ${spawnError.message}`,
      );
    }
    if (exit) throw await failure(`exited during start-up (${exit.signal ?? `code ${exit.code}`})`);
    if (await answers(`${url}/v2/`)) break;
    if (Date.now() > deadline) throw await failure(`did not answer GET /v2/ within ${o.readyTimeoutMs ?? 15_000} ms`);
    await Promise.race([sleep(50), exited]);
  }
  if (child.pid === undefined) throw await failure('has no process id');
  return { host, url, pid: child.pid, stop };
}

function renderConfig(o: LaunchOptions, addr: string): string {
  const q = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML double-quoted scalar
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(join(o.dataDir, 'storage'))}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${q(addr)}`,
    // A fixed secret silences the "no HTTP secret" warning and keeps upload state valid.
    `  secret: ${q(randomBytes(16).toString('hex'))}`,
  ];
  if (o.htpasswdPath) {
    lines.push('auth:', '  htpasswd:', '    realm: basic-realm', `    path: ${q(o.htpasswdPath)}`);
  } else if (o.tokenAuth) {
    const t = o.tokenAuth;
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${q(t.realm)}`,
      `    service: ${q(t.service)}`,
      `    issuer: ${q(t.issuer)}`,
      `    rootcertbundle: ${q(resolve(t.rootCertBundle))}`,
    );
  }
  if (o.notify) {
    lines.push('notifications:', '  endpoints:', '    - name: cascade', `      url: ${q(o.notify.url)}`);
    const headers = Object.entries(o.notify.headers ?? {});
    if (headers.length > 0) {
      lines.push('      headers:');
      for (const [name, value] of headers) lines.push(`        ${q(name)}: [${q(value)}]`);
    }
    lines.push('      timeout: 2s', '      threshold: 3', '      backoff: 1s');
  }
  return lines.join('\n') + '\n';
}

async function writeHtpasswd(dataDir: string, users: Record<string, string>): Promise<string> {
  const entries: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    if (!user || /[:\s]/.test(user)) throw new Error(`startRegistry: invalid user name "${user}"`);
    entries.push(await bcryptEntry(user, password));
  }
  const path = join(dataDir, 'htpasswd');
  await writeFile(path, entries.join('\n') + '\n', { mode: 0o600 });
  return path;
}

/** The password goes through stdin (`-i`) so it never shows in a process listing. */
function bcryptEntry(user: string, password: string): Promise<string> {
  return new Promise((res, rej) => {
    const p = spawn('htpasswd', ['-iBn', user], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('error', (e: NodeJS.ErrnoException) =>
      rej(new Error(e.code === 'ENOENT' ? 'htpasswd not found (install apache2-utils)' : `htpasswd: ${e.message}`)),
    );
    p.once('close', (code) => {
      const line = out.trim();
      if (code === 0 && line.startsWith(`${user}:$2`)) res(line);
      else rej(new Error(`htpasswd failed for user "${user}" (code ${code}): ${err.trim()}`));
    });
    p.stdin.end(password);
  });
}

/** distribution lets REGISTRY_* variables override its config; ours must win. */
function registryEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;
  return env;
}

async function terminate(child: ChildProcess, exited: Promise<void>, hasExited: () => boolean): Promise<void> {
  if (hasExited()) return;
  child.kill('SIGTERM');
  // A ref'd timer keeps the event loop alive while we wait for the (unref'd) child.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((res) => (timer = setTimeout(() => res(true), STOP_GRACE_MS))),
  ]);
  clearTimeout(timer);
  if (!timedOut || hasExited()) return;
  child.kill('SIGKILL');
  await Promise.race([exited, new Promise<void>((res) => (timer = setTimeout(res, STOP_GRACE_MS)))]);
  clearTimeout(timer);
}

/** node:http rather than fetch: fetch refuses some ports (e.g. 6000) that a caller may choose. */
function answers(url: string): Promise<boolean> {
  return new Promise((res) => {
    const req = httpGet(url, { timeout: 1_000, agent: false }, (r) => {
      r.resume();
      // The header tells our registry from another server that took the port first.
      res((r.statusCode === 200 || r.statusCode === 401) && r.headers['docker-distribution-api-version'] === 'registry/2.0');
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => res(false));
  });
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readTail(path: string, from: number): Promise<string> {
  try {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      const start = Math.max(from, size - LOG_TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      return buf.toString('utf8').trim();
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}
