// API Gateway's IAM authorization, for the CLI's signing tests: recomputes the Signature Version 4
// of a request as it arrived (SignatureV4 with the credentials the test expects) and refuses
// what does not verify with the answers API Gateway gives.
import { createHash } from 'node:crypto';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Handler, WireRequest } from './api-double';

export interface Expected {
  credentials: AwsCredentialIdentity;
  region: string;
}

export type Verdict = { ok: true; signedHeaders: string[] } | { ok: false; reason: string };

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/** `20261128T051116Z` → the Date it names. */
function amzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

export async function verifySigV4(wire: WireRequest, expected: Expected): Promise<Verdict> {
  const authorization = wire.headers.authorization;
  if (authorization === undefined) return { ok: false, reason: 'unsigned' };
  const match = AUTHORIZATION.exec(authorization);
  if (!match) return { ok: false, reason: 'malformed authorization header' };
  const [, keyId, day, region, service, signedList = ''] = match;
  const signingDate = amzDate(wire.headers['x-amz-date'] ?? '');
  if (signingDate === undefined) return { ok: false, reason: 'no x-amz-date' };
  if (signingDate.toISOString().slice(0, 10).replace(/-/g, '') !== day) return { ok: false, reason: 'scope date is not x-amz-date' };
  if (keyId !== expected.credentials.accessKeyId) return { ok: false, reason: `unknown access key ${keyId}` };
  if (region !== expected.region || service !== 'execute-api') return { ok: false, reason: `scoped to ${region}/${service}` };

  const signedHeaders = signedList.split(';');
  // The payload hash is ours, from the bytes that arrived, whatever the client claims.
  const bodyHash = createHash('sha256').update(wire.bytes).digest('hex');
  const claimed = wire.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== bodyHash) return { ok: false, reason: 'x-amz-content-sha256 is not the hash of the body' };
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = name === 'host' ? wire.host : wire.headers[name];
    if (value === undefined) return { ok: false, reason: `signed header ${name} was not sent` };
    headers[name] = name === 'x-amz-content-sha256' ? bodyHash : value;
  }
  const [path = '', search = ''] = wire.target.split('?', 2);
  const verifier = new SignatureV4({ service: 'execute-api', region: expected.region, credentials: expected.credentials, sha256: Sha256, applyChecksum: false });
  const resigned = await verifier.sign(
    {
      method: wire.method,
      protocol: 'https:',
      hostname: wire.host,
      path,
      query: Object.fromEntries(new URLSearchParams(search)),
      headers,
      body: wire.bytes,
    },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  if (resigned.headers.authorization !== authorization) return { ok: false, reason: 'signature mismatch' };
  return { ok: true, signedHeaders };
}

/**
 * `handler` behind IAM authorization: an unsigned request gets `{"message":"Forbidden"}`, a bad
 * signature API Gateway's mismatch message, which goes on with the canonical request (so it
 * holds the session token, as the real one does).
 */
export function behindIamAuthorization(expected: Expected, handler: Handler): Handler {
  return async (request, wire) => {
    const verdict = await verifySigV4(wire, expected);
    if (verdict.ok) return handler(request, wire);
    if (verdict.reason === 'unsigned') return { status: 403, json: { message: 'Forbidden' } };
    const canonical = Object.entries(wire.headers)
      .filter(([name]) => name === 'host' || name.startsWith('x-amz-'))
      .map(([name, value]) => `${name}:${value}`)
      .join('\n');
    return {
      status: 403,
      json: {
        message:
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n' +
          `The Canonical String for this request should have been\n'${wire.method}\n${wire.target}\n${canonical}'\n`,
      },
    };
  };
}

/**
 * A fetch that delivers requests for any host to the local double at `origin`, saying in
 * `x-forwarded-host` which host they were for: it stands in for DNS, so a test can use an
 * API Gateway URL.
 */
export function routeTo(origin: string): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const headers = new Headers(init?.headers);
    headers.set('x-forwarded-host', url.host);
    return fetch(new URL(`${url.pathname}${url.search}`, origin), { ...init, headers });
  };
}
