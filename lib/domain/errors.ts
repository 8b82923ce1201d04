// Named errors. Each carries the HTTP status it maps to, so the mapping lives in one place
// (lib/http/error-response.ts) and no handler decides a status code on its own.

export abstract class CascadeError extends Error {
  abstract readonly status: number;
  /** Machine-readable code, stable across releases. */
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input from outside was malformed. `field` names what was wrong. */
export class ValidationError extends CascadeError {
  readonly status = 400;
  readonly code = 'invalid_input';
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

export class InvalidImageReferenceError extends CascadeError {
  readonly status = 400;
  readonly code = 'invalid_image_reference';
  constructor(readonly reference: string, reason: string) {
    super(`invalid image reference "${reference}": ${reason}`);
  }
}

export class UnknownTemplateVariableError extends CascadeError {
  readonly status = 400;
  readonly code = 'unknown_template_variable';
  constructor(readonly variable: string, readonly template: string) {
    super(`unknown template variable {{${variable}}} in "${template}"`);
  }
}

export class DockerfileError extends CascadeError {
  readonly status = 400;
  readonly code = 'invalid_dockerfile';
}

export class NotFoundError extends CascadeError {
  readonly status = 404;
  readonly code = 'not_found';
  constructor(readonly kind: string, readonly id: string) {
    super(`${kind} "${id}" was not found`);
  }
}

export class ConflictError extends CascadeError {
  readonly status = 409;
  readonly code = 'conflict';
}

export class UnauthorizedError extends CascadeError {
  readonly status = 401;
  readonly code = 'unauthorized';
}

export class PayloadTooLargeError extends CascadeError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaTypeError extends CascadeError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}

/** A registry could not be reached or refused us. `reason` is the registry's own words. */
export class RegistryError extends CascadeError {
  readonly status = 502;
  readonly code: string = 'registry_error';
  constructor(readonly registry: string, reason: string, options?: { cause?: unknown }) {
    super(`registry ${registry}: ${reason}`, options);
  }
}

/** The registry answered 429: ask again no sooner than `retryAfterMs` from now (its Retry-After, when it sent one). */
export class RegistryRateLimitedError extends RegistryError {
  override readonly code = 'registry_rate_limited';
  constructor(registry: string, reason: string, readonly retryAfterMs: number | undefined) {
    super(registry, reason);
  }
}

/** A transient fault (throttling, timeouts): the message should be retried, not dropped. */
export class RetryableError extends CascadeError {
  readonly status = 503;
  readonly code = 'retryable';
}

export class MethodNotAllowedError extends CascadeError {
  readonly status = 405;
  readonly code = 'method_not_allowed';
}
