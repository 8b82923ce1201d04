// What the web console's URLs answer, on the local stack and behind `cascade console`: `/`
// redirects to `/console/`; every `/console/...` path is the app's page (the app routes on the
// client, so a view's URL can be shared); `/console/assets/...` are the bundle's files, named by
// their hash and cached for good. Same origin as the API, which the app calls at `/api/...`.
import { MethodNotAllowedError, NotFoundError } from '../domain/errors';
import { errorResponse } from '../http/error-response';
import type { HttpResponse } from '../http/types';
import { CONSOLE_ASSET_PREFIX, consoleBundle, type ConsoleBundle } from './console-bundle';

export const CONSOLE_HOME = '/console/';

/**
 * The page's policy: its own script and style sheet only (nothing inline, nothing from elsewhere),
 * API calls to its own origin, and no framing.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const COMMON_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

/** Whether the console answers this path: `/`, `/console` and everything under `/console/`. */
export function isConsolePath(path: string): boolean {
  return path === '/' || path === '/console' || path.startsWith('/console/');
}

/** The console's answer to a request for one of its paths (see isConsolePath). */
export async function serveConsole(request: { method: string; path: string }, bundle: () => Promise<ConsoleBundle> = consoleBundle): Promise<HttpResponse> {
  try {
    const method = request.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') throw new MethodNotAllowedError(`the console answers GET and HEAD, not ${request.method}, on ${request.path}`);
    if (request.path === '/' || request.path === '/console') return redirect(CONSOLE_HOME);
    const served = await bundle();
    if (request.path.startsWith(CONSOLE_ASSET_PREFIX)) {
      const asset = served.assets.get(request.path);
      if (!asset) throw new NotFoundError('console file', request.path);
      return {
        status: 200,
        headers: { ...COMMON_HEADERS, 'content-type': asset.contentType, 'cache-control': 'public, max-age=31536000, immutable' },
        body: asset.body,
      };
    }
    return {
      status: 200,
      headers: { ...COMMON_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': CONSOLE_CSP, 'x-frame-options': 'DENY' },
      body: served.html,
    };
  } catch (error) {
    return errorResponse(error);
  }
}

function redirect(location: string): HttpResponse {
  return { status: 302, headers: { ...COMMON_HEADERS, location, 'cache-control': 'no-cache' }, body: '' };
}
