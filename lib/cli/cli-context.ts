// What every command gets: the process's streams, where it runs, and a client of the API.
import { CascadeApiClient, DEFAULT_API_URL } from './api-client';
import { UsageError } from './errors';

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Folder relative paths are resolved against; the process's when absent. */
  cwd?: string;
  /** How often a followed run is polled; 500 ms when absent. Tests make it short. */
  pollIntervalMs?: number;
}

export type OutputFormat = 'table' | 'json';

export class CliContext {
  readonly cwd: string;
  readonly pollIntervalMs: number;
  /** Set by the command that ran. */
  exitCode = 0;
  private client?: CascadeApiClient;

  constructor(readonly io: CliIo) {
    this.cwd = io.cwd ?? process.cwd();
    this.pollIntervalMs = io.pollIntervalMs ?? 500;
  }

  /** The API client, made on first use so commands that need no server never look at CASCADE_API. */
  api(): CascadeApiClient {
    if (!this.client) {
      const url = this.io.env.CASCADE_API?.trim() || DEFAULT_API_URL;
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        parsed = undefined;
      }
      if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
        throw new UsageError(`CASCADE_API must be an http(s) URL such as ${DEFAULT_API_URL}; fix or unset it`);
      }
      this.client = new CascadeApiClient(url);
    }
    return this.client;
  }

  out(text: string | Uint8Array): void {
    this.io.stdout.write(text);
  }

  err(text: string | Uint8Array): void {
    this.io.stderr.write(text);
  }

  /** Prints the server's JSON for one object, as `--output json` promises. */
  json(value: unknown): void {
    this.out(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Progress for people: stdout in table mode, stderr in json mode so stdout stays parseable. */
  note(output: OutputFormat, text: string | Uint8Array): void {
    if (output === 'json') this.err(text);
    else this.out(text);
  }
}
