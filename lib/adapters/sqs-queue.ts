// The queue on AWS: one SQS standard queue (with its dead-letter queue, see infra/queue.yml).
// Delivery is at least once; the domain is idempotent per message.
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Queue, QueueMessage, SendOptions } from '../domain/ports';
import { retryableIfTransient } from '../aws/sdk-errors';

/** SQS's limit on DelaySeconds. */
const MAX_DELAY_SECONDS = 900;

export interface SqsQueueOptions {
  queueUrl: string;
  client?: SQSClient;
}

export class SqsQueue implements Queue {
  private readonly client: SQSClient;

  constructor(private readonly options: SqsQueueOptions) {
    this.client = options.client ?? new SQSClient({});
  }

  async send(message: QueueMessage, options: SendOptions = {}): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.options.queueUrl,
          MessageBody: JSON.stringify(message),
          // A later attempt of a notification: SQS holds it back (whole seconds, at most 15 minutes).
          ...(options.delayMs !== undefined && options.delayMs > 0 && { DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(options.delayMs / 1000)) }),
          // Lets operators filter and redrive by kind without parsing bodies.
          MessageAttributes: { type: { DataType: 'String', StringValue: message.type } },
        }),
      );
    } catch (error) {
      throw retryableIfTransient(error, `queueing a ${message.type} message`);
    }
  }
}
