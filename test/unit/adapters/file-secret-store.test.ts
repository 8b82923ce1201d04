import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSecretStore } from '../../../lib/adapters/file-secret-store';
import { ValidationError } from '../../../lib/domain/errors';

describe('FileSecretStore', () => {
  let dataDir: string;
  let store: FileSecretStore;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cascade-secrets-'));
    store = new FileSecretStore({ dataDir });
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('returns a local: reference and gives the value back', async () => {
    const ref = await store.put('task/hello/127.0.0.1:5001', 'hunter2');
    expect(ref).toBe('local:task/hello/127.0.0.1:5001');
    await expect(store.get(ref)).resolves.toBe('hunter2');
  });

  it('refFor gives the reference put returns, without storing', async () => {
    expect(store.refFor('registry-login/[::1]:5000')).toBe('local:registry-login/[::1]:5000');
    await expect(store.get(store.refFor('registry-login/[::1]:5000'))).resolves.toBeUndefined();
    await expect(store.put('registry-login/[::1]:5000', 'x')).resolves.toBe(store.refFor('registry-login/[::1]:5000'));
  });

  it('survives a new instance (the value is on disk)', async () => {
    const ref = await store.put('a', 'one');
    await expect(new FileSecretStore({ dataDir }).get(ref)).resolves.toBe('one');
  });

  it('overwrites a secret of the same name', async () => {
    const ref = await store.put('a', 'one');
    await store.put('a', 'two');
    await expect(store.get(ref)).resolves.toBe('two');
  });

  it('returns undefined for unknown secrets and after delete', async () => {
    await expect(store.get('local:missing')).resolves.toBeUndefined();
    const ref = await store.put('gone', 'x');
    await store.delete(ref);
    await expect(store.get(ref)).resolves.toBeUndefined();
    await expect(store.delete(ref)).resolves.toBeUndefined();
  });

  it('does not confuse secret names with object properties', async () => {
    await expect(store.get('local:constructor')).resolves.toBeUndefined();
    await expect(store.get('local:toString')).resolves.toBeUndefined();
  });

  it('keeps the file 0600 in a 0700 directory and leaves no temp files', async () => {
    await store.put('a', 'one');
    await store.put('b', 'two');
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    expect((await stat(store.directory)).mode & 0o777).toBe(0o700);
    expect(await readdir(store.directory)).toEqual(['secrets.json']);
    expect(JSON.parse(await readFile(store.file, 'utf8'))).toEqual({ a: 'one', b: 'two' });
  });

  it('loses no write when many puts run at once', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `s${i}`);
    await Promise.all(names.map((n) => store.put(n, `v-${n}`)));
    const values = await Promise.all(names.map((n) => store.get(`local:${n}`)));
    expect(values).toEqual(names.map((n) => `v-${n}`));
  });

  it.each([
    ['put with a name with spaces', (s: FileSecretStore) => s.put('a name', 'x')],
    ['put with a control character', (s: FileSecretStore) => s.put('a\nb', 'x')],
    ['put with an empty name', (s: FileSecretStore) => s.put('', 'x')],
    ['get with a foreign reference', (s: FileSecretStore) => s.get('arn:aws:secretsmanager:eu-west-1:1:secret:x')],
    ['get without a name', (s: FileSecretStore) => s.get('local:')],
    ['delete with a foreign reference', (s: FileSecretStore) => s.delete('ssm:/x')],
    ['put with a name too long', (s: FileSecretStore) => s.put('x'.repeat(257), 'x')],
  ])('rejects %s with ValidationError', async (_name, call) => {
    await expect(call(store)).rejects.toBeInstanceOf(ValidationError);
  });

  it('refFor rejects a bad name with ValidationError', () => {
    expect(() => store.refFor('has space')).toThrow(ValidationError);
  });
});
