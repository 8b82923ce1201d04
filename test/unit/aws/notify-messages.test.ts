// The notification messages on both queues: their bodies read back as sent, what their log lines
// name, a later attempt held back (SQS DelaySeconds, the in-process queue's timer).
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsQueue } from '../../../lib/adapters/sqs-queue';
import { parseQueueMessage, queueBodyLogKeys } from '../../../lib/aws/queue-message';
import { ValidationError } from '../../../lib/domain/errors';
import type { NotificationSubject } from '../../../lib/domain/notifications/notification';
import type { QueueMessage } from '../../../lib/domain/ports';
import { InProcessQueue } from '../../../lib/local/in-process-queue';

const runSubject = {
  event: 'run.succeeded',
  at: '2026-12-01T23:10:10.000Z',
  task: 'app',
  run: { id: 'da4', status: 'Succeeded', trigger: 'Manual', platform: 'linux/amd64', outputImages: [], createdAt: '2026-12-01T23:10:00.000Z' },
  cause: { kind: 'manual', text: 'it was run by hand' },
} satisfies NotificationSubject;
const deletionSubject = {
  event: 'base.deleted',
  at: '2026-12-01T23:10:10.000Z',
  base: { ref: 'r/a:1', registry: 'r', repository: 'a', tag: '1' },
  source: 'ecr',
  deliveryId: 'e-1',
  occurredAt: '2026-12-01T23:10:00.000Z',
} satisfies NotificationSubject;
const MESSAGES: QueueMessage[] = [
  { type: 'notify', subject: runSubject },
  { type: 'notify', subject: deletionSubject },
  { type: 'notify-attempt', notification: 'ops', deliveryId: '20261201T231010000Z-0123456789abcdef', attempt: 3 },
];

describe('notification messages', () => {
  it.each(MESSAGES)('read back as sent: %j', (message) => {
    expect(parseQueueMessage(JSON.stringify(message))).toEqual(message);
  });

  it.each([
    ['{"type":"notify","subject":{"event":"run.done","at":"t"}}', /subject\.event/],
    ['{"type":"notify","subject":{"event":"run.failed","at":"t","cause":{"kind":"manual","text":""}}}', /subject\.run/],
    ['{"type":"notify-attempt","notification":"ops","deliveryId":"d","attempt":0}', /attempt/],
    ['{"type":"notify-attempt","notification":"ops","attempt":1}', /deliveryId/],
  ])('refuses %s', (body, message) => {
    expect(() => parseQueueMessage(body)).toThrow(ValidationError);
    expect(() => parseQueueMessage(body)).toThrow(message);
  });

  it.each<[QueueMessage, Record<string, unknown>]>([
    [MESSAGES[0]!, { messageType: 'notify', event: 'run.succeeded', runId: 'da4' }],
    [MESSAGES[1]!, { messageType: 'notify', event: 'base.deleted', deliveryId: 'e-1' }],
    [MESSAGES[2]!, { messageType: 'notify-attempt', notification: 'ops', notificationDelivery: '20261201T231010000Z-0123456789abcdef', attempt: 3 }],
  ])('name what they are about on their log lines: %j', (message, keys) => {
    expect(queueBodyLogKeys(JSON.stringify(message))).toEqual(keys);
  });
});

describe('a message held back', () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());
  afterAll(() => sqs.restore());

  it.each<[number | undefined, number | undefined]>([
    [undefined, undefined],
    [0, undefined],
    [1000, 1],
    [1500, 2],
    [60_000, 60],
    [3_600_000, 900],
  ])('by %s ms is sent to SQS with DelaySeconds %s', async (delayMs, seconds) => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    await new SqsQueue({ queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-dev', client: new SQSClient({ region: 'eu-west-1' }) }).send(MESSAGES[2]!, { delayMs });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.DelaySeconds).toBe(seconds);
  });

  it('is handed over by the in-process queue once its delay has passed, and idle() waits for it', async () => {
    const handled: Array<{ message: QueueMessage; at: number }> = [];
    const queue = new InProcessQueue({ handler: async (message) => void handled.push({ message, at: Date.now() }) });
    const sent = Date.now();
    await queue.send(MESSAGES[2]!, { delayMs: 150 });
    await queue.send({ type: 'start-run', runId: 'da1' });
    expect(queue.isIdle()).toBe(false);
    await queue.idle();
    expect(handled.map((h) => h.message.type)).toEqual(['start-run', 'notify-attempt']);
    expect(handled[1]!.at - sent).toBeGreaterThanOrEqual(140);
    await queue.stop();
  });

  it('is dropped when the in-process queue stops', async () => {
    const handled: QueueMessage[] = [];
    const queue = new InProcessQueue({ handler: async (message) => void handled.push(message) });
    await queue.send(MESSAGES[2]!, { delayMs: 60_000 });
    await queue.stop();
    expect(queue.isIdle()).toBe(true);
    expect(handled).toEqual([]);
  });
});
