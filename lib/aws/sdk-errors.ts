// Which AWS SDK failures are worth another try. The SDK has already retried them a few times;
// turning them into RetryableError lets the queue (or the caller, as a 503) try again later
// instead of recording a run as failed.
import { RetryableError } from '../domain/errors';

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyUpdates',
  'ProvisionedThroughputExceededException',
  // CodeBuild's concurrent-build quota: builds can start once others finish.
  'AccountLimitExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'InternalServerException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

interface SdkErrorShape {
  name?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const shape = error as Error & SdkErrorShape;
  if (TRANSIENT_NAMES.has(shape.name)) return true;
  if (shape.$retryable) return true;
  const status = shape.$metadata?.httpStatusCode;
  return status === 429 || (status !== undefined && status >= 500);
}

/** RetryableError for a transient failure of `action`; any other error unchanged. */
export function retryableIfTransient(error: unknown, action: string): unknown {
  if (!isTransientAwsError(error)) return error;
  const name = (error as Error).name;
  return new RetryableError(`${action} failed for now (${name}); it will be tried again`, { cause: error });
}

export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** Node's codes for a connection that never carried the request to the service. */
const UNREACHED_CODES = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'];
/** A connection cut or timed out once the request may have been written. */
const CUT_OFF_CODES = ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED'];
const CUT_OFF_NAMES = ['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'];
/** The SDK wraps a thrown value that is not an Error of its own realm (under jest, Node's socket errors) and keeps only its text. */
const SDK_WRAPPER = /^AWS SDK error wrapper for (\w+)/;

/**
 * Whether a failed request may have been carried out all the same, so that its outcome is
 * unknown: no answer was read (the connection dropped or timed out after the request may have
 * reached the service), an answer came but could not be read (a 2xx the SDK could not
 * deserialize), or the service failed (5xx) perhaps after doing the work. An error answer below
 * 500 is a definite refusal; a request that never reached the service was not carried out.
 */
export function mayHaveBeenCarriedOut(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const shape = error as SdkErrorShape & { code?: unknown; message?: unknown; cause?: unknown };
  const status = shape.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || (status >= 200 && status < 300);
  const text = typeof shape.message === 'string' ? shape.message : '';
  const code = typeof shape.code === 'string' ? shape.code : '';
  if (UNREACHED_CODES.some((c) => code === c || text.includes(c))) return false;
  const name = SDK_WRAPPER.exec(text)?.[1] ?? shape.name ?? '';
  if (CUT_OFF_NAMES.includes(name) || CUT_OFF_CODES.includes(code) || code.startsWith('HPE_')) return true;
  if (/socket hang up|ECONNRESET|EPIPE|ETIMEDOUT/.test(text)) return true;
  return shape.cause !== undefined && shape.cause !== error && mayHaveBeenCarriedOut(shape.cause);
}
