import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsQueue } from '../../../lib/adapters/sqs-queue';
import { RetryableError } from '../../../lib/domain/errors';
import type { QueueMessage } from '../../../lib/domain/ports';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-dev';

describe('SqsQueue', () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());
  afterAll(() => sqs.restore());

  const messages: QueueMessage[] = [
    { type: 'start-run', runId: 'da7' },
    {
      type: 'event',
      event: { kind: 'git', source: 'github', repoUrl: 'https://github.com/o/r', ref: 'refs/heads/main', commit: 'a'.repeat(40), deliveryId: 'd-1' },
    },
    { type: 'build-result', result: { runId: 'da7', status: 'Succeeded', finishedAt: '2026-11-28T05:00:00.000Z', outputImages: [], baseImages: [] } },
  ];

  it.each(messages)('sends a $type message as JSON with its type as a message attribute', async (message) => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    await new SqsQueue({ queueUrl: QUEUE_URL, client: new SQSClient({ region: 'eu-west-1' }) }).send(message);
    const calls = sqs.commandCalls(SendMessageCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(QUEUE_URL);
    expect(JSON.parse(input?.MessageBody ?? '')).toEqual(message);
    expect(input?.MessageAttributes).toEqual({ type: { DataType: 'String', StringValue: message.type } });
  });

  it('turns throttling into RetryableError', async () => {
    sqs.on(SendMessageCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: {} }));
    const send = new SqsQueue({ queueUrl: QUEUE_URL, client: new SQSClient({ region: 'eu-west-1' }) }).send({ type: 'start-run', runId: 'da1' });
    await expect(send).rejects.toBeInstanceOf(RetryableError);
  });

  it('passes other failures through unchanged', async () => {
    const denied = Object.assign(new Error('not allowed'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    sqs.on(SendMessageCommand).rejects(denied);
    const send = new SqsQueue({ queueUrl: QUEUE_URL, client: new SQSClient({ region: 'eu-west-1' }) }).send({ type: 'start-run', runId: 'da1' });
    await expect(send).rejects.toMatchObject({ name: 'AccessDenied', message: 'not allowed' });
  });
});
