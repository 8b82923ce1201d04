// Signs the CLI's requests with AWS Signature Version 4 for API Gateway's IAM authorization
// (service `execute-api`), with credentials from the standard AWS provider chain.
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, QueryParameterBag } from '@smithy/types';
import type { OutgoingRequest, RequestSigner } from './api-client';
import { AwsCredentialsError } from './errors';

export const EXECUTE_API_SERVICE = 'execute-api';

export interface AwsIamSignerOptions {
  region: string;
  /** The profile named by AWS_PROFILE, if any: only for the advice when it gives no credentials. */
  profile?: string;
  /** Environment, shared config and credentials files, SSO, container and instance metadata when absent. */
  credentials?: AwsCredentialIdentityProvider;
  now?: () => Date;
}

export class AwsIamSigner implements RequestSigner {
  private readonly signer: SignatureV4;
  private readonly now: () => Date;

  constructor(options: AwsIamSignerOptions) {
    const credentials = options.credentials ?? defaultProvider({ profile: options.profile });
    this.now = options.now ?? (() => new Date());
    this.signer = new SignatureV4({
      service: EXECUTE_API_SERVICE,
      region: options.region,
      credentials: () => resolveCredentials(credentials, options.profile),
      sha256: Sha256,
      // API Gateway, like every AWS service but S3, canonicalizes the path as sent (already
      // percent-encoded once), encoded again: `%3A` is signed as `%253A`.
      uriEscapePath: true,
    });
  }

  /** The headers to send: the request's own, plus x-amz-date, x-amz-content-sha256, x-amz-security-token (with a session) and authorization. */
  async sign(request: OutgoingRequest): Promise<Record<string, string>> {
    const { url } = request;
    const signed = await this.signer.sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        // The WHATWG serialization of path and query is what fetch puts on the wire.
        path: url.pathname,
        query: queryParameters(url.search),
        headers: { ...request.headers, host: url.host },
        body: request.body,
      },
      { signingDate: this.now() },
    );
    // fetch derives Host from the URL, the same value that was signed.
    const { host: _host, ...headers } = signed.headers;
    return headers;
  }
}

async function resolveCredentials(provider: AwsCredentialIdentityProvider, profile: string | undefined): Promise<AwsCredentialIdentity> {
  try {
    return await provider();
  } catch (err) {
    // The chain's reasons name sources and files, never key material; the first line is enough.
    const reason = err instanceof Error ? (err.message.split('\n')[0] ?? '').trim().slice(0, 200) : '';
    const advice = profile
      ? `check the profile "${profile}" in ~/.aws/config (for an SSO profile run "aws sso login --profile ${profile}") or set AWS_PROFILE to another`
      : 'set AWS_PROFILE to a configured profile, run "aws configure", or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
    throw new AwsCredentialsError(
      `CASCADE_API uses IAM authorization but no AWS credentials were found to sign with${reason ? ` (${reason})` : ''}: ${advice}`,
      { cause: err },
    );
  }
}

/**
 * The query as a server parses it. The client percent-encodes every value, so no `+` arrives
 * here, whose meaning (space or plus) servers disagree on.
 */
function queryParameters(search: string): QueryParameterBag {
  const values = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(search)) values.set(key, [...(values.get(key) ?? []), value]);
  return Object.fromEntries([...values].map(([key, all]) => [key, all.length === 1 ? (all[0] as string) : all]));
}
