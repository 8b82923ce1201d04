// Event fixtures (test/fixtures/events/), each a fresh copy a test may change.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const EVENTS_DIR = join(__dirname, '..', 'fixtures', 'events');

export function eventFixture<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8')) as T;
}
