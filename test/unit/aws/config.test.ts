import { ConfigurationError, readAwsConfig } from '../../../lib/aws/config';
import { CascadeError } from '../../../lib/domain/errors';

const GOOD = {
  TABLE_NAME: 'cascade-prod',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-prod',
  CODEBUILD_PROJECT: 'cascade-prod',
  SECRETS_PREFIX: '/cascade/prod',
  PUBLIC_URL: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com/',
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    readAwsConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems;
  }
  throw new Error('readAwsConfig accepted the environment');
}

describe('readAwsConfig', () => {
  it('reads a complete environment, with defaults for the optional variables', () => {
    expect(readAwsConfig(GOOD)).toEqual({
      tableName: 'cascade-prod',
      pollIntervalSeconds: 300,
      queueUrl: GOOD.QUEUE_URL,
      codeBuildProject: 'cascade-prod',
      secretsPrefix: '/cascade/prod',
      publicUrl: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
      runIdPrefix: 'da',
      buildLogGroup: '/aws/codebuild/cascade-prod',
    });
  });

  it('takes RUN_ID_PREFIX and BUILD_LOG_GROUP when given', () => {
    const config = readAwsConfig({ ...GOOD, RUN_ID_PREFIX: 'cb', BUILD_LOG_GROUP: '/custom/builds' });
    expect(config.runIdPrefix).toBe('cb');
    expect(config.buildLogGroup).toBe('/custom/builds');
  });

  it.each(['http://127.0.0.1:9324/000000000000/cascade', 'http://localhost:9324/q'])('takes a plain-HTTP queue URL on this machine (%s), for invoke local', (url) => {
    expect(readAwsConfig({ ...GOOD, QUEUE_URL: url }).queueUrl).toBe(url);
  });

  it('names every missing variable in one error, which is a CascadeError', () => {
    const problems = problemsOf({});
    expect(problems).toEqual([
      'TABLE_NAME is not set',
      'QUEUE_URL is not set',
      'CODEBUILD_PROJECT is not set',
      'SECRETS_PREFIX is not set',
      'PUBLIC_URL is not set',
    ]);
    try {
      readAwsConfig({});
    } catch (error) {
      expect(error).toBeInstanceOf(CascadeError);
      expect((error as Error).name).toBe('ConfigurationError');
      expect((error as Error).message).toMatch(/^cascade's Lambda configuration is invalid: TABLE_NAME is not set; .*serverless\.yml/);
    }
  });

  it.each([
    ['TABLE_NAME', 'a', /TABLE_NAME "a" is not a DynamoDB table name/],
    ['QUEUE_URL', 'cascade-prod', /QUEUE_URL "cascade-prod" is not an https/],
    ['QUEUE_URL', 'http://sqs.local/q', /QUEUE_URL .* is not an https/],
    ['QUEUE_URL', 'http://127.0.0.1.example.com/q', /QUEUE_URL .* is not an https/],
    ['CODEBUILD_PROJECT', 'has space', /CODEBUILD_PROJECT "has space" is not a CodeBuild project name/],
    ['SECRETS_PREFIX', 'cascade/prod', /SECRETS_PREFIX "cascade\/prod" must be an SSM parameter path/],
    ['SECRETS_PREFIX', '/cascade/prod/', /SECRETS_PREFIX/],
    ['PUBLIC_URL', 'not a url', /PUBLIC_URL "not a url" is not an http\(s\) URL/],
    ['RUN_ID_PREFIX', 'DA', /RUN_ID_PREFIX "DA" must be/],
    ['BUILD_LOG_GROUP', 'bad group!', /BUILD_LOG_GROUP "bad group!" is not/],
    ['TABLE_NAME', '   ', /TABLE_NAME is not set/],
    ['POLL_INTERVAL_SECONDS', '30', /POLL_INTERVAL_SECONDS "30" must be a whole number of seconds, at least 60/],
    ['POLL_INTERVAL_SECONDS', '5m', /POLL_INTERVAL_SECONDS "5m"/],
  ])('refuses %s=%j', (name, value, problem) => {
    const problems = problemsOf({ ...GOOD, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });

  const TIMERS = {
    SCHEDULE_GROUP: 'cascade-prod',
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/cascade-prod-SchedulerRole',
    DISPATCHER_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:cascade-prod-dispatcher',
  };

  it('reads the timer settings when all of them are given, and the poll interval', () => {
    expect(readAwsConfig({ ...GOOD, ...TIMERS, DEAD_LETTER_ARN: 'arn:aws:sqs:eu-west-1:123456789012:dl', POLL_INTERVAL_SECONDS: '600' })).toMatchObject({
      timers: { scheduleGroup: 'cascade-prod', schedulerRoleArn: TIMERS.SCHEDULER_ROLE_ARN, dispatcherArn: TIMERS.DISPATCHER_ARN, deadLetterArn: 'arn:aws:sqs:eu-west-1:123456789012:dl' },
      pollIntervalSeconds: 600,
    });
    expect(readAwsConfig(GOOD).timers).toBeUndefined();
  });

  it.each([
    [{ SCHEDULE_GROUP: 'cascade-prod' }, ['SCHEDULER_ROLE_ARN is not set', 'DISPATCHER_ARN is not set']],
    [{ ...TIMERS, DISPATCHER_ARN: 'cascade-prod-dispatcher' }, ['DISPATCHER_ARN "cascade-prod-dispatcher" is not an ARN']],
    [{ ...TIMERS, SCHEDULE_GROUP: 'has space' }, ['SCHEDULE_GROUP "has space" is not a schedule group name']],
  ])('refuses half or wrong timer settings %j', (timers, expected) => {
    const problems = problemsOf({ ...GOOD, ...timers });
    expect(problems.map((p) => p.replace(/ \(the timer settings go together.*\)$/, ''))).toEqual(expected);
  });
});
