// The dispatcher function: one SQS batch of queue messages. A message that fails is reported
// back alone (ReportBatchItemFailures), so SQS retries it and, after maxReceiveCount, moves it
// to the dead-letter queue; the rest of the batch is done. EventBridge Scheduler invokes it too,
// with one timer occurrence (infra/scheduler.yml); a failure there is retried by Scheduler.
//
//   serverless invoke -f dispatcher -p test/fixtures/events/sqs-start-run.json
//   serverless invoke local -f dispatcher -p test/fixtures/events/timer.json
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseTimerInvocation } from '../lib/adapters/eventbridge-timer-scheduler';
import { parseQueueMessage } from '../lib/aws/queue-message';
import { awsCascade, lazy } from '../lib/aws/wiring';
import type { Cascade } from '../lib/domain/cascade';
import type { FireOutcome } from '../lib/domain/timer-service';

export function createDispatcherHandler(cascade: Cascade) {
  async function handle(event: SQSEvent): Promise<SQSBatchResponse>;
  async function handle(event: unknown): Promise<SQSBatchResponse | FireOutcome>;
  async function handle(event: unknown): Promise<SQSBatchResponse | FireOutcome> {
    const timer = parseTimerInvocation(event);
    if (timer) {
      const outcome = await cascade.timers.fire(timer.task, timer.timer, timer.occurrence);
      console.log(JSON.stringify({ level: 'info', message: 'timer', ...outcome }));
      return outcome;
    }
    return batch(event as SQSEvent);
  }
  const batch = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const outcomes = await Promise.allSettled(event.Records.map(async (record) => cascade.process(parseQueueMessage(record.body))));
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    outcomes.forEach((outcome, i) => {
      const record = event.Records[i] as SQSRecord;
      if (outcome.status === 'rejected') {
        logFailure(record, outcome.reason);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    });
    return { batchItemFailures };
  };
  return handle;
}

function logFailure(record: SQSRecord, error: unknown): void {
  console.error(
    JSON.stringify({
      level: 'error',
      message: 'queue message failed; SQS will deliver it again',
      messageId: record.messageId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      type: record.messageAttributes?.type?.stringValue,
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    }),
  );
}

const dispatcher = lazy(() => createDispatcherHandler(awsCascade()));

export const handler = middy<unknown, SQSBatchResponse | FireOutcome>().handler((event) => dispatcher()(event));
