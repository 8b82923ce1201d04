import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLogStore } from '../../../lib/adapters/file-log-store';
import { ValidationError } from '../../../lib/domain/errors';

describe('FileLogStore', () => {
  let dataDir: string;
  let store: FileLogStore;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cascade-logs-'));
    store = new FileLogStore({ dataDir });
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('appends in call order, one file per run', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i}\n`);
    await Promise.all([...lines.map((l) => store.append('da1', l)), store.append('da2', 'other\n')]);
    await expect(store.read('da1')).resolves.toBe(lines.join(''));
    await expect(store.read('da2')).resolves.toBe('other\n');
    expect((await readdir(join(dataDir, 'logs'))).sort()).toEqual(['da1.log', 'da2.log']);
  });

  it('reads an empty log for a run that has not logged', async () => {
    await expect(store.read('da9')).resolves.toBe('');
  });

  it('read waits for appends already started', async () => {
    void store.append('da3', 'first\n');
    await expect(store.read('da3')).resolves.toBe('first\n');
  });

  it.each(['../etc/passwd', '..', '.hidden', 'a/b', 'a\\b', '', 'x'.repeat(129), 'da1\0'])(
    'rejects run id %j',
    async (runId) => {
      await expect(store.append(runId, 'x')).rejects.toBeInstanceOf(ValidationError);
      await expect(store.read(runId)).rejects.toBeInstanceOf(ValidationError);
    },
  );
});
