// Notification deliveries over HTTP with node's fetch (undici): one POST, a timeout, no redirects
// followed (a receiver that moved says so with its 3xx). What the receiver does is answered, never
// thrown: its status, or in a few words why none came. The answer's body is not read into records.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { NotificationSender } from '../domain/ports';
import type { SendOutcome } from '../domain/notifications/retry';

export interface HttpNotificationSenderOptions {
  fetch?: typeof fetch;
  /** Addresses no delivery goes to (linkLocal() when absent); a host that resolves to one is not asked. */
  refuse?: BlockList;
  /** Resolves a host name to its addresses (the system's resolver when absent). */
  resolve?: (host: string) => Promise<string[]>;
}

/** Link-local addresses, where clouds answer for their instances' credentials (169.254.169.254, fd00:ec2::254). */
export function linkLocal(): BlockList {
  const list = new BlockList();
  list.addSubnet('169.254.0.0', 16, 'ipv4');
  list.addSubnet('fe80::', 10, 'ipv6');
  list.addAddress('fd00:ec2::254', 'ipv6');
  return list;
}

export class HttpNotificationSender implements NotificationSender {
  private readonly fetch: typeof fetch;
  private readonly refuse: BlockList;
  private readonly resolve: (host: string) => Promise<string[]>;

  constructor(options: HttpNotificationSenderOptions = {}) {
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.refuse = options.refuse ?? linkLocal();
    this.resolve = options.resolve ?? (async (host) => (await lookup(host, { all: true })).map((a) => a.address));
  }

  async post(request: { url: string; headers: Record<string, string>; body: string; timeoutMs: number }): Promise<SendOutcome> {
    const signal = AbortSignal.timeout(request.timeoutMs);
    try {
      const refused = await this.refusedAddress(new URL(request.url).hostname);
      if (refused !== undefined) return { refused: `the receiver's address ${refused} is one notifications are not sent to (link-local)` };
      const response = await this.fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, redirect: 'manual', signal });
      // Frees the connection without reading what may be a large or endless body.
      await response.body?.cancel().catch(() => undefined);
      const retryAfterMs = retryAfterOf(response.headers.get('retry-after'), Date.now());
      return { status: response.status, ...(retryAfterMs !== undefined && { retryAfterMs }) };
    } catch (error) {
      return { error: reasonOf(error, request.timeoutMs) };
    }
  }

  /**
   * The first of the host's addresses that is refused. Checked before the request, so a name that
   * changes its address between this look and fetch's own is not caught: the literal addresses
   * and names that always point there (metadata services) are.
   */
  private async refusedAddress(hostname: string): Promise<string | undefined> {
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    const addresses = isIP(host) !== 0 ? [host] : await this.resolve(host);
    return addresses.find((address) => this.refuse.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4'));
  }
}

/** Retry-After as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function retryAfterOf(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Why no answer came, in a few words: undici's own ("fetch failed") says nothing, its cause's code
 * does. The URL is not repeated: it may hold a token in its path or query.
 */
export function reasonOf(error: unknown, timeoutMs: number): string {
  // Read by shape: fetch's errors come from another realm than this module's Error in some hosts (jest).
  const { name, cause } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${formatSeconds(timeoutMs)}`;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the connection was closed before an answer';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name could not be resolved';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the host could not be reached';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return `no answer within ${formatSeconds(timeoutMs)}`;
  }
  if (code !== undefined) return `the request failed (${code})`;
  if (/certificate|self[- ]signed|TLS|SSL/i.test(String(cause?.message ?? ''))) return 'the TLS certificate was refused';
  return 'the request failed';
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
