// The one place errors become HTTP answers. Bad input is a 4xx naming what was wrong; anything
// unexpected is a 500 whose body says nothing about internals.
import { CascadeError } from '../domain/errors';
import { json, type HttpResponse } from './types';

export function errorResponse(error: unknown, log: (message: string, error: unknown) => void = defaultLog): HttpResponse {
  if (error instanceof CascadeError) {
    if (error.status >= 500) log(`${error.name}: ${error.message}`, error);
    const field = 'field' in error && typeof error.field === 'string' ? { field: error.field } : {};
    return json(error.status, { error: { code: error.code, message: error.message, ...field } });
  }
  log('unexpected error', error);
  return json(500, { error: { code: 'internal', message: 'cascade failed unexpectedly; the details are in its logs' } });
}

function defaultLog(message: string, error: unknown): void {
  console.error(JSON.stringify({ level: 'error', message, error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) }));
}
