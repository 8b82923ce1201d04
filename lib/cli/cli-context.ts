// What every command gets: the process's streams, where it runs, and a client of the API.
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AwsIamSignerOptions } from './aws-iam-signer';
import { resolveApiAuth } from './api-auth';
import { CascadeApiClient, DEFAULT_API_URL, type RequestSigner } from './api-client';
import { UsageError } from './errors';
import { savedToken } from './saved-logins';

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Folder relative paths are resolved against; the process's when absent. */
  cwd?: string;
  /** How often a followed run is polled; 500 ms when absent. Tests make it short. */
  pollIntervalMs?: number;
  /** Where AWS credentials come from when requests are signed; the standard provider chain when absent. */
  awsCredentials?: AwsCredentialIdentityProvider;
  /** What sends HTTP requests; the global fetch when absent. */
  fetch?: typeof fetch;
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

  /**
   * The API client, made on first use so commands that need no server never look at CASCADE_API
   * (nor at AWS credentials). It signs its requests when the API is behind IAM authorization.
   */
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
      const auth = resolveApiAuth(parsed, this.io.env);
      const signer = auth.kind === 'aws-iam' ? lazySigner({ region: auth.region, profile: this.io.env.AWS_PROFILE?.trim() || undefined, credentials: this.io.awsCredentials }) : undefined;
      // A local stack's token: CASCADE_TOKEN, else what `cascade login` saved for this API.
      const env = this.io.env;
      const token = signer ? undefined : async () => env.CASCADE_TOKEN?.trim() || (await savedToken(env, url));
      this.client = new CascadeApiClient(url, { signer, token, fetch: this.io.fetch });
    }
    return this.client;
  }

  /** A client of the same API sending `token`, whatever is saved: to try a token before keeping it. */
  apiWithToken(token: string): CascadeApiClient {
    const api = this.api();
    return new CascadeApiClient(api.baseUrl, { token: async () => token, fetch: this.io.fetch });
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

/**
 * The SigV4 signer, loaded on the first request it signs: the AWS credential chain costs tens of
 * milliseconds to load, which commands talking to the local stack should not pay.
 */
function lazySigner(options: AwsIamSignerOptions): RequestSigner {
  let signer: Promise<RequestSigner> | undefined;
  return {
    async sign(request) {
      signer ??= import('./aws-iam-signer').then(({ AwsIamSigner }) => new AwsIamSigner(options));
      return (await signer).sign(request);
    },
  };
}
