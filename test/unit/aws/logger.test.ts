import middy from '@middy/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, withLogKeys } from '../../../lib/aws/logger';
import { logContext } from '../../../lib/aws/middleware';
import { lambdaContext } from '../../support/lambda-context';
import { readLogLines, type LogLines } from '../../support/log-lines';

describe('the functions logger', () => {
  const saved = { ...process.env };
  let logs: LogLines;
  beforeEach(() => {
    logs = readLogLines();
  });
  afterEach(() => {
    logs.restore();
    process.env = { ...saved };
  });

  /** The levels that got through, of one line logged at each level. */
  function levelsLogged(env: Record<string, string>): string[] {
    delete process.env.POWERTOOLS_LOG_LEVEL;
    delete process.env.AWS_LAMBDA_LOG_LEVEL;
    delete process.env.LOG_LEVEL;
    Object.assign(process.env, env);
    const log = createLogger();
    log.debug('debug line');
    log.info('info line');
    log.warn('warn line');
    log.error('error line');
    return logs.all().map((line) => line.level);
  }

  it.each<[string, Record<string, string>, string[]]>([
    ['nothing set: INFO', {}, ['INFO', 'WARN', 'ERROR']],
    ['POWERTOOLS_LOG_LEVEL=DEBUG', { POWERTOOLS_LOG_LEVEL: 'DEBUG' }, ['DEBUG', 'INFO', 'WARN', 'ERROR']],
    ['POWERTOOLS_LOG_LEVEL=INFO', { POWERTOOLS_LOG_LEVEL: 'INFO' }, ['INFO', 'WARN', 'ERROR']],
    ['POWERTOOLS_LOG_LEVEL=WARN', { POWERTOOLS_LOG_LEVEL: 'WARN' }, ['WARN', 'ERROR']],
    ['POWERTOOLS_LOG_LEVEL=ERROR', { POWERTOOLS_LOG_LEVEL: 'ERROR' }, ['ERROR']],
    ["Lambda's AWS_LAMBDA_LOG_LEVEL over POWERTOOLS_LOG_LEVEL", { POWERTOOLS_LOG_LEVEL: 'DEBUG', AWS_LAMBDA_LOG_LEVEL: 'WARN' }, ['WARN', 'ERROR']],
  ])('filters by level: %s', (_what, env, levels) => {
    expect(levelsLogged(env)).toEqual(levels);
  });

  it('marks the first invocation of a container as a cold start, and only that one', async () => {
    // Lambda sets it for on-demand containers; a provisioned one has no cold start to report.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const log = createLogger();
    const handle = middy()
      .use(logContext(log))
      .handler(async () => log.info('work'));
    await handle({}, lambdaContext('cascade-dev-poller', 'first'));
    await handle({}, lambdaContext('cascade-dev-poller', 'second'));
    expect(logs.all().map((l) => [l.function_request_id, l.cold_start, l.function_name, l.service])).toEqual([
      ['first', true, 'cascade-dev-poller', 'cascade'],
      ['second', false, 'cascade-dev-poller', 'cascade'],
    ]);
  });

  it('gives each piece of concurrent work its own keys, nested scopes adding to them and a line its own', async () => {
    const log = createLogger();
    const work = (messageId: string, runId: string, pause: number) =>
      withLogKeys({ messageId, runId }, async () => {
        log.info('start');
        await sleep(pause);
        log.info('end');
        await withLogKeys({ task: `task-of-${messageId}` }, async () => log.info('inner', { runId: 'own' }));
      });
    await Promise.all([work('m1', 'da1', 20), work('m2', 'da2', 1)]);
    const lines = logs.all().map((l) => [l.message, l.messageId, l.runId, l.task]);
    expect(lines).toEqual([
      ['start', 'm1', 'da1', undefined],
      ['start', 'm2', 'da2', undefined],
      ['end', 'm2', 'da2', undefined],
      ['inner', 'm2', 'own', 'task-of-m2'],
      ['end', 'm1', 'da1', undefined],
      ['inner', 'm1', 'own', 'task-of-m1'],
    ]);
    log.info('outside');
    expect(logs.all().at(-1)).not.toHaveProperty('messageId');
  });
});
