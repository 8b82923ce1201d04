// The dispatcher function: one SQS batch of queue messages. A message that fails is reported
// back alone (ReportBatchItemFailures), so SQS retries it and, after maxReceiveCount, moves it
// to the dead-letter queue; the rest of the batch is done.
//
//   serverless invoke -f dispatcher -p test/fixtures/events/sqs-start-run.json
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseQueueMessage } from '../lib/aws/queue-message';
import { awsCascade, lazy } from '../lib/aws/wiring';
import type { Cascade } from '../lib/domain/cascade';

export function createDispatcherHandler(cascade: Cascade) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
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

export const handler = middy<SQSEvent, SQSBatchResponse>().handler((event) => dispatcher()(event));
