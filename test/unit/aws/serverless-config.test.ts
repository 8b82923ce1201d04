// serverless.yml as serverless itself resolves it (`serverless print`, offline): the routes equal
// the routers' tables, the queue has its dead-letter queue and a safe visibility timeout, and
// every function gets the configuration lib/aws/config.ts requires.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readAwsConfig } from '../../../lib/aws/config';
import { apiRoutes, webhookRoutes } from '../../../lib/http/api-routes';

const ROOT = join(__dirname, '..', '..', '..');

type Json = Record<string, unknown>;
interface Config {
  provider: { runtime: string; architecture: string; environment: Record<string, unknown>; iam: { role: { statements: Json[] } } };
  functions: Record<string, { handler: string; timeout?: number; events?: Json[] }>;
  resources: { Resources: Record<string, { Type: string; Properties: Json }> };
  custom: Json;
}

describe('serverless.yml', () => {
  let config: Config;

  beforeAll(() => {
    const out = execFileSync(join(ROOT, 'node_modules', '.bin', 'serverless'), ['print', '--format', 'json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 110_000,
      // No credentials are needed, and none must be picked up from this machine.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
    });
    config = JSON.parse(out.slice(out.indexOf('{'))) as Config;
  }, 120_000);

  const routesOf = (fn: string) =>
    (config.functions[fn]?.events ?? [])
      .filter((e) => 'httpApi' in e)
      .map((e) => {
        const route = e.httpApi as { method: string; path: string };
        return `${route.method.toUpperCase()} ${route.path}`;
      })
      .sort();

  it('routes exactly apiRoutes to the api function and webhookRoutes to the webhook function', () => {
    expect(routesOf('api')).toEqual(apiRoutes.map((r) => `${r.method} ${r.path}`).sort());
    expect(routesOf('webhook')).toEqual(webhookRoutes.map((r) => `${r.method} ${r.path}`).sort());
    const others = Object.keys(config.functions).filter((fn) => fn !== 'api' && fn !== 'webhook');
    for (const fn of others) expect(routesOf(fn)).toEqual([]);
  });

  it('runs Node.js 20 on arm64, with a handler file for every function', () => {
    expect(config.provider.runtime).toBe('nodejs20.x');
    expect(config.provider.architecture).toBe('arm64');
    expect(Object.keys(config.functions).sort()).toEqual(['api', 'buildEvents', 'dispatcher', 'webhook']);
    for (const { handler } of Object.values(config.functions)) {
      const [file, exported] = handler.split(/\.(?=[^.]+$)/);
      expect(exported).toBe('handler');
      expect(existsSync(join(ROOT, `${file}.ts`))).toBe(true);
    }
  });

  it('gives every function the environment lib/aws/config.ts requires', () => {
    const env = config.provider.environment;
    // CloudFormation references stand in for values only known at deploy time.
    const sample: Record<string, string> = {
      TABLE_NAME: 'cascade-dev',
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-dev',
      CODEBUILD_PROJECT: 'cascade-dev',
      BUILD_LOG_GROUP: '/aws/codebuild/cascade-dev',
      PUBLIC_URL: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
    };
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : sample[k]]));
    expect(() => readAwsConfig(resolved)).not.toThrow();
    expect(env.TABLE_NAME).toEqual({ Ref: 'CascadeTable' });
    expect(env.QUEUE_URL).toEqual({ Ref: 'CascadeQueue' });
    expect(env.CODEBUILD_PROJECT).toEqual({ Ref: 'BuildProject' });
    expect(env.BUILD_LOG_GROUP).toEqual({ Ref: 'BuildLogGroup' });
    expect(env.PUBLIC_URL).toEqual({ 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] });
    expect(env.SECRETS_PREFIX).toBe('/cascade/dev');
  });

  it('gives the queue a dead-letter queue after 5 receives', () => {
    const { CascadeQueue: queue, CascadeDeadLetterQueue: dlq } = config.resources.Resources;
    expect(queue?.Type).toBe('AWS::SQS::Queue');
    expect(dlq?.Type).toBe('AWS::SQS::Queue');
    expect(queue?.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['CascadeDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 });
    // Messages must outlive their retries in the dead-letter queue.
    expect(dlq?.Properties.MessageRetentionPeriod as number).toBeGreaterThan(queue?.Properties.MessageRetentionPeriod as number);
  });

  it("keeps the queue's visibility timeout at least 6 times the dispatcher's timeout", () => {
    const timeout = config.functions.dispatcher?.timeout as number;
    expect(timeout).toBeGreaterThan(0);
    expect(config.resources.Resources.CascadeQueue?.Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('feeds the dispatcher from the queue with partial batch failures', () => {
    const sqs = config.functions.dispatcher?.events?.find((e) => 'sqs' in e)?.sqs as Json;
    expect(sqs).toMatchObject({ arn: { 'Fn::GetAtt': ['CascadeQueue', 'Arn'] }, functionResponseType: 'ReportBatchItemFailures' });
  });

  it("sends the project's finished builds, and only those, to buildEvents", () => {
    const bridge = config.functions.buildEvents?.events?.find((e) => 'eventBridge' in e)?.eventBridge as { pattern: Json };
    expect(bridge.pattern).toEqual({
      source: ['aws.codebuild'],
      'detail-type': ['CodeBuild Build State Change'],
      detail: { 'project-name': ['cascade-dev'], 'build-status': ['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'] },
    });
    expect(config.resources.Resources.BuildProject?.Properties.Name).toBe('cascade-dev');
  });

  it('includes the table of infra/table.yml', () => {
    const table = config.resources.Resources.CascadeTable;
    expect(table?.Type).toBe('AWS::DynamoDB::Table');
    expect(table?.Properties.TableName).toBe('cascade-dev');
    expect(table?.Properties.KeySchema).toEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
  });

  it("gives the CodeBuild project the rendered buildspec, the build's log group and docker", () => {
    const project = config.resources.Resources.BuildProject?.Properties as {
      Source: { Type: string; BuildSpec: string };
      Environment: { PrivilegedMode: boolean };
      LogsConfig: Json;
    };
    expect(project.Source.Type).toBe('NO_SOURCE');
    // Serverless resolves no variable inside it: the project gets exactly what infra/buildspec.cjs renders.
    expect(project.Source.BuildSpec).toBe(execFileSync(process.execPath, [join(ROOT, 'infra', 'buildspec.cjs')], { cwd: ROOT, encoding: 'utf8' }));
    expect(project.Source.BuildSpec).not.toContain('@@CASCADE_BUILD_HELPER@@');
    const buildspec = parse(project.Source.BuildSpec) as { version: number; phases: Json };
    expect(buildspec.version).toBe(0.2);
    expect(Object.keys(buildspec.phases)).toEqual(['install', 'pre_build', 'build', 'post_build']);
    expect(project.Environment.PrivilegedMode).toBe(true);
    expect(project.LogsConfig).toEqual({ CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: 'BuildLogGroup' } } });
  });

  it("scopes the functions' own permissions to the table, queue, project, parameters and log group", () => {
    const referenced = (value: unknown): string[] => {
      const text = JSON.stringify(value);
      return [...text.matchAll(/"(?:Ref|Fn::GetAtt)":\s*\[?"(\w+)"/g)].map((m) => m[1] as string);
    };
    const statements = config.provider.iam.role.statements;
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
    }
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid as string, s]));
    expect(referenced(bySid.Records?.Resource)).toEqual(['CascadeTable', 'CascadeTable']);
    expect(referenced(bySid.Queue?.Resource)).toEqual(['CascadeQueue']);
    expect(referenced(bySid.Builds?.Resource)).toEqual(['BuildProject']);
    expect(referenced(bySid.RunLogs?.Resource)).toEqual(['BuildLogGroup']);
    expect(JSON.stringify(bySid.Secrets?.Resource)).toContain(':parameter/cascade/dev/*');
  });
});
