// The local stack's API tokens: shown once, kept only as a hash in a file only its owner reads.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiTokens } from '../../../lib/local/api-tokens';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cascade-tokens-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it('makes a token that verifies as its name, and keeps only its hash, mode 0600', async () => {
  const tokens = new ApiTokens({ dataDir: dir, clock: () => new Date('2026-12-06T10:00:00Z') });
  const made = await tokens.create('alice');
  expect(made).toEqual({ name: 'alice', createdAt: '2026-12-06T10:00:00.000Z', hint: made.token.slice(0, 12), token: expect.stringMatching(/^cascade_[A-Za-z0-9_-]{43}$/) });
  expect(await tokens.verify(made.token)).toBe('alice');
  const file = await readFile(tokens.file, 'utf8');
  expect(file).not.toContain(made.token);
  expect(file).not.toContain(made.token.slice(12));
  expect((await stat(tokens.file)).mode & 0o777).toBe(0o600);
  expect((await stat(dir)).mode & 0o777).toBe(0o700);
  expect(await tokens.list()).toEqual([{ name: 'alice', createdAt: '2026-12-06T10:00:00.000Z', hint: made.token.slice(0, 12) }]);
});

it('tells tokens apart, and refuses what is not one', async () => {
  const tokens = new ApiTokens({ dataDir: dir });
  const [a, b] = [await tokens.create('a'), await tokens.create('b')];
  expect(a.token).not.toBe(b.token);
  expect(await tokens.verify(b.token)).toBe('b');
  for (const bad of ['', 'cascade_', a.token.slice(0, -1), `${a.token}x`, a.token.toUpperCase(), 'Bearer x']) expect(await tokens.verify(bad)).toBeUndefined();
});

it('refuses a second token of one name, a bad name, and revoking what does not exist', async () => {
  const tokens = new ApiTokens({ dataDir: dir });
  await tokens.create('ci');
  await expect(tokens.create('ci')).rejects.toThrow('a token named "ci" already exists');
  await expect(tokens.create('no spaces')).rejects.toThrow(/token name "no spaces" must be 1-50 letters/);
  await expect(tokens.revoke('nobody')).rejects.toThrow('token "nobody" was not found');
  expect((await tokens.list()).map((t) => t.name)).toEqual(['ci']);
});

it('a revocation written by another process is seen at once', async () => {
  const stack = new ApiTokens({ dataDir: dir });
  const cli = new ApiTokens({ dataDir: dir });
  const made = await cli.create('ci');
  expect(await stack.verify(made.token)).toBe('ci');
  await cli.revoke('ci');
  expect(await stack.verify(made.token)).toBeUndefined();
  expect(await stack.any()).toBe(false);
});

it('concurrent creations in one process all land', async () => {
  const tokens = new ApiTokens({ dataDir: dir });
  await Promise.all(Array.from({ length: 10 }, (_, i) => tokens.create(`t${i}`)));
  expect((await tokens.list()).length).toBe(10);
});
