// Who may reach the local stack's routes, decided from a request's head before its body is read:
// - the Host check: a request must name this server (a loopback name or address, the address it
//   listens on, or the --public-url host), which a DNS-rebinding page cannot do: 421 otherwise;
// - API tokens: `/api/*` needs `Authorization: Bearer <token>` once any token exists, and always
//   when the stack listens beyond loopback (unless started with --insecure-no-auth): 401 otherwise.
// - browsers' pages of other sites: an `/api/*` request a browser marks as coming from another
//   origin (`Sec-Fetch-Site`, `Origin`) is refused, 403: a page elsewhere cannot start or cancel
//   runs on a stack that asks no token (the web console calls from its own origin).
// `/health` answers anyone; webhooks carry their own per-webhook secrets.
import { networkInterfaces } from 'node:os';
import { CascadeError, UnauthorizedError, ValidationError } from '../domain/errors';
import { errorResponse } from '../http/error-response';
import type { HttpResponse } from '../http/types';
import { isLoopbackHost } from '../images/reference';
import type { ApiTokens } from './api-tokens';

/** What the guard sees of a request: all of it but the body. */
export interface RequestHead {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
}

/** The request named a host this server does not answer for. */
export class MisdirectedRequestError extends CascadeError {
  readonly status = 421;
  readonly code = 'misdirected_request';
}

/** A browser sent the request from a page of another origin. */
export class CrossOriginRequestError extends CascadeError {
  readonly status = 403;
  readonly code = 'cross_origin_request';
}

/**
 * A browser says where a request comes from: `Sec-Fetch-Site` (same-origin, or none when the user
 * typed the URL) and, on writes and cross-origin reads, `Origin`, which must name a host this
 * server answers for (`allowed`). Clients that say neither (the CLI, curl) are let through.
 */
export function checkSameOrigin(headers: Record<string, string | undefined>, allowed: (originHost: string) => boolean, who = 'cascade'): void {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new CrossOriginRequestError(`${who} takes API calls from its own pages only, not from a ${site} page`);
  }
  const origin = headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host === '' || !allowed(host)) throw new CrossOriginRequestError(`${who} takes API calls from its own pages only, not from ${origin}`);
}

/** The stack would listen beyond loopback with nothing asked of API callers. */
export class ExposedWithoutAuthError extends CascadeError {
  readonly status = 400;
  readonly code = 'exposed_without_auth';
}

export interface AccessOptions {
  /** The address the server listens on (`--host`). */
  host: string;
  /** The address registries and git hosts use (`--public-url`). */
  publicUrl?: URL;
  tokens: ApiTokens;
  /** `--insecure-no-auth`: no token is asked for, wherever the stack listens. */
  insecureNoAuth?: boolean;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** `--public-url`: an http(s) URL with no credentials, query or fragment (a path is a proxy's prefix). */
export function parsePublicUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(`the public URL "${value}" is not a URL: give one such as https://cascade.example.com`, 'publicUrl');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError(`the public URL must be http or https, not ${url.protocol.replace(/:$/, '')}`, 'publicUrl');
  if (url.username || url.password) throw new ValidationError('the public URL must not carry a user name or password', 'publicUrl');
  if (url.search || url.hash) throw new ValidationError('the public URL must not carry a query or a fragment', 'publicUrl');
  return url;
}

/** Whether `host` (as given to `--host`) listens on loopback only. */
export function isLoopbackOnly(host: string): boolean {
  return isLoopbackHost(host);
}

/** Refuses a stack that anyone on the network could drive: beyond loopback, a token or an explicit opt-out is needed. */
export async function checkExposure(options: AccessOptions, dataDir: string): Promise<void> {
  if (isLoopbackOnly(options.host) || options.insecureNoAuth || (await options.tokens.any())) return;
  throw new ExposedWithoutAuthError(
    `cascade would listen on ${options.host}, reachable from other machines, and no API token exists: ` +
      `make one first with "cascade token create --name NAME --data-dir ${dataDir}", or start with --insecure-no-auth to let anyone who can reach it use the API`,
  );
}

/** The guard for a server: the answer that refuses a request, or undefined to let it through. */
export function createAccessGuard(options: AccessOptions): (head: RequestHead) => Promise<HttpResponse | undefined> {
  const names = allowedHostNames(options);
  const loopbackOnly = isLoopbackOnly(options.host);
  return async (head) => {
    if (head.path === '/health') return undefined;
    try {
      checkHost(head.headers.host, names);
      if (head.path === '/api' || head.path.startsWith('/api/')) {
        checkSameOrigin(head.headers, (originHost) => allows(originHost, names));
        await checkToken(head.headers.authorization, options, loopbackOnly);
      }
      return undefined;
    } catch (error) {
      const response = errorResponse(error);
      if (error instanceof UnauthorizedError) response.headers['www-authenticate'] = 'Bearer realm="cascade"';
      return response;
    }
  };
}

function allows(host: string, allowed: Set<string>): boolean {
  const name = hostName(host);
  return allowed.has(name) || isLoopbackHost(name);
}

function checkHost(host: string | undefined, allowed: Set<string>): void {
  if (host !== undefined && allows(host, allowed)) return;
  throw new MisdirectedRequestError(
    `cascade does not answer for the host "${host ?? ''}": name it by a loopback address, the address it listens on, or the host of its --public-url`,
  );
}

async function checkToken(authorization: string | undefined, options: AccessOptions, loopbackOnly: boolean): Promise<void> {
  if (options.insecureNoAuth) return;
  if (loopbackOnly && !(await options.tokens.any())) return;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw new UnauthorizedError('this cascade requires an API token: set CASCADE_TOKEN, or save one with "cascade login --token-stdin"');
  if ((await options.tokens.verify(match[1] as string)) === undefined) throw new UnauthorizedError('the API token was not recognized: it may have been revoked');
}

/** `Host` without its port, lower case, IPv6 without brackets. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

function allowedHostNames(options: AccessOptions): Set<string> {
  const names = new Set<string>();
  if (WILDCARDS.has(options.host)) {
    // Listening everywhere: each of the machine's own addresses names it.
    for (const addresses of Object.values(networkInterfaces())) for (const a of addresses ?? []) names.add(a.address.toLowerCase());
  } else {
    names.add(hostName(options.host));
  }
  if (options.publicUrl) names.add(hostName(options.publicUrl.host));
  return names;
}
