// What the command line reads besides its flags: a password on stdin, a yes/no answer, a context.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { UsageError } from './errors';

const MAX_PASSWORD_BYTES = 64 * 1024;

/**
 * The password piped to `--password-stdin`, minus one trailing newline (the one `echo` adds).
 * `example` is the command to show when nothing was piped.
 */
export function readPasswordFromStdin(stdin: NodeJS.ReadableStream, example: string): Promise<string> {
  return readSecretFromStdin(stdin, { what: 'password', flag: '--password-stdin', example });
}

/** A secret (a password, a token) piped to `flag`, minus one trailing newline. */
export async function readSecretFromStdin(stdin: NodeJS.ReadableStream, { what, flag, example }: { what: string; flag: string; example: string }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_PASSWORD_BYTES) throw new UsageError(`stdin holds more than 64 KiB: pipe only the ${what} to ${flag}`);
    chunks.push(buffer);
  }
  const secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (secret === '') {
    const variable = what === 'password' ? '$PASSWORD' : `$${what.toUpperCase()}`;
    throw new UsageError(`no ${what} arrived on stdin: pipe it in, e.g. printf '%s' "${variable}" | ${example}`);
  }
  return secret;
}

/** Asks on `prompt` and reads one line of `stdin`; only "y" or "yes" agree. No answer is no. */
export async function confirm(stdin: NodeJS.ReadableStream, prompt: NodeJS.WritableStream, question: string): Promise<boolean> {
  prompt.write(`${question} (y/N): `);
  const lines = createInterface({ input: stdin, terminal: false });
  try {
    const answer = await new Promise<string>((done) => {
      lines.once('line', done);
      lines.once('close', () => done(''));
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    lines.close();
  }
}

/** A git context: a URL with a scheme (`https://`, `file://`, `ssh://`…) or scp-like `git@host:…`. */
export function isGitContext(context: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(context) || /^[\w.-]+@[\w.-]+:/.test(context);
}

/**
 * Git contexts pass through as typed (`URL[#branch[:folder]]`); a local folder becomes an
 * absolute path, because the server does not share the caller's working directory.
 */
export async function resolveContext(context: string, cwd: string): Promise<string> {
  if (isGitContext(context)) return context;
  const path = resolve(cwd, context);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new UsageError(
      `the context "${context}" is neither a folder nor a git URL: give an existing folder or a URL such as https://github.com/OWNER/REPO.git#main`,
    );
  }
  return path;
}
