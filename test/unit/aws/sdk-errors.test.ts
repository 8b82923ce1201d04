import { isTransientAwsError, retryableIfTransient } from '../../../lib/aws/sdk-errors';
import { RetryableError } from '../../../lib/domain/errors';

function sdkError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: {}, ...extra });
}

describe('isTransientAwsError', () => {
  it.each([
    ['ThrottlingException', {}, true],
    ['AccountLimitExceededException', {}, true],
    ['TooManyUpdates', {}, true],
    ['ServiceUnavailable', {}, true],
    ['SomethingElse', { $retryable: { throttling: true } }, true],
    ['SomethingElse', { $metadata: { httpStatusCode: 503 } }, true],
    ['SomethingElse', { $metadata: { httpStatusCode: 429 } }, true],
    ['ResourceNotFoundException', { $metadata: { httpStatusCode: 400 } }, false],
    ['InvalidInputException', {}, false],
    ['AccessDeniedException', { $metadata: { httpStatusCode: 403 } }, false],
  ])('%s %j → %s', (name, extra, transient) => {
    expect(isTransientAwsError(sdkError(name, extra))).toBe(transient);
  });

  it('is false for things that are not errors', () => {
    expect(isTransientAwsError('ThrottlingException')).toBe(false);
    expect(isTransientAwsError(undefined)).toBe(false);
  });
});

describe('retryableIfTransient', () => {
  it('wraps a transient error, keeping it as the cause', () => {
    const cause = sdkError('ThrottlingException');
    const wrapped = retryableIfTransient(cause, 'starting the build');
    expect(wrapped).toBeInstanceOf(RetryableError);
    expect((wrapped as Error).message).toBe('starting the build failed for now (ThrottlingException); it will be tried again');
    expect((wrapped as Error).cause).toBe(cause);
  });

  it('returns any other error unchanged', () => {
    const error = sdkError('ResourceNotFoundException');
    expect(retryableIfTransient(error, 'x')).toBe(error);
  });
});
