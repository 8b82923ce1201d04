// Reads one file of a build context before any build: a shallow clone for git contexts, the
// folder itself for local ones. Used where git is at hand (the local stack).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { formatBuildContext } from '../domain/context';
import { ValidationError } from '../domain/errors';
import type { SourceReader } from '../domain/ports';
import type { BuildContext } from '../domain/types';

const run = promisify(execFile);

export class GitSourceReader implements SourceReader {
  constructor(private readonly options: { timeoutMs?: number } = {}) {}

  async readFile(context: BuildContext, path: string): Promise<string> {
    if (context.kind === 'local') return readInside(context.path, path, formatBuildContext(context));
    const dir = await mkdtemp(join(tmpdir(), 'cascade-src-'));
    try {
      try {
        await run('git', ['clone', '--quiet', '--depth', '1', '--single-branch', '--branch', context.branch, '--', context.url, dir], {
          timeout: this.options.timeoutMs ?? 60_000,
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
        });
      } catch (error) {
        const reason = ((error as { stderr?: string }).stderr ?? String(error)).trim().split('\n').pop();
        throw new ValidationError(`cannot read context ${formatBuildContext(context)}: ${reason}`, 'context');
      }
      return await readInside(join(dir, context.folder), path, formatBuildContext(context));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

async function readInside(root: string, path: string, label: string): Promise<string> {
  let base: string;
  try {
    base = await realpath(root);
  } catch {
    throw new ValidationError(`context ${label} does not exist`, 'context');
  }
  const target = resolve(base, path);
  try {
    const real = await realpath(target);
    if (real !== base && !real.startsWith(base + sep)) throw new Error('outside');
    return await readFile(real, 'utf8');
  } catch {
    throw new ValidationError(`${path} was not found in context ${label}`, 'file');
  }
}
