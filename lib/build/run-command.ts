// Runs one program of a build (git, buildah, docker) in its own process group, so that a timeout
// or a cancel can kill it together with everything it started (buildah's RUN steps).
import { spawn } from 'node:child_process';

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Receives stdout and stderr as they arrive, e.g. to stream them into the run's log. */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  signal: AbortSignal;
  /** How long a SIGTERM'd group may take before SIGKILL. */
  killGraceMs?: number;
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Kept whole up to a limit: callers parse it (digests, commit ids). */
  stdout: string;
  /** The tail only: callers look for the last error line. */
  stderr: string;
}

const STDOUT_LIMIT = 1 << 20;
const STDERR_TAIL = 16 << 10;

/** The program could not be started at all (not installed, not executable). */
export class CommandNotFoundError extends Error {}

export function runCommand(command: string, args: string[], opts: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) {
      resolve({ code: null, signal: 'SIGTERM', stdout: '', stderr: '' });
      return;
    }
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // The group is already gone.
      }
    };
    const onAbort = () => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 3_000);
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      if (stdout.length < STDOUT_LIMIT) stdout += text;
      opts.onOutput?.('stdout', text);
    });
    child.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL);
      opts.onOutput?.('stderr', text);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      opts.signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      reject(
        err.code === 'ENOENT' || err.code === 'EACCES'
          ? new CommandNotFoundError(`cannot run ${command}: ${err.code === 'ENOENT' ? 'not found' : 'permission denied'}`)
          : err,
      );
    });
    child.once('close', (code, signal) => {
      opts.signal.removeEventListener('abort', onAbort);
      // The leader exited; anything it left behind in its group goes too.
      if (opts.signal.aborted) killGroup('SIGKILL');
      clearTimeout(killTimer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
