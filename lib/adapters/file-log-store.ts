// Local build logs: one append-only file per run under `<dataDir>/logs/<runId>.log`.
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../domain/errors';
import type { LogStore } from '../domain/ports';

// Run ids become file names: no separators, no leading dot, so no path can leave the directory.
const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export interface FileLogStoreOptions {
  dataDir: string;
}

export class FileLogStore implements LogStore {
  readonly directory: string;
  // Appends to one run must land in call order; concurrent appendFile calls do not promise that.
  private readonly pending = new Map<string, Promise<void>>();

  constructor(options: FileLogStoreOptions) {
    this.directory = join(options.dataDir, 'logs');
  }

  async append(runId: string, text: string): Promise<void> {
    const file = this.fileOf(runId);
    if (text.length === 0) return;
    const previous = this.pending.get(runId) ?? Promise.resolve();
    const next = previous.then(async () => {
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
      await appendFile(file, text, { encoding: 'utf8', mode: 0o600 });
    });
    const settled = next.catch(() => undefined);
    this.pending.set(runId, settled);
    void settled.then(() => {
      if (this.pending.get(runId) === settled) this.pending.delete(runId);
    });
    return next;
  }

  /** The whole log so far; empty when the run has not logged anything. */
  async read(runId: string): Promise<string> {
    const file = this.fileOf(runId);
    await this.pending.get(runId);
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  async delete(runId: string): Promise<void> {
    const file = this.fileOf(runId);
    await this.pending.get(runId);
    await rm(file, { force: true });
  }

  private fileOf(runId: string): string {
    if (!RUN_ID_PATTERN.test(runId)) {
      throw new ValidationError(`run id "${runId}" must be letters, digits, _ and - (at most 128)`, 'runId');
    }
    return join(this.directory, `${runId}.log`);
  }
}
