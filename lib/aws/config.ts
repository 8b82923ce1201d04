// The deployment's configuration, read once from the Lambda environment that serverless.yml sets.
import { CascadeError } from '../domain/errors';
import { isLoopbackHost } from '../images/reference';

export interface AwsConfig {
  tableName: string;
  queueUrl: string;
  codeBuildProject: string;
  /** SSM parameter path that every secret lives under, e.g. `/cascade/prod`. */
  secretsPrefix: string;
  publicUrl: string;
  runIdPrefix: string;
  /** Where CodeBuild writes build logs and cascade its own notes about runs. */
  buildLogGroup: string;
  /** Where timers become EventBridge Scheduler schedules; absent, timers cannot be changed from here. */
  timers?: { scheduleGroup: string; schedulerRoleArn: string; dispatcherArn: string; deadLetterArn?: string };
  /** Seconds between the poller's runs (its schedule); backs off failures in multiples of it. */
  pollIntervalSeconds: number;
}

/** The function cannot work with the environment it was given; says which variables are wrong. */
export class ConfigurationError extends CascadeError {
  readonly status = 500;
  readonly code = 'configuration';
  constructor(readonly problems: string[]) {
    super(`cascade's Lambda configuration is invalid: ${problems.join('; ')}. Fix the environment in serverless.yml and deploy again`);
  }
}

type Env = Record<string, string | undefined>;

const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const SSM_PATH = /^(?:\/[A-Za-z0-9_.-]+)+$/;
const RUN_ID_PREFIX = /^[a-z][a-z0-9]{0,7}$/;
const LOG_GROUP = /^[A-Za-z0-9_/.#-]{1,512}$/;

export function readAwsConfig(env: Env): AwsConfig {
  const problems: string[] = [];
  const required = (name: string, check?: (value: string) => string | undefined): string => {
    const value = env[name]?.trim() ?? '';
    if (value === '') {
      problems.push(`${name} is not set`);
      return '';
    }
    const problem = check?.(value);
    if (problem) problems.push(`${name} ${problem}`);
    return value;
  };

  const tableName = required('TABLE_NAME', (v) => (/^[A-Za-z0-9_.-]{3,255}$/.test(v) ? undefined : `"${v}" is not a DynamoDB table name`));
  // Plain HTTP only on this machine, for a local SQS stand-in under `serverless invoke local`.
  const queueUrl = required('QUEUE_URL', (v) => (isUrl(v, ['https:']) || isLoopbackHttp(v) ? undefined : `"${v}" is not an https:// SQS queue URL`));
  const codeBuildProject = required('CODEBUILD_PROJECT', (v) => (PROJECT_NAME.test(v) ? undefined : `"${v}" is not a CodeBuild project name`));
  const secretsPrefix = required('SECRETS_PREFIX', (v) =>
    SSM_PATH.test(v) ? undefined : `"${v}" must be an SSM parameter path such as /cascade/prod (letters, digits, _ . -)`,
  );
  const publicUrl = required('PUBLIC_URL', (v) => (isUrl(v, ['https:', 'http:']) ? undefined : `"${v}" is not an http(s) URL`));
  const runIdPrefix = env.RUN_ID_PREFIX?.trim() || 'da';
  if (!RUN_ID_PREFIX.test(runIdPrefix)) problems.push(`RUN_ID_PREFIX "${runIdPrefix}" must be 1-8 lower-case letters and digits, starting with a letter`);
  const givenLogGroup = env.BUILD_LOG_GROUP?.trim();
  if (givenLogGroup && !LOG_GROUP.test(givenLogGroup)) problems.push(`BUILD_LOG_GROUP "${givenLogGroup}" is not a CloudWatch Logs group name`);
  // CodeBuild's default group for the project, which infra/codebuild.yml creates.
  const buildLogGroup = givenLogGroup || `/aws/codebuild/${codeBuildProject}`;

  const timers = readTimers(env, problems);
  const pollText = env.POLL_INTERVAL_SECONDS?.trim() || '300';
  const pollIntervalSeconds = Number(pollText);
  if (!/^\d+$/.test(pollText) || pollIntervalSeconds < 60) problems.push(`POLL_INTERVAL_SECONDS "${pollText}" must be a whole number of seconds, at least 60`);

  if (problems.length > 0) throw new ConfigurationError(problems);
  return {
    tableName,
    queueUrl,
    codeBuildProject,
    secretsPrefix,
    publicUrl: publicUrl.replace(/\/+$/, ''),
    runIdPrefix,
    buildLogGroup,
    pollIntervalSeconds,
    ...(timers && { timers }),
  };
}

const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/;

/** All of the Scheduler settings or none: a half-configured scheduler would lose timers. */
function readTimers(env: Env, problems: string[]): AwsConfig['timers'] {
  const names = ['SCHEDULE_GROUP', 'SCHEDULER_ROLE_ARN', 'DISPATCHER_ARN'] as const;
  const given = names.filter((name) => env[name]?.trim());
  if (given.length === 0) return undefined;
  for (const name of names) if (!given.includes(name)) problems.push(`${name} is not set (the timer settings go together: ${names.join(', ')})`);
  const value = (name: string) => env[name]?.trim() ?? '';
  if (value('SCHEDULE_GROUP') && !/^[0-9a-zA-Z-_.]{1,64}$/.test(value('SCHEDULE_GROUP'))) problems.push(`SCHEDULE_GROUP "${value('SCHEDULE_GROUP')}" is not a schedule group name`);
  for (const name of ['SCHEDULER_ROLE_ARN', 'DISPATCHER_ARN', 'DEAD_LETTER_ARN']) {
    if (value(name) && !ARN.test(value(name))) problems.push(`${name} "${value(name)}" is not an ARN`);
  }
  return {
    scheduleGroup: value('SCHEDULE_GROUP'),
    schedulerRoleArn: value('SCHEDULER_ROLE_ARN'),
    dispatcherArn: value('DISPATCHER_ARN'),
    ...(value('DEAD_LETTER_ARN') && { deadLetterArn: value('DEAD_LETTER_ARN') }),
  };
}

function isLoopbackHttp(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

function isUrl(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
