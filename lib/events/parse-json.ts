import type { z } from 'zod';
import { ValidationError } from '../domain/errors';

/** Parses a raw body as JSON; `what` names the body in the error (e.g. `github push payload`). */
export function parseJson(raw: Buffer | string, what: string): unknown {
  // A UTF-8 byte order mark is legal in a file but not in JSON.parse.
  const text = (typeof raw === 'string' ? raw : raw.toString('utf8')).replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new ValidationError(`${what} is empty`, 'body');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${what} is not valid JSON: ${(err as Error).message}`, 'body');
  }
}

/** One line naming the first problem zod found, e.g. `repository.clone_url: expected string`. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Validates a parsed value against a schema; ValidationError names `what` and the first problem. */
export function validateAs<T extends z.ZodType>(value: unknown, schema: T, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(`${what} is malformed: ${describeIssues(result.error)}`, 'body');
  return result.data;
}

/** Parses and validates a body against a schema; ValidationError names the first problem. */
export function parseJsonAs<T extends z.ZodType>(raw: Buffer | string, schema: T, what: string): z.infer<T> {
  return validateAs(parseJson(raw, what), schema, what);
}
