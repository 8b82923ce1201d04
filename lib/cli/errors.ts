// Errors of the command line itself. Each knows the exit code it ends the process with.
import { CascadeError } from '../domain/errors';

/** The command line was wrong; nothing was sent. Exit code 2, like most Unix tools. */
export class UsageError extends CascadeError {
  readonly status = 400;
  readonly code = 'usage';
  readonly exitCode = 2;
}

/** The cascade API answered with an error; `message` is the server's own sentence. */
export class ApiError extends CascadeError {
  readonly exitCode = 1;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Nothing answered at the API's address, or not in time. */
export class UnreachableError extends CascadeError {
  readonly status = 503;
  readonly code = 'unreachable';
  readonly exitCode = 1;
}

/** CASCADE_API uses IAM authorization, and the AWS provider chain gave no credentials to sign with. */
export class AwsCredentialsError extends CascadeError {
  readonly status = 401;
  readonly code = 'aws_credentials';
  readonly exitCode = 1;
}

/**
 * API Gateway refused the request before it reached cascade: it was unsigned, signed wrongly,
 * or signed by an identity not allowed `execute-api:Invoke`.
 */
export class IamAuthorizationError extends ApiError {
  constructor(message: string) {
    super(403, 'iam_authorization', message);
  }
}
