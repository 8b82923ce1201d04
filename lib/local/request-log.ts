// The local stack's line per request: which requests get one, and what of their path it shows.

/**
 * What the stack's output says of a request: every change and every refusal, but not the reads
 * that went well (an open console polls every second), nor /health.
 */
export function worthLogging(method: string, path: string, status: number): boolean {
  if (path === '/health') return false;
  return !((method === 'GET' || method === 'HEAD') && status < 400);
}

/** `/webhooks/<name>/<secret>` carries a secret: never log that segment. */
export function redactPath(path: string): string {
  return path.replace(/^(\/webhooks\/[^/]+\/)[^/]+/, '$1***');
}
