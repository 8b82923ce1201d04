// The dispatcher function: one SQS batch of queue messages. A message that fails is reported
// back alone (ReportBatchItemFailures), so SQS retries it and, after maxReceiveCount, moves it
// to the dead-letter queue; the rest of the batch is done. EventBridge Scheduler invokes it too,
// with one timer occurrence (infra/scheduler.yml); a failure there is retried by Scheduler.
//
//   serverless invoke -f dispatcher -p test/fixtures/events/sqs-start-run.json
//   serverless invoke local -f dispatcher -p test/fixtures/events/timer.json
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseTimerInvocation, type TimerInvocation } from '../lib/adapters/eventbridge-timer-scheduler';
import { errorKey, logger, withLogKeys, type Logger } from '../lib/aws/logger';
import { forSqsBatches, functionHandler, logContext } from '../lib/aws/middleware';
import { parseQueueMessage, queueBodyLogKeys } from '../lib/aws/queue-message';
import { awsCascade, cascadeOf, type CascadeSource } from '../lib/aws/wiring';
import type { FireOutcome } from '../lib/domain/timer-service';

export interface DispatcherHandler {
  (event: SQSEvent, context?: Context): Promise<SQSBatchResponse>;
  (event: unknown, context?: Context): Promise<SQSBatchResponse | FireOutcome>;
}

export function createDispatcherHandler(cascade: CascadeSource, log: Logger = logger): DispatcherHandler {
  /** One occurrence from EventBridge Scheduler; a failure is thrown, for Scheduler to retry. */
  const fire = async ({ task, timer, occurrence }: TimerInvocation): Promise<FireOutcome> => {
    log.appendKeys({ task, timer, occurrence });
    const outcome = await cascadeOf(cascade).timers.fire(task, timer, occurrence);
    log.info('timer', { ...outcome });
    return outcome;
  };
  /**
   * Every record at once, each in its own log scope so that its lines carry its ids only. A record
   * that cannot be read is a rejection like any other failure.
   */
  const settle = (event: SQSEvent) =>
    Promise.allSettled(
      event.Records.map((record) =>
        withLogKeys(recordLogKeys(record), async () => {
          log.debug('queue message received');
          await cascadeOf(cascade).process(parseQueueMessage(record.body));
        }),
      ),
    );

  return functionHandler<unknown, SQSBatchResponse | FireOutcome>(
    middy<unknown, PromiseSettledResult<void>[] | FireOutcome>()
      .use(logContext(log))
      // Turns the settled records into batchItemFailures, logging each rejected one.
      .use(forSqsBatches(sqsPartialBatchFailure({ logger: (error: unknown, record: SQSRecord) => logFailure(log, error, record) })))
      .handler(async (event) => {
        const timer = parseTimerInvocation(event);
        return timer ? fire(timer) : settle(event as SQSEvent);
      }),
  ) as DispatcherHandler;
}

function recordLogKeys(record: SQSRecord) {
  return { messageId: record.messageId, receiveCount: Number(record.attributes?.ApproximateReceiveCount) || undefined, ...queueBodyLogKeys(record.body) };
}

function logFailure(log: Logger, error: unknown, record: SQSRecord): void {
  log.error('queue message failed; SQS will deliver it again', { ...recordLogKeys(record), ...errorKey(error) });
}

export const handler = createDispatcherHandler(awsCascade);
