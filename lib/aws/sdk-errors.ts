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
