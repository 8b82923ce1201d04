// Decides how the CLI authenticates to the API at CASCADE_API: not at all (the local stack), or
// with AWS Signature Version 4 (a deployed API behind API Gateway's IAM authorization).
import { UsageError } from './errors';

export type ApiAuth = { kind: 'none' } | { kind: 'aws-iam'; region: string };

const AUTH_MODES = ['auto', 'aws-iam', 'none'] as const;
type AuthMode = (typeof AUTH_MODES)[number];

// `<api-id>.execute-api.<region>.amazonaws.com[.cn]`; a private API's VPC endpoint name
// (`<api-id>-<vpce-id>.execute-api…`) has the same shape.
const EXECUTE_API_HOST = /^[a-z0-9-]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;
const REGION = /^[a-z]{2,}(?:-[a-z]+)+-\d+$/;

/** The region of an API Gateway default endpoint host, or undefined for any other host. */
export function executeApiRegion(hostname: string): string | undefined {
  return EXECUTE_API_HOST.exec(hostname.toLowerCase())?.[1];
}

/**
 * `CASCADE_API_AUTH` is `auto` (the default: sign for API Gateway hosts only), `aws-iam` (always
 * sign; a custom domain takes its region from AWS_REGION) or `none` (never sign).
 */
export function resolveApiAuth(api: URL, env: NodeJS.ProcessEnv): ApiAuth {
  const mode = authMode(env.CASCADE_API_AUTH);
  if (mode === 'none') return { kind: 'none' };
  const hostRegion = executeApiRegion(api.hostname);
  if (mode === 'auto' && hostRegion === undefined) return { kind: 'none' };
  // The host names the region API Gateway verifies against; AWS_REGION may be set for other work.
  const region = hostRegion ?? (env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim());
  if (!region) {
    throw new UsageError(
      `CASCADE_API_AUTH=aws-iam needs the region of the API at ${api.host} to sign for: set AWS_REGION, e.g. AWS_REGION=us-east-1`,
    );
  }
  if (!REGION.test(region)) {
    throw new UsageError(`"${region}" is not an AWS region: set AWS_REGION to the API's region, e.g. AWS_REGION=us-east-1`);
  }
  return { kind: 'aws-iam', region };
}

function authMode(value: string | undefined): AuthMode {
  const mode = value?.trim().toLowerCase() || 'auto';
  if ((AUTH_MODES as readonly string[]).includes(mode)) return mode as AuthMode;
  throw new UsageError(`CASCADE_API_AUTH takes one of ${AUTH_MODES.join(', ')}; fix or unset it`);
}
