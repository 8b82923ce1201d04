// Transport-neutral HTTP shapes: API Gateway events and the local server both become these.

export interface HttpRequest {
  method: string;
  /** Path without the query string, e.g. `/api/tasks/hello`. */
  path: string;
  query: Record<string, string>;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body: Buffer;
  receivedAt: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function json(status: number, value: unknown): HttpResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

export function text(status: number, value: string): HttpResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: value };
}

export function noContent(): HttpResponse {
  return { status: 204, headers: {}, body: '' };
}
