// `cascade up` keeps the stack in the foreground and stops it on SIGINT/SIGTERM. The stack itself
// is replaced here (it starts DynamoDB Local and buildah wiring); this tests only the command's
// lifecycle: what it starts, what it prints, that a signal stops it, and the exit code.
import { PassThrough, Readable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../lib/cli/main';
import { startLocalStack } from '../../../lib/local/stack';

jest.mock('../../../lib/local/stack', () => ({ startLocalStack: jest.fn() }));
const startStack = jest.mocked(startLocalStack);

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'cascade-cli-up-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});
afterEach(() => startStack.mockReset());

function startUp(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = main(['up', ...argv], { stdin: Readable.from([]), stdout, stderr, env: {}, cwd });
  return { exit, out: () => out, err: () => err };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!check()) throw new Error('condition not met within 1s');
}

describe('cascade up', () => {
  it.each<NodeJS.Signals>(['SIGINT', 'SIGTERM'])('prints the URL, stays up, and stops cleanly on %s', async (signal) => {
    const stop = jest.fn(async () => undefined);
    startStack.mockImplementation(async (options) => {
      options.log?.('dynamodb ready');
      return { url: `http://127.0.0.1:${options.port}`, publicUrl: `http://127.0.0.1:${options.port}`, stop } as unknown as Awaited<ReturnType<typeof startLocalStack>>;
    });
    const listenersBefore = process.listenerCount(signal);
    const up = startUp(['--port', '4321', '--data-dir', 'state']);
    await until(() => up.out().includes('cascade is up'));
    expect(startStack).toHaveBeenCalledWith(expect.objectContaining({ port: 4321, dataDir: join(cwd, 'state') }));
    expect(up.out()).toBe('dynamodb ready\ncascade is up at http://127.0.0.1:4321\nPress Ctrl-C to stop.\n');
    expect(stop).not.toHaveBeenCalled();

    process.emit(signal, signal);
    await expect(up.exit).resolves.toBe(0);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(up.out()).toContain(`Stopping cascade (${signal})...\ncascade stopped.\n`);
    // Its handlers are gone, so a second Ctrl-C would end the process the usual way.
    expect(process.listenerCount(signal)).toBe(listenersBefore);
  });

  it('defaults to port 3000 and the .cascade folder', async () => {
    startStack.mockImplementation(async () => ({ url: 'http://127.0.0.1:3000', publicUrl: 'http://127.0.0.1:3000', stop: async () => undefined }) as unknown as Awaited<ReturnType<typeof startLocalStack>>);
    const up = startUp([]);
    await until(() => up.out().includes('cascade is up'));
    expect(startStack).toHaveBeenCalledWith(expect.objectContaining({ port: 3000, dataDir: join(cwd, '.cascade') }));
    process.emit('SIGINT', 'SIGINT');
    await expect(up.exit).resolves.toBe(0);
  });

  it('exits 1 with one sentence when the stack cannot start, leaving no signal handlers', async () => {
    startStack.mockRejectedValue(new Error('listen EADDRINUSE: address already in use 127.0.0.1:3000'));
    const before = process.listenerCount('SIGINT');
    const up = startUp([]);
    await expect(up.exit).resolves.toBe(1);
    expect(up.err()).toBe('error: could not start cascade: listen EADDRINUSE: address already in use 127.0.0.1:3000; port 3000 is taken: choose another with --port\n');
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('passes --host, --public-url, TLS files and --insecure-no-auth on, and names the public URL', async () => {
    startStack.mockImplementation(async () => ({ url: 'https://127.0.0.1:3000', publicUrl: 'https://cascade.example.com', stop: async () => undefined }) as unknown as Awaited<ReturnType<typeof startLocalStack>>);
    const up = startUp(['--host', '0.0.0.0', '--public-url', 'https://cascade.example.com/', '--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--insecure-no-auth']);
    await until(() => up.out().includes('cascade is up'));
    expect(startStack).toHaveBeenCalledWith(
      expect.objectContaining({ host: '0.0.0.0', publicUrl: 'https://cascade.example.com', insecureNoAuth: true, tls: { certFile: join(cwd, 'c.pem'), keyFile: join(cwd, 'k.pem') } }),
    );
    expect(up.out()).toBe('cascade is up at https://127.0.0.1:3000 (registries and git hosts: https://cascade.example.com)\nPress Ctrl-C to stop.\n');
    process.emit('SIGINT', 'SIGINT');
    await expect(up.exit).resolves.toBe(0);
  });

  it.each([
    [['--tls-cert', 'c.pem'], 'error: --tls-cert and --tls-key go together: give both PEM files, e.g. --tls-cert cert.pem --tls-key key.pem\n'],
    [['--tls-key', 'k.pem'], 'error: --tls-cert and --tls-key go together: give both PEM files, e.g. --tls-cert cert.pem --tls-key key.pem\n'],
    [['--public-url', 'cascade.example.com'], 'error: --public-url: the public URL "cascade.example.com" is not a URL: give one such as https://cascade.example.com\n'],
    [['--public-url', 'https://u:p@cascade.example.com'], 'error: --public-url: the public URL must not carry a user name or password\n'],
  ])('refuses %j before starting anything (exit 2)', async (argv, message) => {
    const up = startUp(argv);
    await expect(up.exit).resolves.toBe(2);
    expect(up.err()).toBe(message);
    expect(startStack).not.toHaveBeenCalled();
  });
});
